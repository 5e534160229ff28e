/* backends/npu/legalize.c - decides for each op whether the target's NPU
 * runs it, and why not.  The rules follow the vendor checkers: the op must
 * be in the target's list; every activation quantized, static, per tensor,
 * at most 4-D (exactly 4-D on targets that need NCHW), of a storage type
 * the target has, with parameters its quantization scheme allows; sizes
 * within the target's limits; and the op's own attributes supported by
 * the ISA (docs/NPU.md). */
#include <math.h>
#include <stdarg.h>
#include <string.h>

#include "backends/npu/npu.h"

typedef struct why {
  char *buf;
  size_t size;
} why;

static bool reject(why *w, const char *fmt, ...) QIR_PRINTF(2, 3);
static bool reject(why *w, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(w->buf, w->size, fmt, ap);
  va_end(ap);
  return false;
}

static bool is_const(const qir_value *v) { return qir_value_constant(v); }

static bool is_pow2(double s) {
  int e;
  return frexp(s, &e) == 0.5;
}

/* The quantization parameters of one quantized tensor against the
 * target's scheme. */
static bool check_scheme(const qir_target *t, const qir_type *q, bool weight,
                         why *w) {
  bool sym = !strcmp(t->quant_scheme, QIR_QUANT_SYM_I8) ||
             !strcmp(t->quant_scheme, QIR_QUANT_POW2_I8);
  if (sym && !qir_scalar_is_signed(q->scalar))
    return reject(w, "unsigned storage %s; %s takes %s",
                  qir_scalar_name(q->scalar), t->name, t->quant_scheme);
  for (unsigned i = 0; i < q->nparams; i++) {
    if (sym && q->zero_points && q->zero_points[i])
      return reject(w, "zero point %lld; %s takes symmetric quantization (%s)",
                    (long long)q->zero_points[i], t->name, t->quant_scheme);
    if (!strcmp(t->quant_scheme, QIR_QUANT_POW2_I8) && !is_pow2(q->scales[i]))
      return reject(w, "scale %g is not a power of two (%s)", q->scales[i],
                    t->quant_scheme);
  }
  if (weight && q->axis >= 0 && !t->per_channel_weights)
    return reject(w, "per-channel weights; %s takes per-tensor weights",
                  t->name);
  return true;
}

static bool check_storage(const qir_target *t, qir_scalar s, why *w) {
  switch (s) {
  case QIR_I8:
  case QIR_U8:
    return true;
  case QIR_I16:
  case QIR_U16:
    if (t->has_int16)
      return true;
    return reject(w, "int16 tensor; %s has no int16 support", t->name);
  default:
    return reject(w, "%s storage is not supported by the NPU",
                  qir_scalar_name(s));
  }
}

/* An activation: an operand that is not a constant, or a result. */
static bool check_activation(const qir_target *t, const qir_type *ty, why *w) {
  if (!qir_type_is_tensor(ty) || !qir_tensor_is_static(ty))
    return reject(w, "dynamic shape");
  if (!qir_tensor_is_quant(ty))
    return reject(w, "float tensor (the NPU runs quantized integer ops)");
  if (ty->elem->axis >= 0)
    return reject(w, "per-axis quantized activation");
  if (!check_storage(t, ty->scalar, w) || !check_scheme(t, ty->elem, false, w))
    return false;
  if (ty->rank > NPU_RANK)
    return reject(w, "%u-D tensor (the NPU takes at most 4-D)", ty->rank);
  if (t->limits.needs_4d && ty->rank != 4)
    return reject(w, "non-4-D tensor (rank %u); %s needs NCHW tensors",
                  ty->rank, t->name);
  int64_t lim = t->limits.max_spatial;
  if (lim && ty->rank == 4 && (ty->dims[2] > lim || ty->dims[3] > lim))
    return reject(w, "spatial size %lldx%lld over the limit %lld of %s",
                  (long long)ty->dims[2], (long long)ty->dims[3],
                  (long long)lim, t->name);
  return true;
}

/* A constant operand of lower rank (a broadcast per-channel scale) is
 * padded to 4-D in the weight space: the NCHW rule does not apply to it. */
static bool low_rank_constant(const qir_target *t, const qir_value *v) {
  char buf[8];
  why quiet = {buf, sizeof buf};
  const qir_type *ty = v->type;
  if (!t->limits.needs_4d || !qir_value_constant(v) || !qir_tensor_is_quant(ty) ||
      ty->rank >= 4 || ty->elem->axis >= 0)
    return false;
  return check_storage(t, ty->scalar, &quiet) && check_scheme(t, ty->elem, false, &quiet);
}

static bool check_weight(const qir_target *t, const qir_value *v, why *w) {
  const qir_type *ty = v->type;
  if (!is_const(v))
    return reject(w, "weights are not a constant");
  if (!qir_tensor_is_quant(ty))
    return reject(w, "float weights");
  if (!check_storage(t, ty->scalar, w))
    return false;
  return check_scheme(t, ty->elem, true, w);
}

/* A bias: a constant, quantized i32 or float. */
static bool check_bias(const qir_value *v, why *w) {
  if (!is_const(v))
    return reject(w, "bias is not a constant");
  if (qir_tensor_is_quant(v->type) && v->type->scalar != QIR_I32)
    return reject(w, "bias storage must be i32");
  return true;
}

/* The epilogue of conv2d/matmul/gemm: every fused activation the verifier
 * accepts runs in the float epilogue (docs/NPU.md); the sum operand (whose
 * shape the verifier checks) must be an NPU activation. */
static bool check_epilogue(const qir_target *t, const qir_op *op, why *w) {
  if (!qir_op_get_bool(op, "sum_in", false))
    return true;
  if (!qir_op_is(op, QIR_OP_CONV2D) || op->num_operands < 3)
    return reject(w, "fused sum input");
  return check_activation(t, qir_op_operand(op, op->num_operands - 1)->type, w);
}

static bool over(int64_t v, int64_t lim) { return lim && v > lim; }

static bool check_conv(const qir_target *t, const qir_op *op, why *w) {
  const qir_value *wt = qir_op_operand(op, 1);
  if (!check_weight(t, wt, w) || !check_epilogue(t, op, w))
    return false;
  bool sum_in = qir_op_get_bool(op, "sum_in", false);
  if (op->num_operands > (sum_in ? 3u : 2u) && !check_bias(qir_op_operand(op, 2), w))
    return false;
  if (wt->type->rank != 4)
    return reject(w, "weights are not 4-D");
  if (wt->type->elem->axis > 0)
    return reject(w, "weights quantized along axis %d (needs 0)",
                  wt->type->elem->axis);
  const int64_t *wd = wt->type->dims;
  if (over(wd[2], t->limits.max_kernel) || over(wd[3], t->limits.max_kernel))
    return reject(w, "kernel %lldx%lld over the limit %lld of %s",
                  (long long)wd[2], (long long)wd[3],
                  (long long)t->limits.max_kernel, t->name);
  int64_t s[2];
  if (qir_op_get_ints(op, "strides", s, 2) == 2 &&
      (over(s[0], t->limits.max_stride) || over(s[1], t->limits.max_stride)))
    return reject(w, "stride %lldx%lld over the limit %lld of %s",
                  (long long)s[0], (long long)s[1],
                  (long long)t->limits.max_stride, t->name);
  const qir_type *x = qir_op_operand(op, 0)->type;
  if (over(x->dims[1], t->limits.max_channels) ||
      over(wd[0], t->limits.max_channels))
    return reject(w, "channels over the limit %lld of %s",
                  (long long)t->limits.max_channels, t->name);
  return true;
}

static bool check_matmul(const qir_target *t, const qir_op *op, why *w) {
  const qir_value *b = qir_op_operand(op, 1);
  if (!check_weight(t, b, w) || !check_epilogue(t, op, w))
    return false;
  if (b->type->rank != 2)
    return reject(w, "the second operand is not a 2-D matrix");
  if (b->type->elem->axis >= 0 &&
      b->type->elem->axis != (qir_op_get_int(op, "trans_b", 0) ? 0 : 1))
    return reject(w, "weights not quantized along the output column");
  const qir_type *a = qir_op_operand(op, 0)->type;
  if (a->rank < 2)
    return reject(w, "1-D first operand");
  if (qir_op_is(op, QIR_OP_GEMM)) {
    if (qir_op_get_float(op, "alpha", 1.0) != 1.0 ||
        qir_op_get_float(op, "beta", 1.0) != 1.0)
      return reject(w, "gemm with alpha or beta other than 1");
    if (op->num_operands > 2 && !check_bias(qir_op_operand(op, 2), w))
      return false;
  }
  int64_t k = a->dims[a->rank - 1] * a->dims[a->rank - 2];
  if (over(k, t->limits.max_chw))
    return reject(w, "input of %lld elements over the C*H*W limit %lld of %s",
                  (long long)k, (long long)t->limits.max_chw, t->name);
  if (over(b->type->dims[0], t->limits.max_channels) ||
      over(b->type->dims[1], t->limits.max_channels))
    return reject(w, "channels over the limit %lld of %s",
                  (long long)t->limits.max_channels, t->name);
  return true;
}

static bool check_pool(const qir_target *t, const qir_op *op, why *w) {
  int64_t k[2], s[2];
  if (qir_op_get_ints(op, "kernel", k, 2) == 2 &&
      (over(k[0], t->limits.max_pool_kernel) ||
       over(k[1], t->limits.max_pool_kernel)))
    return reject(w, "pooling kernel %lldx%lld over the limit %lld of %s",
                  (long long)k[0], (long long)k[1],
                  (long long)t->limits.max_pool_kernel, t->name);
  if (qir_op_get_ints(op, "strides", s, 2) == 2 &&
      (over(s[0], t->limits.max_stride) || over(s[1], t->limits.max_stride)))
    return reject(w, "stride %lldx%lld over the limit %lld of %s",
                  (long long)s[0], (long long)s[1],
                  (long long)t->limits.max_stride, t->name);
  if (qir_op_is(op, QIR_OP_AVG_POOL2D)) {
    int64_t d[2];
    if (qir_op_get_ints(op, "dilations", d, 2) == 2 && (d[0] != 1 || d[1] != 1))
      return reject(w, "dilated average pooling");
  }
  return true;
}

/* The C*H*W limit of the ops that reduce over whole planes (global pools,
 * softmax). */
static bool check_chw(const qir_target *t, const qir_op *op, why *w) {
  const qir_type *x = qir_op_operand(op, 0)->type;
  int64_t chw = qir_tensor_num_elements(x) / (x->dims[0] ? x->dims[0] : 1);
  if (over(chw, t->limits.max_chw))
    return reject(w, "C*H*W = %lld over the limit %lld of %s", (long long)chw,
                  (long long)t->limits.max_chw, t->name);
  return true;
}

/* A global pool runs as pieces of whole channels within the C*H*W limit
 * (lower_gpool): one plane, H*W, must be within it. */
static bool check_plane(const qir_target *t, const qir_op *op, why *w) {
  const qir_type *x = qir_op_operand(op, 0)->type;
  int64_t hw = x->rank >= 2 ? x->dims[x->rank - 1] * x->dims[x->rank - 2] : 1;
  if (over(hw, t->limits.max_chw))
    return reject(w, "H*W = %lld over the C*H*W limit %lld of %s", (long long)hw,
                  (long long)t->limits.max_chw, t->name);
  return true;
}

/* Nearest (a gather by a table of source pixels) or linear (the float
 * unit's bilinear interpolation) resize of H and W only. */
static bool check_resize(const qir_op *op, why *w) {
  const char *mode = qir_op_get_string(op, "mode");
  if (mode && strcmp(mode, "nearest") && strcmp(mode, "linear"))
    return reject(w, "%s resize (the NPU resizes by nearest neighbour or "
                  "bilinear interpolation)", mode);
  const qir_type *x = qir_op_operand(op, 0)->type, *y = op->results[0].type;
  if (x->rank != 4 || x->dims[0] != y->dims[0] || x->dims[1] != y->dims[1])
    return reject(w, "resize of other dims than H and W");
  return true;
}

/* Softmax looks exp(x - max) up in a table indexed by two storage values:
 * 8-bit inputs only. */
static bool check_softmax(const qir_op *op, why *w) {
  qir_scalar s = qir_op_operand(op, 0)->type->scalar;
  if (qir_scalar_size(s) != 1)
    return reject(w, "softmax of %s storage (the exp table covers 8-bit inputs)",
                  qir_scalar_name(s));
  return true;
}

static bool check_slice(const qir_op *op, why *w) {
  int64_t st[QIR_MAX_RANK];
  int n = qir_op_get_ints(op, "steps", st, QIR_MAX_RANK);
  for (int i = 0; i < n; i++)
    if (st[i] != 1)
      return reject(w, "slice with a step other than 1");
  return true;
}

/* Ops whose operands all are activations (constants allowed only where
 * the ISA reads them from the weight space). */
static bool check_operands(const qir_target *t, const qir_op *op,
                           unsigned first_weight, why *w) {
  for (unsigned i = 0; i < op->num_operands && i < first_weight; i++) {
    const qir_value *v = qir_op_operand(op, i);
    if (!check_activation(t, v->type, w) && !low_rank_constant(t, v))
      return false;
  }
  for (unsigned i = 0; i < op->num_results; i++)
    if (!check_activation(t, op->results[i].type, w))
      return false;
  return true;
}

static bool check_input(const qir_target *t, const qir_op *op, why *w) {
  return check_activation(t, qir_op_operand(op, 0)->type, w);
}

/* conv2d/matmul/gemm may also give an f32 result (the float output of a
 * model's last layer): the float epilogue without the quantize. */
static bool check_product_result(const qir_target *t, const qir_op *op, why *w) {
  const qir_type *y = op->results[0].type;
  if (qir_tensor_is_quant(y) || !qir_type_is_tensor(y) || y->scalar != QIR_F32)
    return check_activation(t, y, w);
  if (!qir_tensor_is_static(y))
    return reject(w, "dynamic shape");
  if (y->rank > NPU_RANK || (t->limits.needs_4d && y->rank != 4))
    return reject(w, "%u-D float result", y->rank);
  return true;
}

static bool same_storage(const qir_op *op, why *w) {
  qir_scalar s = op->results[0].type->scalar;
  for (unsigned i = 0; i < op->num_operands; i++)
    if (qir_op_operand(op, i)->type->scalar != s)
      return reject(w, "operands and result of different storage types");
  for (unsigned i = 0; i < op->num_results; i++)
    if (op->results[i].type->scalar != s)
      return reject(w, "operands and result of different storage types");
  return true;
}

static bool check_op_rules(const qir_target *t, const qir_op *op, why *w) {
  switch (op->def->id) {
  case QIR_OP_CONV2D:
    return check_input(t, op, w) && check_product_result(t, op, w) &&
           check_conv(t, op, w);
  case QIR_OP_MATMUL:
  case QIR_OP_GEMM:
    return check_input(t, op, w) && check_product_result(t, op, w) &&
           check_matmul(t, op, w);
  case QIR_OP_MAX_POOL2D:
  case QIR_OP_AVG_POOL2D:
    return check_operands(t, op, 1, w) && check_pool(t, op, w);
  case QIR_OP_GLOBAL_AVG_POOL:
  case QIR_OP_GLOBAL_MAX_POOL:
    return check_operands(t, op, 1, w) && check_plane(t, op, w);
  case QIR_OP_SLICE:
    return check_operands(t, op, 1, w) && same_storage(op, w) &&
           check_slice(op, w);
  case QIR_OP_RESIZE:
    return check_operands(t, op, 1, w) && same_storage(op, w) &&
           check_resize(op, w);
  case QIR_OP_SOFTMAX:
    return check_operands(t, op, 1, w) && check_softmax(op, w) &&
           check_chw(t, op, w);
  case QIR_OP_CONV_TRANSPOSE2D:
    /* The interpreter has no integer kernel for it: dequantize, f32 sums
     * in its own blocked order, quantize.  An integer MAC array rounds
     * once, at the end, and differs in the last bit. */
    return reject(w, "quantized conv_transpose2d is a float round trip in the "
                  "reference (f32 sums); the NPU's integer accumulation would "
                  "not equal it bit for bit");
  case QIR_OP_TRANSPOSE:
  case QIR_OP_CONCAT:
  case QIR_OP_SPLIT:
  case QIR_OP_RESHAPE:
  case QIR_OP_IDENTITY:
    return check_operands(t, op, op->num_operands, w) && same_storage(op, w);
  default:
    return check_operands(t, op, op->num_operands, w);
  }
}

bool npu_op_is_legal(const qir_target *t, const qir_op *op, char *reason,
                     size_t size) {
  why w = {reason, size};
  unsigned id = op->def->id;
  if ((id == QIR_OP_QUANTIZE && !qir_tensor_is_quant(qir_op_operand(op, 0)->type)) ||
      id == QIR_OP_DEQUANTIZE)
    return reject(&w, "converts between float and quantized tensors");
  if (!qir_target_has_op(t, id))
    return reject(&w, "'%s' is not supported by %s", op->def->name, t->name);
  if (!check_op_rules(t, op, &w))
    return false;
  if (t->hooks.check_op)
    return t->hooks.check_op(t, op, reason, size);
  return true;
}
