/* backends/npu/lower.c - lowers a legal NPU function to a program of the
 * NPU ISA (docs/NPU.md).
 *
 * Every activation gets a DDR tensor (bump allocation, 64-byte aligned;
 * reuse and SRAM tiling are the scheduler's job), constants go to the
 * weight space, and each op becomes one or a few instructions whose
 * integer parameters (multipliers, shifts, zero points, clamps, lookup
 * tables) are computed here, once, with the formulas of
 * docs/Quantization.md.  Unary elementwise ops become 256- or
 * 65536-entry lookup tables computed by the reference interpreter itself,
 * so they agree with it by construction. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "backends/cpu/cpu.h"
#include "backends/npu/npu.h"

#define ALIGN 64

typedef struct lower {
  qir_context *ctx;
  const qir_target *t;
  npu_program *p;
  npu_blob *w;
  qir_op *op;         /* the op being lowered (for messages) */
  bool in_place;      /* concat operands written in place (in_place_slot) */
} lower;

uint64_t npu_blob_append(npu_blob *b, const void *data, uint64_t n) {
  uint64_t off = (b->size + ALIGN - 1) / ALIGN * ALIGN;
  if (off + n > b->cap) {
    b->cap = (off + n) * 2 + ALIGN;
    b->data = qir_xrealloc(b->data, b->cap);
  }
  memset(b->data + b->size, 0, off - b->size);
  if (n)
    memcpy(b->data + off, data, n);
  b->size = off + n;
  return off;
}

/* ---- Tensors ------------------------------------------------------------------ */

unsigned npu_program_add_tensor(npu_program *p, npu_tensor t) {
  if (p->num_tensors == p->cap_tensors) {
    p->cap_tensors = p->cap_tensors ? 2 * p->cap_tensors : 16;
    p->tensors = qir_xrealloc(p->tensors, p->cap_tensors * sizeof *p->tensors);
  }
  p->tensors[p->num_tensors] = t;
  return p->num_tensors++;
}

unsigned npu_program_view(npu_program *p, unsigned i, unsigned d, int64_t at, int64_t n) {
  npu_tensor v = p->tensors[i];
  uint64_t per = (uint64_t)npu_tensor_numel(&v) / (uint64_t)v.dims[d] * qir_scalar_size(v.dtype);
  v.offset += (uint64_t)at * per;
  v.dims[d] = n;
  return npu_program_add_tensor(p, v);
}

static void dims4(const qir_type *ty, int64_t out[NPU_RANK]) {
  unsigned pad = NPU_RANK - ty->rank;
  for (unsigned d = 0; d < NPU_RANK; d++)
    out[d] = d < pad ? 1 : ty->dims[d - pad];
}

static unsigned new_ddr(lower *L, const qir_type *ty) {
  npu_tensor t = {NPU_SPACE_DDR, ty->scalar, 0, {0}};
  dims4(ty, t.dims);
  t.offset = (L->p->ddr_size + ALIGN - 1) / ALIGN * ALIGN;
  L->p->ddr_size = t.offset + (uint64_t)qir_tensor_num_bytes(ty);
  return npu_program_add_tensor(L->p, t);
}

/* The dense data of a constant in storage layout (splats expanded). */
static unsigned new_wgt(lower *L, const qir_attr *d) {
  const qir_type *ty = d->u.dense.type;
  npu_tensor t = {NPU_SPACE_WGT, ty->scalar, 0, {0}};
  dims4(ty, t.dims);
  int64_t n = qir_tensor_num_elements(ty);
  size_t es = qir_scalar_size(ty->scalar);
  uint8_t *buf = qir_xmalloc((size_t)n * es + 1);
  for (int64_t i = 0; i < n; i++)
    memcpy(buf + i * es, (const uint8_t *)d->u.dense.data + (d->u.dense.splat ? 0 : i * es), es);
  t.offset = npu_blob_append(L->w, buf, (uint64_t)n * es);
  free(buf);
  return npu_program_add_tensor(L->p, t);
}

static unsigned tensor_of(lower *L, qir_value *v) {
  if (v->aux)
    return (unsigned)(v->aux - 1);
  const qir_attr *d = qir_value_constant(v);
  QIR_ASSERT(d);
  unsigned i = new_wgt(L, d);
  v->aux = i + 1;
  return i;
}

static unsigned in_place_slot(lower *L, qir_value *v);

static unsigned result_tensor(lower *L, qir_value *v) {
  unsigned i = in_place_slot(L, v);
  if (i == UINT32_MAX)
    i = new_ddr(L, v->type);
  v->aux = i + 1;
  return i;
}

/* A view of tensor i with the shape of `ty` (same memory). */
static unsigned alias(lower *L, unsigned i, const qir_type *ty) {
  npu_tensor t = L->p->tensors[i];
  dims4(ty, t.dims);
  return npu_program_add_tensor(L->p, t);
}

/* ---- Instructions --------------------------------------------------------------- */

static npu_insn *emit(lower *L, unsigned opcode) {
  npu_program *p = L->p;
  if (p->num_insns == p->cap_insns) {
    p->cap_insns = p->cap_insns ? 2 * p->cap_insns : 16;
    p->insns = qir_xrealloc(p->insns, p->cap_insns * sizeof *p->insns);
  }
  npu_insn *in = &p->insns[p->num_insns++];
  memset(in, 0, sizeof *in);
  in->opcode = opcode;
  const char *name = L->op->num_results ? L->op->results[0].name : NULL;
  char buf[256];
  snprintf(buf, sizeof buf, "%s%s%s", L->op->def->name, name ? " %" : "",
           name ? name : "");
  in->comment = qir_intern_cstr(L->ctx, buf);
  return in;
}

static void set(npu_insn *in, const char *f, int64_t v) {
  in->f[npu_field(in->opcode, f)] = v;
}

static void set_f64(npu_insn *in, const char *f, double d) {
  int64_t v;
  memcpy(&v, &d, sizeof v);
  set(in, f, v);
}

static bool multiplier(lower *L, double real, qir_multiplier *m) {
  if (qir_multiplier_from_real(real, m))
    return true;
  qir_op_emit_error(L->op, "rescale factor %g cannot be represented on the NPU",
                    real);
  return false;
}

static void set_mult(npu_insn *in, const char *mf, const char *ef,
                     qir_multiplier m) {
  set(in, mf, m.multiplier);
  set(in, ef, m.shift);
}

static bool wide(qir_scalar s) {
  return s == QIR_I16 || s == QIR_U16 || s == QIR_I32 || s == QIR_I64;
}

static const qir_type *qt(const qir_value *v) { return v->type->elem; }
static double scale0(const qir_value *v) { return qt(v)->scales[0]; }
static int64_t zp0(const qir_value *v) { return qir_quant_zp(qt(v), 0); }

/* ---- conv2d, matmul, gemm ------------------------------------------------------- */

/* The clamp of a quantized result with a fused relu/relu6/clip. */
static void clamp_range(const qir_op *op, const qir_type *q, int64_t *lo,
                        int64_t *hi) {
  *lo = q->qmin;
  *hi = q->qmax;
  const char *act = qir_op_get_string(op, "activation");
  if (!act || (strcmp(act, "relu") && strcmp(act, "relu6") && strcmp(act, "clip")))
    return;
  double s = q->scales[0];
  int64_t zp = qir_quant_zp(q, 0);
  double amin = qir_op_get_float(op, "act_min", strcmp(act, "clip") ? 0.0 : -INFINITY);
  double amax = qir_op_get_float(op, "act_max", !strcmp(act, "relu6") ? 6.0 : INFINITY);
  int64_t qlo = qir_quantize_f64(amin, s, zp, q->qmin, q->qmax);
  int64_t qhi = qir_quantize_f64(amax, s, zp, q->qmin, q->qmax);
  *lo = qlo > *lo ? qlo : *lo;
  *hi = qhi < *hi ? qhi : *hi;
}

/* The float epilogue (a sum operand, an activation other than a clamp or a
 * post-activation affine): its activation code and parameters, as the
 * interpreter reads them. */
static void set_epilogue(lower *L, npu_insn *in, const qir_op *op,
                         qir_value *sum, const qir_value *y) {
  const char *act = qir_op_get_string(op, "activation");
  bool has_act = act && *act && strcmp(act, "none");
  bool clamp = has_act && (!strcmp(act, "relu") || !strcmp(act, "relu6") ||
                           !strcmp(act, "clip"));
  bool float_out = !qir_tensor_is_quant(y->type);
  float pm, pa;
  bool post = qir_op_post_affine(op, &pm, &pa);
  set(in, "sum", -1);
  if (!sum && (!has_act || clamp) && !float_out && !post)
    return;
  if (post) {
    set(in, "post", 1);
    set_f64(in, "pm", pm);
    set_f64(in, "pa", pa);
  }
  set(in, "epilogue", float_out ? 2 : 1);
  if (!float_out) {
    set(in, "lo", qt(y)->qmin);
    set(in, "hi", qt(y)->qmax);
    set_f64(in, "sy", scale0(y));
  }
  if (sum) {
    set(in, "sum", tensor_of(L, sum));
    set_f64(in, "ss", scale0(sum));
    set(in, "zs", zp0(sum));
  }
  static const struct { const char *name; int act; double a0, a1; } acts[] = {
      {"relu", NPU_ACT_RELU, 0, 0},
      {"relu6", NPU_ACT_CLIP, 0.0, 6.0},
      {"clip", NPU_ACT_CLIP, -INFINITY, INFINITY},
      {"sigmoid", NPU_ACT_SIGMOID, 0, 0},
      {"hard_sigmoid", NPU_ACT_HARD_SIGMOID, 0.2, 0.5},
      {"hard_swish", NPU_ACT_HARD_SWISH, 0, 0},
      {"leaky_relu", NPU_ACT_LEAKY_RELU, 0.01, 0},
  };
  for (unsigned i = 0; has_act && i < sizeof acts / sizeof *acts; i++) {
    if (strcmp(act, acts[i].name))
      continue;
    bool range = acts[i].act == NPU_ACT_CLIP;
    set(in, "act", acts[i].act);
    set_f64(in, "a0", (float)qir_op_get_float(op, range ? "act_min" : "act_alpha", acts[i].a0));
    set_f64(in, "a1", (float)qir_op_get_float(op, range ? "act_max" : "act_beta", acts[i].a1));
  }
}

/* Zero point and clamp of the integer epilogue (none for a float result). */
static void set_clamp(npu_insn *in, const qir_op *op, const qir_value *y) {
  int64_t lo = 0, hi = 0;
  if (!qir_tensor_is_quant(y->type))
    return;
  set(in, "zy", zp0(y));
  clamp_range(op, qt(y), &lo, &hi);
  set(in, "lo", lo);
  set(in, "hi", hi);
}

/* Bias of channel c as an accumulator value (as the interpreter's). */
static bool bias_acc(lower *L, const qir_value *b, int64_t idx, double s_acc,
                     int32_t *out) {
  int64_t v = 0;
  if (b) {
    const qir_attr *d = qir_value_constant(b);
    if (qir_tensor_is_quant(b->type))
      v = qir_dense_get_i64(d, idx) - qir_quant_zp(qt(b), idx);
    else
      v = qir_quantize_f64(qir_dense_get_f64(d, idx), s_acc, 0, INT32_MIN, INT32_MAX);
  }
  if (v < INT32_MIN || v > INT32_MAX) {
    qir_op_emit_error(L->op, "bias of channel %lld does not fit in int32",
                      (long long)idx);
    return false;
  }
  *out = (int32_t)v;
  return true;
}

/* The per-channel table: bias, multiplier, shift, weight zero point. */
static bool channel_params(lower *L, const qir_value *x, const qir_value *w,
                           const qir_value *bias, const qir_value *y,
                           int64_t channels, bool bias_per_channel,
                           int64_t *offset) {
  int32_t *tab = qir_xcalloc((size_t)channels * NPU_PARAM_WORDS + 1, 4);
  bool ok = true;
  for (int64_t c = 0; c < channels && ok; c++) {
    double s_acc = scale0(x) * qir_quant_scale(qt(w), c);
    qir_multiplier m;
    int32_t *row = tab + c * NPU_PARAM_WORDS;
    m = (qir_multiplier){0, 0};
    ok = (!qir_tensor_is_quant(y->type) || multiplier(L, s_acc / scale0(y), &m)) &&
         bias_acc(L, bias, bias_per_channel ? c : 0, s_acc, &row[NPU_PARAM_BIAS]);
    row[NPU_PARAM_MULT] = m.multiplier;
    row[NPU_PARAM_SHIFT] = m.shift;
    row[NPU_PARAM_ZW] = (int32_t)qir_quant_zp(qt(w), c);
    memcpy(&row[NPU_PARAM_SACC], &s_acc, sizeof s_acc);
  }
  if (ok)
    *offset = (int64_t)npu_blob_append(L->w, tab, (uint64_t)channels * NPU_PARAM_WORDS * 4);
  free(tab);
  return ok;
}

static unsigned axis4(const qir_op *op, unsigned rank);

/* The fused sum of a conv2d, or NULL. */
static qir_value *conv_sum(const qir_op *op) {
  bool sum_in = qir_op_get_bool(op, "sum_in", false) && op->num_operands >= 3;
  return sum_in ? qir_op_operand(op, op->num_operands - 1) : NULL;
}

/* A channel-padded residual: when concat `op` appends zeros to x along C
 * (a constant whose values are all its zero point, after x, with x's
 * parameters) and its one use is a quantized conv2d's sum, that conv
 * reads x as a sum of fewer channels (the channels past x's add 0, as the
 * zeros would) and the concat is not lowered: x, else NULL. */
static qir_value *padded_sum(qir_op *op) {
  if (!qir_op_is(op, QIR_OP_CONCAT) || op->num_operands != 2)
    return NULL;
  qir_value *x = qir_op_operand(op, 0), *z = qir_op_operand(op, 1), *y = qir_op_result(op, 0);
  const qir_attr *d = qir_value_constant(z);
  if (!d || y->type->rank != 4 || axis4(op, 4) != 1 || !qir_value_has_one_use(y) ||
      !qir_tensor_is_quant(x->type) || !qir_tensor_is_quant(z->type) ||
      x->type->scalar != y->type->scalar || !qir_quant_same_params(qt(x), qt(y)) ||
      qt(z)->axis >= 0)
    return NULL;
  qir_op *conv = y->uses->owner;
  if (!qir_op_is(conv, QIR_OP_CONV2D) || conv_sum(conv) != y ||
      y->uses->index != conv->num_operands - 1 ||
      !qir_tensor_is_quant(qir_op_result(conv, 0)->type))
    return NULL;
  for (int64_t i = 0, n = qir_tensor_num_elements(z->type); i < n; i++)
    if (qir_dense_get_i64(d, i) != qir_quant_zp(qt(z), 0))
      return NULL;
  return x;
}

static bool lower_conv(lower *L, qir_op *op) {
  qir_value *x = qir_op_operand(op, 0), *w = qir_op_operand(op, 1), *y = qir_op_result(op, 0);
  qir_value *sum = conv_sum(op);
  qir_value *b = op->num_operands > 2 && qir_op_operand(op, 2) != sum ? qir_op_operand(op, 2) : NULL;
  int64_t params, v[4];
  if (!channel_params(L, x, w, b, y, y->type->dims[1], true, &params))
    return false;
  npu_insn *in = emit(L, NPU_CONV);
  set(in, "in", tensor_of(L, x));
  set(in, "w", tensor_of(L, w));
  set(in, "out", result_tensor(L, y));
  set(in, "params", params);
  set(in, "zx", zp0(x));
  set_clamp(in, op, y);
  bool s2 = qir_op_get_ints(op, "strides", v, 2) == 2;
  set(in, "sh", s2 ? v[0] : 1);
  set(in, "sw", s2 ? v[1] : 1);
  bool d2 = qir_op_get_ints(op, "dilations", v, 2) == 2;
  set(in, "dh", d2 ? v[0] : 1);
  set(in, "dw", d2 ? v[1] : 1);
  bool p4 = qir_op_get_ints(op, "pads", v, 4) == 4;
  set(in, "pt", p4 ? v[0] : 0);
  set(in, "pl", p4 ? v[1] : 0);
  set(in, "group", qir_op_get_int(op, "group", 1));
  set(in, "wide", wide(x->type->scalar) || wide(w->type->scalar));
  qir_op *pad = sum ? qir_value_def(sum) : NULL;
  qir_value *unpadded = pad ? padded_sum(pad) : NULL;
  set_epilogue(L, in, op, unpadded ? unpadded : sum, y);
  return true;
}

static bool lower_matmul(lower *L, qir_op *op) {
  qir_value *a = qir_op_operand(op, 0), *b = qir_op_operand(op, 1), *y = qir_op_result(op, 0);
  bool gemm = qir_op_is(op, QIR_OP_GEMM);
  qir_value *bias = gemm && op->num_operands > 2 ? qir_op_operand(op, 2) : NULL;
  bool ta = gemm && qir_op_get_int(op, "trans_a", 0), tb = gemm && qir_op_get_int(op, "trans_b", 0);
  const qir_type *yt = y->type, *at = a->type;
  int64_t M = yt->rank >= 2 ? yt->dims[yt->rank - 2] : 1, N = yt->dims[yt->rank - 1];
  int64_t K = ta ? at->dims[at->rank - 2] : at->dims[at->rank - 1];
  int64_t batch = qir_tensor_num_elements(yt) / (M * N != 0 ? M * N : 1);
  int64_t abatch = qir_tensor_num_elements(at) / (M * K != 0 ? M * K : 1);
  bool per_col = bias && qir_tensor_num_elements(bias->type) > 1;
  int64_t params;
  if (!channel_params(L, a, b, bias, y, N, per_col, &params))
    return false;
  npu_insn *in = emit(L, NPU_MATMUL);
  set(in, "a", tensor_of(L, a));
  set(in, "b", tensor_of(L, b));
  set(in, "out", result_tensor(L, y));
  set(in, "params", params);
  set(in, "za", zp0(a));
  set_clamp(in, op, y);
  set(in, "batch", batch);
  set(in, "m", M);
  set(in, "k", K);
  set(in, "n", N);
  set(in, "a_batched", abatch != 1);
  set(in, "trans_a", ta);
  set(in, "trans_b", tb);
  set(in, "wide", wide(a->type->scalar) || wide(b->type->scalar));
  set_epilogue(L, in, op, NULL, y);
  return true;
}

/* ---- Elementwise ------------------------------------------------------------------ */

/* An elementwise instruction on a and b into y: operands, zero points and
 * the result's clamp range (add and mul share these fields). */
static npu_insn *emit_binary(lower *L, unsigned kind, qir_value *a,
                             qir_value *b, qir_value *y) {
  npu_insn *in = emit(L, kind);
  set(in, "a", tensor_of(L, a));
  set(in, "b", tensor_of(L, b));
  set(in, "out", result_tensor(L, y));
  set(in, "za", zp0(a));
  set(in, "zb", zp0(b));
  set(in, "zy", zp0(y));
  set(in, "lo", qt(y)->qmin);
  set(in, "hi", qt(y)->qmax);
  return in;
}

static bool lower_add(lower *L, qir_op *op) {
  qir_value *a = qir_op_operand(op, 0), *b = qir_op_operand(op, 1), *y = qir_op_result(op, 0);
  bool w = wide(a->type->scalar) || wide(b->type->scalar) || wide(y->type->scalar);
  double sa = scale0(a), sb = scale0(b), sy = scale0(y);
  double twice_max = 2 * (sa > sb ? sa : sb);
  qir_multiplier ma, mb, my;
  if (!multiplier(L, sa / twice_max, &ma) || !multiplier(L, sb / twice_max, &mb) ||
      !multiplier(L, twice_max / (ldexp(1.0, w ? 15 : 20) * sy), &my))
    return false;
  npu_insn *in = emit_binary(L, NPU_ADD, a, b, y);
  set_mult(in, "ma", "ea", ma);
  set_mult(in, "mb", "eb", mb);
  set_mult(in, "my", "ey", my);
  set(in, "sub", qir_op_is(op, QIR_OP_SUB));
  set(in, "wide", w);
  return true;
}

static bool lower_mul(lower *L, qir_op *op) {
  qir_value *a = qir_op_operand(op, 0), *b = qir_op_operand(op, 1), *y = qir_op_result(op, 0);
  qir_multiplier m;
  if (!multiplier(L, scale0(a) * scale0(b) / scale0(y), &m))
    return false;
  npu_insn *in = emit_binary(L, NPU_MUL, a, b, y);
  set_mult(in, "m", "e", m);
  set(in, "wide", wide(a->type->scalar) || wide(b->type->scalar));
  return true;
}

/* Runs `op` alone in the reference interpreter on every storage value of
 * its input: the lookup table of a unary elementwise op. */
static int32_t *interp_table(lower *L, qir_op *op, int64_t min, int64_t n) {
  qir_context *ctx = L->ctx;
  const qir_type *xt = qir_tensor_type(ctx, qt(qir_op_operand(op, 0)), 1, &n);
  const qir_type *yt = qir_tensor_type(ctx, qt(qir_op_result(op, 0)), 1, &n);
  qir_module *m = qir_module_create(ctx);
  qir_func *f = qir_func_create(m, "lut", op->loc, 1, &xt, NULL, 1, &yt);
  qir_value *arg = f->body.args[0];
  qir_op *cl = qir_op_create(ctx, op->def, op->loc, 1, &arg, 1, &yt,
                             op->num_attrs, op->attrs);
  qir_block_append(&f->body, cl);
  qir_value *r = qir_op_result(cl, 0);
  qir_block_append(&f->body, qir_op_create(ctx, qir_builtin_op(ctx, QIR_OP_RETURN),
                                           op->loc, 1, &r, 0, NULL, 0, NULL));
  int32_t *tab = NULL;
  qir_interp *it = qir_interp_create(f, NULL);
  qir_tensor x;
  qir_tensor_init_from_type(&x, xt);
  if (it && qir_tensor_alloc(&x)) {
    for (int64_t i = 0; i < n; i++)
      qir_store_int(x.scalar, x.data, i, min + i);
    if (qir_interp_set_input(it, 0, &x) && qir_interp_run(it)) {
      const qir_tensor *y = qir_interp_output(it, 0);
      tab = qir_xmalloc((size_t)n * sizeof *tab);
      for (int64_t i = 0; i < n; i++)
        tab[i] = (int32_t)qir_load_int(y->scalar, y->data, i);
    }
  }
  qir_tensor_free_data(&x);
  qir_interp_destroy(it);
  qir_module_destroy(m);
  return tab;
}

static bool lower_lut(lower *L, qir_op *op) {
  qir_value *x = qir_op_operand(op, 0), *y = qir_op_result(op, 0);
  int64_t min = qir_scalar_min(x->type->scalar);
  int64_t n = qir_scalar_max(x->type->scalar) - min + 1;
  int32_t *tab = interp_table(L, op, min, n);
  if (!tab)
    return false;
  npu_insn *in = emit(L, NPU_LUT);
  set(in, "in", tensor_of(L, x));
  set(in, "out", result_tensor(L, y));
  set(in, "table", (int64_t)npu_blob_append(L->w, tab, (uint64_t)n * 4));
  set(in, "in_min", min);
  set(in, "entries", n);
  free(tab);
  return true;
}

/* ---- Pooling ---------------------------------------------------------------------- */

static void set_window(npu_insn *in, const qir_op *op, bool dilations) {
  int64_t v[4];
  qir_op_get_ints(op, "kernel", v, 2);
  set(in, "kh", v[0]);
  set(in, "kw", v[1]);
  bool s2 = qir_op_get_ints(op, "strides", v, 2) == 2;
  set(in, "sh", s2 ? v[0] : 1);
  set(in, "sw", s2 ? v[1] : 1);
  if (dilations) {
    bool d2 = qir_op_get_ints(op, "dilations", v, 2) == 2;
    set(in, "dh", d2 ? v[0] : 1);
    set(in, "dw", d2 ? v[1] : 1);
  }
  bool p4 = qir_op_get_ints(op, "pads", v, 4) == 4;
  set(in, "pt", p4 ? v[0] : 0);
  set(in, "pl", p4 ? v[1] : 0);
  if (!dilations) {
    set(in, "pb", p4 ? v[2] : 0);
    set(in, "pr", p4 ? v[3] : 0);
  }
}

static void set_out_quant(npu_insn *in, const qir_value *x, const qir_value *y) {
  set(in, "zx", zp0(x));
  set(in, "zy", zp0(y));
  set(in, "lo", qt(y)->qmin);
  set(in, "hi", qt(y)->qmax);
}

static bool lower_pool(lower *L, qir_op *op) {
  qir_value *x = qir_op_operand(op, 0), *y = qir_op_result(op, 0);
  bool max = qir_op_is(op, QIR_OP_MAX_POOL2D);
  qir_multiplier m = {0, 0};
  if (max && !multiplier(L, scale0(x) / scale0(y), &m))
    return false;
  npu_insn *in = emit(L, max ? NPU_MAXPOOL : NPU_AVGPOOL);
  set(in, "in", tensor_of(L, x));
  set(in, "out", result_tensor(L, y));
  set_window(in, op, max);
  set_out_quant(in, x, y);
  if (max) {
    set(in, "rescale", !qir_quant_same_params(qt(x), qt(y)));
    set_mult(in, "m", "e", m);
    set(in, "xmin", qt(x)->qmin);
  } else {
    set(in, "count_pad", qir_op_get_int(op, "count_include_pad", 0) != 0);
    set_f64(in, "sx", scale0(x));
    set_f64(in, "sy", scale0(y));
  }
  return true;
}

/* Channels [c, c + n) of frame f of tensor i (a view). */
static unsigned planes_view(lower *L, unsigned i, int64_t f, int64_t c, int64_t n) {
  if (L->p->tensors[i].dims[0] > 1)
    i = npu_program_view(L->p, i, 0, f, 1);
  return npu_program_view(L->p, i, 1, c, n);
}

/* A global pool; over the target's C*H*W limit, one instruction per
 * frame and run of whole channels within it (each plane pools alone:
 * the pieces give the whole pool's values; legalize.c's check_plane). */
static bool lower_gpool(lower *L, qir_op *op) {
  qir_value *x = qir_op_operand(op, 0), *y = qir_op_result(op, 0);
  qir_multiplier m;
  if (!multiplier(L, scale0(x) / scale0(y), &m))
    return false;
  unsigned xt = tensor_of(L, x), yt = result_tensor(L, y);
  int64_t d[NPU_RANK]; /* (a copy: planes_view adds tensors, which may move the table) */
  memcpy(d, L->p->tensors[xt].dims, sizeof d);
  int64_t limit = L->t->limits.max_chw, plane = d[2] * d[3];
  int64_t per = limit > 0 && d[1] * plane > limit ? limit / plane : d[1];
  per = per > 0 ? per : 1; /* (one plane over the limit stays on the CPU) */
  bool whole = per >= d[1];
  for (int64_t f = 0; f < (whole ? 1 : d[0]); f++)
    for (int64_t c = 0; c < (whole ? 1 : d[1]); c += per) {
      int64_t n = c + per < d[1] ? per : d[1] - c;
      npu_insn *in = emit(L, NPU_GPOOL);
      set(in, "in", whole ? xt : planes_view(L, xt, f, c, n));
      set(in, "out", whole ? yt : planes_view(L, yt, f, c, n));
      set(in, "avg", qir_op_is(op, QIR_OP_GLOBAL_AVG_POOL));
      set(in, "acc", -1); /* the whole tensor (the scheduler may band it) */
      set(in, "rescale", !qir_quant_same_params(qt(x), qt(y)));
      set_mult(in, "m", "e", m);
      set_out_quant(in, x, y);
      set_f64(in, "sx", scale0(x));
      set_f64(in, "sy", scale0(y));
    }
  return true;
}

/* ---- Data movement ------------------------------------------------------------------ */

/* The rescale fields of copy, permute and gather: from x's parameters to
 * y's when they differ. */
static bool set_rescale(lower *L, npu_insn *in, const qir_type *xq,
                        const qir_type *yq, qir_scalar xs) {
  bool rescale = !qir_quant_same_params(xq, yq);
  qir_multiplier m = {0, 0};
  if (rescale && !multiplier(L, xq->scales[0] / yq->scales[0], &m))
    return false;
  set(in, "rescale", rescale);
  set_mult(in, "m", "e", m);
  set(in, "zx", qir_quant_zp(xq, 0));
  set(in, "zy", qir_quant_zp(yq, 0));
  set(in, "lo", yq->qmin);
  set(in, "hi", yq->qmax);
  set(in, "wide", wide(xs));
  return true;
}

/* A region copy from tensor `src` to `dst` (offsets and sizes per 4-D
 * dim), rescaled when the parameters differ. */
static bool emit_copy(lower *L, unsigned src, unsigned dst, const int64_t s[4],
                      const int64_t d[4], const int64_t n[4], const qir_type *xq,
                      const qir_type *yq, qir_scalar xs) {
  static const char *const sf[] = {"s0", "s1", "s2", "s3"}, *const df[] = {"d0", "d1", "d2", "d3"},
                           *const nf[] = {"n0", "n1", "n2", "n3"};
  npu_insn *in = emit(L, NPU_COPY);
  set(in, "in", src);
  set(in, "out", dst);
  for (unsigned i = 0; i < NPU_RANK; i++) {
    set(in, sf[i], s[i]);
    set(in, df[i], d[i]);
    set(in, nf[i], n[i]);
  }
  return set_rescale(L, in, xq, yq, xs);
}

static bool lower_transpose(lower *L, qir_op *op) {
  static const char *const pf[] = {"p0", "p1", "p2", "p3"};
  qir_value *x = qir_op_operand(op, 0), *y = qir_op_result(op, 0);
  int64_t perm[NPU_RANK];
  unsigned r = x->type->rank, pad = NPU_RANK - r;
  if (qir_op_get_ints(op, "perm", perm, NPU_RANK) != (int)r)
    for (unsigned i = 0; i < r; i++)
      perm[i] = r - 1 - i; /* no perm: reverse the dims */
  npu_insn *in = emit(L, NPU_PERMUTE);
  set(in, "in", tensor_of(L, x));
  set(in, "out", result_tensor(L, y));
  for (unsigned i = 0; i < NPU_RANK; i++)
    set(in, pf[i], i < pad ? (int64_t)i : pad + perm[i - pad]);
  return set_rescale(L, in, qt(x), qt(y), x->type->scalar);
}

/* The source index (h * W + w) of every output pixel of a nearest resize,
 * found by running the op itself on an image of its indices. */
static int32_t *resize_table(lower *L, qir_op *op) {
  qir_context *ctx = L->ctx;
  const qir_type *xt = qir_op_operand(op, 0)->type, *yt = op->results[0].type;
  int64_t xd[4] = {1, 1, xt->dims[2], xt->dims[3]}, yd[4] = {1, 1, yt->dims[2], yt->dims[3]};
  const qir_type *ft = qir_tensor_of(ctx, QIR_F32, 4, xd), *gt = qir_tensor_of(ctx, QIR_F32, 4, yd);
  qir_named_attr attrs[op->num_attrs + 1];
  for (unsigned i = 0; i < op->num_attrs; i++)
    attrs[i] = strcmp(op->attrs[i].name, "sizes")
                   ? op->attrs[i]
                   : qir_named(ctx, "sizes", qir_attr_ints(ctx, 4, yd));
  qir_module *m = qir_module_create(ctx);
  qir_func *f = qir_func_create(m, "resize", op->loc, 1, &ft, NULL, 1, &gt);
  qir_value *arg = f->body.args[0];
  qir_op *cl = qir_op_create(ctx, op->def, op->loc, 1, &arg, 1, &gt, op->num_attrs, attrs);
  qir_block_append(&f->body, cl);
  qir_value *r = qir_op_result(cl, 0);
  qir_block_append(&f->body, qir_op_create(ctx, qir_builtin_op(ctx, QIR_OP_RETURN),
                                           op->loc, 1, &r, 0, NULL, 0, NULL));
  int32_t *tab = NULL;
  qir_interp *it = qir_interp_create(f, NULL);
  qir_tensor x;
  qir_tensor_init_from_type(&x, ft);
  if (it && qir_tensor_alloc(&x)) {
    for (int64_t i = 0; i < xd[2] * xd[3]; i++)
      ((float *)x.data)[i] = (float)i;
    if (qir_interp_set_input(it, 0, &x) && qir_interp_run(it)) {
      const float *y = qir_interp_output(it, 0)->data;
      tab = qir_xmalloc((size_t)(yd[2] * yd[3] + 1) * sizeof *tab);
      for (int64_t i = 0; i < yd[2] * yd[3]; i++)
        tab[i] = (int32_t)y[i];
    }
  }
  qir_tensor_free_data(&x);
  qir_interp_destroy(it);
  qir_module_destroy(m);
  return tab;
}

/* The coordinate transformation of a resize as the reference kernel
 * numbers it (QIR_RESIZE_*); the verifier accepted the name. */
static int64_t resize_coord(const qir_op *op) {
  static const struct { const char *name; int coord; } coords[] = {
      {"half_pixel", QIR_RESIZE_HALF_PIXEL},
      {"asymmetric", QIR_RESIZE_ASYMMETRIC},
      {"align_corners", QIR_RESIZE_ALIGN_CORNERS},
      {"pytorch_half_pixel", QIR_RESIZE_PYTORCH_HALF_PIXEL},
      {"tf_half_pixel_for_nn", QIR_RESIZE_TF_HALF_PIXEL_FOR_NN},
  };
  const char *c = qir_op_get_string(op, "coordinate_transformation_mode");
  for (unsigned i = 0; c && i < sizeof coords / sizeof *coords; i++)
    if (!strcmp(c, coords[i].name))
      return coords[i].coord;
  return QIR_RESIZE_HALF_PIXEL;
}

/* A linear resize: the float unit's `resize` with the op's coordinate
 * mode and `scales` (0: out / in, as the reference). */
static bool lower_linear_resize(lower *L, qir_op *op) {
  qir_value *x = qir_op_operand(op, 0), *y = qir_op_result(op, 0);
  double scales[QIR_MAX_RANK];
  const qir_attr *sa = qir_op_get_attr(op, "scales");
  unsigned r = x->type->rank;
  bool given = sa && qir_attr_get_floats(sa, scales, QIR_MAX_RANK) == (int)r;
  npu_insn *in = emit(L, NPU_RESIZE);
  set(in, "in", tensor_of(L, x));
  set(in, "out", result_tensor(L, y));
  set(in, "mode", NPU_RESIZE_LINEAR);
  set(in, "coord", resize_coord(op));
  set_f64(in, "scale_h", given ? scales[r - 2] : 0.0);
  set_f64(in, "scale_w", given ? scales[r - 1] : 0.0);
  set(in, "zx", zp0(x));
  set_f64(in, "sx", scale0(x));
  set(in, "zy", zp0(y));
  set_f64(in, "sy", scale0(y));
  set(in, "lo", qt(y)->qmin);
  set(in, "hi", qt(y)->qmax);
  return true;
}

static bool lower_resize(lower *L, qir_op *op) {
  const char *mode = qir_op_get_string(op, "mode");
  if (mode && !strcmp(mode, "linear"))
    return lower_linear_resize(L, op);
  qir_value *x = qir_op_operand(op, 0), *y = qir_op_result(op, 0);
  int32_t *tab = resize_table(L, op);
  if (!tab)
    return false;
  int64_t n = y->type->dims[2] * y->type->dims[3];
  npu_insn *in = emit(L, NPU_GATHER);
  set(in, "in", tensor_of(L, x));
  set(in, "out", result_tensor(L, y));
  set(in, "table", (int64_t)npu_blob_append(L->w, tab, (uint64_t)n * 4));
  free(tab);
  return set_rescale(L, in, qt(x), qt(y), x->type->scalar);
}

/* ---- Softmax ------------------------------------------------------------------- */

/* The dequantized value of storage integer q, as the reference's float
 * round trip computes it. */
static float dequant_f32(const qir_type *q, int64_t v) {
  return (float)qir_dequantize_f64(v, q->scales[0], qir_quant_zp(q, 0));
}

/* exp(x - max) for every (max, x) pair of storage values:
 * table[max - min][x - min], f32, as the reference kernel's expf. */
static float *softmax_table(const qir_type *q, int64_t min, int64_t n) {
  float *tab = qir_xmalloc((size_t)(n * n + 1) * sizeof *tab);
  for (int64_t r = 0; r < n; r++) {
    float m = dequant_f32(q, min + r);
    for (int64_t c = 0; c < n; c++)
      tab[r * n + c] = expf(dequant_f32(q, min + c) - m);
  }
  return tab;
}

static bool lower_softmax(lower *L, qir_op *op) {
  qir_value *x = qir_op_operand(op, 0), *y = qir_op_result(op, 0);
  const qir_type *xt = x->type;
  int64_t a = qir_op_get_int(op, "axis", -1), outer = 1, inner = 1;
  if (a < 0)
    a += xt->rank;
  for (int64_t d = 0; d < (int64_t)xt->rank; d++)
    if (d < a)
      outer *= xt->dims[d];
    else if (d > a)
      inner *= xt->dims[d];
  int64_t min = qir_scalar_min(xt->scalar);
  int64_t n = qir_scalar_max(xt->scalar) - min + 1;
  float *tab = softmax_table(qt(x), min, n);
  npu_insn *in = emit(L, NPU_SOFTMAX);
  set(in, "in", tensor_of(L, x));
  set(in, "out", result_tensor(L, y));
  set(in, "table", (int64_t)npu_blob_append(L->w, tab, (uint64_t)(n * n) * 4));
  free(tab);
  set(in, "in_min", min);
  set(in, "entries", n);
  set(in, "outer", outer);
  set(in, "len", xt->dims[a]);
  set(in, "inner", inner);
  set(in, "zy", zp0(y));
  set_f64(in, "sy", scale0(y));
  set(in, "lo", qt(y)->qmin);
  set(in, "hi", qt(y)->qmax);
  return true;
}

static unsigned axis4(const qir_op *op, unsigned rank) {
  int64_t a = qir_op_get_int(op, "axis", 0);
  if (a < 0)
    a += rank;
  return (unsigned)a + NPU_RANK - rank;
}

/* Concat in place: when operand x of a concat is an op's result used
 * by nothing else, the concat's slice of it is contiguous (every dim
 * before the axis is 1) and it has the result's element type and
 * parameters, the op writes its result straight into that slice (a view
 * of the concat's tensor) and the concat copies nothing for it.  (Not
 * for a concat the function returns: the runtime may bind outputs to its
 * own memory.)  The byte offset of x in the result, or -1. */
static int64_t in_place_offset(qir_op *op, const qir_value *x) {
  const qir_value *y = qir_op_result(op, 0);
  if (!qir_op_is(op, QIR_OP_CONCAT) || padded_sum(op) ||
      x->kind != QIR_VALUE_RESULT || !qir_value_has_one_use(x) ||
      x->type->scalar != y->type->scalar ||
      !(qt(x) == qt(y) || (qir_tensor_is_quant(x->type) && qir_tensor_is_quant(y->type) &&
                           qir_quant_same_params(qt(x), qt(y)))))
    return -1;
  for (const qir_use *u = y->uses; u; u = u->next)
    if (qir_op_is(u->owner, QIR_OP_RETURN))
      return -1;
  unsigned ax = axis4(op, y->type->rank);
  int64_t yd[4], xd[4], at = 0;
  dims4(y->type, yd);
  for (unsigned d = 0; d < ax; d++)
    if (yd[d] != 1)
      return -1;
  for (unsigned i = 0; i < op->num_operands; i++) {
    const qir_value *o = qir_op_operand(op, i);
    if (o == x)
      break;
    dims4(o->type, xd);
    at += xd[ax];
  }
  int64_t inner = 1;
  for (unsigned d = ax + 1; d < NPU_RANK; d++)
    inner *= yd[d];
  return at * inner * (int64_t)qir_scalar_size(y->type->scalar);
}

/* The view of a concat's tensor that result v is written to in place
 * (the concat's tensor made on first need), or UINT32_MAX. */
static unsigned in_place_slot(lower *L, qir_value *v) {
  if (!L->in_place || v->kind != QIR_VALUE_RESULT || !qir_value_has_one_use(v))
    return UINT32_MAX;
  qir_op *cat = v->uses->owner;
  int64_t off = in_place_offset(cat, v);
  if (off < 0)
    return UINT32_MAX;
  qir_value *y = qir_op_result(cat, 0);
  if (!y->aux)
    y->aux = new_ddr(L, y->type) + 1;
  npu_tensor t = L->p->tensors[y->aux - 1];
  dims4(v->type, t.dims);
  t.offset += (uint64_t)off;
  return npu_program_add_tensor(L->p, t);
}

static bool lower_concat(lower *L, qir_op *op) {
  if (padded_sum(op))
    return true;
  qir_value *y = qir_op_result(op, 0);
  unsigned dst = y->aux ? (unsigned)(y->aux - 1) : result_tensor(L, y);
  unsigned ax = axis4(op, y->type->rank);
  int64_t zero[4] = {0}, d[4] = {0};
  for (unsigned i = 0; i < op->num_operands; i++) {
    qir_value *x = qir_op_operand(op, i);
    unsigned src = tensor_of(L, x);
    int64_t n[4];
    dims4(x->type, n);
    int64_t off = in_place_offset(op, x);
    /* (Written in place unless its op made it a view of something else.) */
    bool placed = off >= 0 && L->p->tensors[src].space == NPU_SPACE_DDR &&
                  L->p->tensors[src].offset == L->p->tensors[dst].offset + (uint64_t)off;
    if (!placed && !emit_copy(L, src, dst, zero, d, n, qt(x), qt(y), x->type->scalar))
      return false;
    d[ax] += n[ax];
  }
  return true;
}

static bool lower_split(lower *L, qir_op *op) {
  qir_value *x = qir_op_operand(op, 0);
  unsigned src = tensor_of(L, x), ax = axis4(op, x->type->rank);
  int64_t s[4] = {0}, zero[4] = {0};
  for (unsigned i = 0; i < op->num_results; i++) {
    qir_value *y = qir_op_result(op, i);
    int64_t n[4];
    dims4(y->type, n);
    if (!emit_copy(L, src, result_tensor(L, y), s, zero, n, qt(x), qt(y),
                   y->type->scalar))
      return false;
    s[ax] += n[ax];
  }
  return true;
}

/* Start of each dim of a unit-step slice, clamped as ONNX does. */
static void slice_starts(const qir_op *op, const qir_type *xt, int64_t out[4]) {
  int64_t starts[QIR_MAX_RANK], axes[QIR_MAX_RANK];
  int n = qir_op_get_ints(op, "starts", starts, QIR_MAX_RANK);
  int na = qir_op_get_ints(op, "axes", axes, QIR_MAX_RANK);
  unsigned pad = NPU_RANK - xt->rank;
  memset(out, 0, 4 * sizeof *out);
  for (int i = 0; i < n; i++) {
    int64_t a = na > 0 && i < na ? axes[i] : i;
    if (a < 0)
      a += xt->rank;
    if (a < 0 || a >= (int64_t)xt->rank)
      continue;
    int64_t dim = xt->dims[a], s = starts[i];
    if (s < 0)
      s += dim;
    out[pad + a] = s < 0 ? 0 : s > dim ? dim : s;
  }
}

static bool lower_slice(lower *L, qir_op *op) {
  qir_value *x = qir_op_operand(op, 0), *y = qir_op_result(op, 0);
  int64_t s[4], zero[4] = {0}, n[4];
  slice_starts(op, x->type, s);
  dims4(y->type, n);
  return emit_copy(L, tensor_of(L, x), result_tensor(L, y), s, zero, n, qt(x),
                   qt(y), y->type->scalar);
}

/* reshape, identity, requantize, quantize of a quantized tensor: a view of
 * the same memory when nothing changes, else a rescaling copy. */
static bool lower_move(lower *L, qir_op *op) {
  qir_value *x = qir_op_operand(op, 0), *y = qir_op_result(op, 0);
  unsigned src = tensor_of(L, x);
  if (qir_quant_same_params(qt(x), qt(y)) && x->type->scalar == y->type->scalar) {
    y->aux = alias(L, src, y->type) + 1;
    return true;
  }
  int64_t n = qir_tensor_num_elements(x->type);
  const qir_type *flat = qir_tensor_type(L->ctx, qt(x), 1, &n);
  int64_t zero[4] = {0}, cnt[4] = {1, 1, 1, n};
  unsigned dst = result_tensor(L, y);
  return emit_copy(L, alias(L, src, flat), alias(L, dst, qir_tensor_type(L->ctx, qt(y), 1, &n)),
                   zero, zero, cnt, qt(x), qt(y), x->type->scalar);
}

static bool lower_op(lower *L, qir_op *op) {
  L->op = op;
  switch (op->def->id) {
  case QIR_OP_CONSTANT: return true;
  case QIR_OP_CONV2D: return lower_conv(L, op);
  case QIR_OP_MATMUL:
  case QIR_OP_GEMM: return lower_matmul(L, op);
  case QIR_OP_ADD:
  case QIR_OP_SUB: return lower_add(L, op);
  case QIR_OP_MUL: return lower_mul(L, op);
  case QIR_OP_MAX_POOL2D:
  case QIR_OP_AVG_POOL2D: return lower_pool(L, op);
  case QIR_OP_GLOBAL_AVG_POOL:
  case QIR_OP_GLOBAL_MAX_POOL: return lower_gpool(L, op);
  case QIR_OP_CONCAT: return lower_concat(L, op);
  case QIR_OP_SPLIT: return lower_split(L, op);
  case QIR_OP_SLICE: return lower_slice(L, op);
  case QIR_OP_TRANSPOSE: return lower_transpose(L, op);
  case QIR_OP_RESIZE: return lower_resize(L, op);
  case QIR_OP_SOFTMAX: return lower_softmax(L, op);
  case QIR_OP_RESHAPE:
  case QIR_OP_IDENTITY:
  case QIR_OP_REQUANTIZE:
  case QIR_OP_QUANTIZE: return lower_move(L, op);
  default:
    if (qir_op_has_trait(op, QIR_TRAIT_ELEMENTWISE) && op->num_operands == 1)
      return lower_lut(L, op);
    qir_op_emit_error(op, "no NPU lowering for this op");
    return false;
  }
}

static void clear_aux(qir_func *f) {
  for (unsigned i = 0; i < f->body.num_args; i++)
    f->body.args[i]->aux = 0;
  qir_foreach_op(op, &f->body)
    for (unsigned r = 0; r < op->num_results; r++)
      op->results[r].aux = 0;
}

static void set_io(lower *L, qir_func *f) {
  npu_program *p = L->p;
  p->num_inputs = f->body.num_args;
  p->inputs = qir_xcalloc(p->num_inputs + 1, sizeof *p->inputs);
  for (unsigned i = 0; i < p->num_inputs; i++)
    p->inputs[i] = (unsigned)(f->body.args[i]->aux - 1);
  qir_op *ret = qir_block_terminator(&f->body);
  p->num_outputs = ret ? ret->num_operands : 0;
  p->outputs = qir_xcalloc(p->num_outputs + 1, sizeof *p->outputs);
  for (unsigned i = 0; i < p->num_outputs; i++)
    p->outputs[i] = tensor_of(L, qir_op_operand(ret, i));
}

/* The order the ops of f are lowered in: the block's, or with `sink`
 * each op whose one result has one use moved to just before that use
 * (the last ops first), so that a chain of such ops runs back to back,
 * as layer groups want (docs/NPU.md, "Lowering variants").  Any such move is
 * legal: the op's operands are defined before its old place and nothing
 * between reads its result.  *moved tells whether one moved. */
static qir_op **lowering_order(qir_func *f, bool sink, unsigned *n, bool *moved) {
  unsigned num = f->body.num_ops;
  qir_op **ops = qir_xcalloc(num + 1, sizeof *ops);
  unsigned *next = qir_xcalloc(num + 2, sizeof *next), *prev = qir_xcalloc(num + 2, sizeof *prev);
  unsigned k = 0;
  qir_foreach_op(op, &f->body) {
    if (op->num_results)
      op->results[0].aux = k + 1;
    ops[k++] = op;
  }
  /* A list over 1..num (0 is its head and tail). */
  for (unsigned i = 0; i <= num; i++) {
    next[i] = i < num ? i + 1 : 0;
    prev[i] = i ? i - 1 : num;
  }
  *moved = false;
  for (unsigned i = num; sink && i-- > 0;) {
    qir_op *op = ops[i];
    if (op->num_results != 1 || qir_op_is(op, QIR_OP_CONSTANT) ||
        !qir_value_has_one_use(&op->results[0]))
      continue;
    qir_op *user = op->results[0].uses->owner;
    if (!user->num_results || !user->results[0].aux)
      continue;
    unsigned a = i + 1, b = (unsigned)user->results[0].aux, after = next[a];
    while (after && qir_op_is(ops[after - 1], QIR_OP_CONSTANT)) /* (no instructions) */
      after = next[after];
    if (after == b)
      continue;
    next[prev[a]] = next[a];
    prev[next[a]] = prev[a];
    next[a] = b;
    prev[a] = prev[b];
    next[prev[b]] = a;
    prev[b] = a;
    *moved = true;
  }
  qir_op **order = qir_xcalloc(num + 1, sizeof *order);
  k = 0;
  for (unsigned i = next[0]; i; i = next[i])
    order[k++] = ops[i - 1];
  *n = k;
  free(prev);
  free(next);
  free(ops);
  clear_aux(f);
  return order;
}

unsigned npu_lower_choices(qir_func *f) {
  unsigned n, flags = 0;
  bool moved;
  free(lowering_order(f, true, &n, &moved));
  qir_foreach_op(op, &f->body)
    for (unsigned i = 0; qir_op_is(op, QIR_OP_CONCAT) && i < op->num_operands; i++)
      if (in_place_offset(op, qir_op_operand(op, i)) >= 0)
        flags |= NPU_LOWER_IN_PLACE;
  return flags | (moved ? NPU_LOWER_SINK : 0);
}

bool npu_lower_func(qir_func *f, const qir_target *t, npu_program *p, npu_blob *weights,
                    unsigned flags) {
  lower L = {f->module->ctx, t, p, weights, NULL, flags & NPU_LOWER_IN_PLACE};
  memset(p, 0, sizeof *p);
  p->name = qir_xstrdup(f->name);
  unsigned n;
  bool moved;
  qir_op **order = lowering_order(f, flags & NPU_LOWER_SINK, &n, &moved);
  for (unsigned i = 0; i < f->body.num_args; i++)
    result_tensor(&L, f->body.args[i]);
  bool ok = true;
  for (unsigned i = 0; i < n && ok; i++)
    if (!qir_op_is(order[i], QIR_OP_RETURN))
      ok = lower_op(&L, order[i]);
  free(order);
  if (ok)
    set_io(&L, f);
  clear_aux(f);
  return ok;
}
