/* quant/equalize.c - cross-layer equalization (docs/Quantization.md,
 * "equalize").
 *
 * A conv2d A whose only user is a conv2d B can trade scale per channel:
 * dividing A's output channel c (its weights and bias) by s_c and
 * multiplying B's input channel c by s_c leaves B's result unchanged when
 * nothing between them bends (no activation, relu or leaky_relu: positive
 * homogeneous).  With s_c = sqrt(r1_c / r2_c), r1 the weight range of A's
 * channel and r2 the weight range of B's input channel, both become
 * sqrt(r1 r2): a channel whose huge weights made a huge activation range
 * (and forced a per-tensor scale that starves the other channels) is
 * brought in line.  Chains A -> B -> C are swept a few times. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "quant/quant.h"

/* Scales outside this band are clamped: a channel with near-zero weights
 * on one side would otherwise take an absurd factor. */
#define EQ_MAX_SCALE 1e4
#define EQ_SWEEPS 8

/* A's fused activation commutes with a positive per-channel scale (a
 * post-activation affine's shift does not). */
static bool homogeneous_activation(const qir_op *op) {
  const char *act = qir_op_get_string(op, "activation");
  float pm, pa;
  return (!act || !strcmp(act, "relu") || !strcmp(act, "leaky_relu")) &&
         !qir_op_post_affine(op, &pm, &pa);
}

static const qir_attr *float_weight(const qir_op *op, unsigned i) {
  if (i >= op->num_operands)
    return NULL;
  const qir_value *v = qir_op_operand(op, i);
  const qir_attr *a = qir_value_constant(v);
  return a && qq_is_float_tensor(v->type) ? a : NULL;
}

/* The bias operand of a conv2d (NULL when it has none). */
static const qir_attr *conv_bias(const qir_op *op) {
  bool sum = qir_op_get_bool(op, "sum_in", false);
  unsigned n = op->num_operands - (sum ? 1 : 0);
  if (n < 3)
    return NULL;
  const qir_attr *b = float_weight(op, 2);
  return b && b->u.dense.type->rank == 1 ? b : NULL;
}

/* B's input channels: per input channel of a plain conv (group 1), or per
 * channel of a depthwise one (multiplier 1). */
static bool b_layout(const qir_op *b, int64_t ch, bool *depthwise) {
  const qir_attr *w = float_weight(b, 1);
  if (!w || w->u.dense.type->rank != 4)
    return false;
  const int64_t *d = w->u.dense.type->dims;
  int64_t group = qir_op_get_int(b, "group", 1);
  *depthwise = group != 1;
  if (group == 1)
    return d[1] == ch;
  return group == ch && d[0] == ch && d[1] == 1;
}

/* The conv2d that A's result feeds, when A and it form a pair. */
static qir_op *pair_of(qir_op *a, bool *depthwise) {
  if (!qir_op_is(a, QIR_OP_CONV2D) || a->num_results != 1 ||
      qir_op_get_bool(a, "sum_in", false) || !homogeneous_activation(a))
    return NULL;
  const qir_attr *wa = float_weight(a, 1);
  if (!wa || wa->u.dense.type->rank != 4 ||
      !qir_value_has_one_use(&a->results[0]))
    return NULL;
  const qir_use *u = a->results[0].uses;
  qir_op *b = u->owner;
  if (!qir_op_is(b, QIR_OP_CONV2D) || u->index != 0)
    return NULL;
  return b_layout(b, wa->u.dense.type->dims[0], depthwise) ? b : NULL;
}

/* max |w| per index of dimension `axis` (0 or 1) of a 4-D weight. */
static double *channel_ranges(const qir_attr *w, unsigned axis) {
  const int64_t *d = w->u.dense.type->dims;
  int64_t n = qir_dense_num_elements(w), inner = d[2] * d[3];
  int64_t ch = d[axis];
  double *r = qir_xcalloc((size_t)ch + 1, sizeof *r);
  for (int64_t i = 0; i < n; i++) {
    int64_t c = axis == 0 ? i / (d[1] * inner) : (i / inner) % d[1];
    double v = fabs(qir_dense_get_f64(w, i));
    if (isfinite(v))
      r[c] = fmax(r[c], v);
  }
  return r;
}

/* Replaces operand i of op by a copy of its constant with every element
 * of channel c (index along `axis`) multiplied by f[c]. */
static void scale_constant(qir_context *ctx, qir_op *op, unsigned i, unsigned axis,
                           const double *f) {
  const qir_attr *w = qir_value_constant(qir_op_operand(op, i));
  const qir_type *t = w->u.dense.type;
  int64_t n = qir_dense_num_elements(w), inner = 1;
  for (unsigned k = axis + 1; k < t->rank; k++)
    inner *= t->dims[k];
  double *v = qir_xmalloc((size_t)(n ? n : 1) * sizeof *v);
  for (int64_t k = 0; k < n; k++)
    v[k] = qir_dense_get_f64(w, k) * f[(k / inner) % t->dims[axis]];
  qir_builder b;
  qir_builder_init(&b, ctx);
  qir_builder_set_before(&b, op);
  qir_value *old = qir_op_operand(op, i);
  qir_op_set_operand(op, i, qir_build_constant(&b, qir_attr_dense_from_f64(ctx, t, v)));
  qir_op *def = qir_value_def(old);
  if (def && !qir_value_has_uses(old))
    qir_op_erase(def);
  free(v);
}

/* Equalizes one pair; returns the largest |log s_c| it applied. */
static double equalize_pair(qir_context *ctx, qir_op *a, qir_op *b, bool depthwise) {
  const qir_attr *wa = float_weight(a, 1), *wb = float_weight(b, 1);
  int64_t ch = wa->u.dense.type->dims[0];
  double *r1 = channel_ranges(wa, 0), *r2 = channel_ranges(wb, depthwise ? 0 : 1);
  double *inv = qir_xcalloc((size_t)ch + 1, sizeof *inv);
  double moved = 0;
  for (int64_t c = 0; c < ch; c++) {
    double s = r1[c] > 0 && r2[c] > 0 ? sqrt(r1[c] / r2[c]) : 1.0;
    s = fmin(fmax(s, 1.0 / EQ_MAX_SCALE), EQ_MAX_SCALE);
    moved = fmax(moved, fabs(log(s)));
    r2[c] = s; /* reused: B's factor */
    inv[c] = 1.0 / s;
  }
  if (moved > 0) {
    scale_constant(ctx, a, 1, 0, inv);
    if (conv_bias(a))
      scale_constant(ctx, a, 2, 0, inv);
    scale_constant(ctx, b, 1, depthwise ? 0 : 1, r2);
  }
  free(r1);
  free(r2);
  free(inv);
  return moved;
}

/* One sweep over the pairs of f; returns the largest change. */
static double sweep(qir_func *f, unsigned *pairs) {
  double moved = 0;
  *pairs = 0;
  qir_foreach_op(op, &f->body) {
    bool dw;
    qir_op *b = pair_of(op, &dw);
    if (!b)
      continue;
    (*pairs)++;
    moved = fmax(moved, equalize_pair(f->module->ctx, op, b, dw));
  }
  return moved;
}

bool qir_pass_run_equalize(qir_pass *pass, void *unit_ir) {
  qir_func *f = unit_ir;
  unsigned pairs = 0;
  int64_t sweeps = qir_pass_opt_int(pass, "sweeps");
  if (sweeps < 1) {
    qir_emit_error(f->module->ctx, f->loc, "equalize: sweeps must be at "
                   "least 1");
    return false;
  }
  /* Stops once no channel moves by more than 0.1%. */
  for (int64_t i = 0; i < sweeps; i++)
    if (sweep(f, &pairs) < 1e-3)
      break;
  return true;
}
