/* passes/fuse-fold.c - folds linear per-channel maps into convolutions:
 *
 *   batch_norm(conv2d(x, w, b))  ->  conv2d(x, w * k, (b - mean) * k + beta)
 *       with k = gamma / sqrt(var + epsilon) per output channel;
 *   conv2d(x, w, b) * s          ->  conv2d(x, w * s, b * s)
 *   conv2d(x, w, b) + t / - t    ->  conv2d(x, w, b + t / b - t)
 *   conv2d(x, w, b) / s          ->  conv2d(x, w / s, b / s)
 *
 * and the same for conv_transpose2d,
 * where every parameter is a constant with one value per output channel
 * (or one value for all), and a batch_norm that follows no such conv
 * becomes mul and add by per-channel constants.  The arithmetic runs in
 * double and rounds once to f32, as the interpreter's own conv + batch
 * norm folding does. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "passes/fuse.h"

/* The weights and bias of a plain conv, as doubles. */
typedef struct conv_params {
  int64_t out_channels, num_weights;
  double *w, *b;
  /* Weight layout: conv2d OIHW (transposed false); conv_transpose2d
   * I(O/group)HW, whose output channel of weight [i][j] is
   * (i / (I / group)) * (O / group) + j. */
  bool transposed;
  int64_t in_channels, group, out_per_group, kernel_size;
} conv_params;

/* The output channel weight element `idx` contributes to. */
static int64_t out_channel_of(const conv_params *p, int64_t idx) {
  if (!p->transposed)
    return idx / (p->num_weights / p->out_channels);
  int64_t i = idx / (p->out_per_group * p->kernel_size);
  int64_t j = idx / p->kernel_size % p->out_per_group;
  return i / (p->in_channels / p->group) * p->out_per_group + j;
}

static void read_dense(const qir_attr *a, double *out, int64_t n) {
  for (int64_t i = 0; i < n; i++)
    out[i] = qir_dense_get_f64(a, i);
}

static bool read_conv_params(const qir_op *conv, conv_params *p) {
  const qir_attr *w = qir_value_constant(qir_op_operand(conv, 1));
  const qir_type *wt = w->u.dense.type;
  int64_t n = qir_dense_num_elements(w);
  p->transposed = qir_op_is(conv, QIR_OP_CONV_TRANSPOSE2D);
  p->out_channels = qir_op_result((qir_op *)conv, 0)->type->dims[1];
  p->group = qir_op_get_int(conv, "group", 1);
  p->in_channels = wt->dims[0];
  p->out_per_group = wt->dims[1];
  p->kernel_size = wt->dims[2] * wt->dims[3];
  if (p->out_channels <= 0 || n <= 0 || p->group <= 0 ||
      p->kernel_size <= 0 || p->in_channels % p->group ||
      (p->transposed ? p->out_per_group * p->group != p->out_channels
                     : wt->dims[0] != p->out_channels))
    return false;
  p->num_weights = n;
  p->w = qir_xcalloc((size_t)n, sizeof *p->w);
  p->b = qir_xcalloc((size_t)p->out_channels, sizeof *p->b);
  read_dense(w, p->w, n);
  if (conv->num_operands > 2)
    read_dense(qir_value_constant(qir_op_operand(conv, 2)), p->b,
               p->out_channels);
  return true;
}

static void free_conv_params(conv_params *p) {
  free(p->w);
  free(p->b);
}

/* Makes `conv` use v as operand i (adding the bias operand when i is 2
 * and the conv had none); erases the old constant when it lost its last
 * use. */
static void set_conv_operand(fuser *fu, qir_op *conv, unsigned i,
                             qir_value *v) {
  if (i >= conv->num_operands) {
    qir_value *ops[3] = {qir_op_operand(conv, 0), qir_op_operand(conv, 1), v};
    qir_op_set_operands(conv, 3, ops);
    return;
  }
  qir_op *old = qir_value_def(qir_op_operand(conv, i));
  qir_op_set_operand(conv, i, v);
  if (old && qir_op_results_unused(old))
    qir_passes_erase_op(&fu->wl, old);
}

/* Writes p back into conv as new constants placed before it. */
static void write_conv_params(fuser *fu, qir_op *conv, const conv_params *p) {
  qir_builder b;
  qir_builder_init(&b, fu->ctx);
  qir_builder_set_before(&b, conv);
  b.loc = conv->loc;
  const qir_type *wt = qir_op_operand(conv, 1)->type;
  const qir_type *bt =
      qir_tensor_of(fu->ctx, QIR_F32, 1, &p->out_channels);
  qir_value *w = qir_build_constant(&b, qir_attr_dense_from_f64(fu->ctx, wt, p->w));
  qir_value *bias =
      qir_build_constant(&b, qir_attr_dense_from_f64(fu->ctx, bt, p->b));
  set_conv_operand(fu, conv, 1, w);
  set_conv_operand(fu, conv, 2, bias);
}

/* ---- batch_norm ---------------------------------------------------------- */

typedef struct bn_params {
  double *scale, *shift; /* y = x * scale + shift per channel */
} bn_params;

/* Reads the four parameters of bn (all constants with C values) into
 * scale/shift form; false when one is not a constant. */
static bool read_bn(const qir_op *bn, int64_t c, bn_params *p) {
  const qir_attr *prm[4];
  for (unsigned i = 0; i < 4; i++) {
    prm[i] = qir_value_constant(qir_op_operand(bn, i + 1));
    if (!prm[i] || qir_tensor_is_quant(prm[i]->u.dense.type) ||
        qir_dense_num_elements(prm[i]) != c)
      return false;
  }
  double eps = qir_op_get_float(bn, "epsilon", 1e-5);
  p->scale = qir_xcalloc((size_t)c, sizeof *p->scale);
  p->shift = qir_xcalloc((size_t)c, sizeof *p->shift);
  for (int64_t i = 0; i < c; i++) {
    double k = qir_dense_get_f64(prm[0], i) /
               sqrt(qir_dense_get_f64(prm[3], i) + eps);
    p->scale[i] = k;
    p->shift[i] = qir_dense_get_f64(prm[1], i) - qir_dense_get_f64(prm[2], i) * k;
  }
  return true;
}

static void free_bn(bn_params *p) {
  free(p->scale);
  free(p->shift);
}

/* batch_norm(conv2d(x, w, b)) -> conv2d(x, w * k, (b - mean) * k + beta). */
static bool fold_bn_into_conv(fuser *fu, qir_op *bn, qir_op *conv) {
  conv_params p;
  bn_params q;
  int64_t c = qir_op_result(conv, 0)->type->dims[1];
  if (!read_bn(bn, c, &q))
    return false;
  if (!read_conv_params(conv, &p)) {
    free_bn(&q);
    return false;
  }
  if (p.out_channels != c) {
    free_conv_params(&p);
    free_bn(&q);
    return false;
  }
  const qir_attr *prm[4];
  for (unsigned i = 0; i < 4; i++)
    prm[i] = qir_value_constant(qir_op_operand(bn, i + 1));
  for (int64_t i = 0; i < p.num_weights; i++)
    p.w[i] *= q.scale[out_channel_of(&p, i)];
  for (int64_t o = 0; o < c; o++) {
    /* The interpreter's formula: (b - mean) * k + beta. */
    p.b[o] = (p.b[o] - qir_dense_get_f64(prm[2], o)) * q.scale[o] +
             qir_dense_get_f64(prm[1], o);
  }
  write_conv_params(fu, conv, &p);
  free_conv_params(&p);
  free_bn(&q);
  fuse_note(fu, bn, "batch norms folded into convs");
  fuse_replace(fu, bn, qir_op_result(conv, 0));
  return true;
}

/* A per-channel constant of shape [C, 1, ...] for an operand of rank r
 * (channels on dim 1). */
static qir_value *build_channel_constant(qir_builder *b, int64_t c,
                                         unsigned rank, const double *v) {
  int64_t dims[QIR_MAX_RANK];
  dims[0] = c;
  for (unsigned i = 1; i + 1 < rank; i++)
    dims[i] = 1;
  const qir_type *t = qir_tensor_of(b->ctx, QIR_F32, rank - 1, dims);
  return qir_build_constant(b, qir_attr_dense_from_f64(b->ctx, t, v));
}

/* A batch_norm with constant parameters and no conv to fold into:
 * x * scale + shift with per-channel constants. */
static bool lower_bn(fuser *fu, qir_op *bn) {
  qir_value *x = qir_op_operand(bn, 0);
  const qir_type *t = x->type;
  if (t->rank < 2 || t->dims[1] <= 0)
    return false;
  int64_t c = t->dims[1];
  bn_params q;
  if (!read_bn(bn, c, &q))
    return false;
  qir_builder b;
  qir_builder_init(&b, fu->ctx);
  qir_builder_set_before(&b, bn);
  b.loc = bn->loc;
  qir_value *s = build_channel_constant(&b, c, t->rank, q.scale);
  qir_value *h = build_channel_constant(&b, c, t->rank, q.shift);
  qir_value *mul_ops[2] = {x, s};
  qir_value *m = qir_build_value(&b, QIR_OP_MUL, 2, mul_ops, 0, NULL);
  qir_value *add_ops[2] = {m, h};
  qir_value *y = qir_build_value(&b, QIR_OP_ADD, 2, add_ops, 0, NULL);
  free_bn(&q);
  QIR_ASSERT(m && y && y->type == qir_op_result(bn, 0)->type);
  qir_worklist_push(&fu->wl, qir_value_def(m));
  qir_worklist_push(&fu->wl, qir_value_def(y));
  fuse_note(fu, bn, "batch norms lowered to mul and add");
  fuse_replace(fu, bn, y);
  return true;
}

bool fuse_batch_norm(fuser *fu, qir_op *bn) {
  if (!fu->fold_bn)
    return false;
  qir_value *x = qir_op_operand(bn, 0);
  const qir_type *t = qir_op_result(bn, 0)->type;
  if (!fuse_is_f32(t) || t != x->type)
    return false;
  qir_op *conv = fuse_conv_def(x);
  if (conv && fold_bn_into_conv(fu, bn, conv))
    return true;
  return lower_bn(fu, bn);
}

/* ---- mul / add / sub / div by per-channel constants ---------------------- */

/* Applies y = conv op k per channel to the weights and bias. */
static void apply_scale_shift(conv_params *p, unsigned id, const double *k) {
  if (id == QIR_OP_MUL || id == QIR_OP_DIV)
    for (int64_t i = 0; i < p->num_weights; i++) {
      double s = k[out_channel_of(p, i)];
      p->w[i] = id == QIR_OP_MUL ? p->w[i] * s : p->w[i] / s;
    }
  for (int64_t o = 0; o < p->out_channels; o++) {
    switch (id) {
    case QIR_OP_MUL: p->b[o] *= k[o]; break;
    case QIR_OP_DIV: p->b[o] /= k[o]; break;
    case QIR_OP_ADD: p->b[o] += k[o]; break;
    case QIR_OP_SUB: p->b[o] -= k[o]; break;
    default: qir_die("not a scale or shift: op %u", id);
    }
  }
}

/* The conv operand of a scale/shift op and the index of its constant;
 * sub and div only take the constant second. */
static qir_op *scaled_conv(const qir_op *op, unsigned *k_index) {
  bool commutative = qir_op_is(op, QIR_OP_MUL) || qir_op_is(op, QIR_OP_ADD);
  for (unsigned i = 0; i < 2; i++) {
    if (i == 1 && !commutative)
      break;
    qir_op *conv = fuse_conv_def(qir_op_operand(op, i));
    if (conv) {
      *k_index = 1 - i;
      return conv;
    }
  }
  return NULL;
}

/* A divisor that is zero would turn into inf weights, not x / 0. */
static bool has_zero(const double *k, int64_t n) {
  for (int64_t i = 0; i < n; i++)
    if (k[i] == 0.0)
      return true;
  return false;
}

bool fuse_scale_shift(fuser *fu, qir_op *op) {
  if (!fu->fold_scale || op->num_operands != 2)
    return false;
  unsigned ki;
  qir_op *conv = scaled_conv(op, &ki);
  if (!conv)
    return false;
  qir_value *y = qir_op_result(conv, 0);
  if (qir_op_result(op, 0)->type != y->type)
    return false; /* the constant broadcasts the result to another shape */
  int64_t c = y->type->dims[1];
  double *k = qir_xcalloc((size_t)(c > 0 ? c : 1), sizeof *k);
  conv_params p;
  bool ok = fuse_read_per_channel(qir_op_operand(op, ki), y->type, k) &&
            !(qir_op_is(op, QIR_OP_DIV) && has_zero(k, c)) &&
            read_conv_params(conv, &p);
  if (ok) {
    apply_scale_shift(&p, op->def->id, k);
    write_conv_params(fu, conv, &p);
    free_conv_params(&p);
    fuse_note(fu, op, "per-channel scales and shifts folded into convs");
    fuse_replace(fu, op, y);
  }
  free(k);
  return ok;
}
