/* ir/pass/pipeline.c - pass instances, typed options and pipeline strings.
 *
 * Pipeline grammar (spaces allowed around names, commas and braces, not
 * around '='):
 *   pipeline := [pass (',' pass)*]
 *   pass     := NAME ['{' [option ((' ' | ',') option)*] '}']
 *   option   := KEY ['=' value]           (a bare KEY sets a bool to true)
 *   value    := '"' chars '"' | chars up to a space, ',' or '}' (may be empty)
 * Quoted values may hold spaces, commas and braces; \" and \\ escape. */
#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <string.h>

#include "ir/pass/pass.h"

#define PIPELINE_FILE "<pipeline>"

/* ---- Pass instances ------------------------------------------------------ */

qir_pass *qir_pass_create(qir_context *ctx, const qir_pass_def *def) {
  qir_pass *p = qir_xcalloc(1, sizeof *p);
  p->ctx = ctx;
  p->def = def;
  p->values = qir_xcalloc(def->num_options + 1, sizeof *p->values);
  for (unsigned i = 0; i < def->num_options; i++) {
    const qir_pass_option_def *o = &def->options[i];
    const char *d = o->dflt ? o->dflt : "";
    if (!o->dflt && o->type != QIR_OPT_STRING)
      d = o->type == QIR_OPT_BOOL ? "false" : "0";
    if (!qir_opt_value_parse(ctx, o->type, d, strlen(d), &p->values[i]))
      qir_die("pass '%s': default '%s' of option '%s' does not parse",
              def->name, d, o->name);
  }
  return p;
}

void qir_pass_destroy(qir_pass *p) {
  if (!p)
    return;
  free(p->values);
  free(p->stats);
  free(p);
}

int qir_pass_find_option(const qir_pass_def *def, const char *name,
                         size_t len) {
  for (unsigned i = 0; i < def->num_options; i++)
    if (strlen(def->options[i].name) == len &&
        memcmp(def->options[i].name, name, len) == 0)
      return (int)i;
  return -1;
}

static bool parse_bool(const char *s, bool *out) {
  if (!strcmp(s, "true") || !strcmp(s, "1")) {
    *out = true;
    return true;
  }
  if (!strcmp(s, "false") || !strcmp(s, "0")) {
    *out = false;
    return true;
  }
  return false;
}

static bool parse_int(const char *s, int64_t *out) {
  if (!*s || isspace((unsigned char)*s))
    return false;
  char *end;
  errno = 0;
  long long v = strtoll(s, &end, 10);
  if (*end || errno == ERANGE)
    return false;
  *out = v;
  return true;
}

static bool parse_float(const char *s, double *out) {
  if (!*s || isspace((unsigned char)*s))
    return false;
  char *end;
  errno = 0;
  double v = strtod(s, &end);
  if (*end || (errno == ERANGE && isinf(v)))
    return false;
  *out = v;
  return true;
}

bool qir_opt_value_parse(qir_context *ctx, qir_opt_type type, const char *text,
                         size_t len, qir_opt_value *out) {
  char *s = qir_xmalloc(len + 1);
  memcpy(s, text, len);
  s[len] = '\0';
  bool ok = strlen(s) == len; /* no embedded NUL */
  switch (type) {
  case QIR_OPT_BOOL:
    ok = ok && parse_bool(s, &out->b);
    break;
  case QIR_OPT_INT:
    ok = ok && parse_int(s, &out->i);
    break;
  case QIR_OPT_FLOAT:
    ok = ok && parse_float(s, &out->f);
    break;
  case QIR_OPT_STRING:
    if (ok)
      out->s = qir_intern(ctx, s, len);
    break;
  }
  free(s);
  return ok;
}

const char *qir_opt_type_name(qir_opt_type t) {
  switch (t) {
  case QIR_OPT_BOOL:
    return "bool";
  case QIR_OPT_INT:
    return "int";
  case QIR_OPT_FLOAT:
    return "float";
  case QIR_OPT_STRING:
    return "string";
  }
  return "?";
}

/* ---- Accessors for run functions ---------------------------------------- */

qir_context *qir_pass_context(const qir_pass *p) { return p->ctx; }
const qir_pass_def *qir_pass_get_def(const qir_pass *p) { return p->def; }

/* Asking for an option the pass does not declare, or with the wrong type, is
 * a bug in the pass. */
static const qir_opt_value *option_value(const qir_pass *p, const char *name,
                                         qir_opt_type type) {
  int i = qir_pass_find_option(p->def, name, strlen(name));
  if (i < 0)
    qir_die("pass '%s' has no option '%s'", p->def->name, name);
  if (p->def->options[i].type != type)
    qir_die("option '%s' of pass '%s' has type %s, not %s", name, p->def->name,
            qir_opt_type_name(p->def->options[i].type),
            qir_opt_type_name(type));
  return &p->values[i];
}

bool qir_pass_opt_bool(const qir_pass *p, const char *name) {
  return option_value(p, name, QIR_OPT_BOOL)->b;
}

int64_t qir_pass_opt_int(const qir_pass *p, const char *name) {
  return option_value(p, name, QIR_OPT_INT)->i;
}

double qir_pass_opt_float(const qir_pass *p, const char *name) {
  return option_value(p, name, QIR_OPT_FLOAT)->f;
}

const char *qir_pass_opt_string(const qir_pass *p, const char *name) {
  return option_value(p, name, QIR_OPT_STRING)->s;
}

void qir_pass_stat(qir_pass *p, const char *name, long delta) {
  const char *key = qir_intern_cstr(p->ctx, name);
  for (unsigned i = 0; i < p->num_stats; i++)
    if (p->stats[i].name == key) {
      p->stats[i].value += delta;
      return;
    }
  if (p->num_stats == p->cap_stats) {
    p->cap_stats = p->cap_stats ? 2 * p->cap_stats : 4;
    p->stats = qir_xrealloc(p->stats, p->cap_stats * sizeof *p->stats);
  }
  p->stats[p->num_stats].name = key;
  p->stats[p->num_stats].value = delta;
  p->num_stats++;
}

/* ---- Close matches for "did you mean" ------------------------------------ */

size_t qir_edit_distance(const char *a, size_t la, const char *b, size_t lb) {
  size_t *row = qir_xmalloc((lb + 1) * sizeof *row);
  for (size_t j = 0; j <= lb; j++)
    row[j] = j;
  for (size_t i = 1; i <= la; i++) {
    size_t diag = row[0];
    row[0] = i;
    for (size_t j = 1; j <= lb; j++) {
      size_t up = row[j];
      size_t best = diag + (a[i - 1] != b[j - 1]);
      if (up + 1 < best)
        best = up + 1;
      if (row[j - 1] + 1 < best)
        best = row[j - 1] + 1;
      row[j] = best;
      diag = up;
    }
  }
  size_t d = row[lb];
  free(row);
  return d;
}

void qir_close_match_init(qir_close_match *m, const char *word, size_t len) {
  m->word = word;
  m->len = len;
  m->best = NULL;
  m->best_dist = (len + 2) / 3 + 1; /* a third of the word may differ */
}

void qir_close_match_offer(qir_close_match *m, const char *candidate) {
  size_t d = qir_edit_distance(m->word, m->len, candidate, strlen(candidate));
  if (d < m->best_dist) {
    m->best = candidate;
    m->best_dist = d;
  }
}

static void offer_pass(const qir_pass_def *d, void *user) {
  qir_close_match_offer(user, d->name);
}

/* ---- Pipeline strings ---------------------------------------------------- */

typedef struct pparser {
  qir_context *ctx;
  const char *text;
  const char *p;
  qir_pipeline *pl;
} pparser;

static qir_pipeline *pipeline_new(qir_context *ctx) {
  qir_pipeline *pl = qir_xcalloc(1, sizeof *pl);
  pl->ctx = ctx;
  return pl;
}

static void pipeline_append(qir_pipeline *pl, qir_pass *p) {
  if (pl->num_passes == pl->cap_passes) {
    pl->cap_passes = pl->cap_passes ? 2 * pl->cap_passes : 8;
    pl->passes = qir_xrealloc(pl->passes, pl->cap_passes * sizeof *pl->passes);
  }
  pl->passes[pl->num_passes++] = p;
}

static bool perror_at(pparser *ps, const char *at, const char *fmt, ...)
    QIR_PRINTF(3, 4);
static bool perror_at(pparser *ps, const char *at, const char *fmt, ...) {
  unsigned col = (unsigned)(at - ps->text) + 1;
  va_list ap;
  va_start(ap, fmt);
  qir_emitv(ps->ctx, QIR_SEV_ERROR,
            qir_loc_make(ps->ctx, PIPELINE_FILE, 1, col), fmt, ap);
  va_end(ap);
  return false;
}

static bool is_name_char(char c) {
  return isalnum((unsigned char)c) || c == '_' || c == '-' || c == '.';
}

static void skip_spaces(pparser *ps) {
  while (*ps->p == ' ' || *ps->p == '\t')
    ps->p++;
}

static size_t scan_name(pparser *ps) {
  const char *start = ps->p;
  while (is_name_char(*ps->p))
    ps->p++;
  return (size_t)(ps->p - start);
}

/* Reads a quoted value into a malloc'd buffer (*len gets its length). */
static char *scan_quoted(pparser *ps, size_t *len) {
  const char *open = ps->p++;
  size_t n = 0;
  char *buf = qir_xmalloc(strlen(open) + 1);
  for (;;) {
    char c = *ps->p;
    if (c == '\0') {
      free(buf);
      perror_at(ps, open, "unterminated string");
      return NULL;
    }
    ps->p++;
    if (c == '"')
      break;
    if (c == '\\' && (*ps->p == '"' || *ps->p == '\\'))
      c = *ps->p++;
    buf[n++] = c;
  }
  buf[n] = '\0';
  *len = n;
  return buf;
}

static char *scan_bare_value(pparser *ps, size_t *len) {
  const char *start = ps->p;
  while (*ps->p && *ps->p != ' ' && *ps->p != '\t' && *ps->p != ',' &&
         *ps->p != '}' && *ps->p != '{' && *ps->p != '"')
    ps->p++;
  *len = (size_t)(ps->p - start);
  char *buf = qir_xmalloc(*len + 1);
  memcpy(buf, start, *len);
  buf[*len] = '\0';
  return buf;
}

static const char *expected_value_text(qir_opt_type t) {
  switch (t) {
  case QIR_OPT_BOOL:
    return "expected true or false";
  case QIR_OPT_INT:
    return "expected an integer";
  case QIR_OPT_FLOAT:
    return "expected a number";
  case QIR_OPT_STRING:
    break;
  }
  return "expected a string";
}

static bool unknown_option(pparser *ps, const char *at, size_t len,
                           const qir_pass_def *def) {
  qir_close_match m;
  qir_close_match_init(&m, at, len);
  for (unsigned i = 0; i < def->num_options; i++)
    qir_close_match_offer(&m, def->options[i].name);
  if (m.best)
    return perror_at(ps, at,
                     "unknown option '%.*s' for pass '%s'; did you mean '%s'?",
                     (int)len, at, def->name, m.best);
  return perror_at(ps, at, "unknown option '%.*s' for pass '%s'", (int)len, at,
                   def->name);
}

/* One `key[=value]` of pass p; ps->p is at the key. */
static bool parse_option(pparser *ps, qir_pass *pass, bool *seen) {
  const qir_pass_def *def = pass->def;
  const char *key = ps->p;
  size_t klen = scan_name(ps);
  if (klen == 0)
    return perror_at(ps, key, "expected an option name in the options of pass "
                              "'%s'", def->name);
  int idx = qir_pass_find_option(def, key, klen);
  if (idx < 0)
    return unknown_option(ps, key, klen, def);
  const qir_pass_option_def *od = &def->options[idx];
  if (seen[idx])
    return perror_at(ps, key, "option '%s' of pass '%s' is given twice",
                     od->name, def->name);
  seen[idx] = true;
  if (*ps->p != '=') {
    if (od->type == QIR_OPT_BOOL) {
      pass->values[idx].b = true;
      return true;
    }
    return perror_at(ps, key, "option '%s' of pass '%s' needs a value",
                     od->name, def->name);
  }
  ps->p++; /* no spaces around '=': `key= next` gives key an empty value */
  const char *vstart = ps->p;
  size_t vlen;
  char *v = *ps->p == '"' ? scan_quoted(ps, &vlen) : scan_bare_value(ps, &vlen);
  if (!v)
    return false;
  bool ok = qir_opt_value_parse(ps->ctx, od->type, v, vlen, &pass->values[idx]);
  if (!ok)
    perror_at(ps, vstart, "%s for option '%s' of pass '%s', got '%s'",
              expected_value_text(od->type), od->name, def->name, v);
  free(v);
  return ok;
}

/* `{ ... }` after a pass name; ps->p is at the '{'. */
static bool parse_options(pparser *ps, qir_pass *pass) {
  const char *open = ps->p++;
  bool *seen = qir_xcalloc(pass->def->num_options + 1, sizeof *seen);
  bool ok = true;
  for (;;) {
    while (*ps->p == ' ' || *ps->p == '\t' || *ps->p == ',')
      ps->p++;
    if (*ps->p == '}') {
      ps->p++;
      break;
    }
    if (*ps->p == '\0') {
      ok = perror_at(ps, open, "unterminated '{' in the options of pass '%s'",
                     pass->def->name);
      break;
    }
    if (!parse_option(ps, pass, seen)) {
      ok = false;
      break;
    }
    if (*ps->p && *ps->p != ' ' && *ps->p != '\t' && *ps->p != ',' &&
        *ps->p != '}') {
      ok = perror_at(ps, ps->p, "unexpected '%c' in the options of pass '%s'",
                     *ps->p, pass->def->name);
      break;
    }
  }
  free(seen);
  return ok;
}

static bool unknown_pass(pparser *ps, const char *at, size_t len) {
  qir_close_match m;
  qir_close_match_init(&m, at, len);
  qir_foreach_pass_def(ps->ctx, offer_pass, &m);
  if (m.best)
    return perror_at(ps, at, "unknown pass '%.*s'; did you mean '%s'?",
                     (int)len, at, m.best);
  return perror_at(ps, at, "unknown pass '%.*s'", (int)len, at);
}

static bool parse_pass(pparser *ps) {
  skip_spaces(ps);
  const char *name = ps->p;
  size_t len = scan_name(ps);
  if (len == 0) {
    if (*ps->p == ',' || *ps->p == '\0' || *ps->p == '{')
      return perror_at(ps, name, "empty pass name");
    return perror_at(ps, name, "unexpected '%c' in pipeline", *ps->p);
  }
  char *cname = qir_xmalloc(len + 1);
  memcpy(cname, name, len);
  cname[len] = '\0';
  const qir_pass_def *def = qir_lookup_pass(ps->ctx, cname);
  free(cname);
  if (!def)
    return unknown_pass(ps, name, len);
  qir_pass *pass = qir_pass_create(ps->ctx, def);
  pipeline_append(ps->pl, pass);
  skip_spaces(ps);
  if (*ps->p == '{' && !parse_options(ps, pass))
    return false;
  skip_spaces(ps);
  if (*ps->p != ',' && *ps->p != '\0')
    return perror_at(ps, ps->p, "expected ',' or the end of the pipeline "
                                "after pass '%s'", def->name);
  return true;
}

qir_pipeline *qir_pipeline_parse(qir_context *ctx, const char *text) {
  if (!text)
    text = "";
  pparser ps = {ctx, text, text, pipeline_new(ctx)};
  qir_diag_register_source(ctx, PIPELINE_FILE, text, strlen(text));
  skip_spaces(&ps);
  if (*ps.p == '\0')
    return ps.pl; /* the empty pipeline */
  for (;;) {
    if (!parse_pass(&ps)) {
      qir_pipeline_destroy(ps.pl);
      return NULL;
    }
    if (*ps.p == '\0')
      return ps.pl;
    ps.p++; /* ',' */
  }
}

void qir_pipeline_destroy(qir_pipeline *pl) {
  if (!pl)
    return;
  for (unsigned i = 0; i < pl->num_passes; i++)
    qir_pass_destroy(pl->passes[i]);
  free(pl->passes);
  free(pl);
}

unsigned qir_pipeline_size(const qir_pipeline *pl) { return pl->num_passes; }

bool qir_pipeline_add(qir_pipeline *pl, const char *pass_name) {
  const qir_pass_def *def = qir_lookup_pass(pl->ctx, pass_name);
  if (!def) {
    qir_emit_error(pl->ctx, qir_loc_unknown(), "unknown pass '%s'", pass_name);
    return false;
  }
  pipeline_append(pl, qir_pass_create(pl->ctx, def));
  return true;
}

/* ---- Printing (the form qir_pipeline_parse reads back) ------------------ */

static bool needs_quotes(const char *s) {
  if (!*s)
    return true;
  for (; *s; s++)
    if (strchr(" \t,{}\"\\=", *s))
      return true;
  return false;
}

static void print_string_value(FILE *out, const char *s) {
  if (!needs_quotes(s)) {
    fputs(s, out);
    return;
  }
  fputc('"', out);
  for (; *s; s++) {
    if (*s == '"' || *s == '\\')
      fputc('\\', out);
    fputc(*s, out);
  }
  fputc('"', out);
}

/* The shortest %g form that reads back to the same double. */
static void print_shortest_double(FILE *out, double d) {
  char buf[40];
  for (int prec = 1; prec <= 17; prec++) {
    snprintf(buf, sizeof buf, "%.*g", prec, d);
    if (strtod(buf, NULL) == d || prec == 17)
      break;
  }
  fputs(buf, out);
}

static void print_option_value(FILE *out, qir_opt_type t,
                               const qir_opt_value *v) {
  switch (t) {
  case QIR_OPT_BOOL:
    fputs(v->b ? "true" : "false", out);
    break;
  case QIR_OPT_INT:
    fprintf(out, "%lld", (long long)v->i);
    break;
  case QIR_OPT_FLOAT:
    print_shortest_double(out, v->f);
    break;
  case QIR_OPT_STRING:
    print_string_value(out, v->s);
    break;
  }
}

void qir_pipeline_print(const qir_pipeline *pl, FILE *out) {
  for (unsigned i = 0; i < pl->num_passes; i++) {
    const qir_pass *p = pl->passes[i];
    fprintf(out, "%s%s", i ? "," : "", p->def->name);
    if (p->def->num_options == 0)
      continue;
    fputc('{', out);
    for (unsigned j = 0; j < p->def->num_options; j++) {
      fprintf(out, "%s%s=", j ? " " : "", p->def->options[j].name);
      print_option_value(out, p->def->options[j].type, &p->values[j]);
    }
    fputc('}', out);
  }
}
