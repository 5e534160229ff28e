/* backends/cpu/k_data.c - data movement and shape kernels.  All but resize
 * (linear, cubic) and range move bytes, so they serve every element type,
 * quantized storage included. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "backends/cpu/cpu.h"

static size_t esize(const qir_tensor *t) { return qir_scalar_size(t->scalar); }

static void strides_of(const qir_tensor *t, int64_t *st) {
  int64_t acc = 1;
  for (int d = (int)t->rank - 1; d >= 0; d--) {
    st[d] = acc;
    acc *= t->dims[d];
  }
}

bool qir_cpu_k_reshape(const qir_kargs *k) {
  if (k->out[0]->nbytes != k->in[0]->nbytes)
    return qk_fail(k, "changes the number of elements");
  memcpy(k->out[0]->data, k->in[0]->data, k->out[0]->nbytes);
  return true;
}

/* concat: the output is `outer` rows, each the inputs' rows (row[i]
 * bytes) one after the other; a range of output bytes copies the pieces
 * it covers, so that the threads split even one large row. */
typedef struct concat_job {
  const qir_kargs *k;
  int axis;
  int64_t inner; /* bytes per index of the axis */
  int64_t yrow;  /* output bytes per row */
} concat_job;

static void concat_range(void *arg, int64_t begin, int64_t end) {
  const concat_job *j = arg;
  uint8_t *dst = j->k->out[0]->data;
  for (int64_t t = begin; t < end;) {
    int64_t o = t / j->yrow, r = t % j->yrow, off = 0;
    unsigned i = 0;
    int64_t row = j->k->in[0]->dims[j->axis] * j->inner;
    while (r >= off + row) { /* the input holding byte r of the row */
      off += row;
      row = j->k->in[++i]->dims[j->axis] * j->inner;
    }
    int64_t n = off + row - r < end - t ? off + row - r : end - t;
    const uint8_t *src = j->k->in[i]->data;
    memcpy(dst + t, src + o * row + (r - off), (size_t)n);
    t += n;
  }
}

bool qir_cpu_k_concat(const qir_kargs *k) {
  const qir_tensor *y = k->out[0];
  int axis = qk_axis(qir_op_get_int(k->op, "axis", 0), y->rank);
  if (axis < 0)
    return qk_fail(k, "has an axis out of range");
  int64_t outer = 1, inner = esize(y);
  for (int d = 0; d < axis; d++)
    outer *= y->dims[d];
  for (unsigned d = (unsigned)axis + 1; d < y->rank; d++)
    inner *= y->dims[d];
  concat_job j = {k, axis, inner, y->dims[axis] * inner};
  if (j.yrow > 0)
    qir_parallel_for(k->pool, outer * j.yrow, 1 << 16, concat_range, &j);
  return true;
}

bool qir_cpu_k_split(const qir_kargs *k) {
  const qir_tensor *x = k->in[0];
  int axis = qk_axis(qir_op_get_int(k->op, "axis", 0), x->rank);
  if (axis < 0)
    return qk_fail(k, "has an axis out of range");
  int64_t outer = 1, inner = esize(x);
  for (int d = 0; d < axis; d++)
    outer *= x->dims[d];
  for (unsigned d = (unsigned)axis + 1; d < x->rank; d++)
    inner *= x->dims[d];
  const uint8_t *src = x->data;
  int64_t xrow = x->dims[axis] * inner, off = 0;
  for (unsigned i = 0; i < k->nout; i++) {
    int64_t row = k->out[i]->dims[axis] * inner;
    uint8_t *dst = k->out[i]->data;
    for (int64_t o = 0; o < outer; o++)
      memcpy(dst + o * row, src + o * xrow + off, (size_t)row);
    off += row;
  }
  return true;
}

/* Generic strided gather: y[i] = x[base + sum idx_d * st_d], by rows of
 * y's last dim (a memcpy when the row is contiguous in x, a typed loop
 * otherwise), the rows split across the pool's threads. */
typedef struct strided_job {
  const qir_tensor *y;
  const uint8_t *x;
  int64_t base;
  const int64_t *xst;
  size_t es;
} strided_job;

/* Copies n elements of size ES, stride apart in src (ES a constant in
 * each caller, so that the memcpy is one move). */
static inline __attribute__((always_inline)) void
gather_row(uint8_t *restrict dst, const uint8_t *restrict src, int64_t n,
           int64_t stride, size_t es) {
  for (int64_t i = 0; i < n; i++)
    memcpy(dst + (size_t)i * es, src + i * stride * (int64_t)es, es);
}

static void strided_row(uint8_t *restrict dst, const uint8_t *restrict src,
                        int64_t n, int64_t stride, size_t es) {
  if (stride == 1)
    memcpy(dst, src, (size_t)n * es);
  else if (es == 4)
    gather_row(dst, src, n, stride, 4);
  else if (es == 2)
    gather_row(dst, src, n, stride, 2);
  else if (es == 1)
    gather_row(dst, src, n, stride, 1);
  else
    gather_row(dst, src, n, stride, es);
}

static void strided_range(void *arg, int64_t begin, int64_t end) {
  const strided_job *j = arg;
  const qir_tensor *y = j->y;
  unsigned r = y->rank;
  int64_t inner = y->dims[r - 1], idx[QIR_MAX_RANK] = {0}, off = j->base;
  int64_t q = begin; /* the index of row `begin` */
  for (int d = (int)r - 2; d >= 0; d--) {
    idx[d] = q % y->dims[d];
    q /= y->dims[d];
    off += idx[d] * j->xst[d];
  }
  uint8_t *dst = (uint8_t *)y->data + (size_t)(begin * inner) * j->es;
  for (int64_t row = begin; row < end; row++) {
    strided_row(dst, j->x + off * (int64_t)j->es, inner, j->xst[r - 1], j->es);
    dst += (size_t)inner * j->es;
    for (int d = (int)r - 2; d >= 0; d--) {
      idx[d]++;
      off += j->xst[d];
      if (idx[d] < y->dims[d])
        break;
      off -= j->xst[d] * idx[d];
      idx[d] = 0;
    }
  }
}

static void strided_copy(qir_pool *pool, const qir_tensor *y, const uint8_t *x,
                         int64_t base, const int64_t *xst, size_t es) {
  int64_t n = qk_numel(y);
  if (n <= 0)
    return;
  if (y->rank == 0) {
    memcpy(y->data, x + base * (int64_t)es, es);
    return;
  }
  int64_t inner = y->dims[y->rank - 1];
  strided_job j = {y, x, base, xst, es};
  /* Rows of at least ~16K elements per thread. */
  int64_t grain = (1 << 14) / inner + 1;
  qir_parallel_for(pool, n / inner, grain, strided_range, &j);
}

bool qir_cpu_k_transpose(const qir_kargs *k) {
  const qir_tensor *x = k->in[0], *y = k->out[0];
  int64_t perm[QIR_MAX_RANK], xst[QIR_MAX_RANK], st[QIR_MAX_RANK];
  int n = qir_op_get_ints(k->op, "perm", perm, QIR_MAX_RANK);
  if (n <= 0) {
    n = (int)x->rank;
    for (int i = 0; i < n; i++)
      perm[i] = n - 1 - i;
  }
  if ((unsigned)n != x->rank)
    return qk_fail(k, "perm does not match the rank");
  strides_of(x, xst);
  for (int i = 0; i < n; i++) {
    int p = qk_axis(perm[i], x->rank);
    if (p < 0)
      return qk_fail(k, "perm out of range");
    st[i] = xst[p];
  }
  strided_copy(k->pool, y, x->data, 0, st, esize(x));
  return true;
}

static int64_t clamp64(int64_t v, int64_t lo, int64_t hi) {
  return v < lo ? lo : v > hi ? hi : v;
}

bool qir_cpu_k_slice(const qir_kargs *k) {
  const qir_tensor *x = k->in[0], *y = k->out[0];
  int64_t starts[QIR_MAX_RANK], ends[QIR_MAX_RANK], axes[QIR_MAX_RANK],
      steps[QIR_MAX_RANK];
  int ns = qir_op_get_ints(k->op, "starts", starts, QIR_MAX_RANK);
  int ne = qir_op_get_ints(k->op, "ends", ends, QIR_MAX_RANK);
  int na = qir_op_get_ints(k->op, "axes", axes, QIR_MAX_RANK);
  int nt = qir_op_get_ints(k->op, "steps", steps, QIR_MAX_RANK);
  if (ns < 0 || ns != ne || (na > 0 && na != ns) || (nt > 0 && nt != ns))
    return qk_fail(k, "has inconsistent starts/ends/axes/steps");
  int64_t xst[QIR_MAX_RANK], st[QIR_MAX_RANK], base = 0;
  strides_of(x, xst);
  for (unsigned d = 0; d < x->rank; d++)
    st[d] = xst[d];
  for (int i = 0; i < ns; i++) {
    int a = qk_axis(na > 0 ? axes[i] : i, x->rank);
    int64_t step = nt > 0 ? steps[i] : 1, dim = x->dims[a];
    if (a < 0 || step == 0)
      return qk_fail(k, "has a bad axis or a zero step");
    int64_t s = starts[i] < 0 ? starts[i] + dim : starts[i];
    s = step > 0 ? clamp64(s, 0, dim) : clamp64(s, 0, dim - 1);
    base += s * xst[a];
    st[a] = xst[a] * step;
  }
  strided_copy(k->pool, y, x->data, base, st, esize(x));
  return true;
}

bool qir_cpu_k_expand(const qir_kargs *k) {
  const qir_tensor *x = k->in[0], *y = k->out[0];
  int64_t xst[QIR_MAX_RANK], st[QIR_MAX_RANK];
  strides_of(x, xst);
  for (unsigned d = 0; d < y->rank; d++) {
    int xd = (int)d - (int)(y->rank - x->rank);
    st[d] = xd < 0 || x->dims[xd] == 1 ? 0 : xst[xd];
  }
  strided_copy(k->pool, y, x->data, 0, st, esize(x));
  return true;
}

/* Output index -> input index through a per-dim function. */
typedef int64_t (*index_fn)(const void *ctx, unsigned d, int64_t i,
                            int64_t dim);

static void map_copy(const qir_kargs *k, index_fn f, const void *ctx,
                     const uint8_t *fill) {
  const qir_tensor *x = k->in[0], *y = k->out[0];
  size_t es = esize(x);
  int64_t xst[QIR_MAX_RANK], idx[QIR_MAX_RANK] = {0}, n = qk_numel(y);
  strides_of(x, xst);
  uint8_t *dst = y->data;
  const uint8_t *src = x->data;
  for (int64_t i = 0; i < n; i++) {
    int64_t off = 0;
    bool inside = true;
    for (unsigned d = 0; d < y->rank && inside; d++) {
      int64_t s = f(ctx, d, idx[d], x->dims[d]);
      if (s < 0)
        inside = false;
      off += s * xst[d];
    }
    memcpy(dst + (size_t)i * es, inside ? src + (size_t)off * es : fill, es);
    for (int d = (int)y->rank - 1; d >= 0; d--) {
      if (++idx[d] < y->dims[d])
        break;
      idx[d] = 0;
    }
  }
}

static int64_t tile_index(const void *ctx, unsigned d, int64_t i,
                          int64_t dim) {
  return dim ? i % dim : 0;
}

bool qir_cpu_k_tile(const qir_kargs *k) {
  map_copy(k, tile_index, NULL, NULL);
  return true;
}

typedef struct pad_ctx {
  int64_t pads[2 * QIR_MAX_RANK];
  int mode; /* 0 constant, 1 edge, 2 reflect */
} pad_ctx;

static int64_t pad_index(const void *ctx, unsigned d, int64_t i,
                         int64_t dim) {
  const pad_ctx *c = ctx;
  int64_t s = i - c->pads[d];
  if (s >= 0 && s < dim)
    return s;
  if (c->mode == 0 || dim == 0)
    return -1;
  if (c->mode == 1)
    return s < 0 ? 0 : dim - 1;
  if (dim == 1)
    return 0;
  int64_t period = 2 * (dim - 1);
  s = ((s % period) + period) % period;
  return s < dim ? s : period - s;
}

/* Pads row by row: a row of the output (all dims but the last) maps to
 * one input row or to the fill; inside a row the middle is one memcpy. */
static void pad_rows(const qir_kargs *k, const pad_ctx *c, const uint8_t *fill) {
  const qir_tensor *x = k->in[0], *y = k->out[0];
  size_t es = esize(x);
  unsigned r = y->rank;
  if (r == 0) {
    memcpy(y->data, x->data, es);
    return;
  }
  int64_t xst[QIR_MAX_RANK], idx[QIR_MAX_RANK] = {0};
  strides_of(x, xst);
  int64_t ow = y->dims[r - 1], iw = x->dims[r - 1], left = c->pads[r - 1];
  int64_t rows = ow ? qk_numel(y) / ow : 0;
  uint8_t *dst = y->data;
  const uint8_t *src = x->data;
  for (int64_t row = 0; row < rows; row++, dst += (size_t)ow * es) {
    int64_t off = 0;
    bool inside = true;
    for (unsigned d = 0; d + 1 < r && inside; d++) {
      int64_t s = pad_index(c, d, idx[d], x->dims[d]);
      inside = s >= 0;
      off += s * xst[d];
    }
    for (int64_t j = 0; j < ow; j++) {
      if (inside && j == left && iw > 0 && left >= 0 && left + iw <= ow) {
        memcpy(dst + (size_t)j * es, src + (size_t)off * es, (size_t)iw * es);
        j += iw - 1;
        continue;
      }
      int64_t s = inside ? pad_index(c, r - 1, j, iw) : -1;
      memcpy(dst + (size_t)j * es, s >= 0 ? src + (size_t)(off + s) * es : fill, es);
    }
    for (int d = (int)r - 2; d >= 0; d--) {
      if (++idx[d] < y->dims[d])
        break;
      idx[d] = 0;
    }
  }
}

bool qir_cpu_k_pad(const qir_kargs *k) {
  const qir_tensor *x = k->in[0];
  pad_ctx c;
  if (qir_op_get_ints(k->op, "pads", c.pads, 2 * QIR_MAX_RANK) !=
      (int)(2 * x->rank))
    return qk_fail(k, "needs `pads` with two entries per dim");
  const char *mode = qir_op_get_string(k->op, "mode");
  c.mode = !mode || !strcmp(mode, "constant") ? 0 : !strcmp(mode, "edge") ? 1
           : !strcmp(mode, "reflect") ? 2 : -1;
  if (c.mode < 0)
    return qk_fail(k, "has an unknown mode '%s'", mode);
  uint8_t fill[8] = {0};
  double v = qir_op_get_float(k->op, "value", 0.0);
  if (x->elem && x->elem->kind == QIR_TYPE_QUANT) {
    const qir_type *q = k->out[0]->elem;
    qir_store_int(x->scalar, fill, 0,
                  qir_quantize_f64(v, qir_quant_scale(q, 0), qir_quant_zp(q, 0),
                                   q->qmin, q->qmax));
  } else {
    qir_convert(QIR_F64, &v, x->scalar, fill, 1);
  }
  pad_rows(k, &c, fill);
  return true;
}

bool qir_cpu_k_gather(const qir_kargs *k) {
  const qir_tensor *x = k->in[0], *ind = k->in[1];
  int axis = qk_axis(qir_op_get_int(k->op, "axis", 0), x->rank);
  if (axis < 0)
    return qk_fail(k, "has an axis out of range");
  int64_t outer = 1, inner = (int64_t)esize(x), dim = x->dims[axis];
  for (int d = 0; d < axis; d++)
    outer *= x->dims[d];
  for (unsigned d = (unsigned)axis + 1; d < x->rank; d++)
    inner *= x->dims[d];
  int64_t ni = qk_numel(ind);
  const uint8_t *src = x->data;
  uint8_t *dst = k->out[0]->data;
  for (int64_t o = 0; o < outer; o++)
    for (int64_t j = 0; j < ni; j++) {
      int64_t i = qir_load_int(ind->scalar, ind->data, j);
      if (i < 0)
        i += dim;
      if (i < 0 || i >= dim)
        return qk_fail(k, "index %lld out of range [0, %lld)",
                       (long long)i, (long long)dim);
      memcpy(dst + (o * ni + j) * inner, src + (o * dim + i) * inner,
             (size_t)inner);
    }
  return true;
}

static bool depth_space(const qir_kargs *k, bool to_space) {
  const qir_tensor *x = k->in[0], *y = k->out[0];
  int64_t b = qir_op_get_int(k->op, "blocksize", 0);
  const char *mode = qir_op_get_string(k->op, "mode");
  bool crd = mode && !strcmp(mode, "CRD");
  if (x->rank != 4 || b < 1)
    return qk_fail(k, "needs a 4-D input and blocksize >= 1");
  /* Iterate over the space-side tensor (N, C, H*b, W*b) and map to the
   * depth side (N, C*b*b, H, W). */
  const qir_tensor *sp = to_space ? y : x, *dp = to_space ? x : y;
  int64_t n = sp->dims[0], c = sp->dims[1], hs = sp->dims[2], ws = sp->dims[3];
  int64_t hd = dp->dims[2], wd = dp->dims[3], cd = dp->dims[1];
  size_t es = esize(x);
  const uint8_t *src = x->data;
  uint8_t *dst = y->data;
  for (int64_t i = 0; i < n; i++)
    for (int64_t ch = 0; ch < c; ch++)
      for (int64_t h = 0; h < hs; h++)
        for (int64_t w = 0; w < ws; w++) {
          int64_t bh = h % b, bw = w % b;
          int64_t dc = crd ? ch * b * b + bh * b + bw : (bh * b + bw) * c + ch;
          int64_t so = ((i * c + ch) * hs + h) * ws + w;
          int64_t doff = ((i * cd + dc) * hd + h / b) * wd + w / b;
          if (to_space)
            memcpy(dst + so * es, src + doff * es, es);
          else
            memcpy(dst + doff * es, src + so * es, es);
        }
  return true;
}

bool qir_cpu_k_depth_to_space(const qir_kargs *k) { return depth_space(k, true); }
bool qir_cpu_k_space_to_depth(const qir_kargs *k) { return depth_space(k, false); }

bool qir_cpu_k_shape(const qir_kargs *k) {
  const qir_tensor *x = k->in[0];
  int64_t start = qir_op_get_int(k->op, "start", 0);
  int64_t end = qir_op_get_int(k->op, "end", x->rank);
  if (start < 0)
    start += x->rank;
  if (end < 0)
    end += x->rank;
  start = clamp64(start, 0, x->rank);
  for (int64_t i = 0; i < qk_numel(k->out[0]); i++)
    qir_store_int(k->out[0]->scalar, k->out[0]->data, i, x->dims[start + i]);
  (void)end;
  return true;
}

bool qir_cpu_k_constant_of_shape(const qir_kargs *k) {
  const qir_attr *v = qir_op_get_attr(k->op, "value");
  qir_tensor *y = k->out[0];
  size_t es = esize(y);
  uint8_t elem[8] = {0};
  if (v && v->kind == QIR_ATTR_DENSE && v->u.dense.type->scalar == y->scalar)
    memcpy(elem, v->u.dense.data, es);
  for (int64_t i = 0, n = qk_numel(y); i < n; i++)
    memcpy((uint8_t *)y->data + (size_t)i * es, elem, es);
  return true;
}

bool qir_cpu_k_range(const qir_kargs *k) {
  qir_tensor *y = k->out[0];
  int64_t n = qk_numel(y);
  if (y->scalar == QIR_F32) {
    float s = *(const float *)k->in[0]->data, d = *(const float *)k->in[2]->data;
    for (int64_t i = 0; i < n; i++)
      ((float *)y->data)[i] = s + (float)i * d;
  } else {
    int64_t s = *(const int64_t *)k->in[0]->data;
    int64_t d = *(const int64_t *)k->in[2]->data;
    for (int64_t i = 0; i < n; i++)
      ((int64_t *)y->data)[i] = s + i * d;
  }
  return true;
}

/* ---- Resize ------------------------------------------------------------------- */

static double src_coord(const qir_resize_params *p, int64_t o, int64_t in,
                        int64_t out, double given) {
  double scale = given > 0 ? given : (double)out / (double)in;
  switch (p->coord) {
  case QIR_RESIZE_ASYMMETRIC: return o / scale;
  case QIR_RESIZE_ALIGN_CORNERS:
    return out > 1 ? (double)o * (double)(in - 1) / (double)(out - 1) : 0.0;
  case QIR_RESIZE_PYTORCH_HALF_PIXEL:
    return out > 1 ? (o + 0.5) / scale - 0.5 : 0.0;
  case QIR_RESIZE_TF_HALF_PIXEL_FOR_NN: return (o + 0.5) / scale;
  default: return (o + 0.5) / scale - 0.5;
  }
}

static int64_t nearest_index(const qir_resize_params *p, double c, int64_t in) {
  double r;
  switch (p->nearest) {
  case 1: r = ceil(c - 0.5) == c - 0.5 ? ceil(c) : round(c); break;
  case 2: r = floor(c); break;
  case 3: r = ceil(c); break;
  default: r = c - floor(c) == 0.5 ? floor(c) : round(c); break;
  }
  return clamp64((int64_t)r, 0, in - 1);
}

static void cubic_weights(double t, double a, double *w) {
  double x[4] = {1 + t, t, 1 - t, 2 - t};
  for (int i = 0; i < 4; i++) {
    double v = fabs(x[i]);
    w[i] = v <= 1 ? ((a + 2) * v - (a + 3)) * v * v + 1
           : v < 2 ? ((a * v - 5 * a) * v + 8 * a) * v - 4 * a : 0;
  }
}

/* Per output coordinate: taps and weights along one axis. */
static void axis_taps(const qir_resize_params *p, int64_t o, int64_t in,
                      int64_t out, double scale, int64_t *idx, double *w,
                      int *ntaps) {
  double c = src_coord(p, o, in, out, scale);
  if (p->mode == 0) {
    idx[0] = nearest_index(p, c, in);
    w[0] = 1;
    *ntaps = 1;
  } else if (p->mode == 1) {
    if (c < 0)
      c = 0;
    if (c > in - 1)
      c = (double)(in - 1);
    int64_t i0 = (int64_t)floor(c);
    int64_t i1 = i0 + 1 < in ? i0 + 1 : in - 1;
    idx[0] = i0;
    idx[1] = i1;
    w[1] = c - (double)i0;
    w[0] = 1 - w[1];
    *ntaps = 2;
  } else {
    int64_t i0 = (int64_t)floor(c);
    cubic_weights(c - (double)i0, p->cubic_a, w);
    for (int t = 0; t < 4; t++)
      idx[t] = clamp64(i0 - 1 + t, 0, in - 1);
    *ntaps = 4;
  }
}

/* Taps of every output coordinate along one axis: up to 4 source indices
 * and weights each. */
typedef struct axis_table {
  int64_t *idx;
  float *w;
  int ntaps;
} axis_table;

static void axis_table_init(axis_table *t, const qir_resize_params *p,
                            int64_t in, int64_t out, double scale) {
  t->ntaps = p->mode == 0 ? 1 : p->mode == 1 ? 2 : 4;
  t->idx = qir_xmalloc((size_t)(out * t->ntaps + 1) * sizeof(int64_t));
  t->w = qir_xmalloc((size_t)(out * t->ntaps + 1) * sizeof(float));
  for (int64_t o = 0; o < out; o++) {
    double w[4];
    int n;
    axis_taps(p, o, in, out, scale, t->idx + o * t->ntaps, w, &n);
    for (int k = 0; k < n; k++)
      t->w[o * t->ntaps + k] = (float)w[k];
  }
}

static void axis_table_free(axis_table *t) {
  free(t->idx);
  free(t->w);
}

typedef struct resize_job {
  const qir_resize_params *p;
  const float *x;
  float *y;
  axis_table th, tw;
  /* Every input row is needed (the usual upsampling): interpolate each
   * along the width once, then combine the rows. */
  bool rows_first;
} resize_job;

/* One input row interpolated along the width: the sum of one output
 * element's width taps, in the order of resize_direct. */
static void resize_row_w(const axis_table *tw, int64_t ow, const float *xr,
                         float *restrict hr) {
  int nw = tw->ntaps;
  const int64_t *wi = tw->idx;
  const float *ww = tw->w;
  if (nw == 1) {
    for (int64_t o = 0; o < ow; o++)
      hr[o] = xr[wi[o]];
  } else if (nw == 2) {
    for (int64_t o = 0; o < ow; o++) {
      float r = 0;
      r += ww[2 * o] * xr[wi[2 * o]];
      r += ww[2 * o + 1] * xr[wi[2 * o + 1]];
      hr[o] = r;
    }
  } else {
    for (int64_t o = 0; o < ow; o++) {
      float r = 0;
      for (int b = 0; b < nw; b++)
        r += ww[o * nw + b] * xr[wi[o * nw + b]];
      hr[o] = r;
    }
  }
}

/* One output row from the width-interpolated input rows hrows (h x ow):
 * the taps along the height summed from 0 in order (vectorizes over the
 * row). */
static void resize_row_h(const int64_t *hi, const float *hw, int nh,
                         const float *hrows, int64_t ow, float *restrict yr) {
  if (nh == 1) {
    memcpy(yr, hrows + hi[0] * ow, (size_t)ow * sizeof(float));
  } else if (nh == 2) {
    const float *restrict a = hrows + hi[0] * ow, *restrict b = hrows + hi[1] * ow;
    float w0 = hw[0], w1 = hw[1];
    for (int64_t o = 0; o < ow; o++) {
      float s = 0;
      s += w0 * a[o];
      s += w1 * b[o];
      yr[o] = s;
    }
  } else {
    for (int64_t o = 0; o < ow; o++) {
      float s = 0;
      for (int a = 0; a < nh; a++)
        s += hw[a] * hrows[hi[a] * ow + o];
      yr[o] = s;
    }
  }
}

/* Element by element (downsampling, where most input rows are unused). */
static void resize_direct(const resize_job *j, const float *xp, float *yp) {
  const qir_resize_params *p = j->p;
  int nh = j->th.ntaps, nw = j->tw.ntaps;
  for (int64_t oh = 0; oh < p->oh; oh++) {
    const int64_t *hi = j->th.idx + oh * nh;
    const float *hw = j->th.w + oh * nh;
    float *yr = yp + oh * p->ow;
    if (nh == 1 && nw == 1) {
      const float *xr = xp + hi[0] * p->w;
      for (int64_t ow = 0; ow < p->ow; ow++)
        yr[ow] = xr[j->tw.idx[ow]];
      continue;
    }
    for (int64_t ow = 0; ow < p->ow; ow++) {
      const int64_t *wi = j->tw.idx + ow * nw;
      const float *ww = j->tw.w + ow * nw;
      float s = 0;
      for (int a = 0; a < nh; a++) {
        const float *xr = xp + hi[a] * p->w;
        float r = 0;
        for (int b = 0; b < nw; b++)
          r += ww[b] * xr[wi[b]];
        s += hw[a] * r;
      }
      yr[ow] = s;
    }
  }
}

static void resize_range(void *arg, int64_t begin, int64_t end) {
  const resize_job *j = arg;
  const qir_resize_params *p = j->p;
  float *hrows = j->rows_first
                     ? qir_xmalloc((size_t)(p->h * p->ow) * sizeof(float))
                     : NULL;
  for (int64_t pl = begin; pl < end; pl++) {
    const float *xp = j->x + pl * p->h * p->w;
    float *yp = j->y + pl * p->oh * p->ow;
    if (!hrows) {
      resize_direct(j, xp, yp);
      continue;
    }
    for (int64_t ih = 0; ih < p->h; ih++)
      resize_row_w(&j->tw, p->ow, xp + ih * p->w, hrows + ih * p->ow);
    for (int64_t oh = 0; oh < p->oh; oh++)
      resize_row_h(j->th.idx + oh * j->th.ntaps, j->th.w + oh * j->th.ntaps,
                   j->th.ntaps, hrows, p->ow, yp + oh * p->ow);
  }
  free(hrows);
}

void qir_resize2d_f32(qir_pool *pool, const qir_resize_params *p,
                      const float *x, float *y) {
  resize_job j = {p, x, y, {0}, {0}, false};
  axis_table_init(&j.th, p, p->h, p->oh, p->scale_h);
  axis_table_init(&j.tw, p, p->w, p->ow, p->scale_w);
  j.rows_first = p->h <= p->oh * j.th.ntaps && p->h * p->ow <= (1 << 22);
  int64_t plane = p->oh * p->ow * j.th.ntaps * j.tw.ntaps;
  qir_parallel_for(pool, p->nc, plane >= 8192 ? 1 : 8192 / (plane + 1),
                   resize_range, &j);
  axis_table_free(&j.th);
  axis_table_free(&j.tw);
}

static int lookup(const char *s, const char *const *names, int n, int dflt) {
  if (!s)
    return dflt;
  for (int i = 0; i < n; i++)
    if (!strcmp(s, names[i]))
      return i;
  return -1;
}

bool qir_cpu_k_resize(const qir_kargs *k) {
  static const char *const modes[] = {"nearest", "linear", "cubic"};
  static const char *const coords[] = {"half_pixel", "asymmetric",
                                       "align_corners", "pytorch_half_pixel",
                                       "tf_half_pixel_for_nn"};
  static const char *const nearests[] = {"round_prefer_floor",
                                         "round_prefer_ceil", "floor", "ceil"};
  const qir_tensor *x = k->in[0], *y = k->out[0];
  qir_resize_params p;
  memset(&p, 0, sizeof p);
  p.mode = lookup(qir_op_get_string(k->op, "mode"), modes, 3, 0);
  p.coord = lookup(qir_op_get_string(k->op, "coordinate_transformation_mode"),
                   coords, 5, 0);
  p.nearest = lookup(qir_op_get_string(k->op, "nearest_mode"), nearests, 4, 0);
  p.cubic_a = qir_op_get_float(k->op, "cubic_coeff_a", -0.75);
  if (p.mode < 0 || p.coord < 0 || p.nearest < 0)
    return qk_fail(k, "has an unknown mode");
  if (x->rank < 2 || x->rank != y->rank)
    return qk_fail(k, "needs an input of rank >= 2");
  for (unsigned d = 0; d + 2 < x->rank; d++)
    if (x->dims[d] != y->dims[d])
      return qk_fail(k, "can only resize the last two dims");
  p.h = x->dims[x->rank - 2];
  p.w = x->dims[x->rank - 1];
  p.oh = y->dims[y->rank - 2];
  p.ow = y->dims[y->rank - 1];
  p.nc = qk_numel(x) / qk_nz(p.h * p.w);
  double scales[QIR_MAX_RANK];
  if (qir_op_get_attr(k->op, "scales") &&
      qir_attr_get_floats(qir_op_get_attr(k->op, "scales"), scales,
                          QIR_MAX_RANK) == (int)x->rank) {
    p.scale_h = scales[x->rank - 2];
    p.scale_w = scales[x->rank - 1];
  }
  if (p.mode == 0 && x->scalar != QIR_F32) { /* any scalar: move bytes */
    size_t es = esize(x);
    for (int64_t pl = 0; pl < p.nc; pl++)
      for (int64_t oh = 0; oh < p.oh; oh++) {
        int64_t ih = nearest_index(&p, src_coord(&p, oh, p.h, p.oh, p.scale_h), p.h);
        for (int64_t ow = 0; ow < p.ow; ow++) {
          int64_t iw = nearest_index(&p, src_coord(&p, ow, p.w, p.ow, p.scale_w), p.w);
          memcpy((uint8_t *)y->data + ((pl * p.oh + oh) * p.ow + ow) * es,
                 (const uint8_t *)x->data + ((pl * p.h + ih) * p.w + iw) * es,
                 es);
        }
      }
    return true;
  }
  if (x->scalar != QIR_F32)
    return qk_fail(k, "linear and cubic modes need a float input");
  qir_resize2d_f32(k->pool, &p, x->data, y->data);
  return true;
}
