/* ir/ops/common.c - checks and shape helpers shared by the op families. */
#include <inttypes.h>
#include <string.h>

#include "ir/ops/ops.h"

const char *qir_ops_type_str(qir_context *ctx, const qir_type *t) {
  if (!t)
    return "<null>";
  int n = qir_type_format(t, NULL, 0);
  if (n < 0)
    return "<type>";
  char *buf = qir_arena_alloc(ctx, (size_t)n + 1);
  qir_type_format(t, buf, (size_t)n + 1);
  return buf;
}

const char *qir_ops_ints_str(qir_context *ctx, const int64_t *v, unsigned n) {
  size_t cap = 3 + (size_t)n * 22;
  char *buf = qir_arena_alloc(ctx, cap);
  size_t len = 0;
  buf[len++] = '[';
  for (unsigned i = 0; i < n; i++)
    len += (size_t)snprintf(buf + len, cap - len, "%s%" PRId64,
                            i ? ", " : "", v[i]);
  buf[len++] = ']';
  buf[len] = 0;
  return buf;
}

static bool elem_is_scalar(const qir_type *t) {
  return qir_type_is_tensor(t) && t->elem->kind == QIR_TYPE_SCALAR;
}

bool qir_ops_is_float(const qir_type *t) {
  return elem_is_scalar(t) && qir_scalar_is_float(t->scalar);
}

bool qir_ops_is_int(const qir_type *t) {
  return elem_is_scalar(t) && !qir_scalar_is_float(t->scalar);
}

bool qir_ops_is_i1(const qir_type *t) {
  return elem_is_scalar(t) && t->scalar == QIR_I1;
}

bool qir_ops_check_operands(qir_op *op) {
  bool ok = true;
  for (unsigned i = 0; i < op->num_operands; i++) {
    const qir_type *t = qir_ops_type(op, i);
    if (!op->operands[i].value) {
      qir_op_emit_error(op, "operand #%u is missing", i);
      ok = false;
    } else if (!qir_type_is_tensor(t)) {
      qir_op_emit_error(op, "operand #%u must be a tensor, got %s", i,
                        qir_ops_type_str(op->ctx, t));
      ok = false;
    }
  }
  return ok;
}

static bool elem_follows(const qir_type *t, qir_ops_elem_rule rule) {
  qir_scalar s = t->scalar;
  switch (rule) {
  case QIR_ELEM_ANY:
    return elem_is_scalar(t);
  case QIR_ELEM_FLOAT:
    return qir_ops_is_float(t);
  case QIR_ELEM_INT:
    return qir_ops_is_int(t) && s != QIR_I1;
  case QIR_ELEM_INDEX:
    return elem_is_scalar(t) && (s == QIR_I32 || s == QIR_I64);
  case QIR_ELEM_I64:
    return elem_is_scalar(t) && s == QIR_I64;
  case QIR_ELEM_BOOL:
    return qir_ops_is_i1(t);
  case QIR_ELEM_NUMERIC:
    return elem_is_scalar(t) && s != QIR_I1;
  }
  return false;
}

static const char *rule_text(qir_ops_elem_rule rule) {
  switch (rule) {
  case QIR_ELEM_ANY:
    return "a non-quantized";
  case QIR_ELEM_FLOAT:
    return "a float";
  case QIR_ELEM_INT:
    return "an integer";
  case QIR_ELEM_INDEX:
    return "an i32 or i64";
  case QIR_ELEM_I64:
    return "an i64";
  case QIR_ELEM_BOOL:
    return "an i1";
  case QIR_ELEM_NUMERIC:
    return "a numeric (not i1)";
  }
  return "?";
}

bool qir_ops_check_elem(qir_op *op, unsigned i, qir_ops_elem_rule rule) {
  const qir_type *t = qir_ops_type(op, i);
  if (qir_tensor_is_quant(t) && qir_op_has_trait(op, QIR_TRAIT_QUANTIZABLE) &&
      (rule == QIR_ELEM_FLOAT || rule == QIR_ELEM_NUMERIC ||
       rule == QIR_ELEM_ANY))
    return true;
  if (elem_follows(t, rule))
    return true;
  qir_op_emit_error(op, "operand #%u must have %s element type, got %s", i,
                    rule_text(rule), qir_ops_type_str(op->ctx, t));
  return false;
}

bool qir_ops_check_same_elem(qir_op *op, unsigned i, unsigned j) {
  const qir_type *a = qir_ops_type(op, i), *b = qir_ops_type(op, j);
  if (a->elem == b->elem)
    return true;
  bool qa = qir_tensor_is_quant(a), qb = qir_tensor_is_quant(b);
  if ((qa || qb) && qir_op_has_trait(op, QIR_TRAIT_QUANTIZABLE) &&
      (qa || qir_ops_is_float(a)) && (qb || qir_ops_is_float(b)))
    return true;
  qir_op_emit_error(op,
                    "operand #%u element type %s does not match operand #%u "
                    "element type %s",
                    j, qir_ops_type_str(op->ctx, b->elem), i,
                    qir_ops_type_str(op->ctx, a->elem));
  return false;
}

bool qir_ops_check_rank(qir_op *op, unsigned i, unsigned rank) {
  const qir_type *t = qir_ops_type(op, i);
  if (t->rank == rank)
    return true;
  qir_op_emit_error(op, "operand #%u must have rank %u, got %s", i, rank,
                    qir_ops_type_str(op->ctx, t));
  return false;
}

bool qir_ops_check_min_rank(qir_op *op, unsigned i, unsigned rank) {
  const qir_type *t = qir_ops_type(op, i);
  if (t->rank >= rank)
    return true;
  qir_op_emit_error(op, "operand #%u must have rank at least %u, got %s", i,
                    rank, qir_ops_type_str(op->ctx, t));
  return false;
}

/* ---- Attributes --------------------------------------------------------- */

bool qir_ops_require_attr(qir_op *op, const char *name) {
  if (qir_op_get_attr(op, name))
    return true;
  qir_op_emit_error(op, "requires attribute '%s'", name);
  return false;
}

bool qir_ops_attr_int(qir_op *op, const char *name, int64_t dflt,
                      int64_t *out) {
  const qir_attr *a = qir_op_get_attr(op, name);
  *out = dflt;
  if (!a)
    return true;
  if (a->kind != QIR_ATTR_INT) {
    qir_op_emit_error(op, "attribute '%s' must be an integer", name);
    return false;
  }
  *out = a->u.i;
  return true;
}

bool qir_ops_attr_float(qir_op *op, const char *name, double dflt,
                        double *out) {
  const qir_attr *a = qir_op_get_attr(op, name);
  *out = dflt;
  if (!a)
    return true;
  if (a->kind == QIR_ATTR_FLOAT) {
    *out = a->u.f;
    return true;
  }
  if (a->kind == QIR_ATTR_INT) {
    *out = (double)a->u.i;
    return true;
  }
  qir_op_emit_error(op, "attribute '%s' must be a float", name);
  return false;
}

bool qir_ops_attr_flag(qir_op *op, const char *name, bool dflt, bool *out) {
  const qir_attr *a = qir_op_get_attr(op, name);
  *out = dflt;
  if (!a)
    return true;
  if (a->kind == QIR_ATTR_BOOL) {
    *out = a->u.b;
    return true;
  }
  if (a->kind == QIR_ATTR_INT && (a->u.i == 0 || a->u.i == 1)) {
    *out = a->u.i == 1;
    return true;
  }
  qir_op_emit_error(op, "attribute '%s' must be 0, 1, true or false", name);
  return false;
}

int qir_ops_attr_ints(qir_op *op, const char *name, int64_t *out,
                      unsigned max) {
  const qir_attr *a = qir_op_get_attr(op, name);
  if (!a)
    return -1;
  bool is_list = a->kind == QIR_ATTR_ARRAY;
  if (is_list)
    for (unsigned i = 0; i < a->u.array.n; i++)
      if (a->u.array.elems[i]->kind != QIR_ATTR_INT)
        is_list = false;
  if (!is_list) {
    qir_op_emit_error(op, "attribute '%s' must be an array of integers",
                      name);
    return -2;
  }
  if (a->u.array.n > max) {
    qir_op_emit_error(op, "attribute '%s' has %u elements, at most %u allowed",
                      name, a->u.array.n, max);
    return -2;
  }
  for (unsigned i = 0; i < a->u.array.n; i++)
    out[i] = a->u.array.elems[i]->u.i;
  return (int)a->u.array.n;
}

bool qir_ops_attr_ints_n(qir_op *op, const char *name, unsigned n,
                         bool required, int64_t dflt, int64_t *out) {
  const qir_attr *a = qir_op_get_attr(op, name);
  if (!a) {
    if (required)
      return qir_ops_require_attr(op, name);
    for (unsigned i = 0; i < n; i++)
      out[i] = dflt;
    return true;
  }
  if (a->kind == QIR_ATTR_ARRAY && a->u.array.n != n) {
    qir_op_emit_error(op, "attribute '%s' must have %u elements, got %u",
                      name, n, a->u.array.n);
    return false;
  }
  return qir_ops_attr_ints(op, name, out, n) == (int)n;
}

bool qir_ops_check_positive(qir_op *op, const char *name, const int64_t *v,
                            unsigned n) {
  for (unsigned i = 0; i < n; i++)
    if (v[i] <= 0) {
      qir_op_emit_error(op, "attribute '%s' must be positive, got %s", name,
                        qir_ops_ints_str(op->ctx, v, n));
      return false;
    }
  return true;
}

bool qir_ops_check_nonneg(qir_op *op, const char *name, const int64_t *v,
                          unsigned n) {
  for (unsigned i = 0; i < n; i++)
    if (v[i] < 0) {
      qir_op_emit_error(op, "attribute '%s' must be nonnegative, got %s",
                        name, qir_ops_ints_str(op->ctx, v, n));
      return false;
    }
  return true;
}

static const char *choices_str(qir_context *ctx, const char *const *choices) {
  size_t cap = 1;
  for (unsigned i = 0; choices[i]; i++)
    cap += strlen(choices[i]) + 4;
  char *buf = qir_arena_alloc(ctx, cap);
  size_t len = 0;
  for (unsigned i = 0; choices[i]; i++)
    len += (size_t)snprintf(buf + len, cap - len, "%s\"%s\"", i ? ", " : "",
                            choices[i]);
  return buf;
}

bool qir_ops_attr_enum(qir_op *op, const char *name,
                       const char *const *choices, int dflt, int *out) {
  const qir_attr *a = qir_op_get_attr(op, name);
  *out = dflt;
  if (!a)
    return dflt >= 0 || qir_ops_require_attr(op, name);
  if (a->kind == QIR_ATTR_STRING)
    for (int i = 0; choices[i]; i++)
      if (strlen(choices[i]) == a->u.str.len &&
          memcmp(choices[i], a->u.str.data, a->u.str.len) == 0) {
        *out = i;
        return true;
      }
  if (a->kind != QIR_ATTR_STRING)
    qir_op_emit_error(op, "attribute '%s' must be a string, one of %s", name,
                      choices_str(op->ctx, choices));
  else
    qir_op_emit_error(op, "attribute '%s' must be one of %s, got \"%.*s\"",
                      name, choices_str(op->ctx, choices),
                      (int)a->u.str.len, a->u.str.data);
  return false;
}

bool qir_ops_norm_axis(qir_op *op, const char *name, int64_t axis,
                       unsigned rank, unsigned *out) {
  int64_t r = rank;
  if (axis < -r || axis >= r) {
    if (rank == 0)
      qir_op_emit_error(op, "attribute '%s' value %" PRId64
                            " is out of range: the operand has rank 0",
                        name, axis);
    else
      qir_op_emit_error(op,
                        "attribute '%s' value %" PRId64
                        " is out of range [%" PRId64 ", %" PRId64 "]",
                        name, axis, -r, r - 1);
    return false;
  }
  *out = (unsigned)(axis < 0 ? axis + r : axis);
  return true;
}

/* ---- Shapes ---------------------------------------------------------- */

static bool broadcast_dim(int64_t a, int64_t b, int64_t *out) {
  if (a == b || b == 1)
    *out = a;
  else if (a == 1)
    *out = b;
  else if (a == QIR_DYN)
    *out = b; /* b > 1: a must be 1 or b, the result is b either way */
  else if (b == QIR_DYN)
    *out = a;
  else
    return false;
  return true;
}

bool qir_ops_broadcast(const qir_type *a, const qir_type *b, int64_t *dims,
                       unsigned *rank) {
  unsigned r = a->rank > b->rank ? a->rank : b->rank;
  for (unsigned i = 0; i < r; i++) {
    int64_t da = i < r - a->rank ? 1 : a->dims[i - (r - a->rank)];
    int64_t db = i < r - b->rank ? 1 : b->dims[i - (r - b->rank)];
    if (!broadcast_dim(da, db, &dims[i]))
      return false;
  }
  *rank = r;
  return true;
}

const qir_type *qir_ops_compute_elem(qir_context *ctx, const qir_type *t) {
  if (qir_tensor_is_quant(t))
    return qir_scalar_type(ctx, QIR_F32);
  return t->elem;
}

static bool elems_compatible(const qir_op *op, const qir_type *declared,
                             const qir_type *inferred) {
  if (declared == inferred)
    return true;
  /* Quantization retypes a QUANTIZABLE op's results: a quantized declared
   * element stands for the float (or quantized) one inferred. */
  return declared->kind == QIR_TYPE_QUANT &&
         qir_op_has_trait(op, QIR_TRAIT_QUANTIZABLE) &&
         (inferred->kind == QIR_TYPE_QUANT ||
          qir_scalar_is_float(inferred->scalar));
}

bool qir_ops_types_compatible(const qir_op *op, const qir_type *declared,
                              const qir_type *inferred) {
  if (declared == inferred)
    return true;
  if (!qir_type_is_tensor(declared) || !qir_type_is_tensor(inferred))
    return false;
  if (declared->rank != inferred->rank ||
      !elems_compatible(op, declared->elem, inferred->elem))
    return false;
  for (unsigned i = 0; i < declared->rank; i++) {
    int64_t d = declared->dims[i], e = inferred->dims[i];
    if (d != e && d != QIR_DYN && e != QIR_DYN)
      return false;
  }
  return true;
}

static const char *plural(int n, const char *one, const char *many) {
  return n == 1 ? one : many;
}

bool qir_ops_check_operand_count(qir_op *op) {
  const qir_op_def *d = op->def;
  int n = (int)op->num_operands;
  if (n >= d->min_operands && (d->max_operands < 0 || n <= d->max_operands))
    return true;
  if (d->max_operands < 0)
    qir_op_emit_error(op, "expects at least %d %s, got %d", d->min_operands,
                      plural(d->min_operands, "operand", "operands"), n);
  else if (d->min_operands == d->max_operands)
    qir_op_emit_error(op, "expects %d %s, got %d", d->min_operands,
                      plural(d->min_operands, "operand", "operands"), n);
  else
    qir_op_emit_error(op, "expects %d to %d operands, got %d",
                      d->min_operands, d->max_operands, n);
  return false;
}

bool qir_ops_infer_pre(qir_op *op) {
  if (!qir_ops_check_operand_count(op) || !qir_ops_check_operands(op))
    return false;
  return !op->def->verify || op->def->verify(op);
}

const qir_type *qir_ops_tensor(qir_op *op, const qir_type *elem,
                               unsigned rank, const int64_t *dims) {
  const qir_type *t = qir_tensor_type(op->ctx, elem, rank, dims);
  if (!t)
    qir_die("invalid inferred tensor type (rank %u)", rank);
  return t;
}

bool qir_ops_overflow(qir_op *op) {
  qir_op_emit_error(op, "a result dim overflows 64 bits");
  return false;
}
