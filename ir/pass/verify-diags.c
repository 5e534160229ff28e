/* ir/pass/verify-diags.c - qir-opt -verify-diagnostics.
 *
 * The source holds the diagnostics it expects, MLIR style:
 *     // expected-error@+1 {{text}}     (also @-N, @above, @below, @unknown)
 * Every diagnostic emitted while the source is processed is captured
 * instead of printed, then matched (same kind, same line, `text` is a
 * substring of the message).  What does not match is reported. */
#include <string.h>

#include "ir/pass/pass.h"

typedef struct expectation {
  qir_severity severity;
  unsigned line;     /* where the diagnostic is expected; 0 = no location */
  unsigned dir_line; /* where the directive is written */
  char *text;
  bool matched;
} expectation;

typedef struct captured {
  qir_severity severity;
  qir_loc loc;
  char *message;
} captured;

struct qir_expect_set {
  qir_context *ctx;
  const char *file; /* interned */
  expectation *exp;
  unsigned num_exp, cap_exp;
  captured *diags;
  unsigned num_diags, cap_diags;
  bool malformed;
  qir_diag_handler old_h;
  void *old_user;
};

static const char *const kind_names[] = {"error", "warning", "note",
                                         "remark"};

/* ---- Collecting the expectations ------------------------------------- */

static void add_expectation(qir_expect_set *s, qir_severity sev,
                            unsigned line, unsigned dir_line,
                            const char *text, size_t len) {
  if (s->num_exp == s->cap_exp) {
    s->cap_exp = s->cap_exp ? 2 * s->cap_exp : 8;
    s->exp = qir_xrealloc(s->exp, s->cap_exp * sizeof *s->exp);
  }
  expectation *e = &s->exp[s->num_exp++];
  e->severity = sev;
  e->line = line;
  e->dir_line = dir_line;
  e->text = qir_xmalloc(len + 1);
  memcpy(e->text, text, len);
  e->text[len] = '\0';
  e->matched = false;
}

static void directive_error(qir_expect_set *s, unsigned line, unsigned col,
                            const char *msg) {
  qir_emit_error(s->ctx, qir_loc_make(s->ctx, s->file, line, col), "%s", msg);
  s->malformed = true;
}

/* Matches "error", "warning", ... at p; returns its length, 0 if none. */
static size_t match_kind(const char *p, const char *end, qir_severity *sev) {
  for (unsigned k = 0; k < 4; k++) {
    size_t n = strlen(kind_names[k]);
    if ((size_t)(end - p) >= n && memcmp(p, kind_names[k], n) == 0) {
      *sev = (qir_severity)k;
      return n;
    }
  }
  return 0;
}

/* Parses `@+N`, `@-N`, `@above`, `@below`, `@unknown` at *pp (after the
 * '@'); computes the target line.  False when malformed. */
static bool parse_offset(const char **pp, const char *end, unsigned line,
                         unsigned *target) {
  const char *p = *pp;
  static const struct {
    const char *word;
    int delta;
  } words[] = {{"above", -1}, {"below", 1}, {"unknown", 0}};
  for (unsigned i = 0; i < 3; i++) {
    size_t n = strlen(words[i].word);
    if ((size_t)(end - p) >= n && memcmp(p, words[i].word, n) == 0) {
      *pp = p + n;
      *target = words[i].delta ? line + (unsigned)words[i].delta : 0;
      return line + (unsigned)words[i].delta > 0 || !words[i].delta;
    }
  }
  if (p == end || (*p != '+' && *p != '-'))
    return false;
  char sign = *p++;
  unsigned long n = 0;
  const char *digits = p;
  while (p < end && *p >= '0' && *p <= '9' && n < 1000000)
    n = n * 10 + (unsigned long)(*p++ - '0');
  if (p == digits || (sign == '-' && n >= line))
    return false;
  *target = sign == '+' ? line + (unsigned)n : line - (unsigned)n;
  *pp = p;
  return true;
}

/* Parses the directive whose "expected-" is at p, on `line` of [ls, le). */
static void parse_directive(qir_expect_set *s, const char *ls, const char *le,
                            const char *p, unsigned line) {
  unsigned col = (unsigned)(p - ls) + 1;
  qir_severity sev;
  p += strlen("expected-");
  size_t k = match_kind(p, le, &sev);
  if (!k)
    return; /* "expected-foo": not a directive */
  p += k;
  unsigned target = line;
  if (p < le && *p == '@') {
    p++;
    if (!parse_offset(&p, le, line, &target)) {
      directive_error(s, line, col, "malformed expected-diagnostic location: "
                                    "use @+N, @-N, @above, @below or @unknown");
      return;
    }
  }
  while (p < le && (*p == ' ' || *p == '\t'))
    p++;
  if ((size_t)(le - p) < 2 || memcmp(p, "{{", 2) != 0)
    return; /* mentions expected-error but is not a directive */
  const char *text = p + 2, *close = NULL;
  for (const char *q = text; q + 1 < le; q++)
    if (q[0] == '}' && q[1] == '}')
      close = q;
  if (!close) {
    directive_error(s, line, col, "expected '}}' at the end of the "
                                  "expected-diagnostic text");
    return;
  }
  add_expectation(s, sev, target, line, text, (size_t)(close - text));
}

static void scan_line(qir_expect_set *s, const char *ls, const char *le,
                      unsigned line) {
  static const char key[] = "expected-";
  for (const char *p = ls; (size_t)(le - p) >= sizeof key - 1; p++)
    if (memcmp(p, key, sizeof key - 1) == 0) {
      parse_directive(s, ls, le, p, line);
      return; /* the text runs to the end of the line */
    }
}

qir_expect_set *qir_expect_collect(qir_context *ctx, const char *file,
                                   const char *buf, size_t len,
                                   unsigned first_line) {
  qir_expect_set *s = qir_xcalloc(1, sizeof *s);
  s->ctx = ctx;
  s->file = qir_intern_cstr(ctx, file);
  const char *end = buf + len;
  unsigned line = first_line;
  for (const char *ls = buf; ls < end; line++) {
    const char *le = memchr(ls, '\n', (size_t)(end - ls));
    if (!le)
      le = end;
    scan_line(s, ls, le, line);
    ls = le + 1;
  }
  return s;
}

/* ---- Capturing --------------------------------------------------------- */

static void capture(qir_context *ctx, const qir_diag *d, void *user) {
  (void)ctx;
  qir_expect_set *s = user;
  if (s->num_diags == s->cap_diags) {
    s->cap_diags = s->cap_diags ? 2 * s->cap_diags : 8;
    s->diags = qir_xrealloc(s->diags, s->cap_diags * sizeof *s->diags);
  }
  captured *c = &s->diags[s->num_diags++];
  c->severity = d->severity;
  c->loc = d->loc;
  c->message = qir_xstrdup(d->message ? d->message : "");
}

void qir_expect_begin(qir_expect_set *s) {
  qir_diag_set_handler(s->ctx, capture, s, &s->old_h, &s->old_user);
}

/* ---- Matching ---------------------------------------------------------- */

static bool has_location(const qir_loc *l) { return l->file && l->line; }

static expectation *find_match(qir_expect_set *s, const captured *c) {
  unsigned line = 0;
  if (has_location(&c->loc)) {
    if (strcmp(c->loc.file, s->file) != 0)
      return NULL; /* diagnostics in other files are never expected */
    line = c->loc.line;
  }
  for (unsigned i = 0; i < s->num_exp; i++) {
    expectation *e = &s->exp[i];
    if (!e->matched && e->severity == c->severity && e->line == line &&
        strstr(c->message, e->text))
      return e;
  }
  return NULL;
}

bool qir_expect_finish(qir_expect_set *s) {
  qir_diag_set_handler(s->ctx, s->old_h, s->old_user, NULL, NULL);
  bool ok = !s->malformed;
  for (unsigned i = 0; i < s->num_diags; i++) {
    captured *c = &s->diags[i];
    expectation *e = find_match(s, c);
    if (e) {
      e->matched = true;
    } else {
      qir_emit_error(s->ctx, c->loc, "unexpected %s: %s",
                     kind_names[c->severity], c->message);
      ok = false;
    }
  }
  for (unsigned i = 0; i < s->num_exp; i++) {
    expectation *e = &s->exp[i];
    if (e->matched)
      continue;
    qir_emit_error(s->ctx, qir_loc_make(s->ctx, s->file, e->dir_line, 0),
                   "expected %s \"%s\" was not produced",
                   kind_names[e->severity], e->text);
    ok = false;
  }
  for (unsigned i = 0; i < s->num_diags; i++)
    free(s->diags[i].message);
  for (unsigned i = 0; i < s->num_exp; i++)
    free(s->exp[i].text);
  free(s->diags);
  free(s->exp);
  free(s);
  return ok;
}
