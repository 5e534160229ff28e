/* ir/print.c - the printer of the .qir text format (docs/LangRef.md).
 *
 * Output goes through a large buffer flushed with fwrite, with hand-made
 * integer formatting and a cache of type texts, so printing costs little
 * more than copying bytes.  Value names for one function are computed up
 * front and kept in each value's `aux` field, which is saved before and
 * restored after, so printing in the middle of a pass (debug output) leaves
 * the pass's scratch data alone. */
#include <inttypes.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "frontends/qir/text.h"

/* ---- Output buffer -------------------------------------------------------- */

typedef struct outbuf {
  FILE *fp;  /* NULL: grow in memory */
  char *buf;
  size_t len, cap;
} outbuf;

#define OUTBUF_FILE_SIZE ((size_t)1 << 16)

static void ob_flush(outbuf *o) {
  if (o->fp && o->len) {
    fwrite(o->buf, 1, o->len, o->fp);
    o->len = 0;
  }
}

/* Makes room for n more bytes (the slow path of ob_room). */
static char *ob_grow(outbuf *o, size_t n) {
  if (o->fp) {
    ob_flush(o);
    if (n <= o->cap)
      return o->buf;
  }
  size_t cap = o->cap ? o->cap : 4096;
  while (cap < o->len + n)
    cap *= 2;
  o->buf = qir_xrealloc(o->buf, cap);
  o->cap = cap;
  return o->buf + o->len;
}

static inline char *ob_room(outbuf *o, size_t n) {
  if (o->len + n <= o->cap)
    return o->buf + o->len;
  return ob_grow(o, n);
}

static inline void ob_put(outbuf *o, const char *s, size_t n) {
  memcpy(ob_room(o, n), s, n);
  o->len += n;
}

static void ob_str(outbuf *o, const char *s) { ob_put(o, s, strlen(s)); }

static inline void ob_char(outbuf *o, char c) {
  *ob_room(o, 1) = c;
  o->len++;
}

static unsigned count_digits(uint64_t v) {
  unsigned n = 1;
  while (v >= 100) {
    v /= 100;
    n += 2;
  }
  return n + (v >= 10);
}

/* Decimal digits straight into the buffer, two at a time. */
static void ob_u64(outbuf *o, uint64_t v) {
  static const char pairs[] = "00010203040506070809101112131415161718192021222324"
                              "25262728293031323334353637383940414243444546474849"
                              "50515253545556575859606162636465666768697071727374"
                              "75767778798081828384858687888990919293949596979899";
  unsigned n = count_digits(v);
  char *w = ob_room(o, n) + n;
  o->len += n;
  while (v >= 100) {
    unsigned r = (unsigned)(v % 100);
    v /= 100;
    *--w = pairs[2 * r + 1];
    *--w = pairs[2 * r];
  }
  if (v >= 10) {
    *--w = pairs[2 * v + 1];
    *--w = pairs[2 * v];
  } else {
    *--w = (char)('0' + v);
  }
}

static void ob_i64(outbuf *o, int64_t v) {
  if (v < 0) {
    ob_char(o, '-');
    ob_u64(o, 0 - (uint64_t)v);
  } else {
    ob_u64(o, (uint64_t)v);
  }
}

/* ---- Pointer maps and string sets ----------------------------------------- */

typedef struct ptrmap_entry {
  const void *key;
  uint64_t val;
} ptrmap_entry;
typedef struct ptrmap {
  ptrmap_entry *slots;
  size_t cap, len;
} ptrmap;

static size_t ptr_hash(const void *p) {
  return (size_t)(((uintptr_t)p >> 3) * UINT64_C(0x9E3779B97F4A7C15) >> 17);
}

static ptrmap_entry *ptrmap_find(ptrmap *m, const void *key) {
  size_t mask = m->cap - 1;
  for (size_t i = ptr_hash(key) & mask;; i = (i + 1) & mask)
    if (!m->slots[i].key || m->slots[i].key == key)
      return &m->slots[i];
}

/* The entry of key, added (val 0) when absent; *added tells which. */
static ptrmap_entry *ptrmap_get(ptrmap *m, const void *key, bool *added) {
  if ((m->len + 1) * 2 > m->cap) {
    ptrmap old = *m;
    m->cap = old.cap ? old.cap * 2 : 64;
    m->slots = qir_xcalloc(m->cap, sizeof *m->slots);
    for (size_t i = 0; i < old.cap; i++)
      if (old.slots[i].key)
        *ptrmap_find(m, old.slots[i].key) = old.slots[i];
    free(old.slots);
  }
  ptrmap_entry *e = ptrmap_find(m, key);
  *added = !e->key;
  if (!e->key) {
    e->key = key;
    e->val = 0;
    m->len++;
  }
  return e;
}

/* Strings stored in one growing buffer, referred to by offset. */
typedef struct strpool {
  char *buf;
  size_t len, cap;
} strpool;

static size_t pool_add(strpool *p, const char *s, size_t n) {
  if (p->len + n + 1 > p->cap) {
    p->cap = p->cap ? p->cap * 2 : 1024;
    while (p->cap < p->len + n + 1)
      p->cap *= 2;
    p->buf = qir_xrealloc(p->buf, p->cap);
  }
  size_t off = p->len;
  memcpy(p->buf + off, s, n);
  p->buf[off + n] = '\0';
  p->len += n + 1;
  return off;
}

/* A set of strings held in a strpool (open addressing on offsets). */
typedef struct strset {
  strpool *pool;
  uint64_t *slots; /* offset + 1, 0 = empty */
  uint32_t *lens;
  size_t cap, len;
} strset;

static uint64_t str_hash(const char *s, size_t n) {
  uint64_t h = 1469598103934665603u;
  for (size_t i = 0; i < n; i++)
    h = (h ^ (unsigned char)s[i]) * 1099511628211u;
  return h;
}

static size_t strset_find(const strset *set, const char *s, size_t n) {
  size_t mask = set->cap - 1;
  for (size_t i = str_hash(s, n) & mask;; i = (i + 1) & mask) {
    if (!set->slots[i])
      return i;
    if (set->lens[i] == n &&
        memcmp(set->pool->buf + set->slots[i] - 1, s, n) == 0)
      return i;
  }
}

static bool strset_has(const strset *set, const char *s, size_t n) {
  return set->cap && set->slots[strset_find(set, s, n)];
}

/* Adds s (copied into the pool); returns its pool offset. */
static size_t strset_add(strset *set, const char *s, size_t n) {
  if ((set->len + 1) * 2 > set->cap) {
    strset old = *set;
    set->cap = old.cap ? old.cap * 2 : 64;
    set->slots = qir_xcalloc(set->cap, sizeof *set->slots);
    set->lens = qir_xcalloc(set->cap, sizeof *set->lens);
    for (size_t i = 0; i < old.cap; i++)
      if (old.slots[i]) {
        size_t j = strset_find(set, old.pool->buf + old.slots[i] - 1, old.lens[i]);
        set->slots[j] = old.slots[i];
        set->lens[j] = old.lens[i];
      }
    free(old.slots);
    free(old.lens);
  }
  size_t off = pool_add(set->pool, s, n);
  size_t i = strset_find(set, set->pool->buf + off, n);
  set->slots[i] = off + 1;
  set->lens[i] = (uint32_t)n;
  set->len++;
  return off;
}

/* Empties the set for the next function; a set much larger than its
 * contents is dropped rather than wiped (see the parser's symtab_clear). */
static void strset_clear(strset *set) {
  if (set->cap > 64 && set->len * 8 < set->cap) {
    free(set->slots);
    free(set->lens);
    set->slots = NULL;
    set->lens = NULL;
    set->cap = 0;
  } else if (set->len) {
    memset(set->slots, 0, set->cap * sizeof *set->slots);
  }
  set->len = 0;
}

static void strset_free(strset *set) {
  free(set->slots);
  free(set->lens);
}

/* ---- Printer state -------------------------------------------------------- */

/* How one value prints: a number or a name in the pool. */
typedef struct value_name {
  size_t off, len;
} value_name;

typedef struct resource_entry {
  size_t name_off;
  const qir_attr *attr;
} resource_entry;

typedef struct printer {
  outbuf o;
  qir_print_options opt;
  strpool pool;
  ptrmap type_text; /* type -> pool offset << 20 | length */

  /* The current function's names. */
  qir_block *body;
  strset used;          /* names taken in this function */
  bool digit_names;     /* some name is all digits */
  value_name *names;    /* named values; aux = -(index + 1) */
  size_t num_names, cap_names;
  intptr_t *saved_aux;  /* aux of every value, in walk order */
  size_t num_saved, cap_saved;

  /* Resources. */
  strset res_names;
  ptrmap res_of_attr; /* attr -> index + 1 into res */
  resource_entry *res;
  size_t num_res, cap_res;
  unsigned next_blob;
} printer;

static void printer_init(printer *pr, FILE *fp, const qir_print_options *o) {
  memset(pr, 0, sizeof *pr);
  pr->o.fp = fp;
  if (fp) {
    pr->o.cap = OUTBUF_FILE_SIZE;
    pr->o.buf = qir_xmalloc(pr->o.cap);
  }
  if (o)
    pr->opt = *o;
  else
    qir_print_options_init(&pr->opt);
  pr->used.pool = &pr->pool;
  pr->res_names.pool = &pr->pool;
}

static void printer_free(printer *pr) {
  ob_flush(&pr->o);
  if (pr->o.fp)
    free(pr->o.buf);
  free(pr->pool.buf);
  free(pr->type_text.slots);
  strset_free(&pr->used);
  free(pr->names);
  free(pr->saved_aux);
  strset_free(&pr->res_names);
  free(pr->res_of_attr.slots);
  free(pr->res);
}

/* ---- Types, symbols, strings ---------------------------------------------- */

static void print_type(printer *pr, const qir_type *t) {
  if (!t) {
    ob_str(&pr->o, "<<null type>>");
    return;
  }
  bool added;
  ptrmap_entry *e = ptrmap_get(&pr->type_text, t, &added);
  if (added) {
    char small[256];
    int n = qir_type_format(t, small, sizeof small);
    size_t off;
    if ((size_t)n < sizeof small) {
      off = pool_add(&pr->pool, small, (size_t)n);
    } else {
      char *big = qir_xmalloc((size_t)n + 1);
      qir_type_format(t, big, (size_t)n + 1);
      off = pool_add(&pr->pool, big, (size_t)n);
      free(big);
    }
    e->val = (uint64_t)off << 20 | (uint64_t)n;
  }
  ob_put(&pr->o, pr->pool.buf + (e->val >> 20), e->val & 0xfffff);
}

static void print_escaped(printer *pr, const char *s, size_t n) {
  static const char hex[] = "0123456789ABCDEF";
  ob_char(&pr->o, '"');
  for (size_t i = 0; i < n; i++) {
    unsigned char c = (unsigned char)s[i];
    switch (c) {
    case '"': ob_put(&pr->o, "\\\"", 2); break;
    case '\\': ob_put(&pr->o, "\\\\", 2); break;
    case '\n': ob_put(&pr->o, "\\n", 2); break;
    case '\t': ob_put(&pr->o, "\\t", 2); break;
    case '\r': ob_put(&pr->o, "\\r", 2); break;
    default:
      if (c < 0x20 || c == 0x7f) {
        char e[4] = {'\\', 'x', hex[c >> 4], hex[c & 15]};
        ob_put(&pr->o, e, 4);
      } else {
        ob_char(&pr->o, (char)c);
      }
    }
  }
  ob_char(&pr->o, '"');
}

static bool all_name_chars(const char *s, size_t n) {
  for (size_t i = 0; i < n; i++)
    if (!qir_text_is_name_char((unsigned char)s[i]))
      return false;
  return n > 0;
}

static void print_symbol(printer *pr, const char *name) {
  ob_char(&pr->o, '@');
  size_t n = strlen(name);
  if (all_name_chars(name, n))
    ob_put(&pr->o, name, n);
  else
    print_escaped(pr, name, n);
}

/* Attribute names print bare when the scanner reads them back as one
 * identifier, else quoted. */
static void print_attr_name(printer *pr, const char *name) {
  size_t n = strlen(name);
  if (qir_text_is_bare_ident(name, n))
    ob_put(&pr->o, name, n);
  else
    print_escaped(pr, name, n);
}

static void print_double(printer *pr, double v) {
  char buf[48];
  int n = qir_text_format_double(v, buf, sizeof buf);
  ob_put(&pr->o, buf, (size_t)n);
}

/* ---- Value names ------------------------------------------------------------ */

static bool is_digits(const char *s, size_t n) {
  for (size_t i = 0; i < n; i++)
    if (s[i] < '0' || s[i] > '9')
      return false;
  return n > 0;
}

static void save_aux(printer *pr, qir_value *v) {
  if (pr->num_saved == pr->cap_saved) {
    pr->cap_saved = pr->cap_saved ? pr->cap_saved * 2 : 256;
    pr->saved_aux = qir_xrealloc(pr->saved_aux, pr->cap_saved * sizeof(intptr_t));
  }
  pr->saved_aux[pr->num_saved++] = v->aux;
}

static size_t add_name(printer *pr, size_t off, size_t len) {
  if (pr->num_names == pr->cap_names) {
    pr->cap_names = pr->cap_names ? pr->cap_names * 2 : 64;
    pr->names = qir_xrealloc(pr->names, pr->cap_names * sizeof *pr->names);
  }
  pr->names[pr->num_names].off = off;
  pr->names[pr->num_names].len = len;
  return pr->num_names++;
}

/* First walk: record the value's wanted name (sanitized: characters a %name
 * cannot hold become '_'), or mark it anonymous (aux = INTPTR_MIN) or a
 * duplicate (aux = INTPTR_MIN + 1 + pool offset of the wanted name). */
static void claim_name(printer *pr, qir_value *v) {
  save_aux(pr, v);
  if (!v->name || !v->name[0]) {
    v->aux = INTPTR_MIN;
    return;
  }
  size_t n = strlen(v->name);
  char small[128];
  char *s = n < sizeof small ? small : qir_xmalloc(n + 1);
  for (size_t i = 0; i < n; i++)
    s[i] = qir_text_is_name_char((unsigned char)v->name[i]) ? v->name[i] : '_';
  if (is_digits(s, n))
    pr->digit_names = true;
  if (strset_has(&pr->used, s, n)) {
    v->aux = INTPTR_MIN + 1 + (intptr_t)pool_add(&pr->pool, s, n);
  } else {
    size_t off = strset_add(&pr->used, s, n);
    v->aux = -(intptr_t)add_name(pr, off, n) - 1;
  }
  if (s != small)
    free(s);
}

/* Second walk: unique names for duplicates ("x_1", "x_2", ...) and numbers
 * for anonymous values, skipping numbers taken as names. */
static void settle_name(printer *pr, qir_value *v, uint64_t *next_number) {
  if (v->aux == INTPTR_MIN) {
    uint64_t k = *next_number;
    if (pr->digit_names) {
      char tmp[24];
      while (strset_has(&pr->used, tmp,
                        (size_t)snprintf(tmp, sizeof tmp, "%" PRIu64, k)))
        k++;
    }
    v->aux = (intptr_t)k;
    *next_number = k + 1;
    return;
  }
  if (v->aux >= INTPTR_MIN / 2)
    return; /* already a name index */
  size_t base_off = (size_t)(v->aux - INTPTR_MIN - 1);
  size_t base_len = strlen(pr->pool.buf + base_off);
  char *tmp = qir_xmalloc(base_len + 24);
  size_t n = 0;
  for (unsigned k = 1;; k++) {
    memcpy(tmp, pr->pool.buf + base_off, base_len);
    n = base_len + (size_t)snprintf(tmp + base_len, 24, "_%u", k);
    if (!strset_has(&pr->used, tmp, n))
      break;
  }
  size_t off = strset_add(&pr->used, tmp, n);
  v->aux = -(intptr_t)add_name(pr, off, n) - 1;
  free(tmp);
}

static void name_values(printer *pr, qir_block *body) {
  pr->body = body;
  pr->num_names = pr->num_saved = 0;
  pr->digit_names = false;
  strset_clear(&pr->used);
  for (unsigned i = 0; i < body->num_args; i++)
    claim_name(pr, body->args[i]);
  qir_foreach_op(op, body) for (unsigned i = 0; i < op->num_results; i++)
      claim_name(pr, &op->results[i]);
  uint64_t next = 0;
  for (unsigned i = 0; i < body->num_args; i++)
    settle_name(pr, body->args[i], &next);
  qir_foreach_op(op, body) for (unsigned i = 0; i < op->num_results; i++)
      settle_name(pr, &op->results[i], &next);
}

static void restore_aux(printer *pr, qir_block *body) {
  size_t k = 0;
  for (unsigned i = 0; i < body->num_args; i++)
    body->args[i]->aux = pr->saved_aux[k++];
  qir_foreach_op(op, body) for (unsigned i = 0; i < op->num_results; i++)
      op->results[i].aux = pr->saved_aux[k++];
  pr->body = NULL;
}

static bool value_in_body(const printer *pr, const qir_value *v) {
  if (!pr->body)
    return false;
  if (v->kind == QIR_VALUE_ARG)
    return v->owner.block == pr->body;
  return v->owner.op->block == pr->body;
}

static void print_value(printer *pr, const qir_value *v) {
  ob_char(&pr->o, '%');
  if (!v) {
    ob_str(&pr->o, "<<null>>");
  } else if (!value_in_body(pr, v)) {
    /* Detached op or a value of another function: its own name. */
    if (v->name && v->name[0])
      ob_str(&pr->o, v->name);
    else
      ob_str(&pr->o, "<<unnamed>>");
  } else if (v->aux >= 0) {
    ob_u64(&pr->o, (uint64_t)v->aux);
  } else {
    const value_name *n = &pr->names[-(v->aux + 1)];
    ob_put(&pr->o, pr->pool.buf + n->off, n->len);
  }
}

/* The printed name of v without the '%', for resource names. */
static void value_text(printer *pr, const qir_value *v, char *buf,
                       size_t size) {
  buf[0] = '\0';
  if (!value_in_body(pr, v) || v->aux >= 0)
    return;
  const value_name *n = &pr->names[-(v->aux + 1)];
  snprintf(buf, size, "%.*s", (int)n->len, pr->pool.buf + n->off);
}

/* ---- Dense attributes ------------------------------------------------------- */

static const void *dense_elem(const qir_attr *a, size_t i) {
  size_t es = qir_scalar_size(a->u.dense.type->scalar);
  return (const char *)a->u.dense.data + (a->u.dense.splat ? 0 : i * es);
}

static size_t dense_count(const qir_attr *a) {
  int64_t n = qir_tensor_num_elements(a->u.dense.type);
  return n > 0 ? (size_t)n : 0;
}

static bool dense_all_equal(const qir_attr *a) {
  if (a->u.dense.splat)
    return true;
  size_t n = dense_count(a), es = qir_scalar_size(a->u.dense.type->scalar);
  if (n == 0 || a->u.dense.nbytes < n * es)
    return false;
  const char *d = a->u.dense.data;
  for (size_t i = 1; i < n; i++)
    if (memcmp(d, d + i * es, es) != 0)
      return false;
  return true;
}

static bool dense_has_nan(const qir_attr *a) {
  qir_scalar s = a->u.dense.type->scalar;
  if (!qir_scalar_is_float(s))
    return false;
  size_t n = a->u.dense.splat ? 1 : dense_count(a);
  for (size_t i = 0; i < n; i++) {
    const void *p = dense_elem(a, i);
    if (s == QIR_F64) {
      double v;
      memcpy(&v, p, 8);
      if (isnan(v))
        return true;
    } else if (s == QIR_F32) {
      float v;
      memcpy(&v, p, 4);
      if (isnan(v))
        return true;
    } else {
      uint16_t h;
      memcpy(&h, p, 2);
      bool nan16 = s == QIR_F16 ? (h & 0x7c00) == 0x7c00 && (h & 0x3ff)
                                : (h & 0x7f80) == 0x7f80 && (h & 0x7f);
      if (nan16)
        return true;
    }
  }
  return false;
}

static void print_element(printer *pr, qir_scalar s, const void *p) {
  char buf[48];
  int n;
  switch (s) {
  case QIR_F64: {
    double v;
    memcpy(&v, p, 8);
    n = qir_text_format_double(v, buf, sizeof buf);
    ob_put(&pr->o, buf, (size_t)n);
    return;
  }
  case QIR_F32: {
    float v;
    memcpy(&v, p, 4);
    n = qir_text_format_float(v, buf, sizeof buf);
    ob_put(&pr->o, buf, (size_t)n);
    return;
  }
  case QIR_F16:
  case QIR_BF16: {
    uint16_t h;
    memcpy(&h, p, 2);
    n = qir_text_format_half(h, s == QIR_BF16, buf, sizeof buf);
    ob_put(&pr->o, buf, (size_t)n);
    return;
  }
  case QIR_I1:
    ob_str(&pr->o, *(const unsigned char *)p ? "true" : "false");
    return;
  case QIR_I8: { int8_t v; memcpy(&v, p, 1); ob_i64(&pr->o, v); return; }
  case QIR_U8: { uint8_t v; memcpy(&v, p, 1); ob_i64(&pr->o, v); return; }
  case QIR_I16: { int16_t v; memcpy(&v, p, 2); ob_i64(&pr->o, v); return; }
  case QIR_U16: { uint16_t v; memcpy(&v, p, 2); ob_i64(&pr->o, v); return; }
  case QIR_I32: { int32_t v; memcpy(&v, p, 4); ob_i64(&pr->o, v); return; }
  default: { int64_t v; memcpy(&v, p, 8); ob_i64(&pr->o, v); return; }
  }
}

static void print_hex_data(printer *pr, const void *data, size_t n) {
  static const char hex[] = "0123456789ABCDEF";
  const unsigned char *d = data;
  ob_put(&pr->o, "0x", 2);
  while (n) {
    size_t chunk = n < 4096 ? n : 4096;
    char *w = ob_room(&pr->o, chunk * 2);
    for (size_t i = 0; i < chunk; i++) {
      w[2 * i] = hex[d[i] >> 4];
      w[2 * i + 1] = hex[d[i] & 15];
    }
    pr->o.len += chunk * 2;
    d += chunk;
    n -= chunk;
  }
}

static void print_dense_inline(printer *pr, const qir_attr *a) {
  qir_scalar s = a->u.dense.type->scalar;
  size_t es = qir_scalar_size(s);
  ob_str(&pr->o, "dense<");
  if (dense_has_nan(a)) {
    ob_char(&pr->o, '"');
    print_hex_data(pr, a->u.dense.data, a->u.dense.splat ? es : a->u.dense.nbytes);
    ob_char(&pr->o, '"');
  } else if (dense_all_equal(a)) {
    print_element(pr, s, a->u.dense.data);
  } else {
    ob_char(&pr->o, '[');
    size_t n = dense_count(a);
    for (size_t i = 0; i < n; i++) {
      if (i)
        ob_put(&pr->o, ", ", 2);
      print_element(pr, s, dense_elem(a, i));
    }
    ob_char(&pr->o, ']');
  }
  ob_char(&pr->o, '>');
}

static bool same_data(const qir_attr *a, const qir_attr *b) {
  return a->u.dense.type == b->u.dense.type &&
         a->u.dense.splat == b->u.dense.splat &&
         a->u.dense.nbytes == b->u.dense.nbytes &&
         memcmp(a->u.dense.data, b->u.dense.data, a->u.dense.nbytes) == 0;
}

/* The name wanted for an out-of-line attribute, as a bare identifier. */
static void wanted_resource_name(printer *pr, const qir_attr *a,
                                 const char *hint, char *buf, size_t size) {
  const char *base = a->u.dense.resource ? a->u.dense.resource : hint;
  if (!base || !base[0]) {
    snprintf(buf, size, "blob_%u", pr->next_blob++);
    return;
  }
  size_t n = 0;
  for (; base[n] && n + 3 < size; n++)
    buf[n] = qir_text_is_name_char((unsigned char)base[n]) ? base[n] : '_';
  buf[n] = '\0';
  if (!qir_text_is_bare_ident(buf, n) || strcmp(buf, "__elided__") == 0) {
    memmove(buf + 2, buf, n + 1);
    buf[0] = 'r';
    buf[1] = '_';
  }
}

static const char *resource_name(printer *pr, const qir_attr *a,
                                 const char *hint) {
  bool added;
  ptrmap_entry *e = ptrmap_get(&pr->res_of_attr, a, &added);
  if (!added)
    return pr->pool.buf + pr->res[e->val - 1].name_off;
  char base[192], name[224];
  wanted_resource_name(pr, a, hint, base, sizeof base);
  snprintf(name, sizeof name, "%s", base);
  for (unsigned k = 1; strset_has(&pr->res_names, name, strlen(name)); k++) {
    /* The same name and the same bytes: one resource serves both. */
    for (size_t i = 0; i < pr->num_res; i++)
      if (strcmp(pr->pool.buf + pr->res[i].name_off, name) == 0 &&
          same_data(pr->res[i].attr, a)) {
        e->val = i + 1;
        return pr->pool.buf + pr->res[i].name_off;
      }
    snprintf(name, sizeof name, "%s_%u", base, k);
  }
  if (pr->num_res == pr->cap_res) {
    pr->cap_res = pr->cap_res ? pr->cap_res * 2 : 16;
    pr->res = qir_xrealloc(pr->res, pr->cap_res * sizeof *pr->res);
  }
  size_t off = strset_add(&pr->res_names, name, strlen(name));
  pr->res[pr->num_res].name_off = off;
  pr->res[pr->num_res].attr = a;
  e->val = ++pr->num_res;
  return pr->pool.buf + off;
}

static bool goes_out_of_line(const printer *pr, const qir_attr *a) {
  return pr->opt.inline_limit && a->u.dense.nbytes > pr->opt.inline_limit &&
         !dense_all_equal(a);
}

static void print_dense(printer *pr, const qir_attr *a, const char *hint) {
  if (!a->u.dense.type || !a->u.dense.data) {
    ob_str(&pr->o, "dense<<<invalid>>>");
    return;
  }
  if (goes_out_of_line(pr, a)) {
    ob_str(&pr->o, "dense_resource<");
    if (pr->opt.elide_constants)
      ob_str(&pr->o, "__elided__");
    else
      ob_str(&pr->o, resource_name(pr, a, hint));
    ob_char(&pr->o, '>');
  } else {
    print_dense_inline(pr, a);
  }
  ob_put(&pr->o, " : ", 3);
  print_type(pr, a->u.dense.type);
}

static void print_resources(printer *pr) {
  if (!pr->num_res)
    return;
  ob_str(&pr->o, "resources {\n");
  for (size_t i = 0; i < pr->num_res; i++) {
    const qir_attr *a = pr->res[i].attr;
    ob_put(&pr->o, "  ", 2);
    ob_str(&pr->o, pr->pool.buf + pr->res[i].name_off);
    ob_put(&pr->o, ": \"", 3);
    print_hex_data(pr, a->u.dense.data, a->u.dense.nbytes);
    ob_str(&pr->o, i + 1 < pr->num_res ? "\",\n" : "\"\n");
  }
  ob_str(&pr->o, "}\n");
}

/* ---- Attributes ------------------------------------------------------------- */

static void print_attr(printer *pr, const qir_attr *a, const char *hint) {
  if (!a) {
    ob_str(&pr->o, "<<null attribute>>");
    return;
  }
  switch (a->kind) {
  case QIR_ATTR_INT:
    ob_i64(&pr->o, a->u.i);
    break;
  case QIR_ATTR_FLOAT:
    print_double(pr, a->u.f);
    break;
  case QIR_ATTR_BOOL:
    ob_str(&pr->o, a->u.b ? "true" : "false");
    break;
  case QIR_ATTR_STRING:
    print_escaped(pr, a->u.str.data, a->u.str.len);
    break;
  case QIR_ATTR_ARRAY:
    ob_char(&pr->o, '[');
    for (unsigned i = 0; i < a->u.array.n; i++) {
      if (i)
        ob_put(&pr->o, ", ", 2);
      print_attr(pr, a->u.array.elems[i], NULL);
    }
    ob_char(&pr->o, ']');
    break;
  case QIR_ATTR_DENSE:
    print_dense(pr, a, hint);
    break;
  case QIR_ATTR_SYMBOL:
    print_symbol(pr, a->u.symbol);
    break;
  case QIR_ATTR_TYPE:
    print_type(pr, a->u.type);
    break;
  }
}

static void print_attr_dict(printer *pr, unsigned n, const qir_named_attr *attrs,
                            const char *hint) {
  ob_char(&pr->o, '{');
  for (unsigned i = 0; i < n; i++) {
    if (i)
      ob_put(&pr->o, ", ", 2);
    print_attr_name(pr, attrs[i].name);
    ob_put(&pr->o, " = ", 3);
    print_attr(pr, attrs[i].attr, hint);
  }
  ob_char(&pr->o, '}');
}

/* ---- Ops, functions, modules ------------------------------------------------ */

static void print_loc(printer *pr, qir_loc loc) {
  if (!loc.file)
    return;
  ob_str(&pr->o, " loc(");
  print_escaped(pr, loc.file, strlen(loc.file));
  ob_char(&pr->o, ':');
  ob_u64(&pr->o, loc.line);
  ob_char(&pr->o, ':');
  ob_u64(&pr->o, loc.col);
  ob_char(&pr->o, ')');
}

static void print_op_line(printer *pr, qir_op *op) {
  for (unsigned i = 0; i < op->num_results; i++) {
    if (i)
      ob_put(&pr->o, ", ", 2);
    print_value(pr, &op->results[i]);
  }
  if (op->num_results)
    ob_put(&pr->o, " = ", 3);
  ob_str(&pr->o, op->def->name);
  if (op->num_operands) {
    ob_char(&pr->o, '(');
    for (unsigned i = 0; i < op->num_operands; i++) {
      if (i)
        ob_put(&pr->o, ", ", 2);
      print_value(pr, op->operands[i].value);
    }
    ob_char(&pr->o, ')');
  }
  if (op->num_attrs) {
    char hint[160];
    hint[0] = '\0';
    if (qir_op_has_trait(op, QIR_TRAIT_CONSTANT) && op->num_results == 1)
      value_text(pr, &op->results[0], hint, sizeof hint);
    ob_char(&pr->o, ' ');
    print_attr_dict(pr, op->num_attrs, op->attrs, hint[0] ? hint : NULL);
  }
  if (op->num_results == 1) {
    ob_put(&pr->o, " : ", 3);
    print_type(pr, op->results[0].type);
  } else if (op->num_results > 1) {
    ob_put(&pr->o, " : (", 4);
    for (unsigned i = 0; i < op->num_results; i++) {
      if (i)
        ob_put(&pr->o, ", ", 2);
      print_type(pr, op->results[i].type);
    }
    ob_char(&pr->o, ')');
  }
  if (pr->opt.print_locs)
    print_loc(pr, op->loc);
}

static void print_func(printer *pr, qir_func *f) {
  name_values(pr, &f->body);
  ob_str(&pr->o, "func ");
  print_symbol(pr, f->name);
  ob_char(&pr->o, '(');
  for (unsigned i = 0; i < f->body.num_args; i++) {
    if (i)
      ob_put(&pr->o, ", ", 2);
    print_value(pr, f->body.args[i]);
    ob_put(&pr->o, ": ", 2);
    print_type(pr, f->body.args[i]->type);
  }
  ob_char(&pr->o, ')');
  if (f->num_results == 1) {
    ob_put(&pr->o, " -> ", 4);
    print_type(pr, f->result_types[0]);
  } else if (f->num_results > 1) {
    ob_put(&pr->o, " -> (", 5);
    for (unsigned i = 0; i < f->num_results; i++) {
      if (i)
        ob_put(&pr->o, ", ", 2);
      print_type(pr, f->result_types[i]);
    }
    ob_char(&pr->o, ')');
  }
  if (f->num_attrs) {
    ob_str(&pr->o, " attributes ");
    print_attr_dict(pr, f->num_attrs, f->attrs, NULL);
  }
  ob_str(&pr->o, " {\n");
  qir_foreach_op(op, &f->body) {
    ob_put(&pr->o, "  ", 2);
    print_op_line(pr, op);
    ob_char(&pr->o, '\n');
  }
  ob_str(&pr->o, "}\n");
  restore_aux(pr, &f->body);
}

static void print_module(printer *pr, qir_module *m) {
  if (m->name || m->num_attrs) {
    ob_str(&pr->o, "module");
    if (m->name) {
      ob_char(&pr->o, ' ');
      print_symbol(pr, m->name);
    }
    if (m->num_attrs) {
      ob_str(&pr->o, " attributes ");
      print_attr_dict(pr, m->num_attrs, m->attrs, NULL);
    }
    ob_char(&pr->o, '\n');
  }
  qir_foreach_func(f, m) {
    if (f != m->first)
      ob_char(&pr->o, '\n');
    print_func(pr, f);
  }
  if (pr->num_res && m->first)
    ob_char(&pr->o, '\n');
  print_resources(pr);
}

/* ---- Public entry points ---------------------------------------------------- */

void qir_print_options_init(qir_print_options *o) {
  memset(o, 0, sizeof *o);
  o->inline_limit = 64;
}

void qir_print_module(FILE *out, qir_module *m, const qir_print_options *o) {
  printer pr;
  printer_init(&pr, out, o);
  print_module(&pr, m);
  printer_free(&pr);
}

char *qir_print_module_to_string(qir_module *m, const qir_print_options *o,
                                 size_t *len) {
  printer pr;
  printer_init(&pr, NULL, o);
  print_module(&pr, m);
  ob_char(&pr.o, '\0');
  char *s = pr.o.buf;
  if (len)
    *len = pr.o.len - 1;
  pr.o.buf = NULL;
  printer_free(&pr);
  return s;
}

/* Out-of-line data of a single op prints as __elided__: there is no
 * resources section to hold it. */
void qir_print_op(FILE *out, qir_op *op) {
  qir_print_options o;
  qir_print_options_init(&o);
  o.elide_constants = true;
  printer pr;
  printer_init(&pr, out, &o);
  qir_block *body = op->block;
  if (body)
    name_values(&pr, body);
  print_op_line(&pr, op);
  ob_char(&pr.o, '\n');
  if (body)
    restore_aux(&pr, body);
  printer_free(&pr);
}

bool qir_write_module(qir_context *ctx, const char *path, qir_module *m,
                      const qir_print_options *o) {
  qir_output out;
  if (!qir_output_open(ctx, &out, path, false))
    return false;
  qir_print_module(out.fp, m, o);
  return qir_output_commit(ctx, &out);
}
