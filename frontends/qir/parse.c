/* frontends/qir/parse.c - entry points of the .qir parser and the helpers
 * the grammar's actions call (ops, functions, names, attributes, types).
 * Dense tensors and resources are in parse-dense.c. */
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "frontends/qir/parse-actions.h"

int qir_yyparse(qir_parser *p);

/* ---- Small containers -------------------------------------------------- */

void qir_vec_init(qir_vec *v, size_t item_size) {
  memset(v, 0, sizeof *v);
  v->item = item_size;
}

void qir_vec_free(qir_vec *v) {
  free(v->data);
  v->data = NULL;
  v->len = v->cap = 0;
}

void *qir_vec_push(qir_vec *v) {
  if (v->len == v->cap) {
    v->cap = v->cap ? v->cap * 2 : 16;
    v->data = qir_xrealloc(v->data, v->cap * v->item);
  }
  void *it = (char *)v->data + v->len * v->item;
  memset(it, 0, v->item);
  v->len++;
  return it;
}

static uint32_t hash_slice(const char *s, size_t n) {
  uint32_t h = 2166136261u;
  for (size_t i = 0; i < n; i++)
    h = (h ^ (unsigned char)s[i]) * 16777619u;
  return h;
}

static qir_symtab_entry *symtab_find(qir_symtab *t, const char *s, size_t n,
                                     uint32_t h) {
  if (!t->cap)
    return NULL;
  size_t mask = t->cap - 1;
  for (size_t i = h & mask;; i = (i + 1) & mask) {
    qir_symtab_entry *e = &t->slots[i];
    if (!e->s)
      return e;
    if (e->hash == h && e->n == n && memcmp(e->s, s, n) == 0)
      return e;
  }
}

static void symtab_grow(qir_symtab *t) {
  qir_symtab old = *t;
  t->cap = old.cap ? old.cap * 2 : 64;
  t->slots = qir_xcalloc(t->cap, sizeof *t->slots);
  t->len = 0;
  for (size_t i = 0; i < old.cap; i++)
    if (old.slots[i].s) {
      qir_symtab_entry *e =
          symtab_find(t, old.slots[i].s, old.slots[i].n, old.slots[i].hash);
      *e = old.slots[i];
      t->len++;
    }
  free(old.slots);
}

qir_symtab_entry *qir_symtab_slot(qir_symtab *t, const char *s, size_t n) {
  if ((t->len + 1) * 4 > t->cap * 3)
    symtab_grow(t);
  return symtab_find(t, s, n, hash_slice(s, n));
}

void qir_symtab_insert(qir_symtab *t, qir_symtab_entry *slot, const char *s,
                       size_t n, qir_pos pos) {
  slot->s = s;
  slot->n = (uint32_t)n;
  slot->hash = hash_slice(s, n);
  slot->pos = pos;
  t->len++;
}



/* Empties the table for the next function.  A table much larger than its
 * contents (grown by an earlier, bigger function) is dropped rather than
 * wiped, so that a module of many small functions after a big one costs
 * time in proportion to its size. */
static void symtab_clear(qir_symtab *t) {
  if (t->cap > 64 && (size_t)t->len * 8 < t->cap) {
    free(t->slots);
    t->slots = NULL;
    t->cap = 0;
  } else if (t->len) {
    memset(t->slots, 0, t->cap * sizeof *t->slots);
  }
  t->len = 0;
}

/* ---- Errors ------------------------------------------------------------- */

qir_loc qir_text_loc(qir_parser *p, qir_pos pos) {
  qir_loc l = {p->file, pos.line, pos.col};
  return l;
}

void qir_text_error(qir_parser *p, qir_pos pos, const char *fmt, ...) {
  if (p->failed)
    return;
  p->failed = true;
  va_list ap;
  va_start(ap, fmt);
  qir_emitv(p->ctx, QIR_SEV_ERROR, qir_text_loc(p, pos), fmt, ap);
  va_end(ap);
}

/* Appends the token text to buf for a message: at most 32 bytes, with
 * unprintable bytes escaped. */
/* Names the limit an error just reported went over. */
static void limit_note(qir_parser *p, qir_pos pos, const char *limit) {
  qir_emit_note(p->ctx, qir_text_loc(p, pos),
                "the limit is %s (see docs/Limits.md)", limit);
}

/* Reports that a count went over a limit of qir/limits.h:
 * `<what> has more than <N> <units>; the limit is <N> (<name>)`. */
static void over_limit(qir_parser *p, qir_pos pos, const char *what,
                       int64_t limit, const char *units, const char *name) {
  char buf[32];
  qir_format_limit(limit, buf, sizeof buf);
  qir_text_error(p, pos, "%s has more than %" PRId64 " %s; the limit is %s (%s)",
                 what, limit, units, buf, name);
}

static void describe_token(qir_slice t, char *buf, size_t size) {
  size_t o = 0;
  while (t.n && (t.s[t.n - 1] == ' ' || t.s[t.n - 1] == '\t'))
    t.n--; /* punctuation carries the blanks after it */
  for (size_t i = 0; i < t.n && o + 8 < size; i++) {
    unsigned char c = (unsigned char)t.s[i];
    if (i == 32) {
      o += (size_t)snprintf(buf + o, size - o, "...");
      break;
    }
    if (c >= 0x20 && c < 0x7f)
      buf[o++] = (char)c;
    else
      o += (size_t)snprintf(buf + o, size - o, "\\x%02X", c);
  }
  buf[o] = '\0';
}

/* Bison names tokens "\"identifier\"" or "')'"; drop the double quotes. */
static void append_token_name(char *buf, size_t size, size_t *o,
                              const char *name) {
  size_t len = strlen(name);
  if (len >= 2 && name[0] == '"' && name[len - 1] == '"') {
    name++;
    len -= 2;
  }
  int w = snprintf(buf + *o, size - *o, "%.*s", (int)len, name);
  if (w > 0)
    *o += (size_t)w < size - *o ? (size_t)w : size - *o - 1;
}

void qir_text_syntax_error(qir_parser *p, qir_pos pos, bool at_eof, int n,
                           const char *const *expected) {
  char found[160];
  if (at_eof)
    snprintf(found, sizeof found, "end of file");
  else {
    char tok[128];
    describe_token(p->tok, tok, sizeof tok);
    snprintf(found, sizeof found, "'%s'", tok);
  }
  if (n <= 0 || n > 4) {
    qir_text_error(p, pos, "unexpected %s", found);
    return;
  }
  char list[256];
  size_t o = 0;
  list[0] = '\0';
  for (int i = 0; i < n; i++) {
    if (i)
      append_token_name(list, sizeof list, &o, i == n - 1 ? " or " : ", ");
    append_token_name(list, sizeof list, &o, expected[i]);
  }
  qir_text_error(p, pos, "expected %s, found %s", list, found);
}

/* ---- Numbers and strings ------------------------------------------------- */

/* Decimal integer with overflow detection. */
static bool read_int(qir_slice t, int64_t *out) {
  size_t i = 0;
  bool neg = t.n && t.s[0] == '-';
  if (neg)
    i++;
  uint64_t v = 0, limit = neg ? (uint64_t)INT64_MAX + 1 : (uint64_t)INT64_MAX;
  if (i == t.n)
    return false;
  for (; i < t.n; i++) {
    unsigned d = (unsigned)(t.s[i] - '0');
    if (d > 9 || v > (limit - d) / 10)
      return false;
    v = v * 10 + d;
  }
  *out = neg ? (int64_t)(0 - v) : (int64_t)v;
  return true;
}

bool qir_text_parse_int(qir_parser *p, qir_slice t, qir_pos pos, int64_t *out) {
  if (!read_int(t, out)) {
    qir_text_error(p, pos, "integer '%.*s' is out of range",
                   (int)(t.n > 40 ? 40 : t.n), t.s);
    return false;
  }
  return true;
}

/* Copies a number token into buf (NUL-terminated) for strtod. */
bool qir_text_number_cstr(qir_parser *p, qir_slice t, qir_pos pos, char *buf,
                          size_t size) {
  if (t.n >= size) {
    qir_text_error(p, pos, "number '%.*s...' is too long", 20, t.s);
    return false;
  }
  memcpy(buf, t.s, t.n);
  buf[t.n] = '\0';
  return true;
}

static bool is_inf_word(const char *s) {
  return strcmp(s, "inf") == 0 || strcmp(s, "-inf") == 0;
}

/* Digits '.' digits (no exponent, at most 15 digits): the integer of all
 * digits divided by a power of ten is exact and correctly rounded, which
 * is what strtod gives, at a fraction of its cost. */
static bool read_simple_decimal(qir_slice t, double *out) {
  static const double pow10[] = {1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7,
                                 1e8, 1e9, 1e10, 1e11, 1e12, 1e13, 1e14, 1e15};
  size_t i = t.n && t.s[0] == '-' ? 1 : 0;
  uint64_t m = 0;
  int digits = 0, frac = -1;
  for (; i < t.n; i++) {
    char c = t.s[i];
    if (c == '.' && frac < 0) {
      frac = 0;
      continue;
    }
    if (c < '0' || c > '9' || ++digits > 15)
      return false;
    m = m * 10 + (uint64_t)(c - '0');
    if (frac >= 0)
      frac++;
  }
  if (frac < 0 || digits == 0)
    return false;
  double v = (double)m / pow10[frac];
  *out = t.s[0] == '-' ? -v : v;
  return true;
}

bool qir_text_parse_double(qir_parser *p, qir_slice t, qir_pos pos,
                           double *out) {
  if (read_simple_decimal(t, out))
    return true;
  char buf[512];
  if (!qir_text_number_cstr(p, t, pos, buf, sizeof buf))
    return false;
  errno = 0;
  double v = strtod(buf, NULL);
  if (errno == ERANGE && (v == HUGE_VAL || v == -HUGE_VAL) &&
      !is_inf_word(buf)) {
    qir_text_error(p, pos, "float '%s' is out of range", buf);
    return false;
  }
  *out = v;
  return true;
}

static int hex_value(int c) {
  if (c >= '0' && c <= '9')
    return c - '0';
  if (c >= 'a' && c <= 'f')
    return c - 'a' + 10;
  if (c >= 'A' && c <= 'F')
    return c - 'A' + 10;
  return -1;
}

/* Unescapes a string token (quotes included) into p->scratch; *len gets
 * the byte count. */
static const char *unescape(qir_parser *p, qir_slice tok, qir_pos pos,
                            size_t *len) {
  qir_vec *v = &p->scratch;
  v->len = 0;
  if (v->cap < tok.n + 1) {
    v->cap = tok.n + 1;
    v->data = qir_xrealloc(v->data, v->cap);
  }
  char *out = v->data;
  size_t o = 0;
  for (size_t i = 1; i + 1 < tok.n; i++) {
    char c = tok.s[i];
    if (c != '\\') {
      out[o++] = c;
      continue;
    }
    char e = tok.s[++i];
    qir_pos epos = {pos.line, pos.col + (unsigned)i - 1};
    switch (e) {
    case 'n': out[o++] = '\n'; break;
    case 't': out[o++] = '\t'; break;
    case 'r': out[o++] = '\r'; break;
    case '0': out[o++] = '\0'; break;
    case '\\': out[o++] = '\\'; break;
    case '"': out[o++] = '"'; break;
    case '\'': out[o++] = '\''; break;
    case 'x': {
      int h = i + 2 < tok.n - 1 ? hex_value(tok.s[i + 1]) : -1;
      int l = h >= 0 ? hex_value(tok.s[i + 2]) : -1;
      if (l < 0) {
        qir_text_error(p, epos, "'\\x' needs two hex digits");
        return NULL;
      }
      out[o++] = (char)(h * 16 + l);
      i += 2;
      break;
    }
    default:
      if ((unsigned char)e >= 0x21 && (unsigned char)e < 0x7f)
        qir_text_error(p, epos, "invalid escape sequence '\\%c' in string", e);
      else
        qir_text_error(p, epos, "invalid escape sequence in string");
      return NULL;
    }
  }
  out[o] = '\0';
  if ((int64_t)o > QIR_MAX_STRING_LEN) {
    over_limit(p, pos, "string", QIR_MAX_STRING_LEN, "bytes",
               "QIR_MAX_STRING_LEN");
    return NULL;
  }
  *len = o;
  return out;
}

const char *qir_text_string_name(qir_parser *p, qir_slice tok, qir_pos pos) {
  size_t n;
  const char *s = unescape(p, tok, pos, &n);
  return s ? qir_intern(p->ctx, s, n) : NULL;
}

const char *qir_text_quoted_symbol(qir_parser *p, qir_slice tok,
                                   qir_pos pos) {
  qir_slice inner = {tok.s + 1, tok.n - 1};
  qir_pos ipos = {pos.line, pos.col + 1};
  return qir_text_string_name(p, inner, ipos);
}

const qir_attr *qir_text_string_attr(qir_parser *p, qir_slice tok,
                                     qir_pos pos) {
  size_t n;
  const char *s = unescape(p, tok, pos, &n);
  return s ? qir_attr_string(p->ctx, s, n) : NULL;
}

const qir_attr *qir_text_int_attr(qir_parser *p, qir_slice tok, qir_pos pos) {
  int64_t v;
  return qir_text_parse_int(p, tok, pos, &v) ? qir_attr_int(p->ctx, v) : NULL;
}

const qir_attr *qir_text_float_attr(qir_parser *p, qir_slice tok,
                                    qir_pos pos) {
  double v;
  return qir_text_parse_double(p, tok, pos, &v) ? qir_attr_float(p->ctx, v)
                                                : NULL;
}

/* ---- Attributes ----------------------------------------------------------- */

bool qir_text_push_attr(qir_parser *p, const char *name, qir_pos pos,
                        const qir_attr *a) {
  /* Checked first: the duplicate search below is linear. */
  if (p->attrs.len >= QIR_MAX_ATTRS) {
    over_limit(p, pos, "attribute dictionary", QIR_MAX_ATTRS, "entries",
               "QIR_MAX_ATTRS");
    return false;
  }
  for (size_t i = 0; i < p->attrs.len; i++)
    if (QIR_VEC_AT(&p->attrs, qir_named_attr, i).name == name) {
      qir_text_error(p, pos, "duplicate attribute '%s'", name);
      return false;
    }
  qir_named_attr *na = qir_vec_push(&p->attrs);
  na->name = name;
  na->attr = a;
  return true;
}

bool qir_text_enter(qir_parser *p, qir_pos pos) {
  if (p->depth >= QIR_TEXT_MAX_NESTING) {
    qir_text_error(p, pos, "brackets nested deeper than %d levels",
                   QIR_TEXT_MAX_NESTING);
    limit_note(p, pos, "QIR_MAX_NESTING");
    return false;
  }
  p->depth++;
  return true;
}

void qir_text_push_elem(qir_parser *p, const qir_attr *a) {
  *(const qir_attr **)qir_vec_push(&p->elems) = a;
}

const qir_attr *qir_text_make_array(qir_parser *p, size_t start,
                                     qir_pos pos) {
  if ((int64_t)(p->elems.len - start) > QIR_MAX_ARRAY_LEN) {
    over_limit(p, pos, "array attribute", QIR_MAX_ARRAY_LEN, "elements",
               "QIR_MAX_ARRAY_LEN");
    return NULL;
  }
  /* No element was ever pushed when the first array is `[]`: no data. */
  const qir_attr **e =
      p->elems.data ? &QIR_VEC_AT(&p->elems, const qir_attr *, start) : NULL;
  const qir_attr *a =
      qir_attr_array(p->ctx, (unsigned)(p->elems.len - start), e);
  p->elems.len = start;
  return a;
}

/* Remembers that the attributes just consumed by an op, a function or the
 * module refer to resources to resolve at the end. */
static void note_holder(qir_parser *p, qir_holder_kind kind, void *obj) {
  if (!p->dict_has_placeholder)
    return;
  qir_text_holder *h = qir_vec_push(&p->holders);
  h->kind = kind;
  h->p = obj;
  p->dict_has_placeholder = false;
}

/* ---- Types ----------------------------------------------------------------- */

/* The scanner only returns the keywords of QIR_SCALAR_LIST. */
static qir_scalar scalar_of_keyword(qir_slice t) {
  switch (t.s[0]) {
  case 'f':
    return t.s[1] == '6' ? QIR_F64 : t.s[1] == '3' ? QIR_F32 : QIR_F16;
  case 'b':
    return QIR_BF16;
  case 'u':
    return t.s[1] == '8' ? QIR_U8 : QIR_U16;
  default:
    if (t.n == 2)
      return t.s[1] == '1' ? QIR_I1 : QIR_I8;
    return t.s[1] == '1' ? QIR_I16 : t.s[1] == '3' ? QIR_I32 : QIR_I64;
  }
}

const qir_type *qir_text_scalar_type(qir_parser *p, qir_slice tok) {
  qir_scalar s = scalar_of_keyword(tok);
  if (!p->scalar_types[s])
    p->scalar_types[s] = qir_scalar_type(p->ctx, s);
  return p->scalar_types[s];
}

static const qir_type *make_tensor_type(qir_parser *p, qir_slice open,
                                        qir_pos pos, const qir_type *elem);
static const qir_type *simple_tensor_type(qir_parser *p, qir_slice tok,
                                          qir_pos pos);

/* `open` is "tensor<" followed by the dims, each ending in 'x'. */
const qir_type *qir_text_tensor_type(qir_parser *p, qir_slice open,
                                     qir_pos pos, const qir_type *elem) {
  uint32_t h = hash_slice(open.s, open.n) ^ (uint32_t)((uintptr_t)elem >> 4);
  qir_type_cache_entry *c = &p->type_cache[h % QIR_TEXT_TYPE_CACHE];
  if (c->elem == elem && c->len == open.n && memcmp(c->text, open.s, open.n) == 0)
    return c->type;
  const qir_type *t = make_tensor_type(p, open, pos, elem);
  if (t) {
    c->text = open.s;
    c->len = open.n;
    c->elem = elem;
    c->type = t;
  }
  return t;
}

const qir_type *qir_text_simple_tensor_type(qir_parser *p, qir_slice tok,
                                            qir_pos pos) {
  qir_type_cache_entry *last = &p->last_type;
  if (last->len == tok.n && memcmp(last->text, tok.s, tok.n) == 0)
    return last->type;
  const qir_type *t = simple_tensor_type(p, tok, pos);
  if (t) {
    last->text = tok.s;
    last->len = tok.n;
    last->type = t;
  }
  return t;
}

static const qir_type *simple_tensor_type(qir_parser *p, qir_slice tok,
                                          qir_pos pos) {
  /* The dims end at the last 'x' before the scalar keyword. */
  size_t end = tok.n - 1, open_len = end;
  while (open_len > strlen("tensor<") && tok.s[open_len - 1] != 'x')
    open_len--;
  qir_slice open = {tok.s, open_len};
  qir_slice scalar = {tok.s + open_len, end - open_len};
  return qir_text_tensor_type(p, open, pos, qir_text_scalar_type(p, scalar));
}

static const qir_type *make_tensor_type(qir_parser *p, qir_slice open,
                                        qir_pos pos, const qir_type *elem) {
  int64_t dims[QIR_MAX_RANK];
  unsigned rank = 0;
  uint64_t elements = 1;
  size_t i = strlen("tensor<");
  while (i < open.n) {
    qir_pos dpos = {pos.line, pos.col + (unsigned)i};
    if (rank == QIR_MAX_RANK) {
      qir_text_error(p, dpos, "tensor rank exceeds the maximum of %d "
                     "(QIR_MAX_RANK)", QIR_MAX_RANK);
      return NULL;
    }
    size_t j = i;
    while (open.s[j] != 'x')
      j++;
    int64_t d = QIR_DYN;
    if (open.s[i] != '?') {
      qir_slice ds = {open.s + i, j - i};
      if (!read_int(ds, &d) || d > QIR_TEXT_MAX_ELEMENTS) {
        qir_text_error(p, dpos, "dimension '%.*s' is too large",
                       (int)(ds.n > 40 ? 40 : ds.n), ds.s);
        return NULL;
      }
      elements *= (uint64_t)d;
      if (elements > (uint64_t)QIR_TEXT_MAX_ELEMENTS) {
        qir_text_error(p, pos, "tensor has more than 2^40 elements");
        limit_note(p, pos, "QIR_MAX_ELEMENTS");
        return NULL;
      }
    }
    dims[rank++] = d;
    i = j + 1;
  }
  const qir_type *t = qir_tensor_type(p->ctx, elem, rank, dims);
  if (!t)
    qir_text_error(p, pos, "invalid tensor type");
  return t;
}

bool qir_text_push_scale(qir_parser *p, qir_slice tok, qir_pos pos) {
  double s;
  if (!qir_text_parse_double(p, tok, pos, &s))
    return false;
  *(double *)qir_vec_push(&p->scales) = s;
  return true;
}

bool qir_text_push_zp(qir_parser *p, const qir_slice *tok, qir_pos pos) {
  int64_t z = 0;
  if (tok && !qir_text_parse_int(p, *tok, pos, &z))
    return false;
  *(int64_t *)qir_vec_push(&p->zps) = z;
  return true;
}

static bool slice_is(qir_slice s, const char *word) {
  return s.n == strlen(word) && memcmp(s.s, word, s.n) == 0;
}

bool qir_text_quant_axis(qir_parser *p, qir_slice kw, qir_pos kw_pos,
                         qir_slice axis, qir_pos axis_pos, size_t *out) {
  if (!slice_is(kw, "axis")) {
    qir_text_error(p, kw_pos, "expected 'axis' or a scale, found '%.*s'",
                   (int)kw.n, kw.s);
    return false;
  }
  int64_t a;
  if (!qir_text_parse_int(p, axis, axis_pos, &a))
    return false;
  if (a < 0 || a >= QIR_MAX_RANK) {
    qir_text_error(p, axis_pos, "quantized axis %" PRId64 " is out of range",
                   a);
    return false;
  }
  *out = (size_t)a;
  return true;
}

bool qir_text_quant_range(qir_parser *p, qir_slice kw, qir_pos kw_pos,
                          qir_slice lo, qir_pos lo_pos, qir_slice hi,
                          qir_pos hi_pos) {
  if (!slice_is(kw, "range")) {
    qir_text_error(p, kw_pos, "expected 'range', found '%.*s'", (int)kw.n,
                   kw.s);
    return false;
  }
  if (!qir_text_parse_int(p, lo, lo_pos, &p->qmin) ||
      !qir_text_parse_int(p, hi, hi_pos, &p->qmax))
    return false;
  p->has_range = true;
  return true;
}

const qir_type *qir_text_quant_type(qir_parser *p, qir_slice open,
                                    qir_pos pos, size_t axis) {
  qir_slice name = {open.s + 3, open.n - 4}; /* between "!q." and '<' */
  qir_scalar s;
  const qir_type *t = NULL;
  if (!qir_scalar_from_name(name.s, name.n, &s)) {
    qir_text_error(p, pos, "unknown quantized storage type '%.*s'",
                   (int)name.n, name.s);
  } else {
    int64_t qmin = p->has_range ? p->qmin : qir_scalar_min(s);
    int64_t qmax = p->has_range ? p->qmax : qir_scalar_max(s);
    unsigned before = qir_diag_error_count(p->ctx);
    t = qir_quant_type(p->ctx, qir_text_loc(p, pos), s,
                       axis == (size_t)-1 ? -1 : (int)axis,
                       (unsigned)p->scales.len, p->scales.data, p->zps.data,
                       qmin, qmax);
    if (!t) {
      if (qir_diag_error_count(p->ctx) == before)
        qir_text_error(p, pos, "invalid quantized type");
      p->failed = true;
    }
  }
  p->scales.len = p->zps.len = 0;
  p->has_range = false;
  return t;
}

/* ---- Functions ------------------------------------------------------------ */

void qir_text_push_arg(qir_parser *p, qir_slice name, qir_pos pos,
                       const qir_type *t) {
  qir_text_push_name(p, name, pos);
  *(const qir_type **)qir_vec_push(&p->arg_types) = t;
}

void qir_text_push_type(qir_parser *p, const qir_type *t) {
  *(const qir_type **)qir_vec_push(&p->types) = t;
}

static bool is_digits(qir_slice s) {
  for (size_t i = 0; i < s.n; i++)
    if (s.s[i] < '0' || s.s[i] > '9')
      return false;
  return true;
}

/* The interned name of a %value, NULL for an anonymous (all digits) one.
 * The slice includes the '%'. */
static const char *value_name(qir_parser *p, qir_slice v) {
  qir_slice n = {v.s + 1, v.n - 1};
  return is_digits(n) ? NULL : qir_intern(p->ctx, n.s, n.n);
}

/* The number of a canonical %N name (no leading zeros), else -1. */
static int64_t direct_number(qir_slice v) {
  if (v.n < 2 || v.n > 9 || (v.s[1] == '0' && v.n > 2))
    return -1;
  int64_t k = 0;
  for (size_t i = 1; i < v.n; i++) {
    unsigned d = (unsigned)(v.s[i] - '0');
    if (d > 9)
      return -1;
    k = k * 10 + d;
  }
  return k < QIR_TEXT_MAX_DIRECT_NUMBER ? k : -1;
}

static qir_numbered_value *numbered_slot(qir_parser *p, int64_t k) {
  while (p->numbered.len <= (size_t)k)
    qir_vec_push(&p->numbered);
  return &QIR_VEC_AT(&p->numbered, qir_numbered_value, k);
}

/* The value named v (with its '%'; k is direct_number(v)), NULL when
 * undefined. */
static qir_value *lookup_value(qir_parser *p, qir_slice v, int64_t k,
                               qir_pos *pos) {
  if (k >= 0 && (size_t)k < p->numbered.len) {
    qir_numbered_value *nv = &QIR_VEC_AT(&p->numbered, qir_numbered_value, k);
    if (nv->v) {
      *pos = nv->pos;
      return nv->v;
    }
  }
  if (k >= 0 && !p->numbers_hashed)
    return NULL;
  qir_symtab_entry *e = qir_symtab_slot(&p->values, v.s, v.n);
  if (!e->s)
    return NULL;
  *pos = e->pos;
  return e->v;
}

/* Checks that a name is new in this function. */
static bool check_new_value(qir_parser *p, qir_slice v, int64_t k,
                            qir_pos pos) {
  qir_pos prev;
  if (lookup_value(p, v, k, &prev)) {
    qir_text_error(p, pos, "redefinition of value '%.*s'", (int)v.n, v.s);
    qir_emit_note(p->ctx, qir_text_loc(p, prev),
                  "previous definition is here");
    return false;
  }
  return true;
}

static void define_value(qir_parser *p, qir_slice v, int64_t k,
                         qir_value *val, qir_pos pos) {
  /* Dense numbering goes in the table; a far jump would waste memory. */
  if (k >= 0 && (size_t)k < p->numbered.len + 4096) {
    qir_numbered_value *nv = numbered_slot(p, k);
    nv->v = val;
    nv->pos = pos;
    return;
  }
  if (k >= 0)
    p->numbers_hashed = true;
  qir_symtab_entry *e = qir_symtab_slot(&p->values, v.s, v.n);
  qir_symtab_insert(&p->values, e, v.s, v.n, pos);
  e->v = val;
}

static void reset_op_lists(qir_parser *p) {
  p->names.len = p->operands.len = p->types.len = p->attrs.len = 0;
  p->arg_types.len = 0;
  p->has_loc = false;
}

bool qir_text_begin_func(qir_parser *p, const char *name, qir_pos pos) {
  qir_loc loc = qir_text_loc(p, pos);
  if (qir_module_lookup(p->module, name)) {
    qir_text_error(p, pos, "redefinition of function '@%s'", name);
    return false;
  }
  size_t n = p->names.len;
  const char **arg_names = qir_xcalloc(n ? n : 1, sizeof *arg_names);
  for (size_t i = 0; i < n; i++)
    arg_names[i] = value_name(p, QIR_VEC_AT(&p->names, qir_text_name, i).name);
  qir_func *f = qir_func_create(p->module, name, loc, (unsigned)n,
                                p->arg_types.data, arg_names,
                                (unsigned)p->types.len, p->types.data);
  free(arg_names);
  if (!f) {
    p->failed = true;
    return false;
  }
  p->func = f;
  for (unsigned i = 0; i < p->attrs.len; i++) {
    qir_named_attr *na = &QIR_VEC_AT(&p->attrs, qir_named_attr, i);
    qir_func_set_attr(f, na->name, na->attr);
  }
  note_holder(p, QIR_HOLDER_FUNC, f);
  for (size_t i = 0; i < n; i++) {
    qir_text_name *tn = &QIR_VEC_AT(&p->names, qir_text_name, i);
    int64_t k = direct_number(tn->name);
    if (!check_new_value(p, tn->name, k, tn->pos))
      return false;
    define_value(p, tn->name, k, f->body.args[i], tn->pos);
  }
  reset_op_lists(p);
  p->func_ops = 0;
  return true;
}

void qir_text_end_func(qir_parser *p) {
  symtab_clear(&p->values);
  p->numbered.len = 0;
  p->numbers_hashed = false;
  p->func = NULL;
}

void qir_text_set_module_name(qir_parser *p, const char *name) {
  p->module->name = name;
}

void qir_text_set_module_attrs(qir_parser *p) {
  for (unsigned i = 0; i < p->attrs.len; i++) {
    qir_named_attr *na = &QIR_VEC_AT(&p->attrs, qir_named_attr, i);
    qir_module_set_attr(p->module, na->name, na->attr);
  }
  note_holder(p, QIR_HOLDER_MODULE, p->module);
  p->attrs.len = 0;
}

/* ---- Ops ------------------------------------------------------------------ */

qir_slice qir_text_def_name(qir_slice tok) {
  size_t n = 1;
  while (n < tok.n && qir_text_is_name_char((unsigned char)tok.s[n]))
    n++;
  qir_slice s = {tok.s, n};
  return s;
}

qir_slice qir_text_call_name(qir_slice tok) {
  size_t n = 0;
  while (tok.s[n] != '(')
    n++;
  qir_slice s = {tok.s, n};
  return s;
}

void qir_text_push_name(qir_parser *p, qir_slice name, qir_pos pos) {
  qir_text_name *n = qir_vec_push(&p->names);
  n->name = name;
  n->pos = pos;
  n->k = direct_number(name);
}

bool qir_text_push_operand(qir_parser *p, qir_slice name, qir_pos pos) {
  qir_pos def_pos;
  qir_value *v = lookup_value(p, name, direct_number(name), &def_pos);
  if (!v) {
    qir_text_error(p, pos, "use of undefined value '%.*s'", (int)name.n,
                   name.s);
    return false;
  }
  qir_vec *ops = &p->operands;
  if (ops->len < ops->cap)
    ((qir_value **)ops->data)[ops->len++] = v;
  else
    *(qir_value **)qir_vec_push(ops) = v;
  return true;
}

bool qir_text_set_loc(qir_parser *p, qir_slice file, qir_pos fpos,
                      qir_slice line, qir_pos lpos, qir_slice col,
                      qir_pos cpos) {
  int64_t l, c;
  if (!qir_text_parse_int(p, line, lpos, &l) ||
      !qir_text_parse_int(p, col, cpos, &c))
    return false;
  if (l < 0 || l > UINT32_MAX) {
    qir_text_error(p, lpos, "line number out of range");
    return false;
  }
  if (c < 0 || c > UINT32_MAX) {
    qir_text_error(p, cpos, "column number out of range");
    return false;
  }
  size_t n;
  const char *f = unescape(p, file, fpos, &n);
  if (!f)
    return false;
  p->op_loc = qir_loc_make(p->ctx, f, (unsigned)l, (unsigned)c);
  p->has_loc = true;
  return true;
}

static const char *plural(size_t n, const char *one, const char *many) {
  return n == 1 ? one : many;
}

static bool check_result_count(qir_parser *p, const qir_op_def *def,
                               qir_pos pos, bool has_types) {
  size_t n = p->names.len;
  if (def->num_results >= 0 && n != (size_t)def->num_results) {
    qir_text_error(p, pos, "'%s' op has %d result%s but %zu %s defined",
                   def->name, def->num_results,
                   def->num_results == 1 ? "" : "s", n,
                   plural(n, "value is", "values are"));
    return false;
  }
  if (has_types && p->types.len != n) {
    qir_text_error(p, pos, "'%s' op has %zu result%s but %zu result type%s given",
                   def->name, n, plural(n, "", "s"), p->types.len,
                   plural(p->types.len, " was", "s were"));
    return false;
  }
  for (size_t i = 0; i < n; i++) {
    qir_text_name *tn = &QIR_VEC_AT(&p->names, qir_text_name, i);
    for (size_t j = 0; j < i; j++) {
      qir_text_name *prev = &QIR_VEC_AT(&p->names, qir_text_name, j);
      if (prev->name.n == tn->name.n &&
          memcmp(prev->name.s, tn->name.s, tn->name.n) == 0) {
        qir_text_error(p, tn->pos, "redefinition of value '%.*s'",
                       (int)tn->name.n, tn->name.s);
        return false;
      }
    }
    if (!check_new_value(p, tn->name, tn->k, tn->pos))
      return false;
  }
  return true;
}

static bool check_operand_count(qir_parser *p, const qir_op_def *def,
                                qir_pos pos) {
  size_t n = p->operands.len;
  int lo = def->min_operands, hi = def->max_operands;
  if ((int64_t)n >= lo && (hi < 0 || (int64_t)n <= hi))
    return true;
  if (hi < 0)
    qir_text_error(p, pos, "'%s' op expects at least %d operand%s, got %zu",
                   def->name, lo, lo == 1 ? "" : "s", n);
  else if (lo == hi)
    qir_text_error(p, pos, "'%s' op expects %d operand%s, got %zu", def->name,
                   lo, lo == 1 ? "" : "s", n);
  else
    qir_text_error(p, pos, "'%s' op expects %d to %d operands, got %zu",
                   def->name, lo, hi, n);
  return false;
}

/* Fills in the result types of `op` from its def's inference. */
static bool infer_results(qir_parser *p, qir_op *op, qir_pos pos) {
  const qir_op_def *def = op->def;
  if (!def->infer) {
    qir_text_error(p, pos, "'%s' op needs explicit result types", def->name);
    return false;
  }
  const qir_type *small[8];
  const qir_type **out = op->num_results <= 8
                             ? small
                             : qir_xcalloc(op->num_results, sizeof *out);
  memset(out, 0, op->num_results * sizeof *out);
  unsigned before = qir_diag_error_count(p->ctx);
  bool ok = def->infer(op, out);
  for (unsigned i = 0; ok && i < op->num_results; i++)
    ok = out[i] != NULL;
  if (ok)
    for (unsigned i = 0; i < op->num_results; i++)
      qir_value_set_type(&op->results[i], out[i]);
  else if (qir_diag_error_count(p->ctx) == before)
    qir_text_error(p, pos, "'%s' op cannot infer its result types",
                   def->name);
  if (out != small)
    free(out);
  if (!ok)
    p->failed = true;
  return ok;
}

static void define_results(qir_parser *p, qir_op *op) {
  for (unsigned i = 0; i < op->num_results; i++) {
    qir_text_name *tn = &QIR_VEC_AT(&p->names, qir_text_name, i);
    const char *name = value_name(p, tn->name);
    if (name)
      qir_value_set_name(p->ctx, &op->results[i], name);
    define_value(p, tn->name, tn->k, &op->results[i], tn->pos);
  }
}

static size_t text_slot(qir_slice s) {
  return (s.n * 31u + (unsigned char)s.s[0] * 7u +
          (unsigned char)s.s[s.n - 1] + (unsigned char)s.s[s.n / 2] * 3u) & 63u;
}

static const qir_op_def *lookup_op(qir_parser *p, qir_slice name) {
  size_t i = text_slot(name);
  if (p->op_cache[i].len == name.n &&
      memcmp(p->op_cache[i].text, name.s, name.n) == 0)
    return p->op_cache[i].value;
  const qir_op_def *def = qir_lookup_op(p->ctx, name.s, name.n);
  if (def) {
    p->op_cache[i].text = name.s;
    p->op_cache[i].len = name.n;
    p->op_cache[i].value = def;
  }
  return def;
}

const char *qir_text_intern_ident(qir_parser *p, qir_slice id) {
  size_t i = text_slot(id);
  if (p->ident_cache[i].len == id.n &&
      memcmp(p->ident_cache[i].text, id.s, id.n) == 0)
    return p->ident_cache[i].value;
  const char *s = qir_intern(p->ctx, id.s, id.n);
  p->ident_cache[i].text = id.s;
  p->ident_cache[i].len = id.n;
  p->ident_cache[i].value = s;
  return s;
}

bool qir_text_build_op(qir_parser *p, qir_slice name, qir_pos name_pos,
                       qir_pos op_pos, bool has_types, bool has_loc) {
  if (++p->func_ops > QIR_MAX_OPS) {
    char what[64];
    snprintf(what, sizeof what, "function '@%s'", p->func->name);
    over_limit(p, name_pos, what, QIR_MAX_OPS, "ops", "QIR_MAX_OPS");
    return false;
  }
  const qir_op_def *def = lookup_op(p, name);
  if (!def) {
    qir_text_error(p, name_pos, "unknown op '%.*s'", (int)name.n, name.s);
    return false;
  }
  if (!check_result_count(p, def, op_pos, has_types))
    return false;
  bool infer = !has_types && p->names.len > 0;
  if (infer && !def->infer) {
    qir_text_error(p, op_pos, "'%s' op needs explicit result types",
                   def->name);
    return false;
  }
  if (infer && !check_operand_count(p, def, op_pos))
    return false;
  qir_loc loc = has_loc ? p->op_loc : qir_text_loc(p, op_pos);
  qir_op *op = qir_op_create(p->ctx, def, loc, (unsigned)p->operands.len,
                             p->operands.data, (unsigned)p->names.len,
                             has_types ? p->types.data : NULL,
                             (unsigned)p->attrs.len, p->attrs.data);
  if (infer && !infer_results(p, op, op_pos)) {
    qir_op_erase(op);
    return false;
  }
  qir_block_append(&p->func->body, op);
  define_results(p, op);
  note_holder(p, QIR_HOLDER_OP, op);
  reset_op_lists(p);
  return true;
}

/* ---- Entry points --------------------------------------------------------- */

static void parser_init(qir_parser *p, qir_context *ctx, const char *file,
                        unsigned first_line) {
  memset(p, 0, sizeof *p);
  p->ctx = ctx;
  p->file = qir_intern_cstr(ctx, file);
  p->line = first_line ? first_line : 1;
  qir_vec_init(&p->names, sizeof(qir_text_name));
  qir_vec_init(&p->numbered, sizeof(qir_numbered_value));
  qir_vec_init(&p->arg_types, sizeof(const qir_type *));
  qir_vec_init(&p->operands, sizeof(qir_value *));
  qir_vec_init(&p->types, sizeof(const qir_type *));
  qir_vec_init(&p->attrs, sizeof(qir_named_attr));
  qir_vec_init(&p->elems, sizeof(const qir_attr *));
  qir_vec_init(&p->dense, sizeof(qir_text_elem));
  qir_vec_init(&p->scales, sizeof(double));
  qir_vec_init(&p->zps, sizeof(int64_t));
  qir_vec_init(&p->resrefs, sizeof(qir_text_resref));
  qir_vec_init(&p->resources, sizeof(qir_text_resource));
  qir_vec_init(&p->holders, sizeof(qir_text_holder));
  qir_vec_init(&p->scratch, 1);
}

static void parser_free(qir_parser *p) {
  qir_text_scanner_free(p);
  free(p->values.slots);
  free(p->resource_index.slots);
  qir_vec *vecs[] = {&p->numbered, &p->names, &p->arg_types, &p->operands, &p->types,
                     &p->attrs, &p->elems, &p->dense, &p->scales,
                     &p->zps, &p->resrefs, &p->resources, &p->holders,
                     &p->scratch};
  for (size_t i = 0; i < sizeof vecs / sizeof vecs[0]; i++)
    qir_vec_free(vecs[i]);
}

/* Registers the text for carets; a chunk that starts at first_line > 1
 * (-split-input-file) is registered after as many empty lines, so that
 * line numbers index it directly. */
static void register_source(qir_context *ctx, const char *file,
                            const char *buf, size_t len, unsigned first_line) {
  if (first_line <= 1) {
    qir_diag_register_source(ctx, file, buf, len);
    return;
  }
  size_t pad = first_line - 1;
  char *text = qir_xmalloc(pad + len + 1);
  memset(text, '\n', pad);
  memcpy(text + pad, buf, len);
  qir_diag_register_source(ctx, file, text, pad + len);
  free(text);
}

/* Parses buf[0..len), which is followed by two NUL bytes and writable
 * (the scanner works in place). */
static qir_module *parse_in_place(qir_context *ctx, const char *filename,
                                  char *buf, size_t len, unsigned first_line) {
  qir_parser p;
  parser_init(&p, ctx, filename, first_line);
  p.module = qir_module_create(ctx);
  p.module->loc = qir_loc_make(ctx, filename, p.line, 1);
  qir_text_scanner_init(&p, buf, len);
  int rc = qir_yyparse(&p);
  if (rc != 0 || p.failed) {
    if (!p.failed)
      qir_text_error(&p, (qir_pos){p.line, 1}, "cannot parse the input");
    qir_module_destroy(p.module);
    p.module = NULL;
  }
  qir_module *m = p.module;
  parser_free(&p);
  return m;
}

qir_module *qir_parse_buffer(qir_context *ctx, const char *filename,
                             const char *buf, size_t len, unsigned first_line) {
  if (!filename)
    filename = "<input>";
  if (!buf) {
    buf = "";
    len = 0;
  }
  register_source(ctx, filename, buf, len, first_line);
  char *copy = qir_xmalloc(len + 2);
  memcpy(copy, buf, len);
  copy[len] = copy[len + 1] = '\0';
  qir_module *m = parse_in_place(ctx, filename, copy, len, first_line);
  free(copy);
  return m;
}

qir_module *qir_parse_file(qir_context *ctx, const char *path) {
  size_t len = 0;
  char *buf = qir_read_file(ctx, path, &len);
  if (!buf)
    return NULL;
  const char *name = strcmp(path, "-") == 0 ? "<stdin>" : path;
  register_source(ctx, name, buf, len, 1);
  buf = qir_xrealloc(buf, len + 2);
  buf[len] = buf[len + 1] = '\0';
  qir_module *m = parse_in_place(ctx, name, buf, len, 1);
  free(buf);
  return m;
}
