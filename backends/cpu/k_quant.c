/* backends/cpu/k_quant.c - kernels in the integer semantics of quantized
 * types (docs/Quantization.md): quantize, dequantize, requantize, and the
 * integer forms of conv2d, matmul, gemm, add, sub, mul, max, min, relu,
 * clip, pooling, concat and data movement.  Every rescaling goes through
 * qir/quant.h. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "backends/cpu/cpu.h"

static bool isq(const qir_tensor *t) {
  return t->elem && t->elem->kind == QIR_TYPE_QUANT;
}

/* Channel of element i for a per-axis type (0 for per-tensor). */
typedef struct chan_map {
  int64_t inner, ch;
  bool per_axis;
} chan_map;

static chan_map chan_map_of(const qir_tensor *t) {
  chan_map m = {1, 1, false};
  const qir_type *q = t->elem;
  if (q && q->kind == QIR_TYPE_QUANT && q->axis >= 0 &&
      (unsigned)q->axis < t->rank) {
    m.per_axis = true;
    m.ch = t->dims[q->axis];
    for (unsigned d = (unsigned)q->axis + 1; d < t->rank; d++)
      m.inner *= t->dims[d];
  }
  return m;
}

static int64_t chan_of(const chan_map *m, int64_t i) {
  return m->per_axis ? (i / m->inner) % m->ch : 0;
}

static bool wide_storage(qir_scalar s) {
  return s == QIR_I16 || s == QIR_U16 || s == QIR_I32 || s == QIR_I64;
}

static int64_t requant(int64_t acc, qir_multiplier m, int64_t zp, int64_t lo,
                       int64_t hi, bool wide) {
  if (!wide && acc >= INT32_MIN && acc <= INT32_MAX)
    return qir_requantize32((int32_t)acc, m, zp, lo, hi);
  return qir_requantize64(acc, m, zp, lo, hi);
}

static qir_multiplier multiplier(double real) {
  qir_multiplier m;
  if (!qir_multiplier_from_real(real, &m))
    qir_die("multiplier %g out of range", real);
  return m;
}

/* Rescales quantized data from `from`'s parameters to `to`'s:
 * y = requantize(x - zp_in, s_in / s_out) + zp_out, per axis where either
 * type is per axis (both then along the same axis). */
static void rescale(const qir_tensor *x, const qir_type *from, qir_tensor *y,
                    const qir_type *to) {
  int64_t n = qk_numel(x);
  chan_map cm = chan_map_of(from->axis >= 0 ? x : y);
  bool wide = wide_storage(x->scalar);
  int64_t last_c = -1;
  qir_multiplier m = {0, 0};
  for (int64_t i = 0; i < n; i++) {
    int64_t c = chan_of(&cm, i);
    if (c != last_c) {
      m = multiplier(qir_quant_scale(from, c) / qir_quant_scale(to, c));
      last_c = c;
    }
    int64_t v = qir_load_int(x->scalar, x->data, i) - qir_quant_zp(from, c);
    qir_store_int(y->scalar, y->data, i,
                  requant(v, m, qir_quant_zp(to, c), to->qmin, to->qmax, wide));
  }
}

/* ---- quantize / dequantize / requantize -------------------------------------- */

bool qir_cpu_k_quantize(const qir_kargs *k) {
  const qir_tensor *x = k->in[0];
  qir_tensor *y = k->out[0];
  if (!isq(y))
    return qk_fail(k, "result must be quantized");
  if (isq(x)) {
    rescale(x, x->elem, y, y->elem);
    return true;
  }
  if (!qir_scalar_is_float(x->scalar))
    return qk_fail(k, "operand must be a float tensor");
  const qir_type *q = y->elem;
  chan_map cm = chan_map_of(y);
  for (int64_t i = 0, n = qk_numel(x); i < n; i++) {
    int64_t c = chan_of(&cm, i);
    qir_store_int(y->scalar, y->data, i,
                  qir_quantize_f64(qir_load_f64(x->scalar, x->data, i),
                                   qir_quant_scale(q, c), qir_quant_zp(q, c),
                                   q->qmin, q->qmax));
  }
  return true;
}

bool qir_cpu_k_dequantize(const qir_kargs *k) {
  const qir_tensor *x = k->in[0];
  qir_tensor *y = k->out[0];
  if (!isq(x))
    return qk_fail(k, "operand must be quantized");
  const qir_type *q = x->elem;
  chan_map cm = chan_map_of(x);
  int64_t n = qk_numel(x);
  for (int64_t i = 0; i < n; i++) {
    int64_t c = chan_of(&cm, i);
    double v = qir_dequantize_f64(qir_load_int(x->scalar, x->data, i),
                                  qir_quant_scale(q, c), qir_quant_zp(q, c));
    if (y->scalar == QIR_F32)
      ((float *)y->data)[i] = (float)v;
    else
      qir_convert(QIR_F64, &v, y->scalar, (uint8_t *)y->data +
                  (size_t)i * qir_scalar_size(y->scalar), 1);
  }
  return true;
}

bool qir_cpu_k_requantize(const qir_kargs *k) {
  if (!isq(k->in[0]) || !isq(k->out[0]))
    return qk_fail(k, "operand and result must be quantized");
  rescale(k->in[0], k->in[0]->elem, k->out[0], k->out[0]->elem);
  return true;
}

/* ---- Output stage shared by conv2d, matmul and gemm ------------------------------ */

/* How an int accumulator of output channel c becomes the result. */
typedef struct out_stage {
  const qir_kargs *k;
  qir_tensor *y;
  bool quant_out, float_act; /* float_act: sum or a non-clamp activation */
  const qir_tensor *sum;
  double in_scale;           /* s_x (times s_w[c] per channel) */
  const qir_type *w_type;    /* weights' quant type */
  int64_t lo, hi;            /* clamp of a quantized result (activation) */
} out_stage;

static bool out_stage_init(out_stage *o, const qir_kargs *k,
                           const qir_type *xq, const qir_type *wq,
                           const qir_tensor *sum) {
  memset(o, 0, sizeof *o);
  o->k = k;
  o->y = k->out[0];
  o->quant_out = isq(o->y);
  o->sum = sum;
  o->in_scale = xq->scales[0];
  o->w_type = wq;
  const char *act = qir_op_get_string(k->op, "activation");
  bool has_act = act && *act && strcmp(act, "none");
  bool clamp_act = has_act && (!strcmp(act, "relu") || !strcmp(act, "relu6") ||
                               !strcmp(act, "clip"));
  float pm, pa;
  o->float_act = sum || (has_act && !clamp_act) || !o->quant_out ||
                 qir_op_post_affine(k->op, &pm, &pa);
  if (o->quant_out) {
    const qir_type *q = o->y->elem;
    o->lo = q->qmin;
    o->hi = q->qmax;
    if (clamp_act && !o->float_act) {
      double s = q->scales[0];
      int64_t zp = qir_quant_zp(q, 0);
      double amin = qir_op_get_float(k->op, "act_min",
                                     strcmp(act, "clip") ? 0.0 : -INFINITY);
      double amax = qir_op_get_float(k->op, "act_max",
                                     !strcmp(act, "relu6") ? 6.0 : INFINITY);
      int64_t qlo = qir_quantize_f64(amin, s, zp, q->qmin, q->qmax);
      int64_t qhi = qir_quantize_f64(amax, s, zp, q->qmin, q->qmax);
      o->lo = qlo > o->lo ? qlo : o->lo;
      o->hi = qhi < o->hi ? qhi : o->hi;
    }
  }
  return true;
}

/* Writes accumulators acc[0..n) of channel c to y at element offset off. */
static void out_stage_write(const out_stage *o, int64_t c, const int64_t *acc,
                            int64_t n, int64_t off, bool wide) {
  double s_acc = o->in_scale * qir_quant_scale(o->w_type, c);
  qir_tensor *y = o->y;
  if (!o->float_act) {
    const qir_type *q = y->elem;
    qir_multiplier m = multiplier(s_acc / q->scales[0]);
    int64_t zp = qir_quant_zp(q, 0);
    for (int64_t i = 0; i < n; i++)
      qir_store_int(y->scalar, y->data, off + i,
                    requant(acc[i], m, zp, o->lo, o->hi, wide));
    return;
  }
  /* Real-valued stage: acc * s_acc (+ sum), stored as float or quantized
   * after the activation (applied later for a float result). */
  float *tmp = o->quant_out ? qir_xmalloc((size_t)n * sizeof(float)) : NULL;
  float *dst = o->quant_out ? tmp : (float *)y->data + off;
  for (int64_t i = 0; i < n; i++) {
    double v = (double)acc[i] * s_acc;
    if (o->sum) {
      const qir_tensor *s = o->sum;
      if (isq(s))
        v += qir_dequantize_f64(qir_load_int(s->scalar, s->data, off + i),
                                s->elem->scales[0], qir_quant_zp(s->elem, 0));
      else
        v += qir_load_f64(s->scalar, s->data, off + i);
    }
    dst[i] = (float)v;
  }
  if (o->quant_out) {
    qk_apply_fused_activation(o->k, tmp, n);
    const qir_type *q = y->elem;
    for (int64_t i = 0; i < n; i++)
      qir_store_int(y->scalar, y->data, off + i,
                    qir_quantize_f64(tmp[i], q->scales[0], qir_quant_zp(q, 0),
                                     q->qmin, q->qmax));
    free(tmp);
  }
}

/* Bias of output channel c as an accumulator value: int32 storage with
 * scale s_x * s_w[c] as is; a float bias is quantized to that scale. */
static int64_t bias_acc(const qir_tensor *b, int64_t c, double s_acc) {
  if (!b)
    return 0;
  if (isq(b))
    return qir_load_int(b->scalar, b->data, c) - qir_quant_zp(b->elem, c);
  return qir_quantize_f64(qir_load_f64(b->scalar, b->data, c), s_acc, 0,
                          INT32_MIN, INT32_MAX);
}

/* ---- conv2d ------------------------------------------------------------------ */


/* The integer conv2d of one call: the input as int32 values less its zero
 * point, and what every work item shares. */
typedef struct qconv {
  const qir_kargs *k;
  const qir_tensor *w, *bias;
  const out_stage *os;
  const int32_t *xs;   /* x - zx, N x C x H x W */
  int64_t N, C, H, W, O, OH, OW, KH, KW, G, sh, sw, dh, dw, pt, pl;
  int64_t cg, og, kdim, npix;
  bool wide;
  int64_t n, g;        /* the image and group of a per-channel split */
  const int32_t *col;  /* its im2col rows (per-channel split) */
} qconv;

/* col[r][p] = x - zx of tap r at output pixel p of image n, group g; 0 in
 * the padding (the real value 0). */
static void qconv_im2col(const qconv *q, int64_t n, int64_t g, int32_t *col) {
  int64_t khw = q->KH * q->KW;
  for (int64_t r = 0; r < q->kdim; r++) {
    int64_t c = g * q->cg + r / khw, ki = (r / q->KW) % q->KH, kj = r % q->KW;
    const int32_t *plane = q->xs + (n * q->C + c) * q->H * q->W;
    int32_t *dst = col + r * q->npix;
    for (int64_t oh = 0; oh < q->OH; oh++) {
      int64_t ih = oh * q->sh - q->pt + ki * q->dh;
      bool row_in = ih >= 0 && ih < q->H;
      for (int64_t ow = 0; ow < q->OW; ow++) {
        int64_t iw = ow * q->sw - q->pl + kj * q->dw;
        dst[oh * q->OW + ow] =
            row_in && iw >= 0 && iw < q->W ? plane[ih * q->W + iw] : 0;
      }
    }
  }
}

/* Output channel oc of image n from its group's col rows: int32
 * accumulators where no sum can leave int32, int64 otherwise (the same
 * values either way). */
static void qconv_channel(const qconv *q, int64_t n, int64_t oc,
                          const int32_t *col, int32_t *acc32, int64_t *acc,
                          int64_t *wrow) {
  const qir_tensor *w = q->w;
  int64_t zw = qir_quant_zp(w->elem, oc), wmax = 0, npix = q->npix;
  for (int64_t r = 0; r < q->kdim; r++) {
    wrow[r] = qir_load_int(w->scalar, w->data, oc * q->kdim + r) - zw;
    wmax = llabs(wrow[r]) > wmax ? llabs(wrow[r]) : wmax;
  }
  int64_t b = bias_acc(q->bias, oc, q->os->in_scale * qir_quant_scale(w->elem, oc));
  int64_t xmax = q->wide ? 131071 : 511; /* bounds |x - zx| */
  if (llabs(b) + q->kdim * xmax * wmax < INT32_MAX) {
    for (int64_t p = 0; p < npix; p++)
      acc32[p] = (int32_t)b;
    for (int64_t r = 0; r < q->kdim; r++) {
      int32_t wv = (int32_t)wrow[r];
      const int32_t *cr = col + r * npix;
      if (wv)
        for (int64_t p = 0; p < npix; p++)
          acc32[p] += wv * cr[p];
    }
    for (int64_t p = 0; p < npix; p++)
      acc[p] = acc32[p];
  } else {
    for (int64_t p = 0; p < npix; p++)
      acc[p] = b;
    for (int64_t r = 0; r < q->kdim; r++) {
      int64_t wv = wrow[r];
      const int32_t *cr = col + r * npix;
      if (wv)
        for (int64_t p = 0; p < npix; p++)
          acc[p] += wv * cr[p];
    }
  }
  out_stage_write(q->os, oc, acc, npix, (n * q->O + oc) * npix, q->wide);
}

typedef struct qconv_bufs {
  int32_t *col, *acc32;
  int64_t *acc, *wrow;
} qconv_bufs;

static void qconv_bufs_init(qconv_bufs *b, const qconv *q, bool with_col) {
  b->col = with_col ? qir_xmalloc((size_t)(q->kdim * q->npix + 1) * sizeof(int32_t)) : NULL;
  b->acc32 = qir_xmalloc((size_t)(q->npix + 1) * sizeof(int32_t));
  b->acc = qir_xmalloc((size_t)(q->npix + 1) * sizeof(int64_t));
  b->wrow = qir_xmalloc((size_t)(q->kdim + 1) * sizeof(int64_t));
}

static void qconv_bufs_free(qconv_bufs *b) {
  free(b->col);
  free(b->acc32);
  free(b->acc);
  free(b->wrow);
}

/* Work items [begin, end) of image-group pairs: each builds its col rows
 * and computes its group's channels. */
static void qconv_groups(void *arg, int64_t begin, int64_t end) {
  const qconv *q = arg;
  qconv_bufs b;
  qconv_bufs_init(&b, q, true);
  for (int64_t it = begin; it < end; it++) {
    int64_t n = it / q->G, g = it % q->G;
    qconv_im2col(q, n, g, b.col);
    for (int64_t oc = g * q->og; oc < (g + 1) * q->og; oc++)
      qconv_channel(q, n, oc, b.col, b.acc32, b.acc, b.wrow);
  }
  qconv_bufs_free(&b);
}

/* Channels [begin, end) of group q->g of image q->n, from shared col rows. */
static void qconv_channels(void *arg, int64_t begin, int64_t end) {
  const qconv *q = arg;
  qconv_bufs b;
  qconv_bufs_init(&b, q, false);
  for (int64_t i = begin; i < end; i++)
    qconv_channel(q, q->n, q->g * q->og + i, q->col, b.acc32, b.acc, b.wrow);
  qconv_bufs_free(&b);
}

bool qir_cpu_kq_conv2d(const qir_kargs *k) {
  const qir_tensor *x = k->in[0], *w = k->in[1];
  if (!isq(x) || !isq(w) || x->elem->axis >= 0)
    return qk_fail(k, "quantized conv2d needs a per-tensor quantized input "
                      "and quantized weights");
  if (x->rank != 4 || w->rank != 4 || k->out[0]->rank != 4)
    return qk_fail(k, "needs 4-D input, weights and result");
  if (x->scalar != QIR_I8 && x->scalar != QIR_U8 && x->scalar != QIR_I16 &&
      x->scalar != QIR_U16)
    return qk_fail(k, "quantized conv2d needs an 8- or 16-bit input");
  bool sum_in = qir_op_get_bool(k->op, "sum_in", false);
  const qir_tensor *sum = sum_in && k->nin >= 3 ? k->in[k->nin - 1] : NULL;
  qconv q = {.k = k, .w = w};
  q.bias = k->nin >= 3 && k->in[2] != sum ? k->in[2] : NULL;
  int64_t v[4];
  q.N = x->dims[0], q.C = x->dims[1], q.H = x->dims[2], q.W = x->dims[3];
  q.O = k->out[0]->dims[1], q.OH = k->out[0]->dims[2], q.OW = k->out[0]->dims[3];
  q.KH = w->dims[2], q.KW = w->dims[3], q.G = qir_op_get_int(k->op, "group", 1);
  q.sh = q.sw = q.dh = q.dw = 1;
  if (qir_op_get_ints(k->op, "strides", v, 2) == 2) { q.sh = v[0]; q.sw = v[1]; }
  if (qir_op_get_ints(k->op, "dilations", v, 2) == 2) { q.dh = v[0]; q.dw = v[1]; }
  if (qir_op_get_ints(k->op, "pads", v, 4) == 4) { q.pt = v[0]; q.pl = v[1]; }
  if (q.G < 1 || q.C % q.G || q.O % q.G || w->dims[1] * q.G != q.C)
    return qk_fail(k, "weights do not match the input channels");
  /* The channels run on the pool's threads: what they call runs inline. */
  qir_kargs inline_k = *k;
  inline_k.pool = NULL;
  out_stage os;
  out_stage_init(&os, &inline_k, x->elem, w->elem, sum);
  q.os = &os;
  q.wide = wide_storage(x->scalar) || wide_storage(w->scalar);
  q.cg = q.C / q.G, q.og = q.O / q.G;
  q.kdim = q.cg * q.KH * q.KW, q.npix = q.OH * q.OW;
  int64_t nx = qk_numel(x), zx = qir_quant_zp(x->elem, 0);
  int32_t *xs = qir_xmalloc((size_t)(nx + 1) * sizeof *xs);
  for (int64_t i = 0; i < nx; i++)
    xs[i] = (int32_t)(qir_load_int(x->scalar, x->data, i) - zx);
  q.xs = xs;
  /* Many groups (depthwise): split the image-group pairs over the threads;
   * few: build each group's col rows once and split its channels. */
  unsigned threads = k->pool ? qir_pool_threads(k->pool) : 1;
  if (q.G >= 2 * (int64_t)threads) {
    qir_parallel_for(k->pool, q.N * q.G, 1, qconv_groups, &q);
  } else {
    int32_t *col = qir_xmalloc((size_t)(q.kdim * q.npix + 1) * sizeof *col);
    q.col = col;
    for (q.n = 0; q.n < q.N; q.n++)
      for (q.g = 0; q.g < q.G; q.g++) {
        qconv_im2col(&q, q.n, q.g, col);
        qir_parallel_for(k->pool, q.og, 1, qconv_channels, &q);
      }
    free(col);
  }
  free(xs);
  if (!os.quant_out)
    return qk_apply_fused_activation(k, k->out[0]->data, qk_numel(k->out[0]));
  return true;
}

/* ---- matmul / gemm --------------------------------------------------------------- */

/* The matrix of operand t (rank >= 2) for matrix bt of the result y: the
 * leading (batch) dims broadcast as in numpy.  -1 when they do not. */
static int64_t batch_offset(const qir_tensor *t, const qir_tensor *y,
                            int64_t bt) {
  unsigned tb = t->rank - 2, yb = y->rank - 2;
  if (tb > yb)
    return -1;
  int64_t off = 0, stride = 1;
  for (int d = (int)yb - 1; d >= 0; d--) {
    int64_t idx = bt % qk_nz(y->dims[d]);
    bt /= qk_nz(y->dims[d]);
    int td = d - (int)(yb - tb);
    if (td < 0)
      continue;
    if (t->dims[td] != 1 && t->dims[td] != y->dims[d])
      return -1;
    off += (t->dims[td] == 1 ? 0 : idx) * stride;
    stride *= t->dims[td];
  }
  return off;
}

/* y[b][i][j] = sum_k (a - za)(b - zb[j]) (+ bias[j]); b's channel is the
 * column j (per-axis weights along the output dimension). */
static bool quant_matmul(const qir_kargs *k, const qir_tensor *a,
                         const qir_tensor *b, bool ta, bool tb,
                         const qir_tensor *bias) {
  if (!isq(a) || !isq(b) || a->elem->axis >= 0)
    return qk_fail(k, "needs a per-tensor quantized first operand and a "
                      "quantized second operand");
  qir_tensor *y = k->out[0];
  int64_t M = y->rank >= 2 ? y->dims[y->rank - 2] : 1;
  int64_t N = y->dims[y->rank - 1];
  int64_t K = ta ? a->dims[a->rank - 2] : a->dims[a->rank - 1];
  int64_t batch = qk_numel(y) / qk_nz(M * N);
  int64_t abatch = qk_numel(a) / qk_nz(M * K);
  int64_t bbatch = qk_numel(b) / qk_nz(K * N);
  bool broadcast = a->rank >= 2 && b->rank >= 2 && y->rank >= 2;
  if (broadcast ? batch_offset(a, y, 0) < 0 || batch_offset(b, y, 0) < 0
                : (abatch != batch && abatch != 1) ||
                      (bbatch != batch && bbatch != 1))
    return qk_fail(k, "batch dims of the operands do not broadcast");
  out_stage os;
  out_stage_init(&os, k, a->elem, b->elem, NULL);
  bool wide = wide_storage(a->scalar) || wide_storage(b->scalar);
  int64_t za = qir_quant_zp(a->elem, 0);
  int64_t *acc = qir_xmalloc((size_t)(M + 1) * sizeof(int64_t));
  int64_t *bcol = qir_xmalloc((size_t)(K + 1) * sizeof(int64_t));
  int64_t *arow = qir_xmalloc((size_t)(M * K + 1) * sizeof(int64_t));
  float *fy = os.quant_out ? NULL : y->data;
  int64_t *column = qir_xmalloc((size_t)(M + 1) * sizeof(int64_t));
  for (int64_t bt = 0; bt < batch; bt++) {
    int64_t ao = (broadcast ? batch_offset(a, y, bt) : abatch == 1 ? 0 : bt) * M * K;
    int64_t bo = (broadcast ? batch_offset(b, y, bt) : bbatch == 1 ? 0 : bt) * K * N;
    for (int64_t i = 0; i < M; i++)
      for (int64_t kk = 0; kk < K; kk++)
        arow[i * K + kk] = qir_load_int(a->scalar, a->data,
                                        ao + (ta ? kk * M + i : i * K + kk)) - za;
    for (int64_t j = 0; j < N; j++) {
      int64_t zb = qir_quant_zp(b->elem, b->elem->axis >= 0 ? j : 0);
      for (int64_t kk = 0; kk < K; kk++)
        bcol[kk] = qir_load_int(b->scalar, b->data,
                                bo + (tb ? j * K + kk : kk * N + j)) - zb;
      double s_acc = a->elem->scales[0] * qir_quant_scale(b->elem, j);
      int64_t bv = bias_acc(bias, bias && qk_numel(bias) > 1 ? j : 0, s_acc);
      for (int64_t i = 0; i < M; i++) {
        int64_t s = bv;
        for (int64_t kk = 0; kk < K; kk++)
          s += arow[i * K + kk] * bcol[kk];
        acc[i] = s;
      }
      /* Write column j (stride N) through a contiguous temporary. */
      for (int64_t i = 0; i < M; i++) {
        out_stage one = os;
        int64_t off = (bt * M + i) * N + j;
        out_stage_write(&one, b->elem->axis >= 0 ? j : 0, &acc[i], 1, off, wide);
      }
    }
  }
  free(acc);
  free(bcol);
  free(arow);
  free(column);
  if (fy)
    return qk_apply_fused_activation(k, fy, qk_numel(y));
  return true;
}

bool qir_cpu_kq_matmul(const qir_kargs *k) {
  return quant_matmul(k, k->in[0], k->in[1], false, false, NULL);
}

bool qir_cpu_kq_gemm(const qir_kargs *k) {
  if (qir_op_get_float(k->op, "alpha", 1.0) != 1.0 ||
      (k->nin > 2 && qir_op_get_float(k->op, "beta", 1.0) != 1.0))
    return qk_fail(k, "quantized gemm needs alpha = beta = 1");
  return quant_matmul(k, k->in[0], k->in[1],
                      qir_op_get_int(k->op, "trans_a", 0) != 0,
                      qir_op_get_int(k->op, "trans_b", 0) != 0,
                      k->nin > 2 ? k->in[2] : NULL);
}

/* ---- Elementwise ------------------------------------------------------------------ */

/* Offset in operand t of output element i (numpy broadcasting). */
static int64_t bcast_offset(const qir_tensor *y, const qir_tensor *t, int64_t i) {
  int64_t off = 0, st = 1;
  for (int d = (int)y->rank - 1; d >= 0; d--) {
    int64_t idx = i % y->dims[d];
    i /= y->dims[d];
    int td = d - (int)(y->rank - t->rank);
    if (td >= 0) {
      if (t->dims[td] != 1)
        off += idx * st;
      st *= t->dims[td];
    }
  }
  return off;
}

/* How operand t of an elementwise op reads along the result y: one
 * element for all, element i of y, or numpy broadcasting. */
typedef enum bcast_kind { BCAST_SCALAR, BCAST_SAME, BCAST_GENERAL } bcast_kind;

static bcast_kind bcast_kind_of(const qir_tensor *y, const qir_tensor *t) {
  if (qk_numel(t) == 1)
    return BCAST_SCALAR;
  if (t->rank == y->rank &&
      !memcmp(t->dims, y->dims, y->rank * sizeof *y->dims))
    return BCAST_SAME;
  return BCAST_GENERAL;
}

static int64_t operand_offset(bcast_kind kind, const qir_tensor *y,
                              const qir_tensor *t, int64_t i) {
  return kind == BCAST_SCALAR ? 0 : kind == BCAST_SAME ? i : bcast_offset(y, t, i);
}

static bool per_tensor_operands(const qir_kargs *k) {
  for (unsigned i = 0; i < k->nin; i++)
    if (!isq(k->in[i]) || k->in[i]->elem->axis >= 0)
      return qk_fail(k, "needs per-tensor quantized operands");
  if (!isq(k->out[0]) || k->out[0]->elem->axis >= 0)
    return qk_fail(k, "needs a per-tensor quantized result");
  return true;
}

/* add/sub: both inputs are brought to a common scale 2 * max(s_a, s_b)
 * with `left_shift` bits of headroom (20 for 8-bit storage, 15 for 16-bit),
 * added in int32 (int64 for 16-bit), then rescaled to the output. */
static bool quant_add(const qir_kargs *k, bool subtract) {
  if (!per_tensor_operands(k))
    return false;
  const qir_tensor *a = k->in[0], *b = k->in[1];
  qir_tensor *y = k->out[0];
  const qir_type *qa = a->elem, *qb = b->elem, *qy = y->elem;
  bool wide = wide_storage(a->scalar) || wide_storage(b->scalar) ||
              wide_storage(y->scalar);
  int shift = wide ? 15 : 20;
  double sa = qa->scales[0], sb = qb->scales[0], sy = qy->scales[0];
  double twice_max = 2 * (sa > sb ? sa : sb);
  qir_multiplier ma = multiplier(sa / twice_max), mb = multiplier(sb / twice_max);
  qir_multiplier my = multiplier(twice_max / (ldexp(1.0, shift) * sy));
  int64_t za = qir_quant_zp(qa, 0), zb = qir_quant_zp(qb, 0), zy = qir_quant_zp(qy, 0);
  bcast_kind ka = bcast_kind_of(y, a), kb = bcast_kind_of(y, b);
  for (int64_t i = 0, n = qk_numel(y); i < n; i++) {
    int64_t va = qir_load_int(a->scalar, a->data, operand_offset(ka, y, a, i)) - za;
    int64_t vb = qir_load_int(b->scalar, b->data, operand_offset(kb, y, b, i)) - zb;
    int64_t r;
    if (!wide) {
      int32_t xa = qir_mul_by_multiplier((int32_t)(va * (1 << shift)), ma);
      int32_t xb = qir_mul_by_multiplier((int32_t)(vb * (1 << shift)), mb);
      int64_t s = subtract ? (int64_t)xa - xb : (int64_t)xa + xb;
      r = requant(s, my, zy, qy->qmin, qy->qmax, false);
    } else {
      int64_t xa = qir_mul_by_multiplier64(va * ((int64_t)1 << shift), ma);
      int64_t xb = qir_mul_by_multiplier64(vb * ((int64_t)1 << shift), mb);
      r = qir_requantize64(subtract ? xa - xb : xa + xb, my, zy, qy->qmin, qy->qmax);
    }
    qir_store_int(y->scalar, y->data, i, r);
  }
  return true;
}

bool qir_cpu_kq_add(const qir_kargs *k) { return quant_add(k, false); }
bool qir_cpu_kq_sub(const qir_kargs *k) { return quant_add(k, true); }

bool qir_cpu_kq_mul(const qir_kargs *k) {
  if (!per_tensor_operands(k))
    return false;
  const qir_tensor *a = k->in[0], *b = k->in[1];
  qir_tensor *y = k->out[0];
  const qir_type *qa = a->elem, *qb = b->elem, *qy = y->elem;
  bool wide = wide_storage(a->scalar) || wide_storage(b->scalar);
  qir_multiplier m = multiplier(qa->scales[0] * qb->scales[0] / qy->scales[0]);
  int64_t za = qir_quant_zp(qa, 0), zb = qir_quant_zp(qb, 0), zy = qir_quant_zp(qy, 0);
  bcast_kind ka = bcast_kind_of(y, a), kb = bcast_kind_of(y, b);
  for (int64_t i = 0, n = qk_numel(y); i < n; i++) {
    int64_t va = qir_load_int(a->scalar, a->data, operand_offset(ka, y, a, i)) - za;
    int64_t vb = qir_load_int(b->scalar, b->data, operand_offset(kb, y, b, i)) - zb;
    qir_store_int(y->scalar, y->data, i,
                  requant(va * vb, m, zy, qy->qmin, qy->qmax, wide));
  }
  return true;
}

/* One operand element rescaled to the output parameters. */
static int64_t to_out(const qir_tensor *t, int64_t off, const qir_type *qy,
                      qir_multiplier m, bool same) {
  int64_t v = qir_load_int(t->scalar, t->data, off);
  if (same)
    return v;
  return requant(v - qir_quant_zp(t->elem, 0), m, qir_quant_zp(qy, 0),
                 qy->qmin, qy->qmax, wide_storage(t->scalar));
}

bool qir_cpu_kq_minmax(const qir_kargs *k) {
  if (!per_tensor_operands(k))
    return false;
  const qir_tensor *a = k->in[0], *b = k->in[1];
  qir_tensor *y = k->out[0];
  const qir_type *qy = y->elem;
  bool sa = qir_quant_same_params(a->elem, qy), sb = qir_quant_same_params(b->elem, qy);
  qir_multiplier ma = multiplier(a->elem->scales[0] / qy->scales[0]);
  qir_multiplier mb = multiplier(b->elem->scales[0] / qy->scales[0]);
  bool is_max = k->op->def->id == QIR_OP_MAX;
  bcast_kind ka = bcast_kind_of(y, a), kb = bcast_kind_of(y, b);
  for (int64_t i = 0, n = qk_numel(y); i < n; i++) {
    int64_t va = to_out(a, operand_offset(ka, y, a, i), qy, ma, sa);
    int64_t vb = to_out(b, operand_offset(kb, y, b, i), qy, mb, sb);
    qir_store_int(y->scalar, y->data, i,
                  is_max ? (va > vb ? va : vb) : (va < vb ? va : vb));
  }
  return true;
}

static bool clamp_unary(const qir_kargs *k, double lo, double hi) {
  if (!per_tensor_operands(k))
    return false;
  const qir_tensor *x = k->in[0];
  qir_tensor *y = k->out[0];
  const qir_type *qy = y->elem;
  double s = qy->scales[0];
  int64_t zp = qir_quant_zp(qy, 0);
  int64_t qlo = qir_quantize_f64(lo, s, zp, qy->qmin, qy->qmax);
  int64_t qhi = qir_quantize_f64(hi, s, zp, qy->qmin, qy->qmax);
  bool same = qir_quant_same_params(x->elem, qy);
  qir_multiplier m = multiplier(x->elem->scales[0] / s);
  for (int64_t i = 0, n = qk_numel(y); i < n; i++)
    qir_store_int(y->scalar, y->data, i,
                  qir_saturate(to_out(x, i, qy, m, same), qlo, qhi));
  return true;
}

bool qir_cpu_kq_relu(const qir_kargs *k) { return clamp_unary(k, 0.0, INFINITY); }

bool qir_cpu_kq_clip(const qir_kargs *k) {
  return clamp_unary(k, qir_op_get_float(k->op, "min", -INFINITY),
                     qir_op_get_float(k->op, "max", INFINITY));
}

/* ---- Pooling ------------------------------------------------------------------------ */

bool qir_cpu_kq_max_pool2d(const qir_kargs *k) {
  if (!per_tensor_operands(k))
    return false;
  qir_pool_params p;
  if (!qk_read_pool_params(k, &p))
    return false;
  const qir_tensor *x = k->in[0];
  qir_tensor *y = k->out[0];
  bool same = qir_quant_same_params(x->elem, y->elem);
  qir_multiplier m = multiplier(x->elem->scales[0] / y->elem->scales[0]);
  for (int64_t pl = 0; pl < p.n * p.c; pl++)
    for (int64_t oh = 0; oh < p.oh; oh++)
      for (int64_t ow = 0; ow < p.ow; ow++) {
        int64_t best = INT64_MIN;
        for (int64_t ki = 0; ki < p.kh; ki++)
          for (int64_t kj = 0; kj < p.kw; kj++) {
            int64_t ih = oh * p.sh - p.pt + ki * p.dh, iw = ow * p.sw - p.pl + kj * p.dw;
            if (ih < 0 || ih >= p.h || iw < 0 || iw >= p.w)
              continue;
            int64_t v = qir_load_int(x->scalar, x->data, (pl * p.h + ih) * p.w + iw);
            best = v > best ? v : best;
          }
        if (best == INT64_MIN)
          best = x->elem->qmin;
        if (!same)
          best = requant(best - qir_quant_zp(x->elem, 0), m,
                         qir_quant_zp(y->elem, 0), y->elem->qmin,
                         y->elem->qmax, true);
        qir_store_int(y->scalar, y->data, (pl * p.oh + oh) * p.ow + ow, best);
      }
  return true;
}

/* avg = requantize(sum(x - zx), s_x / (s_y * count)) + zy: one rounding. */
static void avg_write(qir_tensor *y, int64_t idx, int64_t sum, int64_t count,
                      double sx) {
  const qir_type *qy = y->elem;
  qir_multiplier m = multiplier(count ? sx / (qy->scales[0] * (double)count) : 0);
  qir_store_int(y->scalar, y->data, idx,
                qir_requantize64(sum, m, qir_quant_zp(qy, 0), qy->qmin, qy->qmax));
}

bool qir_cpu_kq_avg_pool2d(const qir_kargs *k) {
  if (!per_tensor_operands(k))
    return false;
  qir_pool_params p;
  if (!qk_read_pool_params(k, &p))
    return false;
  const qir_tensor *x = k->in[0];
  int64_t zx = qir_quant_zp(x->elem, 0);
  for (int64_t pl = 0; pl < p.n * p.c; pl++)
    for (int64_t oh = 0; oh < p.oh; oh++)
      for (int64_t ow = 0; ow < p.ow; ow++) {
        int64_t h0 = oh * p.sh - p.pt, h1 = h0 + p.kh, w0 = ow * p.sw - p.pl, w1 = w0 + p.kw;
        if (h1 > p.h + p.pb) h1 = p.h + p.pb;
        if (w1 > p.w + p.pr) w1 = p.w + p.pr;
        int64_t padded = (h1 - h0) * (w1 - w0);
        if (h0 < 0) h0 = 0;
        if (w0 < 0) w0 = 0;
        if (h1 > p.h) h1 = p.h;
        if (w1 > p.w) w1 = p.w;
        int64_t sum = 0;
        for (int64_t ih = h0; ih < h1; ih++)
          for (int64_t iw = w0; iw < w1; iw++)
            sum += qir_load_int(x->scalar, x->data, (pl * p.h + ih) * p.w + iw) - zx;
        int64_t cnt = p.count_include_pad ? padded : (h1 - h0) * (w1 - w0);
        avg_write(k->out[0], (pl * p.oh + oh) * p.ow + ow, sum, cnt,
                  x->elem->scales[0]);
      }
  return true;
}

static bool quant_global_pool(const qir_kargs *k, bool avg) {
  if (!per_tensor_operands(k))
    return false;
  const qir_tensor *x = k->in[0];
  qir_tensor *y = k->out[0];
  int64_t planes = x->rank >= 2 ? x->dims[0] * x->dims[1] : 1;
  int64_t size = planes ? qk_numel(x) / planes : 0, zx = qir_quant_zp(x->elem, 0);
  bool same = qir_quant_same_params(x->elem, y->elem);
  qir_multiplier m = multiplier(x->elem->scales[0] / y->elem->scales[0]);
  for (int64_t i = 0; i < planes; i++) {
    int64_t acc = avg ? 0 : INT64_MIN;
    for (int64_t j = 0; j < size; j++) {
      int64_t v = qir_load_int(x->scalar, x->data, i * size + j);
      if (avg)
        acc += v - zx;
      else if (v > acc)
        acc = v;
    }
    if (avg)
      avg_write(y, i, acc, size, x->elem->scales[0]);
    else
      qir_store_int(y->scalar, y->data, i,
                    same ? acc
                         : requant(acc - zx, m, qir_quant_zp(y->elem, 0),
                                   y->elem->qmin, y->elem->qmax, true));
  }
  return true;
}

bool qir_cpu_kq_global_avg_pool(const qir_kargs *k) { return quant_global_pool(k, true); }
bool qir_cpu_kq_global_max_pool(const qir_kargs *k) { return quant_global_pool(k, false); }

/* ---- Concat and data movement ------------------------------------------------------ */

bool qir_cpu_kq_concat(const qir_kargs *k) {
  if (!per_tensor_operands(k))
    return false;
  const qir_tensor *ins[k->nin];
  qir_tensor tmp[k->nin];
  const qir_type *qy = k->out[0]->elem;
  for (unsigned i = 0; i < k->nin; i++) {
    ins[i] = k->in[i];
    tmp[i].data = NULL;
    if (k->in[i]->scalar != k->out[0]->scalar)
      return qk_fail(k, "operands and result must share the storage type");
    if (!qir_quant_same_params(k->in[i]->elem, qy)) {
      tmp[i] = *k->in[i];
      qir_tensor_alloc(&tmp[i]);
      rescale(k->in[i], k->in[i]->elem, &tmp[i], qy);
      ins[i] = &tmp[i];
    }
  }
  qir_kargs k2 = *k;
  k2.in = ins;
  bool ok = qir_cpu_k_concat(&k2);
  for (unsigned i = 0; i < k->nin; i++)
    free(tmp[i].data);
  return ok;
}

/* Data movement on the integer storage, then a rescale when the result's
 * parameters differ from the operand's. */
bool qir_cpu_kq_move(const qir_kargs *k) {
  const qir_tensor *x = k->in[0];
  unsigned id = k->op->def->id;
  if (id == QIR_OP_RESIZE) {
    const char *mode = qir_op_get_string(k->op, "mode");
    if (mode && strcmp(mode, "nearest"))
      return qir_cpu_float_round_trip(k, qir_cpu_kernel(id));
  }
  if (!isq(x))
    return qir_cpu_float_round_trip(k, qir_cpu_kernel(id));
  for (unsigned i = 0; i < k->nout; i++)
    if (!isq(k->out[i]) || k->out[i]->scalar != x->scalar)
      return qk_fail(k, "operand and result must share the storage type");
  if (!qir_cpu_kernel(id)->fn(k))
    return false;
  for (unsigned i = 0; i < k->nout; i++)
    if (!qir_quant_same_params(x->elem, k->out[i]->elem)) {
      if (x->elem->axis >= 0)
        return qk_fail(k, "cannot change per-axis parameters");
      rescale(k->out[i], x->elem, k->out[i], k->out[i]->elem);
    }
  return true;
}
