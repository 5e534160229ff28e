/* backends/cpu/k_conv.c - conv2d, conv_transpose2d, matmul and gemm in f32.
 *
 * conv2d: 1x1 stride-1 unpadded convolutions are one sgemm per image;
 * other regular and grouped convolutions use im2col (in column tiles that
 * bound the scratch memory) and sgemm; depthwise convolutions use a direct
 * kernel over (image, channel) planes, split across threads. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "backends/cpu/cpu.h"

/* Bytes of im2col scratch per tile. */
#define COL_TILE_BYTES (8u << 20)

/* ---- Epilogue: bias and a clamp ------------------------------------------ */

static void epilogue_row(const qir_conv_params *p, float *restrict y, int64_t n,
                         float bias) {
  if (p->act) {
    float lo = p->act_lo, hi = p->act_hi;
    for (int64_t i = 0; i < n; i++) {
      float v = y[i] + bias;
      v = v < lo ? lo : v;
      y[i] = v > hi ? hi : v;
    }
  } else if (bias != 0.0f) {
    for (int64_t i = 0; i < n; i++)
      y[i] += bias;
  }
}

/* ---- im2col + sgemm --------------------------------------------------------- */

typedef struct im2col_job {
  const qir_conv_params *p;
  const float *x;  /* one image, first channel of the group */
  float *col;      /* (cg*kh*kw) x ncols */
  int64_t cg;      /* channels of the group */
  int64_t p0, ncols; /* output pixels [p0, p0 + ncols) */
} im2col_job;

static void im2col_range(void *arg, int64_t begin, int64_t end) {
  const im2col_job *j = arg;
  const qir_conv_params *p = j->p;
  int64_t kk = p->kh * p->kw;
  for (int64_t r = begin; r < end; r++) { /* one row: (c, ki, kj) */
    int64_t c = r / kk, ki = (r % kk) / p->kw, kj = r % p->kw;
    const float *xc = j->x + c * p->h * p->w;
    float *dst = j->col + r * j->ncols;
    int64_t pix = j->p0;
    int64_t oh = pix / p->ow, ow = pix % p->ow;
    for (int64_t q = 0; q < j->ncols;) {
      int64_t ih = oh * p->sh - p->pt + ki * p->dh;
      int64_t run = p->ow - ow; /* pixels left on this output row */
      if (run > j->ncols - q)
        run = j->ncols - q;
      if (ih < 0 || ih >= p->h) {
        memset(dst + q, 0, (size_t)run * sizeof(float));
      } else {
        const float *xr = xc + ih * p->w;
        int64_t iw0 = ow * p->sw - p->pl + kj * p->dw;
        if (p->sw == 1 && iw0 >= 0 && iw0 + run <= p->w) {
          memcpy(dst + q, xr + iw0, (size_t)run * sizeof(float));
        } else {
          for (int64_t t = 0; t < run; t++) {
            int64_t iw = iw0 + t * p->sw;
            dst[q + t] = iw >= 0 && iw < p->w ? xr[iw] : 0.0f;
          }
        }
      }
      q += run;
      ow = 0;
      oh++;
    }
  }
}

static void conv_gemm(qir_pool *pool, const qir_conv_params *p,
                      const float *x, const float *w, const float *b,
                      float *y) {
  int64_t cg = p->c / p->group, og = p->o / p->group;
  int64_t kdim = cg * p->kh * p->kw, npix = p->oh * p->ow;
  bool pointwise = p->kh == 1 && p->kw == 1 && p->sh == 1 && p->sw == 1 &&
                   !p->pt && !p->pl && !p->pb && !p->pr;
  int64_t tile = npix;
  if (!pointwise) {
    tile = (int64_t)(COL_TILE_BYTES / sizeof(float)) / (kdim ? kdim : 1);
    if (tile < 64)
      tile = 64;
    if (tile > npix)
      tile = npix;
  }
  float *col = pointwise ? NULL : qir_xmalloc((size_t)(kdim * tile) * sizeof(float));
  for (int64_t n = 0; n < p->n; n++)
    for (int64_t g = 0; g < p->group; g++) {
      const float *xg = x + (n * p->c + g * cg) * p->h * p->w;
      const float *wg = w + g * og * kdim;
      float *yg = y + (n * p->o + g * og) * npix;
      if (pointwise) {
        qir_sgemm(false, false, og, npix, kdim, 1.0f, wg, kdim, xg, npix, 0.0f,
                  yg, npix);
        for (int64_t o = 0; o < og; o++)
          epilogue_row(p, yg + o * npix, npix, b ? b[g * og + o] : 0.0f);
        continue;
      }
      for (int64_t p0 = 0; p0 < npix; p0 += tile) {
        int64_t nc = npix - p0 < tile ? npix - p0 : tile;
        im2col_job j = {p, xg, col, cg, p0, nc};
        qir_parallel_for(pool, kdim, 4, im2col_range, &j);
        qir_sgemm(false, false, og, nc, kdim, 1.0f, wg, kdim, col, nc, 0.0f,
                  yg + p0, npix);
        for (int64_t o = 0; o < og; o++)
          epilogue_row(p, yg + o * npix + p0, nc, b ? b[g * og + o] : 0.0f);
      }
    }
  free(col);
}

/* ---- Direct depthwise ------------------------------------------------------- */

typedef struct dw_job {
  const qir_conv_params *p;
  const float *x, *w, *b;
  float *y;
  int64_t mult; /* output channels per input channel */
} dw_job;

/* Output columns ow whose input column ow*sw - pl + off lies in [0, w). */
static void valid_cols(const qir_conv_params *p, int64_t off, int64_t *lo,
                       int64_t *hi) {
  int64_t a = p->pl - off; /* need ow*sw >= a */
  *lo = a <= 0 ? 0 : (a + p->sw - 1) / p->sw;
  int64_t b = p->w - 1 + p->pl - off; /* need ow*sw <= b */
  *hi = b < 0 ? -1 : b / p->sw;
  if (*hi > p->ow - 1)
    *hi = p->ow - 1;
}

static void dw_plane(const dw_job *j, int64_t n, int64_t oc) {
  const qir_conv_params *p = j->p;
  int64_t ic = oc / j->mult;
  const float *xp = j->x + (n * p->c + ic) * p->h * p->w;
  const float *wk = j->w + oc * p->kh * p->kw;
  float *yp = j->y + (n * p->o + oc) * p->oh * p->ow;
  memset(yp, 0, (size_t)(p->oh * p->ow) * sizeof(float));
  float *restrict yq = yp;
  for (int64_t kj = 0; kj < p->kw; kj++) {
    int64_t off = kj * p->dw, lo, hi;
    valid_cols(p, off, &lo, &hi);
    if (lo > hi)
      continue;
    for (int64_t oh = 0; oh < p->oh; oh++) {
      float *restrict yr = yq + oh * p->ow;
      for (int64_t ki = 0; ki < p->kh; ki++) {
        int64_t ih = oh * p->sh - p->pt + ki * p->dh;
        if (ih < 0 || ih >= p->h)
          continue;
        float wv = wk[ki * p->kw + kj];
        const float *restrict xr = xp + ih * p->w + off - p->pl;
        if (p->sw == 1)
          for (int64_t ow = lo; ow <= hi; ow++)
            yr[ow] += wv * xr[ow];
        else if (p->sw == 2)
          for (int64_t ow = lo; ow <= hi; ow++)
            yr[ow] += wv * xr[2 * ow];
        else
          for (int64_t ow = lo; ow <= hi; ow++)
            yr[ow] += wv * xr[ow * p->sw];
      }
    }
  }
}

/* 3x3 undilated depthwise planes (the common case): one pass per output
 * row; rows outside the input read a zero row, columns whose taps are all
 * inside the input run branch-free, the border columns check bounds. */
static float dw3_border(const qir_conv_params *p, const float *const *r,
                        const float *wk, int64_t ow) {
  float s = 0;
  for (int ki = 0; ki < 3; ki++)
    for (int kj = 0; kj < 3; kj++) {
      int64_t iw = ow * p->sw - p->pl + kj;
      if (iw >= 0 && iw < p->w)
        s += wk[ki * 3 + kj] * r[ki][iw];
    }
  return s;
}

static void dw_plane_3x3(const dw_job *j, int64_t n, int64_t oc,
                         const float *zero) {
  const qir_conv_params *p = j->p;
  const float *xp = j->x + (n * p->c + oc / j->mult) * p->h * p->w;
  const float *wk = j->w + oc * 9;
  float *yp = j->y + (n * p->o + oc) * p->oh * p->ow;
  int64_t sw = p->sw, lo = (p->pl + sw - 1) / sw;
  int64_t hi = p->w - 3 + p->pl >= 0 ? (p->w - 3 + p->pl) / sw : -1;
  if (hi > p->ow - 1)
    hi = p->ow - 1;
  float w0 = wk[0], w1 = wk[1], w2 = wk[2], w3 = wk[3], w4 = wk[4];
  float w5 = wk[5], w6 = wk[6], w7 = wk[7], w8 = wk[8];
  for (int64_t oh = 0; oh < p->oh; oh++) {
    const float *r[3];
    for (int ki = 0; ki < 3; ki++) {
      int64_t ih = oh * p->sh - p->pt + ki;
      r[ki] = ih >= 0 && ih < p->h ? xp + ih * p->w : zero;
    }
    float *restrict yr = yp + oh * p->ow;
    for (int64_t ow = 0; ow < p->ow && ow < lo; ow++)
      yr[ow] = dw3_border(p, r, wk, ow);
    const float *restrict a = r[0] - p->pl, *restrict b = r[1] - p->pl,
                          *restrict c = r[2] - p->pl;
    if (sw == 1) {
      for (int64_t ow = lo; ow <= hi; ow++)
        yr[ow] = w0 * a[ow] + w1 * a[ow + 1] + w2 * a[ow + 2] +
                 w3 * b[ow] + w4 * b[ow + 1] + w5 * b[ow + 2] +
                 w6 * c[ow] + w7 * c[ow + 1] + w8 * c[ow + 2];
    } else {
      for (int64_t ow = lo; ow <= hi; ow++) {
        int64_t i = ow * sw;
        yr[ow] = w0 * a[i] + w1 * a[i + 1] + w2 * a[i + 2] +
                 w3 * b[i] + w4 * b[i + 1] + w5 * b[i + 2] +
                 w6 * c[i] + w7 * c[i + 1] + w8 * c[i + 2];
      }
    }
    for (int64_t ow = hi + 1 > lo ? hi + 1 : lo; ow < p->ow; ow++)
      yr[ow] = dw3_border(p, r, wk, ow);
  }
}

/* 5x5 undilated depthwise planes: as the 3x3 kernel, the taps unrolled
 * by the compiler (K is a constant). */
#define DW_K 5
static float dw5_border(const qir_conv_params *p, const float *const *r,
                        const float *wk, int64_t ow) {
  float s = 0;
  for (int ki = 0; ki < DW_K; ki++)
    for (int kj = 0; kj < DW_K; kj++) {
      int64_t iw = ow * p->sw - p->pl + kj;
      if (iw >= 0 && iw < p->w)
        s += wk[ki * DW_K + kj] * r[ki][iw];
    }
  return s;
}

static void dw_plane_5x5(const dw_job *j, int64_t n, int64_t oc,
                         const float *zero) {
  const qir_conv_params *p = j->p;
  const float *xp = j->x + (n * p->c + oc / j->mult) * p->h * p->w;
  const float *wk = j->w + oc * DW_K * DW_K;
  float *yp = j->y + (n * p->o + oc) * p->oh * p->ow;
  int64_t sw = p->sw, lo = (p->pl + sw - 1) / sw;
  int64_t hi = p->w - DW_K + p->pl >= 0 ? (p->w - DW_K + p->pl) / sw : -1;
  if (hi > p->ow - 1)
    hi = p->ow - 1;
  for (int64_t oh = 0; oh < p->oh; oh++) {
    const float *r[DW_K];
    for (int ki = 0; ki < DW_K; ki++) {
      int64_t ih = oh * p->sh - p->pt + ki;
      r[ki] = ih >= 0 && ih < p->h ? xp + ih * p->w : zero;
    }
    float *restrict yr = yp + oh * p->ow;
    for (int64_t ow = 0; ow < p->ow && ow < lo; ow++)
      yr[ow] = dw5_border(p, r, wk, ow);
    for (int64_t ow = lo; ow <= hi; ow++) {
      float s = 0;
      for (int ki = 0; ki < DW_K; ki++) {
        const float *row = r[ki] + ow * sw - p->pl;
        for (int kj = 0; kj < DW_K; kj++)
          s += wk[ki * DW_K + kj] * row[kj];
      }
      yr[ow] = s;
    }
    for (int64_t ow = hi + 1 > lo ? hi + 1 : lo; ow < p->ow; ow++)
      yr[ow] = dw5_border(p, r, wk, ow);
  }
}
#undef DW_K

static void dw_plane_epilogue(const dw_job *j, int64_t n, int64_t oc) {
  const qir_conv_params *p = j->p;
  epilogue_row(p, j->y + (n * p->o + oc) * p->oh * p->ow, p->oh * p->ow,
               j->b ? j->b[oc] : 0.0f);
}

static void dw_range(void *arg, int64_t begin, int64_t end) {
  const dw_job *j = arg;
  const qir_conv_params *p = j->p;
  bool undilated = p->dh == 1 && p->dw == 1;
  bool k3 = undilated && p->kh == 3 && p->kw == 3;
  bool k5 = undilated && p->kh == 5 && p->kw == 5;
  float *zero = k3 || k5 ? qir_xcalloc((size_t)p->w + 1, sizeof(float)) : NULL;
  for (int64_t i = begin; i < end; i++) {
    if (k3)
      dw_plane_3x3(j, i / p->o, i % p->o, zero);
    else if (k5)
      dw_plane_5x5(j, i / p->o, i % p->o, zero);
    else
      dw_plane(j, i / p->o, i % p->o);
    dw_plane_epilogue(j, i / p->o, i % p->o);
  }
  free(zero);
}

static void add_bias(const qir_conv_params *p, const float *b, float *y) {
  int64_t npix = p->oh * p->ow;
  for (int64_t n = 0; n < p->n; n++)
    for (int64_t o = 0; o < p->o; o++) {
      float *yp = y + (n * p->o + o) * npix, bv = b[o];
      for (int64_t i = 0; i < npix; i++)
        yp[i] += bv;
    }
}

void qir_conv2d_f32(qir_pool *pool, const qir_conv_params *p, const float *x,
                    const float *w, const float *b, float *y) {
  if (p->group == p->c && p->group > 1 && p->o % p->c == 0) {
    dw_job j = {p, x, w, b, y, p->o / p->c};
    qir_parallel_for(pool, p->n * p->o, 1, dw_range, &j);
  } else {
    conv_gemm(pool, p, x, w, b, y);
  }
}

/* ---- Transposed convolution: gemm then col2im -------------------------------- */

typedef struct col2im_job {
  const qir_conv_params *p;
  const float *col; /* (og*kh*kw) x (h*w) */
  float *y;         /* og x oh x ow (one image, one group) */
} col2im_job;

static void col2im_range(void *arg, int64_t begin, int64_t end) {
  const col2im_job *j = arg;
  const qir_conv_params *p = j->p;
  int64_t kk = p->kh * p->kw, hw = p->h * p->w;
  for (int64_t o = begin; o < end; o++) {
    float *yo = j->y + o * p->oh * p->ow;
    for (int64_t r = 0; r < kk; r++) {
      int64_t ki = r / p->kw, kj = r % p->kw;
      const float *cr = j->col + (o * kk + r) * hw;
      for (int64_t ih = 0; ih < p->h; ih++) {
        int64_t oh = ih * p->sh - p->pt + ki * p->dh;
        if (oh < 0 || oh >= p->oh)
          continue;
        for (int64_t iw = 0; iw < p->w; iw++) {
          int64_t ow = iw * p->sw - p->pl + kj * p->dw;
          if (ow >= 0 && ow < p->ow)
            yo[oh * p->ow + ow] += cr[ih * p->w + iw];
        }
      }
    }
  }
}

void qir_conv_transpose2d_f32(qir_pool *pool, const qir_conv_params *p,
                              const float *x, const float *w, const float *b,
                              float *y) {
  int64_t cg = p->c / p->group, og = p->o / p->group, kk = p->kh * p->kw;
  int64_t hw = p->h * p->w, ohw = p->oh * p->ow;
  float *col = qir_xmalloc((size_t)(og * kk * hw) * sizeof(float));
  memset(y, 0, (size_t)(p->n * p->o * ohw) * sizeof(float));
  for (int64_t n = 0; n < p->n; n++)
    for (int64_t g = 0; g < p->group; g++) {
      const float *xg = x + (n * p->c + g * cg) * hw;
      const float *wg = w + g * cg * og * kk; /* cg x (og*kk) */
      qir_sgemm(true, false, og * kk, hw, cg, 1.0f, wg, og * kk, xg, hw, 0.0f,
                col, hw);
      col2im_job j = {p, col, y + (n * p->o + g * og) * ohw};
      qir_parallel_for(pool, og, 1, col2im_range, &j);
    }
  free(col);
  if (b)
    add_bias(p, b, y);
}

/* ---- Op wrappers -------------------------------------------------------------- */

static bool read_conv_params(const qir_kargs *k, qir_conv_params *p,
                             bool transposed) {
  const qir_tensor *x = k->in[0], *w = k->in[1], *y = k->out[0];
  if (x->rank != 4 || w->rank != 4 || y->rank != 4)
    return qk_fail(k, "needs 4-D input, weights and result");
  int64_t v[4];
  memset(p, 0, sizeof *p);
  p->n = x->dims[0];
  p->c = x->dims[1];
  p->h = x->dims[2];
  p->w = x->dims[3];
  p->o = y->dims[1];
  p->oh = y->dims[2];
  p->ow = y->dims[3];
  p->kh = w->dims[2];
  p->kw = w->dims[3];
  p->sh = p->sw = p->dh = p->dw = 1;
  if (qir_op_get_ints(k->op, "strides", v, 2) == 2) {
    p->sh = v[0];
    p->sw = v[1];
  }
  if (qir_op_get_ints(k->op, "dilations", v, 2) == 2) {
    p->dh = v[0];
    p->dw = v[1];
  }
  if (qir_op_get_ints(k->op, "pads", v, 4) == 4) {
    p->pt = v[0];
    p->pl = v[1];
    p->pb = v[2];
    p->pr = v[3];
  }
  p->group = qir_op_get_int(k->op, "group", 1);
  if (p->group < 1 || p->c % p->group || p->o % p->group || p->sh < 1 ||
      p->sw < 1 || p->dh < 1 || p->dw < 1)
    return qk_fail(k, "has invalid group, strides or dilations");
  int64_t wi = transposed ? w->dims[0] : w->dims[1];
  if (transposed ? wi != p->c : wi * p->group != p->c)
    return qk_fail(k, "weights do not match the input channels");
  return true;
}

/* The operands of conv2d: bias (operand 2 unless it is the `sum`) and the
 * `sum` added before the activation (the last operand when sum_in). */
static void conv_extra_operands(const qir_kargs *k, const qir_tensor **bias,
                                const qir_tensor **sum) {
  bool sum_in = qir_op_get_bool(k->op, "sum_in", false);
  *sum = sum_in && k->nin >= 3 ? k->in[k->nin - 1] : NULL;
  *bias = k->nin >= 3 && k->in[2] != *sum ? k->in[2] : NULL;
}

static bool epilogue(const qir_kargs *k, const qir_tensor *sum, float *y,
                     int64_t n) {
  if (sum) {
    if (qk_numel(sum) != n)
      return qk_fail(k, "`sum` operand does not match the result");
    const float *s = sum->data;
    for (int64_t i = 0; i < n; i++)
      y[i] += s[i];
  }
  return qk_apply_fused_activation(k, y, n);
}

bool qir_cpu_k_conv2d(const qir_kargs *k) {
  qir_conv_params p;
  if (!read_conv_params(k, &p, false))
    return false;
  const qir_tensor *bias, *sum;
  conv_extra_operands(k, &bias, &sum);
  const char *act = qir_op_get_string(k->op, "activation");
  if (k->fused_act) {
    p.act = 1;
    p.act_lo = k->act_lo;
    p.act_hi = k->act_hi;
  } else if (!sum && act && (!strcmp(act, "relu") || !strcmp(act, "relu6") ||
                             !strcmp(act, "clip"))) {
    p.act = 1;
    p.act_lo = (float)qir_op_get_float(k->op, "act_min",
                                       strcmp(act, "clip") ? 0.0 : -INFINITY);
    p.act_hi = (float)qir_op_get_float(k->op, "act_max",
                                       !strcmp(act, "relu6") ? 6.0 : INFINITY);
  }
  qir_conv2d_f32(k->pool, &p, k->in[0]->data, k->in[1]->data,
                 bias ? bias->data : NULL, k->out[0]->data);
  if (p.act)
    return true;
  return epilogue(k, sum, k->out[0]->data, qk_numel(k->out[0]));
}

bool qir_cpu_k_conv_transpose2d(const qir_kargs *k) {
  qir_conv_params p;
  if (!read_conv_params(k, &p, true))
    return false;
  qir_conv_transpose2d_f32(k->pool, &p, k->in[0]->data, k->in[1]->data,
                           k->nin > 2 ? k->in[2]->data : NULL,
                           k->out[0]->data);
  return true;
}

/* matmul: numpy semantics.  Batch dims broadcast; when b has no batch dims
 * the batches of a fold into its rows (one sgemm). */
bool qir_cpu_k_matmul(const qir_kargs *k) {
  const qir_tensor *a = k->in[0], *b = k->in[1], *y = k->out[0];
  if (a->rank == 0 || b->rank == 0)
    return qk_fail(k, "needs operands of rank >= 1");
  int64_t m = a->rank >= 2 ? a->dims[a->rank - 2] : 1;
  int64_t kd = a->dims[a->rank - 1];
  int64_t n = b->rank >= 2 ? b->dims[b->rank - 1] : 1;
  int64_t kb = b->rank >= 2 ? b->dims[b->rank - 2] : b->dims[0];
  if (kb != kd)
    return qk_fail(k, "inner dimensions differ (%lld and %lld)",
                   (long long)kd, (long long)kb);
  unsigned ab = a->rank > 2 ? a->rank - 2 : 0, bb = b->rank > 2 ? b->rank - 2 : 0;
  unsigned yb = ab > bb ? ab : bb;
  int64_t batch = 1, abatch = 1, bbatch = 1;
  for (unsigned i = 0; i < ab; i++)
    abatch *= a->dims[i];
  for (unsigned i = 0; i < bb; i++)
    bbatch *= b->dims[i];
  int64_t ydims[QIR_MAX_RANK];
  for (unsigned i = 0; i < yb; i++) {
    int64_t da = (int)i - (int)(yb - ab) >= 0 ? a->dims[i - (yb - ab)] : 1;
    int64_t db = (int)i - (int)(yb - bb) >= 0 ? b->dims[i - (yb - bb)] : 1;
    ydims[i] = da > db ? da : db;
    batch *= ydims[i];
  }
  const float *A = a->data, *B = b->data;
  float *Y = y->data;
  if (bbatch == 1) {
    qir_sgemm(false, false, abatch * m, n, kd, 1.0f, A, kd, B, n, 0.0f, Y, n);
  } else {
    for (int64_t i = 0; i < batch; i++) {
      /* Broadcast index into a's and b's batch dims. */
      int64_t rem = i, ia = 0, ib = 0, sa = 1, sb = 1;
      for (int d = (int)yb - 1; d >= 0; d--) {
        int64_t idx = rem % ydims[d];
        rem /= ydims[d];
        int dA = d - (int)(yb - ab), dB = d - (int)(yb - bb);
        if (dA >= 0) {
          ia += (a->dims[dA] == 1 ? 0 : idx) * sa;
          sa *= a->dims[dA];
        }
        if (dB >= 0) {
          ib += (b->dims[dB] == 1 ? 0 : idx) * sb;
          sb *= b->dims[dB];
        }
      }
      qir_sgemm(false, false, m, n, kd, 1.0f, A + ia * m * kd, kd,
                B + ib * kd * n, n, 0.0f, Y + i * m * n, n);
    }
  }
  return qk_apply_fused_activation(k, Y, qk_numel(y));
}

bool qir_cpu_k_gemm(const qir_kargs *k) {
  const qir_tensor *a = k->in[0], *b = k->in[1], *y = k->out[0];
  if (a->rank != 2 || b->rank != 2 || y->rank != 2)
    return qk_fail(k, "needs 2-D operands");
  bool ta = qir_op_get_int(k->op, "trans_a", 0) != 0;
  bool tb = qir_op_get_int(k->op, "trans_b", 0) != 0;
  float alpha = (float)qir_op_get_float(k->op, "alpha", 1.0);
  float beta = (float)qir_op_get_float(k->op, "beta", 1.0);
  int64_t m = y->dims[0], n = y->dims[1];
  int64_t kd = ta ? a->dims[0] : a->dims[1];
  float *Y = y->data;
  float gbeta = 0.0f;
  if (k->nin > 2 && beta != 0.0f) {
    const qir_tensor *c = k->in[2];
    const float *C = c->data;
    int64_t cm = c->rank == 2 ? c->dims[0] : 1;
    int64_t cn = c->rank >= 1 ? c->dims[c->rank - 1] : 1;
    for (int64_t i = 0; i < m; i++)
      for (int64_t j = 0; j < n; j++)
        Y[i * n + j] = C[(cm == 1 ? 0 : i) * cn + (cn == 1 ? 0 : j)];
    gbeta = beta;
  }
  qir_sgemm(ta, tb, m, n, kd, alpha, a->data, a->dims[1], b->data, b->dims[1],
            gbeta, Y, n);
  return qk_apply_fused_activation(k, Y, m * n);
}
