/* passes/canonicalize.c - rewrites ops to simpler canonical forms, folds
 * constants and removes dead ops, to a fixed point.
 *
 * A worklist drives the rewriting: it starts with every op of the function;
 * when a rule fires, the ops it may have enabled (users of replaced values,
 * the rewritten op itself, producers that lost their last use) go back on
 * the list.  Each rule only fires when the rewrite keeps the semantics and
 * every type: in particular a rewrite that drops an op needs the op's
 * result type to equal the type of the value that replaces it. */
#include <math.h>
#include <stdlib.h>

#include "passes/passes.h"

typedef struct canon {
  qir_pass *pass;
  qir_context *ctx;
  qir_worklist wl;
  bool signed_zeros; /* keep the sign of zero results exact */
} canon;

/* ---- Rewriting steps ----------------------------------------------------- */

/* Counts a rewrite of `op` under `stat` (and tells -debug-only). */
static void note(canon *c, const qir_op *op, const char *stat) {
  QIR_DEBUG(c->ctx, "canonicalize", "%s: '%s' op at %s:%u:%u\n", stat,
            op->def->name, op->loc.file ? op->loc.file : "?", op->loc.line,
            op->loc.col);
  qir_pass_stat(c->pass, stat, 1);
}

/* Replaces op (one result) by v and counts it under `stat`. */
static bool replace_by(canon *c, qir_op *op, qir_value *v, const char *stat) {
  note(c, op, stat);
  qir_passes_replace_op(&c->wl, op, &v, false);
  return true;
}

/* Replaces op by its operand i when that keeps the type. */
static bool forward_operand(canon *c, qir_op *op, unsigned i,
                            const char *stat) {
  qir_value *v = qir_op_operand(op, i);
  if (op->num_results != 1 || op->results[0].type != v->type)
    return false;
  return replace_by(c, op, v, stat);
}

/* Makes op use v as operand i; queues op again and the old producer when
 * it lost its last use. */
static void set_operand(canon *c, qir_op *op, unsigned i, qir_value *v) {
  qir_op *old = qir_value_def(qir_op_operand(op, i));
  qir_op_set_operand(op, i, v);
  qir_worklist_push(&c->wl, op);
  if (old && qir_op_results_unused(old))
    qir_worklist_push(&c->wl, old);
}

static bool remove_if_dead(canon *c, qir_op *op) {
  if (!qir_op_is_removable(op) || !qir_op_results_unused(op))
    return false;
  note(c, op, "dead ops removed");
  qir_passes_erase_op(&c->wl, op);
  return true;
}

static bool fold(canon *c, qir_op *op) {
  qir_value *small[4];
  qir_value **values =
      op->num_results > 4 ? qir_xcalloc(op->num_results, sizeof *values)
                          : small;
  bool folded = qir_passes_fold_to_constants(op, values);
  if (folded) {
    for (unsigned i = 0; i < op->num_results; i++)
      qir_worklist_push(&c->wl, qir_value_def(values[i]));
    note(c, op, "ops folded");
    qir_passes_replace_op(&c->wl, op, values, true);
  }
  if (values != small)
    free(values);
  return folded;
}

/* ---- Attribute and type predicates --------------------------------------- */

static const qir_type *operand_type(const qir_op *op, unsigned i) {
  return qir_op_operand(op, i)->type;
}

static bool same_static_type(const qir_op *op) {
  return op->num_results == 1 &&
         op->results[0].type == operand_type(op, 0) &&
         qir_tensor_is_static(operand_type(op, 0));
}

/* True when the int-array attribute `name` is absent or all its entries
 * equal `v`. */
static bool ints_absent_or_all(const qir_op *op, const char *name,
                               int64_t v) {
  int64_t vals[2 * QIR_MAX_RANK];
  int n = qir_op_get_ints(op, name, vals, 2 * QIR_MAX_RANK);
  if (n < 0)
    return false;
  for (int i = 0; i < n; i++)
    if (vals[i] != v)
      return false;
  return true;
}

/* Which zeros count as a neutral element of a float add or sub.  Only
 * x + (-0.0) and x - (+0.0) are exact for x = -0.0 (x + 0.0 gives +0.0);
 * by default the sign of a zero result is not kept, as in other graph
 * compilers, and either zero counts. */
typedef enum zero_sign { ANY_ZERO, NEGATIVE_ZERO, POSITIVE_ZERO } zero_sign;

static bool element_equals(const qir_attr *a, int64_t i, bool is_float,
                           double v, zero_sign zs) {
  if (!is_float)
    return qir_dense_get_i64(a, i) == (int64_t)v;
  double e = qir_dense_get_f64(a, i);
  if (e != v)
    return false;
  if (e != 0.0 || zs == ANY_ZERO)
    return true;
  return (signbit(e) != 0) == (zs == NEGATIVE_ZERO);
}

/* True when every element of the dense attribute equals v exactly (and it
 * holds real numbers, not quantized storage). */
static bool dense_all_equal(const qir_attr *a, double v, zero_sign zs) {
  if (!a || qir_tensor_is_quant(a->u.dense.type))
    return false;
  int64_t n = qir_dense_num_elements(a);
  if (n <= 0)
    return false;
  if (a->u.dense.splat)
    n = 1;
  bool is_float = qir_scalar_is_float(a->u.dense.type->scalar);
  for (int64_t i = 0; i < n; i++)
    if (!element_equals(a, i, is_float, v, zs))
      return false;
  return true;
}

/* True when broadcasting a tensor of type c against x gives x's shape for
 * every value of x's dynamic dims. */
static bool broadcast_keeps_shape(const qir_type *x, const qir_type *c) {
  if (!qir_type_is_tensor(x) || !qir_type_is_tensor(c) || c->rank > x->rank)
    return false;
  for (unsigned i = 0; i < c->rank; i++) {
    int64_t cd = c->dims[c->rank - 1 - i];
    int64_t xd = x->dims[x->rank - 1 - i];
    if (cd != 1 && (xd == QIR_DYN || cd != xd))
      return false;
  }
  return true;
}

/* Reads a permutation of `rank` dims (negative entries count from the
 * end); false when absent or not a permutation. */
static bool read_perm(const qir_op *op, unsigned rank, int64_t *perm) {
  if (qir_op_get_ints(op, "perm", perm, QIR_MAX_RANK) != (int)rank)
    return false;
  bool seen[QIR_MAX_RANK] = {false};
  for (unsigned i = 0; i < rank; i++) {
    if (perm[i] < 0)
      perm[i] += rank;
    if (perm[i] < 0 || perm[i] >= (int64_t)rank || seen[perm[i]])
      return false;
    seen[perm[i]] = true;
  }
  return true;
}

static bool is_identity_perm(const int64_t *perm, unsigned rank) {
  for (unsigned i = 0; i < rank; i++)
    if (perm[i] != (int64_t)i)
      return false;
  return true;
}

/* ---- Rules ------------------------------------------------------------- */

/* x + 0, 0 + x, x - 0, x * 1, 1 * x, x / 1  ->  x */
static bool try_neutral_operand(canon *c, qir_op *op, unsigned x_index,
                                double neutral, zero_sign zs) {
  qir_value *x = qir_op_operand(op, x_index);
  qir_value *k = qir_op_operand(op, 1 - x_index);
  if (qir_tensor_is_quant(x->type) || op->results[0].type != x->type ||
      !broadcast_keeps_shape(x->type, k->type) ||
      !dense_all_equal(qir_value_constant(k), neutral, zs))
    return false;
  return replace_by(c, op, x, "neutral operands removed");
}

static bool rule_neutral(canon *c, qir_op *op, double neutral,
                         bool commutative) {
  if (op->num_operands != 2 || op->num_results != 1)
    return false;
  zero_sign zs = ANY_ZERO;
  if (c->signed_zeros && neutral == 0.0)
    zs = qir_op_is(op, QIR_OP_SUB) ? POSITIVE_ZERO : NEGATIVE_ZERO;
  if (try_neutral_operand(c, op, 0, neutral, zs))
    return true;
  return commutative && try_neutral_operand(c, op, 1, neutral, zs);
}

/* where(true, x, y) -> x and where(false, x, y) -> y, when the chosen
 * operand already has the result's type (no broadcasting). */
static bool rule_where(canon *c, qir_op *op) {
  const qir_attr *cond = qir_value_constant(qir_op_operand(op, 0));
  if (!cond || op->num_operands != 3)
    return false;
  if (dense_all_equal(cond, 1.0, ANY_ZERO))
    return forward_operand(c, op, 1, "constant-condition wheres removed");
  if (dense_all_equal(cond, 0.0, ANY_ZERO))
    return forward_operand(c, op, 2, "constant-condition wheres removed");
  return false;
}

/* True when every value of scalar type `from` converts to `to` and back
 * unchanged. */
static bool cast_is_lossless(qir_scalar from, qir_scalar to) {
  if (from == to)
    return true;
  size_t fs = qir_scalar_size(from), ts = qir_scalar_size(to);
  bool ff = qir_scalar_is_float(from), tf = qir_scalar_is_float(to);
  if (ff && tf) /* f16 and bf16 fit f32; everything fits f64 */
    return to == QIR_F64 || (to == QIR_F32 && fs == 2);
  if (ff)
    return false;
  if (from == QIR_I1)
    return true;
  bool fsigned = qir_scalar_is_signed(from), tsigned = qir_scalar_is_signed(to);
  if (!tf) /* to a wider integer that holds the sign, if any */
    return ts > fs ? (tsigned || !fsigned) : false;
  /* Integers are exact in a float whose significand holds them. */
  unsigned bits = to == QIR_F64 ? 53 : to == QIR_F32 ? 24 : to == QIR_F16 ? 11 : 8;
  return fs * 8 - (fsigned ? 1 : 0) <= bits;
}

/* cast(cast(x)) -> x when the inner conversion loses nothing and the outer
 * one comes back to x's type. */
static bool rule_cast(canon *c, qir_op *op) {
  if (forward_operand(c, op, 0, "no-op casts removed"))
    return true;
  qir_op *inner = qir_value_def(qir_op_operand(op, 0));
  if (!inner || !qir_op_is(inner, QIR_OP_CAST))
    return false;
  qir_value *x = qir_op_operand(inner, 0);
  const qir_type *mid = qir_op_result(inner, 0)->type;
  if (op->results[0].type != x->type || !qir_type_is_tensor(x->type) ||
      !qir_type_is_tensor(mid) || qir_tensor_is_quant(x->type) ||
      qir_tensor_is_quant(mid) ||
      !cast_is_lossless(x->type->scalar, mid->scalar))
    return false;
  return replace_by(c, op, x, "round-trip casts removed");
}

/* max(x, x), min(x, x), and(x, x), or(x, x) -> x */
static bool rule_same_operands(canon *c, qir_op *op) {
  if (op->num_operands != 2 || qir_op_operand(op, 0) != qir_op_operand(op, 1))
    return false;
  return forward_operand(c, op, 0, "ops on two equal operands removed");
}

/* reshape to the operand's own static shape -> operand;
 * reshape(reshape(x)) -> reshape(x). */
static bool rule_reshape(canon *c, qir_op *op) {
  if (same_static_type(op))
    return replace_by(c, op, qir_op_operand(op, 0), "no-op reshapes removed");
  qir_op *inner = qir_value_def(qir_op_operand(op, 0));
  if (!inner || !qir_op_is(inner, QIR_OP_RESHAPE))
    return false;
  note(c, op, "reshape chains merged");
  set_operand(c, op, 0, qir_op_operand(inner, 0));
  return true;
}

/* transpose with the identity perm -> operand;
 * transpose(transpose(x, p1), p2) -> transpose(x, p1[p2[i]]). */
static bool rule_transpose(canon *c, qir_op *op) {
  const qir_type *t = operand_type(op, 0);
  int64_t outer[QIR_MAX_RANK], inner_perm[QIR_MAX_RANK], composed[QIR_MAX_RANK];
  if (!qir_type_is_tensor(t) || !read_perm(op, t->rank, outer))
    return false;
  if (is_identity_perm(outer, t->rank))
    return forward_operand(c, op, 0, "identity transposes removed");
  qir_op *inner = qir_value_def(qir_op_operand(op, 0));
  if (!inner || !qir_op_is(inner, QIR_OP_TRANSPOSE))
    return false;
  qir_value *x = qir_op_operand(inner, 0);
  if (!qir_type_is_tensor(x->type) || x->type->rank != t->rank ||
      !read_perm(inner, t->rank, inner_perm))
    return false;
  for (unsigned i = 0; i < t->rank; i++)
    composed[i] = inner_perm[outer[i]];
  if (is_identity_perm(composed, t->rank) && op->results[0].type == x->type)
    return replace_by(c, op, x, "transpose chains merged");
  qir_op_set_attr(op, "perm", qir_attr_ints(c->ctx, t->rank, composed));
  note(c, op, "transpose chains merged");
  set_operand(c, op, 0, x);
  return true;
}

/* slice with steps 1 whose result has the operand's static shape takes the
 * whole tensor (with steps of 1 a full-length range must start at 0). */
static bool rule_slice(canon *c, qir_op *op) {
  if (!same_static_type(op) || !ints_absent_or_all(op, "steps", 1))
    return false;
  return replace_by(c, op, qir_op_operand(op, 0), "whole-tensor slices removed");
}

static bool rule_pad(canon *c, qir_op *op) {
  if (!ints_absent_or_all(op, "pads", 0))
    return false;
  return forward_operand(c, op, 0, "zero pads removed");
}

static bool rule_tile(canon *c, qir_op *op) {
  if (!ints_absent_or_all(op, "repeats", 1))
    return false;
  return forward_operand(c, op, 0, "no-op tiles removed");
}

/* expand to the operand's own static shape. */
static bool rule_expand(canon *c, qir_op *op) {
  if (!same_static_type(op))
    return false;
  return replace_by(c, op, qir_op_operand(op, 0), "no-op expands removed");
}

static bool rule_single_operand(canon *c, qir_op *op, const char *stat) {
  if (op->num_operands != 1 || op->num_results != 1)
    return false;
  return forward_operand(c, op, 0, stat);
}

/* f(f(x)) -> f(x) for an idempotent f (relu, abs, floor, ...). */
static bool rule_idempotent(canon *c, qir_op *op) {
  qir_op *inner = qir_value_def(qir_op_operand(op, 0));
  if (!inner || inner->def != op->def || inner->num_attrs || op->num_attrs)
    return false;
  qir_value *fx = qir_op_result(inner, 0);
  if (op->results[0].type != fx->type)
    return false;
  return replace_by(c, op, fx, "repeated idempotent ops removed");
}

/* f(f(x)) -> x for an involution f: `not`, and `neg` of floats (negating
 * the most negative integer, or a saturated quantized value, does not come
 * back). */
static bool rule_involution(canon *c, qir_op *op) {
  qir_op *inner = qir_value_def(qir_op_operand(op, 0));
  if (!inner || inner->def != op->def)
    return false;
  qir_value *x = qir_op_operand(inner, 0);
  const qir_type *t = x->type;
  if (qir_op_is(op, QIR_OP_NEG) &&
      (!qir_type_is_tensor(t) || qir_tensor_is_quant(t) ||
       !qir_scalar_is_float(t->scalar)))
    return false;
  if (op->results[0].type != x->type)
    return false;
  return replace_by(c, op, x, "double negations removed");
}

/* A plain (not quantized) float tensor type. */
static bool is_plain_float(const qir_type *t) {
  return qir_type_is_tensor(t) && !qir_tensor_is_quant(t) &&
         qir_scalar_is_float(t->scalar);
}

/* Replaces op by a new op `id` of the same result type on `operands`,
 * built in its place; counts it under `stat`. */
static bool replace_by_new(canon *c, qir_op *op, unsigned id, unsigned n,
                           qir_value *const *operands, unsigned num_attrs,
                           const qir_named_attr *attrs, const char *stat) {
  qir_builder b;
  qir_builder_init(&b, c->ctx);
  qir_builder_set_before(&b, op);
  b.loc = op->loc;
  const qir_type *t = op->results[0].type;
  qir_op *nop = qir_build_typed(&b, qir_builtin_op(c->ctx, id), n, operands,
                                1, &t, num_attrs, attrs);
  qir_value *v = qir_op_result(nop, 0);
  qir_worklist_push(&c->wl, nop);
  note(c, op, stat);
  qir_passes_replace_op(&c->wl, op, &v, true);
  return true;
}

/* The bounds of a clip (absent: unbounded). */
static void clip_bounds(const qir_op *op, double *lo, double *hi) {
  *lo = qir_op_get_float(op, "min", -INFINITY);
  *hi = qir_op_get_float(op, "max", INFINITY);
}

static bool replace_by_clip(canon *c, qir_op *op, qir_value *x, double lo,
                            double hi, const char *stat) {
  qir_named_attr attrs[2];
  unsigned n = 0;
  if (lo > -INFINITY)
    attrs[n++] = qir_named(c->ctx, "min", qir_attr_float(c->ctx, lo));
  if (hi < INFINITY)
    attrs[n++] = qir_named(c->ctx, "max", qir_attr_float(c->ctx, hi));
  return replace_by_new(c, op, QIR_OP_CLIP, 1, &x, n, attrs, stat);
}

/* clip without bounds -> x; clip(relu(x)) and clip(clip(x)) -> one clip
 * with the intersection of the ranges (when it is not empty). */
static bool rule_clip(canon *c, qir_op *op) {
  double lo, hi, ilo, ihi;
  clip_bounds(op, &lo, &hi);
  if (lo == -INFINITY && hi == INFINITY)
    return forward_operand(c, op, 0, "unbounded clips removed");
  qir_op *inner = qir_value_def(qir_op_operand(op, 0));
  if (!inner || !is_plain_float(op->results[0].type) ||
      (!qir_op_is(inner, QIR_OP_RELU) && !qir_op_is(inner, QIR_OP_CLIP)))
    return false;
  if (qir_op_is(inner, QIR_OP_RELU)) {
    ilo = 0.0;
    ihi = INFINITY;
  } else {
    clip_bounds(inner, &ilo, &ihi);
  }
  double nlo = fmax(lo, ilo), nhi = fmin(hi, ihi);
  if (nlo > nhi || op->results[0].type != qir_op_result(inner, 0)->type)
    return false;
  return replace_by_clip(c, op, qir_op_operand(inner, 0), nlo, nhi,
                         "clip chains merged");
}

/* relu(clip(x, lo, hi)) -> clip(x, max(lo, 0), max(hi, 0)). */
static bool rule_relu(canon *c, qir_op *op) {
  if (rule_idempotent(c, op))
    return true;
  qir_op *inner = qir_value_def(qir_op_operand(op, 0));
  if (!inner || !qir_op_is(inner, QIR_OP_CLIP) ||
      !is_plain_float(op->results[0].type) ||
      op->results[0].type != qir_op_result(inner, 0)->type)
    return false;
  double lo, hi;
  clip_bounds(inner, &lo, &hi);
  return replace_by_clip(c, op, qir_op_operand(inner, 0), fmax(lo, 0.0),
                         fmax(hi, 0.0), "clip chains merged");
}

/* x + neg(y) -> x - y, x - neg(y) -> x + y (exact in floats). */
static bool rule_add_neg(canon *c, qir_op *op) {
  if (!is_plain_float(op->results[0].type))
    return false;
  bool is_add = qir_op_is(op, QIR_OP_ADD);
  for (unsigned i = 0; i < (is_add ? 2u : 1u); i++) {
    qir_value *x = qir_op_operand(op, i), *n = qir_op_operand(op, 1 - i);
    qir_op *neg = qir_value_def(n);
    if (!neg || !qir_op_is(neg, QIR_OP_NEG))
      continue;
    qir_value *ops[2] = {x, qir_op_operand(neg, 0)};
    return replace_by_new(c, op, is_add ? QIR_OP_SUB : QIR_OP_ADD, 2, ops, 0,
                          NULL, "negations folded into add and sub");
  }
  return false;
}

/* transpose(x op k) -> transpose(x) op k for add, sub, mul and div by a
 * one-element constant k (either side) whose result nothing else reads:
 * the same values (each element meets the same constant).  An NHWC
 * image normalized, then transposed to NCHW (MLSD's input), is then
 * transposed first, and the NPU runs the normalization in the first
 * conv's layer group instead of through DDR before the transpose. */
static bool rule_transpose_scalar(canon *c, qir_op *op) {
  qir_op *bin = qir_value_def(qir_op_operand(op, 0));
  if (!bin || !is_plain_float(op->results[0].type) ||
      !qir_value_has_one_use(qir_op_operand(op, 0)) ||
      !(qir_op_is(bin, QIR_OP_ADD) || qir_op_is(bin, QIR_OP_SUB) ||
        qir_op_is(bin, QIR_OP_MUL) || qir_op_is(bin, QIR_OP_DIV)))
    return false;
  for (unsigned i = 0; i < 2; i++) {
    qir_value *x = qir_op_operand(bin, i), *k = qir_op_operand(bin, 1 - i);
    if (!qir_value_constant(k) || !qir_type_is_tensor(k->type) ||
        !qir_tensor_is_static(k->type) || qir_tensor_num_elements(k->type) != 1 ||
        k->type->rank > x->type->rank || x->type != bin->results[0].type)
      continue;
    qir_builder b;
    qir_builder_init(&b, c->ctx);
    qir_builder_set_before(&b, op);
    b.loc = op->loc;
    const qir_type *t = op->results[0].type;
    qir_op *tr = qir_build_typed(&b, op->def, 1, &x, 1, &t, op->num_attrs, op->attrs);
    qir_worklist_push(&c->wl, tr);
    qir_value *ops[2];
    ops[i] = qir_op_result(tr, 0);
    ops[1 - i] = k;
    replace_by_new(c, op, bin->def->id, 2, ops, bin->num_attrs, bin->attrs,
                   "elementwise ops by a scalar moved below transposes");
    qir_worklist_push(&c->wl, bin);
    return true;
  }
  return false;
}

/* True when every element of the dense is +-2^k with 2^-k a normal f32:
 * x / c and x * (1 / c) then round the same. */
static bool all_powers_of_two(const qir_attr *a) {
  int64_t n = a->u.dense.splat ? 1 : qir_dense_num_elements(a);
  for (int64_t i = 0; i < n; i++) {
    int e;
    double m = frexp(fabs(qir_dense_get_f64(a, i)), &e);
    if (m != 0.5 || e < -124 || e > 126)
      return false;
  }
  return n > 0;
}

/* x / c -> x * (1 / c) when c holds powers of two. */
static bool rule_div_pow2(canon *c, qir_op *op) {
  qir_value *k = qir_op_operand(op, 1);
  const qir_attr *a = qir_value_constant(k);
  if (!a || !is_plain_float(op->results[0].type) || !is_plain_float(k->type) ||
      !all_powers_of_two(a))
    return false;
  int64_t n = qir_dense_num_elements(a);
  double *inv = qir_xcalloc((size_t)n, sizeof *inv);
  for (int64_t i = 0; i < n; i++)
    inv[i] = 1.0 / qir_dense_get_f64(a, i);
  qir_builder b;
  qir_builder_init(&b, c->ctx);
  qir_builder_set_before(&b, op);
  b.loc = op->loc;
  qir_value *r = qir_build_constant(&b, qir_attr_dense_from_f64(c->ctx, k->type, inv));
  free(inv);
  qir_value *ops[2] = {qir_op_operand(op, 0), r};
  return replace_by_new(c, op, QIR_OP_MUL, 2, ops, 0, NULL,
                        "divisions by powers of two made multiplications");
}

static bool rule_div(canon *c, qir_op *op) {
  return rule_neutral(c, op, 1.0, false) || rule_div_pow2(c, op);
}

static bool apply_rules(canon *c, qir_op *op) {
  switch (op->def->id) {
  case QIR_OP_RELU:
    return rule_relu(c, op);
  case QIR_OP_CLIP:
    return rule_clip(c, op);
  case QIR_OP_POW:
    return rule_neutral(c, op, 1.0, false);
  case QIR_OP_ABS:
  case QIR_OP_FLOOR:
  case QIR_OP_CEIL:
  case QIR_OP_ROUND:
  case QIR_OP_SIGN:
    return rule_idempotent(c, op);
  case QIR_OP_NEG:
  case QIR_OP_NOT:
    return rule_involution(c, op);
  case QIR_OP_MAX:
  case QIR_OP_MIN:
  case QIR_OP_AND:
  case QIR_OP_OR:
    return rule_same_operands(c, op);
  case QIR_OP_IDENTITY:
    return forward_operand(c, op, 0, "identities removed");
  case QIR_OP_ADD:
    return rule_neutral(c, op, 0.0, true) || rule_add_neg(c, op);
  case QIR_OP_SUB:
    return rule_neutral(c, op, 0.0, false) || rule_add_neg(c, op);
  case QIR_OP_MUL:
    return rule_neutral(c, op, 1.0, true);
  case QIR_OP_DIV:
    return rule_div(c, op);
  case QIR_OP_RESHAPE:
    return rule_reshape(c, op);
  case QIR_OP_TRANSPOSE:
    return rule_transpose(c, op) || rule_transpose_scalar(c, op);
  case QIR_OP_CAST:
    return rule_cast(c, op);
  case QIR_OP_WHERE:
    return rule_where(c, op);
  case QIR_OP_CONCAT:
    return rule_single_operand(c, op, "single-operand concats removed");
  case QIR_OP_SPLIT:
    return rule_single_operand(c, op, "single-piece splits removed");
  case QIR_OP_SLICE:
    return rule_slice(c, op);
  case QIR_OP_PAD:
    return rule_pad(c, op);
  case QIR_OP_TILE:
    return rule_tile(c, op);
  case QIR_OP_EXPAND:
    return rule_expand(c, op);
  default:
    return false;
  }
}

/* ---- Driver -------------------------------------------------------------- */

static bool simplify(canon *c, qir_op *op) {
  if (remove_if_dead(c, op) || fold(c, op))
    return true;
  /* Built-in rules only look at built-in ops with their full operands. */
  if (op->def->id >= QIR_NUM_OPS || op->num_operands == 0)
    return false;
  for (unsigned i = 0; i < op->num_operands; i++)
    if (!qir_op_operand(op, i))
      return false;
  return apply_rules(c, op);
}

/* One round over the whole function; true when something changed. */
static bool run_round(canon *c, qir_func *f) {
  bool changed = false;
  qir_worklist_push_block(&c->wl, &f->body);
  qir_op *op;
  while ((op = qir_worklist_pop(&c->wl)))
    changed |= simplify(c, op);
  return changed;
}

bool qir_pass_run_canonicalize(qir_pass *pass, void *unit_ir) {
  qir_func *f = unit_ir;
  canon c = {pass, qir_pass_context(pass), {NULL, 0, 0},
             qir_pass_opt_bool(pass, "signed-zeros")};
  int64_t max_iterations = qir_pass_opt_int(pass, "max-iterations");
  if (max_iterations < 1) {
    qir_emit_error(c.ctx, f->loc,
                   "canonicalize: max-iterations must be at least 1, not %lld",
                   (long long)max_iterations);
    return false;
  }
  qir_worklist_init(&c.wl);
  qir_passes_clear_aux(&f->body);
  int64_t rounds = 0;
  bool changed = true;
  while (changed && rounds < max_iterations) {
    changed = run_round(&c, f);
    rounds++;
  }
  qir_worklist_free(&c.wl);
  QIR_DEBUG(c.ctx, "canonicalize", "@%s: %lld round(s)%s\n", f->name,
            (long long)rounds, changed ? ", no fixed point" : "");
  return true;
}
