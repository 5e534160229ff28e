/* frontends/qir/parse-dense.c - dense tensor literals, hex data and the
 * resources section of the .qir parser.
 *
 * `dense_resource<name>` may come before the `resources { }` section that
 * holds its bytes, so it parses to a placeholder attribute (data pointing at
 * placeholder_marker, nbytes holding the reference's index).  When the
 * module is complete, each placeholder is resolved to a real dense
 * attribute that keeps the resource name, and the ops, functions and
 * module that hold placeholders get the real attributes. */
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "frontends/qir/parse-actions.h"

static const char placeholder_marker;
static const char elided_name[] = "__elided__";

static const char *type_str(const qir_type *t, char *buf, size_t size) {
  qir_type_format(t, buf, size);
  return buf;
}

/* The dense type must be a static tensor. */
static bool check_dense_type(qir_parser *p, const qir_type *t, qir_pos pos) {
  char buf[256];
  if (!qir_type_is_tensor(t)) {
    qir_text_error(p, pos, "dense attribute needs a tensor type, found '%s'",
                   type_str(t, buf, sizeof buf));
    return false;
  }
  if (!qir_tensor_is_static(t)) {
    qir_text_error(p, pos,
                   "dense attribute needs a static tensor type, found '%s'",
                   type_str(t, buf, sizeof buf));
    return false;
  }
  if (!qir_check_tensor_bytes(p->ctx, qir_text_loc(p, pos), "dense attribute",
                              t)) {
    p->failed = true;
    return false;
  }
  return true;
}

void qir_text_push_dense(qir_parser *p, qir_slice tok, qir_pos pos,
                         qir_elem_kind kind) {
  qir_text_elem *e = qir_vec_push(&p->dense);
  e->text = tok;
  e->pos = pos;
  e->kind = kind;
}

static void *scratch(qir_parser *p, size_t n) {
  qir_vec *v = &p->scratch;
  if (v->cap < n) {
    v->cap = n;
    v->data = qir_xrealloc(v->data, n ? n : 1);
  }
  return v->data;
}

/* ---- Elements ------------------------------------------------------------ */

static bool float_element(qir_parser *p, const qir_text_elem *e, qir_scalar s,
                          void *out) {
  char buf[512];
  if (e->kind == QIR_ELEM_BOOL) {
    qir_text_error(p, e->pos, "expected a number element for %s, found '%.*s'",
                   qir_scalar_name(s), (int)e->text.n, e->text.s);
    return false;
  }
  if (!qir_text_number_cstr(p, e->text, e->pos, buf, sizeof buf))
    return false;
  bool inf_word = strstr(buf, "inf") != NULL;
  bool is_inf;
  switch (s) {
  case QIR_F64: {
    double v = strtod(buf, NULL);
    memcpy(out, &v, 8);
    is_inf = isinf(v);
    break;
  }
  case QIR_F32: {
    float v = strtof(buf, NULL);
    memcpy(out, &v, 4);
    is_inf = isinf(v);
    break;
  }
  default: {
    uint16_t h = s == QIR_F16 ? qir_text_read_f16(buf) : qir_text_read_bf16(buf);
    memcpy(out, &h, 2);
    is_inf = (h & 0x7fff) == (s == QIR_F16 ? 0x7c00 : 0x7f80);
    break;
  }
  }
  if (is_inf && !inf_word) {
    qir_text_error(p, e->pos, "value %s is out of range for %s", buf,
                   qir_scalar_name(s));
    return false;
  }
  return true;
}

static void store_int(int64_t v, qir_scalar s, void *out) {
  switch (qir_scalar_size(s)) {
  case 1: { int8_t x = (int8_t)v; memcpy(out, &x, 1); break; }
  case 2: { int16_t x = (int16_t)v; memcpy(out, &x, 2); break; }
  case 4: { int32_t x = (int32_t)v; memcpy(out, &x, 4); break; }
  default: memcpy(out, &v, 8); break;
  }
}

static bool int_element(qir_parser *p, const qir_text_elem *e, qir_scalar s,
                        void *out) {
  int64_t v;
  if (e->kind == QIR_ELEM_BOOL) {
    if (s != QIR_I1) {
      qir_text_error(p, e->pos, "expected an integer element for %s, found '%.*s'",
                     qir_scalar_name(s), (int)e->text.n, e->text.s);
      return false;
    }
    v = e->text.s[0] == 't';
  } else if (e->kind == QIR_ELEM_FLOAT) {
    qir_text_error(p, e->pos, "expected an integer element for %s, found '%.*s'",
                   qir_scalar_name(s), (int)(e->text.n > 40 ? 40 : e->text.n),
                   e->text.s);
    return false;
  } else {
    if (!qir_text_parse_int(p, e->text, e->pos, &v))
      return false;
    if (v < qir_scalar_min(s) || v > qir_scalar_max(s)) {
      qir_text_error(p, e->pos, "value %" PRId64 " is out of range for %s", v,
                     qir_scalar_name(s));
      return false;
    }
  }
  store_int(v, s, out);
  return true;
}

static bool convert_element(qir_parser *p, const qir_text_elem *e,
                            qir_scalar s, void *out) {
  return qir_scalar_is_float(s) ? float_element(p, e, s, out)
                                : int_element(p, e, s, out);
}

const qir_attr *qir_text_dense(qir_parser *p, qir_text_dense_kind kind,
                               qir_pos pos, const qir_type *t,
                               qir_pos type_pos) {
  size_t n = p->dense.len;
  p->dense.len = 0;
  if (!check_dense_type(p, t, type_pos))
    return NULL;
  qir_scalar s = t->scalar;
  size_t esize = qir_scalar_size(s);
  const qir_text_elem *elems = p->dense.data;
  if (kind == QIR_TEXT_DENSE_SPLAT) {
    unsigned char elem[8];
    if (!convert_element(p, &elems[0], s, elem))
      return NULL;
    return qir_attr_dense_splat(p->ctx, t, elem);
  }
  int64_t count = qir_tensor_num_elements(t);
  if ((int64_t)n != count) {
    char buf[256];
    qir_text_error(p, pos, "dense attribute has %zu element%s but %s needs %" PRId64,
                   n, n == 1 ? "" : "s", type_str(t, buf, sizeof buf), count);
    return NULL;
  }
  unsigned char *data = scratch(p, n * esize);
  for (size_t i = 0; i < n; i++)
    if (!convert_element(p, &elems[i], s, data + i * esize))
      return NULL;
  return qir_attr_dense(p->ctx, qir_text_loc(p, pos), t, data, n * esize);
}

/* ---- Hex data ------------------------------------------------------------- */

static const signed char hex_digit[256] = {
    -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1,
    -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1,
    -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1,
    0, 1, 2, 3, 4, 5, 6, 7, 8, 9, -1, -1, -1, -1, -1, -1,
    -1, 10, 11, 12, 13, 14, 15, -1, -1, -1, -1, -1, -1, -1, -1, -1,
    -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1,
    -1, 10, 11, 12, 13, 14, 15, -1, -1, -1, -1, -1, -1, -1, -1, -1,
    -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1,
    -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1,
    -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1,
    -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1,
    -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1,
    -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1,
    -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1,
    -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1,
    -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1,
};

/* Checks a "0x..." string token (quotes included); *nbytes gets its size. */
static bool check_hex(qir_parser *p, qir_slice tok, qir_pos pos,
                      size_t *nbytes) {
  if (tok.n < 4 || tok.s[1] != '0' || (tok.s[2] != 'x' && tok.s[2] != 'X')) {
    qir_text_error(p, pos, "hex data must start with '0x'");
    return false;
  }
  size_t digits = tok.n - 4;
  const unsigned char *h = (const unsigned char *)tok.s + 3;
  for (size_t i = 0; i < digits; i++)
    if (hex_digit[h[i]] < 0) {
      qir_pos bad = {pos.line, pos.col + 3 + (unsigned)i};
      if (h[i] >= 0x21 && h[i] < 0x7f)
        qir_text_error(p, bad, "invalid hex digit '%c'", h[i]);
      else
        qir_text_error(p, bad, "invalid hex digit 0x%02X", h[i]);
      return false;
    }
  if (digits % 2) {
    qir_text_error(p, pos, "hex data has an odd number of digits");
    return false;
  }
  *nbytes = digits / 2;
  return true;
}

/* Decodes a checked hex token into p's scratch buffer. */
static const unsigned char *decode_hex(qir_parser *p, qir_slice tok,
                                       size_t nbytes) {
  unsigned char *out = scratch(p, nbytes);
  const unsigned char *h = (const unsigned char *)tok.s + 3;
  for (size_t i = 0; i < nbytes; i++)
    out[i] = (unsigned char)(hex_digit[h[2 * i]] << 4 | hex_digit[h[2 * i + 1]]);
  return out;
}

const qir_attr *qir_text_dense_hex(qir_parser *p, qir_slice tok, qir_pos pos,
                                   const qir_type *t, qir_pos type_pos) {
  size_t nbytes;
  if (!check_dense_type(p, t, type_pos) || !check_hex(p, tok, pos, &nbytes))
    return NULL;
  size_t esize = qir_scalar_size(t->scalar);
  int64_t need = qir_tensor_num_bytes(t);
  if ((int64_t)nbytes != need && nbytes != esize) {
    char buf[256];
    qir_text_error(p, pos, "hex data has %zu bytes but %s needs %" PRId64,
                   nbytes, type_str(t, buf, sizeof buf), need);
    return NULL;
  }
  const unsigned char *data = decode_hex(p, tok, nbytes);
  if ((int64_t)nbytes == need)
    return qir_attr_dense(p->ctx, qir_text_loc(p, pos), t, data, nbytes);
  return qir_attr_dense_splat(p->ctx, t, data);
}

/* ---- Resources -------------------------------------------------------------- */

const qir_attr *qir_text_dense_resource(qir_parser *p, qir_slice name,
                                        qir_pos pos, const qir_type *t,
                                        qir_pos type_pos) {
  if (!check_dense_type(p, t, type_pos))
    return NULL;
  if (name.n == strlen(elided_name) && memcmp(name.s, elided_name, name.n) == 0) {
    if (!p->warned_elided)
      qir_emit_warning(p->ctx, qir_text_loc(p, pos),
                       "elided constant data read as zeros");
    p->warned_elided = true;
    static const unsigned char zeros[8];
    return qir_attr_dense_splat(p->ctx, t, zeros);
  }
  qir_attr *ph = qir_arena_alloc(p->ctx, sizeof *ph);
  ph->kind = QIR_ATTR_DENSE;
  ph->u.dense.type = t;
  ph->u.dense.data = &placeholder_marker;
  ph->u.dense.nbytes = p->resrefs.len;
  ph->u.dense.resource = qir_intern(p->ctx, name.s, name.n);
  qir_text_resref *r = qir_vec_push(&p->resrefs);
  r->placeholder = ph;
  r->name = name;
  r->pos = pos;
  p->dict_has_placeholder = true;
  return ph;
}

bool qir_text_add_resource(qir_parser *p, qir_slice name, qir_pos pos,
                           qir_slice hex, qir_pos hex_pos) {
  qir_symtab_entry *e = qir_symtab_slot(&p->resource_index, name.s, name.n);
  if (e->s) {
    qir_text_error(p, pos, "redefinition of resource '%.*s'", (int)name.n,
                   name.s);
    qir_emit_note(p->ctx, qir_text_loc(p, e->pos),
                  "previous definition is here");
    return false;
  }
  size_t nbytes;
  if (!check_hex(p, hex, hex_pos, &nbytes))
    return false;
  qir_symtab_insert(&p->resource_index, e, name.s, name.n, pos);
  e->index = p->resources.len;
  qir_text_resource *r = qir_vec_push(&p->resources);
  r->name = name;
  r->hex = hex;
  r->pos = hex_pos;
  return true;
}

/* The real attribute of reference r. */
static const qir_attr *resolve_ref(qir_parser *p, qir_text_resref *r) {
  qir_symtab_entry *e = qir_symtab_slot(&p->resource_index, r->name.s, r->name.n);
  if (!e->s) {
    qir_text_error(p, r->pos, "no data for resource '%.*s' in the resources section",
                   (int)r->name.n, r->name.s);
    return NULL;
  }
  qir_text_resource *res = &QIR_VEC_AT(&p->resources, qir_text_resource, e->index);
  const qir_type *t = r->placeholder->u.dense.type;
  if (res->attr && res->attr->u.dense.type == t)
    return res->attr;
  size_t nbytes = (res->hex.n - 4) / 2;
  int64_t need = qir_tensor_num_bytes(t);
  if ((int64_t)nbytes != need) {
    char buf[256];
    qir_text_error(p, r->pos, "resource '%.*s' has %zu bytes but %s needs %" PRId64,
                   (int)r->name.n, r->name.s, nbytes,
                   type_str(t, buf, sizeof buf), need);
    return NULL;
  }
  const unsigned char *data = decode_hex(p, res->hex, nbytes);
  const qir_attr *a = qir_attr_dense(p->ctx, qir_text_loc(p, r->pos), t, data, nbytes);
  if (!a) {
    p->failed = true;
    return NULL;
  }
  a = qir_attr_dense_with_resource(p->ctx, a, r->placeholder->u.dense.resource);
  res->attr = a;
  return a;
}

static bool is_placeholder(const qir_attr *a) {
  return a->kind == QIR_ATTR_DENSE && a->u.dense.data == &placeholder_marker;
}

/* `a` with its placeholders replaced (arrays rebuilt only when needed). */
static const qir_attr *substitute(qir_parser *p, const qir_attr *a) {
  if (is_placeholder(a))
    return QIR_VEC_AT(&p->resrefs, qir_text_resref, a->u.dense.nbytes).resolved;
  if (a->kind != QIR_ATTR_ARRAY)
    return a;
  unsigned n = a->u.array.n;
  const qir_attr **elems = NULL;
  for (unsigned i = 0; i < n; i++) {
    const qir_attr *e = substitute(p, a->u.array.elems[i]);
    if (e != a->u.array.elems[i] && !elems) {
      elems = qir_xmalloc(n * sizeof *elems);
      memcpy(elems, a->u.array.elems, n * sizeof *elems);
    }
    if (elems)
      elems[i] = e;
  }
  if (!elems)
    return a;
  const qir_attr *r = qir_attr_array(p->ctx, n, elems);
  free(elems);
  return r;
}

static void substitute_holder(qir_parser *p, const qir_text_holder *h) {
  unsigned n;
  qir_named_attr *attrs;
  switch (h->kind) {
  case QIR_HOLDER_OP:
    n = ((qir_op *)h->p)->num_attrs;
    attrs = ((qir_op *)h->p)->attrs;
    break;
  case QIR_HOLDER_FUNC:
    n = ((qir_func *)h->p)->num_attrs;
    attrs = ((qir_func *)h->p)->attrs;
    break;
  default:
    n = ((qir_module *)h->p)->num_attrs;
    attrs = ((qir_module *)h->p)->attrs;
    break;
  }
  for (unsigned i = 0; i < n; i++) {
    const qir_attr *a = substitute(p, attrs[i].attr);
    if (a == attrs[i].attr)
      continue;
    if (h->kind == QIR_HOLDER_OP)
      qir_op_set_attr(h->p, attrs[i].name, a);
    else if (h->kind == QIR_HOLDER_FUNC)
      qir_func_set_attr(h->p, attrs[i].name, a);
    else
      qir_module_set_attr(h->p, attrs[i].name, a);
  }
}

bool qir_text_finish_module(qir_parser *p) {
  for (size_t i = 0; i < p->resrefs.len; i++) {
    qir_text_resref *r = &QIR_VEC_AT(&p->resrefs, qir_text_resref, i);
    r->resolved = resolve_ref(p, r);
    if (!r->resolved)
      return false;
  }
  for (size_t i = 0; i < p->holders.len; i++)
    substitute_holder(p, &QIR_VEC_AT(&p->holders, qir_text_holder, i));
  return true;
}
