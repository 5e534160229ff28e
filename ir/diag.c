/* ir/diag.c - the diagnostics engine (handlers, clang-style printing with
 * the source line and a caret, registered sources) and debug channels. */
#include <stdlib.h>
#include <string.h>

#include "ir/internal.h"

struct qir_diag_source {
  const char *file; /* interned */
  char *text;
  size_t len;
  /* Offsets of line starts, built on the first lookup. */
  size_t *line_starts;
  unsigned num_lines;
};

void qir_diag_state_free(qir_diag_state *d) {
  for (unsigned i = 0; i < d->num_sources; i++) {
    free(d->sources[i].text);
    free(d->sources[i].line_starts);
  }
  free(d->sources);
  free(d->debug_channels);
  memset(d, 0, sizeof *d);
}

/* ---- Handlers ------------------------------------------------------------ */

void qir_diag_set_handler(qir_context *ctx, qir_diag_handler h, void *user,
                          qir_diag_handler *old_h, void **old_user) {
  qir_diag_state *d = qir_context_diag(ctx);
  if (old_h)
    *old_h = d->handler ? d->handler : qir_diag_default_handler;
  if (old_user)
    *old_user = d->user;
  d->handler = h;
  d->user = h ? user : NULL;
}

void qir_diag_default_handler(qir_context *ctx, const qir_diag *d,
                              void *user) {
  (void)user;
  fflush(stdout);
  qir_diag_print(ctx, d, stderr);
  fflush(stderr);
}

static const char *severity_word(qir_severity s) {
  switch (s) {
  case QIR_SEV_ERROR:
    return "error";
  case QIR_SEV_WARNING:
    return "warning";
  case QIR_SEV_NOTE:
    return "note";
  case QIR_SEV_REMARK:
    return "remark";
  }
  return "error";
}

static void print_loc_prefix(const qir_loc *l, FILE *out) {
  if (!l->file)
    return;
  if (!l->line)
    fprintf(out, "%s: ", l->file);
  else if (!l->col)
    fprintf(out, "%s:%u: ", l->file, l->line);
  else
    fprintf(out, "%s:%u:%u: ", l->file, l->line, l->col);
}

/* The source line, then a caret under column `col` (tabs kept so the caret
 * lines up). */
static void print_caret(qir_context *ctx, const qir_loc *l, FILE *out) {
  size_t len;
  const char *line = qir_diag_source_line(ctx, l->file, l->line, &len);
  if (!line)
    return;
  fwrite(line, 1, len, out);
  fputc('\n', out);
  size_t col = l->col - 1;
  if (col > len)
    col = len;
  for (size_t i = 0; i < col; i++)
    fputc(line[i] == '\t' ? '\t' : ' ', out);
  fputs("^\n", out);
}

void qir_diag_print(qir_context *ctx, const qir_diag *d, FILE *out) {
  print_loc_prefix(&d->loc, out);
  fprintf(out, "%s: %s\n", severity_word(d->severity), d->message);
  if (d->loc.file && d->loc.line && d->loc.col)
    print_caret(ctx, &d->loc, out);
}

/* ---- Emitting ------------------------------------------------------------ */

void qir_emitv(qir_context *ctx, qir_severity sev, qir_loc loc,
               const char *fmt, va_list ap) {
  char small[512];
  char *msg = small;
  va_list ap2;
  va_copy(ap2, ap);
  int n = vsnprintf(small, sizeof small, fmt, ap2);
  va_end(ap2);
  if (n < 0) {
    msg = (char *)fmt;
  } else if ((size_t)n >= sizeof small) {
    msg = qir_xmalloc((size_t)n + 1);
    vsnprintf(msg, (size_t)n + 1, fmt, ap);
  }
  qir_diag_state *ds = qir_context_diag(ctx);
  if (sev == QIR_SEV_ERROR)
    ds->error_count++;
  qir_diag d = {sev, loc, msg};
  if (ds->handler)
    ds->handler(ctx, &d, ds->user);
  else
    qir_diag_default_handler(ctx, &d, NULL);
  if (msg != small && msg != fmt)
    free(msg);
}

void qir_emit(qir_context *ctx, qir_severity sev, qir_loc loc,
              const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  qir_emitv(ctx, sev, loc, fmt, ap);
  va_end(ap);
}

#define DEFINE_EMIT(fn, sev)                                                  \
  void fn(qir_context *ctx, qir_loc loc, const char *fmt, ...) {              \
    va_list ap;                                                               \
    va_start(ap, fmt);                                                        \
    qir_emitv(ctx, sev, loc, fmt, ap);                                        \
    va_end(ap);                                                               \
  }
DEFINE_EMIT(qir_emit_error, QIR_SEV_ERROR)
DEFINE_EMIT(qir_emit_warning, QIR_SEV_WARNING)
DEFINE_EMIT(qir_emit_note, QIR_SEV_NOTE)
DEFINE_EMIT(qir_emit_remark, QIR_SEV_REMARK)
#undef DEFINE_EMIT

unsigned qir_diag_error_count(const qir_context *ctx) {
  return qir_context_diag_const(ctx)->error_count;
}

void qir_diag_reset_error_count(qir_context *ctx) {
  qir_context_diag(ctx)->error_count = 0;
}

/* ---- Registered sources ------------------------------------------------- */

static qir_diag_source *find_source(qir_diag_state *d, const char *file) {
  for (unsigned i = d->num_sources; i-- > 0;)
    if (d->sources[i].file == file || strcmp(d->sources[i].file, file) == 0)
      return &d->sources[i];
  return NULL;
}

/* Records `text` (malloc'd, NUL-terminated, now owned here) as the text of
 * `file`, replacing an earlier text. */
static void set_source(qir_context *ctx, const char *file, char *text,
                       size_t len) {
  qir_diag_state *d = qir_context_diag(ctx);
  qir_diag_source *s = find_source(d, file);
  if (s) {
    free(s->text);
    free(s->line_starts);
  } else {
    qir_grow(&d->sources, &d->cap_sources, d->num_sources + 1,
             sizeof *d->sources);
    s = &d->sources[d->num_sources++];
  }
  s->file = qir_intern_cstr(ctx, file);
  s->text = text;
  s->len = len;
  s->line_starts = NULL;
  s->num_lines = 0;
}

void qir_diag_register_source(qir_context *ctx, const char *file,
                              const char *buf, size_t len) {
  qir_diag_source *s = find_source(qir_context_diag(ctx), file);
  if (s && s->len == len &&
      (len == 0 || s->text == buf || memcmp(s->text, buf, len) == 0))
    return; /* the same text again (tools register it more than once) */
  char *text = qir_xmalloc(len + 1);
  if (len)
    memcpy(text, buf, len);
  text[len] = '\0';
  set_source(ctx, file, text, len);
}

void qir_diag_adopt_source(qir_context *ctx, const char *file, char *buf,
                           size_t len) {
  qir_diag_source *s = find_source(qir_context_diag(ctx), file);
  if (s && s->text == buf) {
    s->len = len;
    return;
  }
  set_source(ctx, file, buf, len);
}

static void index_lines(qir_diag_source *s) {
  unsigned n = 1;
  for (size_t i = 0; i < s->len; i++)
    n += s->text[i] == '\n';
  s->line_starts = qir_xmalloc((size_t)n * sizeof *s->line_starts);
  s->line_starts[0] = 0;
  unsigned k = 1;
  for (size_t i = 0; i < s->len; i++)
    if (s->text[i] == '\n')
      s->line_starts[k++] = i + 1;
  s->num_lines = n;
}

const char *qir_diag_source_line(qir_context *ctx, const char *file,
                                 unsigned line, size_t *len) {
  if (!file || !line)
    return NULL;
  qir_diag_source *s = find_source(qir_context_diag(ctx), file);
  if (!s)
    return NULL;
  if (!s->line_starts)
    index_lines(s);
  if (line > s->num_lines)
    return NULL;
  size_t start = s->line_starts[line - 1];
  size_t end = line < s->num_lines ? s->line_starts[line] - 1 : s->len;
  if (end > start && s->text[end - 1] == '\r')
    end--;
  if (len)
    *len = end - start;
  return s->text + start;
}

/* ---- Debug channels ----------------------------------------------------- */

static void enable_channel(qir_context *ctx, const char *name, size_t len) {
  qir_diag_state *d = qir_context_diag(ctx);
  if (!len)
    return;
  if (len == 3 && memcmp(name, "all", 3) == 0) {
    d->debug_all = true;
    return;
  }
  const char *s = qir_intern(ctx, name, len);
  for (unsigned i = 0; i < d->num_debug; i++)
    if (d->debug_channels[i] == s)
      return;
  d->debug_channels = qir_xrealloc(
      d->debug_channels, (d->num_debug + 1) * sizeof *d->debug_channels);
  d->debug_channels[d->num_debug++] = s;
}

/* Takes one name or a comma-separated list ("fuse,cse"). */
void qir_debug_enable(qir_context *ctx, const char *channel) {
  const char *p = channel;
  while (*p) {
    size_t n = strcspn(p, ",");
    enable_channel(ctx, p, n);
    p += n;
    if (*p == ',')
      p++;
  }
}

bool qir_debug_enabled(const qir_context *ctx, const char *channel) {
  const qir_diag_state *d = qir_context_diag_const(ctx);
  if (d->debug_all)
    return true;
  if (!d->num_debug || !channel)
    return false;
  for (unsigned i = 0; i < d->num_debug; i++)
    if (strcmp(d->debug_channels[i], channel) == 0)
      return true;
  return false;
}

void qir_debug_printf(const char *channel, const char *fmt, ...) {
  va_list ap;
  fprintf(stderr, "[%s] ", channel);
  va_start(ap, fmt);
  vfprintf(stderr, fmt, ap);
  va_end(ap);
}
