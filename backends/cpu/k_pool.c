/* backends/cpu/k_pool.c - pooling, normalization, reductions, softmax and
 * arg-reductions in f32. */
#include <float.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "backends/cpu/cpu.h"

/* ---- Pooling -------------------------------------------------------------------- */

typedef struct pool_job {
  const qir_pool_params *p;
  const float *x;
  float *y;
} pool_job;

/* One tap of a max pool over output columns [lo, hi]; a NaN wins. */
static void max_tap(float *restrict y, const float *restrict x, int64_t sw,
                    int64_t lo, int64_t hi) {
  if (sw == 1)
    for (int64_t i = lo; i <= hi; i++) {
      float v = x[i];
      y[i] = v > y[i] || v != v ? v : y[i];
    }
  else if (sw == 2)
    for (int64_t i = lo; i <= hi; i++) {
      float v = x[2 * i];
      y[i] = v > y[i] || v != v ? v : y[i];
    }
  else
    for (int64_t i = lo; i <= hi; i++) {
      float v = x[i * sw];
      y[i] = v > y[i] || v != v ? v : y[i];
    }
}

/* Row by row, tap by tap (vectorizes over the output columns); a window
 * entirely in the padding gives -inf. */
static void max_pool_range(void *arg, int64_t begin, int64_t end) {
  const pool_job *j = arg;
  const qir_pool_params *p = j->p;
  int64_t lo[p->kw ? p->kw : 1], hi[p->kw ? p->kw : 1];
  for (int64_t kj = 0; kj < p->kw; kj++)
    qk_valid_cols(p->w, p->ow, p->sw, p->pl, kj * p->dw, &lo[kj], &hi[kj]);
  for (int64_t plane = begin; plane < end; plane++) {
    const float *xp = j->x + plane * p->h * p->w;
    float *yp = j->y + plane * p->oh * p->ow;
    for (int64_t oh = 0; oh < p->oh; oh++) {
      float *yr = yp + oh * p->ow;
      for (int64_t ow = 0; ow < p->ow; ow++)
        yr[ow] = -INFINITY;
      for (int64_t ki = 0; ki < p->kh; ki++) {
        int64_t ih = oh * p->sh - p->pt + ki * p->dh;
        if (ih < 0 || ih >= p->h)
          continue;
        for (int64_t kj = 0; kj < p->kw; kj++)
          if (lo[kj] <= hi[kj])
            max_tap(yr, xp + ih * p->w + kj * p->dw - p->pl, p->sw, lo[kj],
                    hi[kj]);
      }
    }
  }
}

static void avg_pool_range(void *arg, int64_t begin, int64_t end) {
  const pool_job *j = arg;
  const qir_pool_params *p = j->p;
  for (int64_t plane = begin; plane < end; plane++) {
    const float *xp = j->x + plane * p->h * p->w;
    float *yp = j->y + plane * p->oh * p->ow;
    for (int64_t oh = 0; oh < p->oh; oh++) {
      int64_t h0 = oh * p->sh - p->pt, h1 = h0 + p->kh;
      if (h1 > p->h + p->pb)
        h1 = p->h + p->pb;
      int64_t ph = h1 - h0;
      if (h0 < 0)
        h0 = 0;
      if (h1 > p->h)
        h1 = p->h;
      for (int64_t ow = 0; ow < p->ow; ow++) {
        int64_t w0 = ow * p->sw - p->pl, w1 = w0 + p->kw;
        if (w1 > p->w + p->pr)
          w1 = p->w + p->pr;
        int64_t pw = w1 - w0;
        if (w0 < 0)
          w0 = 0;
        if (w1 > p->w)
          w1 = p->w;
        float s = 0;
        for (int64_t ih = h0; ih < h1; ih++)
          for (int64_t iw = w0; iw < w1; iw++)
            s += xp[ih * p->w + iw];
        int64_t cnt = p->count_include_pad ? ph * pw : (h1 - h0) * (w1 - w0);
        yp[oh * p->ow + ow] = cnt > 0 ? s / (float)cnt : 0.0f;
      }
    }
  }
}

void qir_max_pool2d_f32(qir_pool *pool, const qir_pool_params *p,
                        const float *x, float *y) {
  pool_job j = {p, x, y};
  qir_parallel_for(pool, p->n * p->c, 1, max_pool_range, &j);
}

void qir_avg_pool2d_f32(qir_pool *pool, const qir_pool_params *p,
                        const float *x, float *y) {
  pool_job j = {p, x, y};
  qir_parallel_for(pool, p->n * p->c, 1, avg_pool_range, &j);
}

bool qk_read_pool_params(const qir_kargs *k, qir_pool_params *p) {
  const qir_tensor *x = k->in[0], *y = k->out[0];
  if (x->rank != 4 || y->rank != 4)
    return qk_fail(k, "needs a 4-D input");
  int64_t v[4];
  memset(p, 0, sizeof *p);
  p->n = x->dims[0];
  p->c = x->dims[1];
  p->h = x->dims[2];
  p->w = x->dims[3];
  p->oh = y->dims[2];
  p->ow = y->dims[3];
  if (qir_op_get_ints(k->op, "kernel", v, 2) != 2)
    return qk_fail(k, "needs `kernel` = [kh, kw]");
  p->kh = v[0];
  p->kw = v[1];
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
  p->count_include_pad = qir_op_get_int(k->op, "count_include_pad", 0) != 0;
  return true;
}

bool qir_cpu_k_max_pool2d(const qir_kargs *k) {
  qir_pool_params p;
  if (!qk_read_pool_params(k, &p))
    return false;
  qir_max_pool2d_f32(k->pool, &p, k->in[0]->data, k->out[0]->data);
  return true;
}

bool qir_cpu_k_avg_pool2d(const qir_kargs *k) {
  qir_pool_params p;
  if (!qk_read_pool_params(k, &p))
    return false;
  qir_avg_pool2d_f32(k->pool, &p, k->in[0]->data, k->out[0]->data);
  return true;
}

/* Global pools: over all dims after the first two. */
static void global_pool(const qir_kargs *k, bool avg) {
  const qir_tensor *x = k->in[0];
  int64_t planes = x->rank >= 2 ? x->dims[0] * x->dims[1] : 1;
  int64_t size = planes ? qk_numel(x) / planes : 0;
  const float *X = x->data;
  float *Y = k->out[0]->data;
  for (int64_t i = 0; i < planes; i++) {
    const float *xp = X + i * size;
    if (avg) {
      double s = 0;
      for (int64_t j = 0; j < size; j++)
        s += xp[j];
      Y[i] = size ? (float)(s / (double)size) : 0.0f;
    } else {
      float m = -INFINITY;
      for (int64_t j = 0; j < size; j++)
        if (xp[j] > m || isnan(xp[j]))
          m = xp[j];
      Y[i] = m;
    }
  }
}

bool qir_cpu_k_global_avg_pool(const qir_kargs *k) {
  global_pool(k, true);
  return true;
}

bool qir_cpu_k_global_max_pool(const qir_kargs *k) {
  global_pool(k, false);
  return true;
}

/* ---- Normalization ----------------------------------------------------------------- */

bool qir_cpu_k_batch_norm(const qir_kargs *k) {
  const qir_tensor *x = k->in[0];
  if (x->rank < 2)
    return qk_fail(k, "needs an input of rank >= 2");
  double eps = qir_op_get_float(k->op, "epsilon", 1e-5);
  const float *sc = k->in[1]->data, *bi = k->in[2]->data;
  const float *mean = k->in[3]->data, *var = k->in[4]->data;
  int64_t n = x->dims[0], c = x->dims[1], inner = 1;
  for (unsigned d = 2; d < x->rank; d++)
    inner *= x->dims[d];
  const float *X = x->data;
  float *Y = k->out[0]->data;
  for (int64_t ch = 0; ch < c; ch++) {
    float a = (float)(sc[ch] / sqrt((double)var[ch] + eps));
    float b = bi[ch] - a * mean[ch];
    for (int64_t i = 0; i < n; i++) {
      const float *xp = X + (i * c + ch) * inner;
      float *yp = Y + (i * c + ch) * inner;
      for (int64_t j = 0; j < inner; j++)
        yp[j] = a * xp[j] + b;
    }
  }
  return true;
}

/* Normalizes rows of `size` elements; scale/bias indexed by sidx(row, j). */
static void normalize_row(const float *x, float *y, int64_t size, double eps) {
  double mean = 0, var = 0;
  for (int64_t j = 0; j < size; j++)
    mean += x[j];
  mean /= (double)size;
  for (int64_t j = 0; j < size; j++)
    var += (x[j] - mean) * (x[j] - mean);
  var /= (double)size;
  double inv = 1.0 / sqrt(var + eps);
  for (int64_t j = 0; j < size; j++)
    y[j] = (float)((x[j] - mean) * inv);
}

bool qir_cpu_k_instance_norm(const qir_kargs *k) {
  const qir_tensor *x = k->in[0];
  if (x->rank < 3)
    return qk_fail(k, "needs an input of rank >= 3");
  double eps = qir_op_get_float(k->op, "epsilon", 1e-5);
  const float *sc = k->in[1]->data, *bi = k->in[2]->data;
  int64_t n = x->dims[0], c = x->dims[1], inner = qk_numel(x) / qk_nz(n * c);
  float *Y = k->out[0]->data;
  for (int64_t i = 0; i < n * c; i++) {
    float *yp = Y + i * inner;
    normalize_row((const float *)x->data + i * inner, yp, inner, eps);
    for (int64_t j = 0; j < inner; j++)
      yp[j] = yp[j] * sc[i % c] + bi[i % c];
  }
  return true;
}

bool qir_cpu_k_layer_norm(const qir_kargs *k) {
  const qir_tensor *x = k->in[0];
  int axis = qk_axis(qir_op_get_int(k->op, "axis", -1), x->rank);
  if (axis < 0)
    return qk_fail(k, "has an axis out of range");
  double eps = qir_op_get_float(k->op, "epsilon", 1e-5);
  int64_t size = 1;
  for (unsigned d = (unsigned)axis; d < x->rank; d++)
    size *= x->dims[d];
  int64_t rows = size ? qk_numel(x) / size : 0;
  const float *sc = k->in[1]->data, *bi = k->nin > 2 ? k->in[2]->data : NULL;
  int64_t ns = qk_numel(k->in[1]), nb = k->nin > 2 ? qk_numel(k->in[2]) : 0;
  float *Y = k->out[0]->data;
  for (int64_t r = 0; r < rows; r++) {
    float *yp = Y + r * size;
    normalize_row((const float *)x->data + r * size, yp, size, eps);
    for (int64_t j = 0; j < size; j++)
      yp[j] = yp[j] * sc[j % ns] + (bi ? bi[j % nb] : 0.0f);
  }
  return true;
}

/* ---- Reductions ----------------------------------------------------------------- */

/* Marks the reduced axes; false for a bad axis. */
static bool reduced_axes(const qir_kargs *k, unsigned rank, bool *red) {
  int64_t axes[QIR_MAX_RANK];
  int n = qir_op_get_ints(k->op, "axes", axes, QIR_MAX_RANK);
  for (unsigned d = 0; d < rank; d++)
    red[d] = n <= 0;
  for (int i = 0; i < n; i++) {
    int a = qk_axis(axes[i], rank);
    if (a < 0)
      return false;
    red[a] = true;
  }
  return true;
}

/* For each input element, the index of its output element. */
static void reduce_map(const qir_tensor *x, const bool *red, int64_t *ostride) {
  int64_t acc = 1;
  for (int d = (int)x->rank - 1; d >= 0; d--) {
    ostride[d] = red[d] ? 0 : acc;
    if (!red[d])
      acc *= x->dims[d];
  }
}

bool qir_cpu_k_reduce(const qir_kargs *k) {
  const qir_tensor *x = k->in[0];
  bool red[QIR_MAX_RANK];
  if (!reduced_axes(k, x->rank, red))
    return qk_fail(k, "has an axis out of range");
  int64_t os[QIR_MAX_RANK], n = qk_numel(x), m = qk_numel(k->out[0]);
  reduce_map(x, red, os);
  unsigned id = k->op->def->id;
  bool isf = x->scalar == QIR_F32;
  if (!isf && x->scalar != QIR_I64)
    return qk_fail(k, "has no kernel for %s", qir_scalar_name(x->scalar));
  double *acc = qir_xmalloc((size_t)(m ? m : 1) * sizeof(double));
  double init = id == QIR_OP_REDUCE_MAX ? -INFINITY
                : id == QIR_OP_REDUCE_MIN ? INFINITY
                : id == QIR_OP_REDUCE_PROD ? 1.0 : 0.0;
  for (int64_t i = 0; i < m; i++)
    acc[i] = init;
  int64_t cnt = m ? n / m : 0;
  for (int64_t i = 0; i < n; i++) {
    int64_t rem = i, o = 0;
    for (int d = (int)x->rank - 1; d >= 0; d--) {
      o += (rem % x->dims[d]) * os[d];
      rem /= x->dims[d];
    }
    double v = isf ? ((const float *)x->data)[i] : (double)((const int64_t *)x->data)[i];
    switch (id) {
    case QIR_OP_REDUCE_MAX: if (v > acc[o] || isnan(v)) acc[o] = v; break;
    case QIR_OP_REDUCE_MIN: if (v < acc[o] || isnan(v)) acc[o] = v; break;
    case QIR_OP_REDUCE_PROD: acc[o] *= v; break;
    case QIR_OP_REDUCE_L2: acc[o] += v * v; break;
    default: acc[o] += v; break;
    }
  }
  for (int64_t i = 0; i < m; i++) {
    double v = acc[i];
    if (id == QIR_OP_REDUCE_MEAN)
      v = cnt ? v / (double)cnt : NAN;
    else if (id == QIR_OP_REDUCE_L2)
      v = sqrt(v);
    if (isf)
      ((float *)k->out[0]->data)[i] = (float)v;
    else
      ((int64_t *)k->out[0]->data)[i] = (int64_t)v;
  }
  free(acc);
  return true;
}

/* outer x axis x inner decomposition around one axis. */
static bool split_axis(const qir_kargs *k, const qir_tensor *x, int64_t dflt,
                       int64_t *outer, int64_t *len, int64_t *inner) {
  int axis = qk_axis(qir_op_get_int(k->op, "axis", dflt), x->rank);
  if (axis < 0)
    return qk_fail(k, "has an axis out of range");
  *outer = *inner = 1;
  for (int d = 0; d < axis; d++)
    *outer *= x->dims[d];
  *len = x->dims[axis];
  for (unsigned d = (unsigned)axis + 1; d < x->rank; d++)
    *inner *= x->dims[d];
  return true;
}

bool qir_cpu_k_softmax(const qir_kargs *k) {
  const qir_tensor *x = k->in[0];
  int64_t outer, len, inner;
  if (!split_axis(k, x, -1, &outer, &len, &inner))
    return false;
  bool logsm = k->op->def->id == QIR_OP_LOG_SOFTMAX;
  const float *X = x->data;
  float *Y = k->out[0]->data;
  for (int64_t o = 0; o < outer; o++)
    for (int64_t i = 0; i < inner; i++) {
      const float *xp = X + o * len * inner + i;
      float *yp = Y + o * len * inner + i;
      float m = -INFINITY;
      for (int64_t j = 0; j < len; j++)
        m = fmaxf(m, xp[j * inner]);
      double s = 0;
      for (int64_t j = 0; j < len; j++) {
        float e = expf(xp[j * inner] - m);
        s += e;
        if (!logsm)
          yp[j * inner] = e;
      }
      for (int64_t j = 0; j < len; j++)
        yp[j * inner] = logsm ? (float)(xp[j * inner] - m - log(s))
                              : (float)(yp[j * inner] / s);
    }
  return true;
}

bool qir_cpu_k_arg_reduce(const qir_kargs *k) {
  const qir_tensor *x = k->in[0];
  int64_t outer, len, inner;
  if (!split_axis(k, x, 0, &outer, &len, &inner))
    return false;
  bool last = qir_op_get_int(k->op, "select_last_index", 0) != 0;
  bool amax = k->op->def->id == QIR_OP_ARGMAX;
  bool isf = x->scalar == QIR_F32;
  int64_t *Y = k->out[0]->data;
  if (k->out[0]->scalar != QIR_I64)
    return qk_fail(k, "result must be i64");
  for (int64_t o = 0; o < outer; o++)
    for (int64_t i = 0; i < inner; i++) {
      int64_t best = 0;
      double bv = 0;
      for (int64_t j = 0; j < len; j++) {
        int64_t idx = (o * len + j) * inner + i;
        double v = isf ? ((const float *)x->data)[idx]
                       : (double)qir_load_int(x->scalar, x->data, idx);
        bool better = j == 0 || (amax ? (last ? v >= bv : v > bv)
                                      : (last ? v <= bv : v < bv));
        if (better) {
          best = j;
          bv = v;
        }
      }
      Y[o * inner + i] = best;
    }
  return true;
}
