/* backends/cpu/k_index.c - kernels of the index ops: gather_elements,
 * gather_nd, scatter_elements, scatter_nd, cumsum, top_k (ir/ops/extra.c,
 * docs/Ops.md). */
#include <stdlib.h>
#include <string.h>

#include "backends/cpu/cpu.h"

/* Row-major strides of t in elements. */
static void strides_of(const qir_tensor *t, int64_t *st) {
  int64_t s = 1;
  for (unsigned d = t->rank; d-- > 0;) {
    st[d] = s;
    s *= t->dims[d];
  }
}

/* Index i of an index tensor, negative ones counted from dim; -1 when out
 * of range (the caller reports it). */
static int64_t index_at(const qir_tensor *ind, int64_t i, int64_t dim) {
  int64_t v = qir_load_int(ind->scalar, ind->data, i);
  if (v < 0)
    v += dim;
  return v >= 0 && v < dim ? v : -1;
}

static bool bad_index(const qir_kargs *k, const qir_tensor *ind, int64_t i,
                      int64_t dim) {
  return qk_fail(k, "index %lld out of range for a dim of %lld",
                 (long long)qir_load_int(ind->scalar, ind->data, i),
                 (long long)dim);
}

/* The data offset of element i of `ind` (shape of the indices) with its
 * coordinate along axis replaced by the index value. */
static int64_t elements_offset(const qir_tensor *ind, const int64_t *xst,
                               unsigned axis, int64_t i, int64_t v) {
  int64_t off = 0, rest = i;
  for (unsigned d = ind->rank; d-- > 0;) {
    int64_t c = rest % ind->dims[d];
    rest /= ind->dims[d];
    off += (d == axis ? v : c) * xst[d];
  }
  return off;
}

bool qir_cpu_k_gather_elements(const qir_kargs *k) {
  const qir_tensor *x = k->in[0], *ind = k->in[1];
  int axis = qk_axis(qir_op_get_int(k->op, "axis", 0), x->rank);
  if (axis < 0)
    return qk_fail(k, "has an axis out of range");
  int64_t xst[QIR_MAX_RANK];
  strides_of(x, xst);
  size_t es = qir_scalar_size(x->scalar);
  int64_t n = qk_numel(ind);
  for (int64_t i = 0; i < n; i++) {
    int64_t v = index_at(ind, i, x->dims[axis]);
    if (v < 0)
      return bad_index(k, ind, i, x->dims[axis]);
    memcpy((uint8_t *)k->out[0]->data + (size_t)i * es,
           (const uint8_t *)x->data +
               (size_t)elements_offset(ind, xst, (unsigned)axis, i, v) * es,
           es);
  }
  return true;
}

/* dst[j] = src (none), += (add) or *= (mul); f32, i64 or raw bytes. */
typedef enum { RED_NONE, RED_ADD, RED_MUL } reduction;

static bool read_reduction(const qir_kargs *k, reduction *r) {
  const char *s = qir_op_get_string(k->op, "reduction");
  *r = !s || !strcmp(s, "none") ? RED_NONE
       : !strcmp(s, "add")      ? RED_ADD
       : !strcmp(s, "mul")      ? RED_MUL
                                : (reduction)-1;
  if ((int)*r < 0)
    return qk_fail(k, "has an unknown reduction");
  if (*r != RED_NONE && k->out[0]->scalar != QIR_F32 &&
      k->out[0]->scalar != QIR_I64)
    return qk_fail(k, "reduces only numbers");
  return true;
}

static void scatter_one(reduction r, qir_tensor *y, int64_t j,
                        const qir_tensor *u, int64_t i) {
  size_t es = qir_scalar_size(y->scalar);
  uint8_t *dst = (uint8_t *)y->data + (size_t)j * es;
  const uint8_t *src = (const uint8_t *)u->data + (size_t)i * es;
  if (r == RED_NONE) {
    memcpy(dst, src, es);
  } else if (y->scalar == QIR_F32) {
    float a, b;
    memcpy(&a, dst, 4);
    memcpy(&b, src, 4);
    a = r == RED_ADD ? a + b : a * b;
    memcpy(dst, &a, 4);
  } else {
    int64_t a, b;
    memcpy(&a, dst, 8);
    memcpy(&b, src, 8);
    a = (int64_t)(r == RED_ADD ? (uint64_t)a + (uint64_t)b
                               : (uint64_t)a * (uint64_t)b);
    memcpy(dst, &a, 8);
  }
}

/* Updates are applied in order, so with duplicate indices the last one
 * wins (none) or all accumulate (add, mul), as in ONNX's reference. */
bool qir_cpu_k_scatter_elements(const qir_kargs *k) {
  const qir_tensor *x = k->in[0], *ind = k->in[1], *u = k->in[2];
  qir_tensor *y = k->out[0];
  int axis = qk_axis(qir_op_get_int(k->op, "axis", 0), x->rank);
  reduction r;
  if (axis < 0)
    return qk_fail(k, "has an axis out of range");
  if (!read_reduction(k, &r))
    return false;
  memcpy(y->data, x->data, y->nbytes);
  int64_t xst[QIR_MAX_RANK];
  strides_of(x, xst);
  int64_t n = qk_numel(ind);
  for (int64_t i = 0; i < n; i++) {
    int64_t v = index_at(ind, i, x->dims[axis]);
    if (v < 0)
      return bad_index(k, ind, i, x->dims[axis]);
    scatter_one(r, y, elements_offset(ind, xst, (unsigned)axis, i, v), u, i);
  }
  return true;
}

/* The element offset in data of index tuple t (k = indices' last dim)
 * after `batch` leading coordinates; -1 (error reported) when out of
 * range. */
static int64_t nd_offset(const qir_kargs *k, const qir_tensor *x,
                         const qir_tensor *ind, const int64_t *xst,
                         int64_t batch_off, int64_t batch, int64_t t) {
  int64_t kk = ind->dims[ind->rank - 1], off = batch_off;
  for (int64_t j = 0; j < kk; j++) {
    int64_t dim = x->dims[batch + j];
    int64_t v = index_at(ind, t * kk + j, dim);
    if (v < 0) {
      bad_index(k, ind, t * kk + j, dim);
      return -1;
    }
    off += v * xst[batch + j];
  }
  return off;
}

bool qir_cpu_k_gather_nd(const qir_kargs *k) {
  const qir_tensor *x = k->in[0], *ind = k->in[1];
  int64_t batch = qir_op_get_int(k->op, "batch_dims", 0);
  int64_t kk = ind->dims[ind->rank - 1], xst[QIR_MAX_RANK];
  strides_of(x, xst);
  int64_t nb = 1, tuples = qk_numel(ind) / qk_nz(kk);
  for (int64_t d = 0; d < batch; d++)
    nb *= x->dims[d];
  int64_t per_batch = tuples / qk_nz(nb);
  int64_t slice = batch + kk < (int64_t)x->rank ? xst[batch + kk - 1] : 1;
  size_t es = qir_scalar_size(x->scalar);
  for (int64_t t = 0; t < tuples; t++) {
    int64_t b = t / qk_nz(per_batch);
    int64_t boff = batch ? b * xst[batch - 1] : 0;
    int64_t off = nd_offset(k, x, ind, xst, boff, batch, t);
    if (off < 0)
      return false;
    memcpy((uint8_t *)k->out[0]->data + (size_t)(t * slice) * es,
           (const uint8_t *)x->data + (size_t)off * es, (size_t)slice * es);
  }
  return true;
}

bool qir_cpu_k_scatter_nd(const qir_kargs *k) {
  const qir_tensor *x = k->in[0], *ind = k->in[1], *u = k->in[2];
  qir_tensor *y = k->out[0];
  reduction r;
  if (!read_reduction(k, &r))
    return false;
  memcpy(y->data, x->data, y->nbytes);
  int64_t kk = ind->dims[ind->rank - 1], xst[QIR_MAX_RANK];
  strides_of(x, xst);
  int64_t tuples = qk_numel(ind) / qk_nz(kk);
  int64_t slice = kk < (int64_t)x->rank ? xst[kk - 1] : 1;
  for (int64_t t = 0; t < tuples; t++) {
    int64_t off = nd_offset(k, x, ind, xst, 0, 0, t);
    if (off < 0)
      return false;
    for (int64_t e = 0; e < slice; e++)
      scatter_one(r, y, off + e, u, t * slice + e);
  }
  return true;
}

/* cumsum along axis: f32 sums in f64, i64 sums wrap. */
bool qir_cpu_k_cumsum(const qir_kargs *k) {
  const qir_tensor *x = k->in[0];
  qir_tensor *y = k->out[0];
  int axis = qk_axis(qir_op_get_int(k->op, "axis", 0), x->rank);
  if (axis < 0)
    return qk_fail(k, "has an axis out of range");
  if (x->scalar != QIR_F32 && x->scalar != QIR_I64)
    return qk_fail(k, "sums only numbers");
  bool excl = qir_op_get_int(k->op, "exclusive", 0) != 0;
  bool rev = qir_op_get_int(k->op, "reverse", 0) != 0;
  int64_t xst[QIR_MAX_RANK];
  strides_of(x, xst);
  int64_t dim = x->dims[axis], inner = xst[axis];
  int64_t outer = qk_numel(x) / qk_nz(dim * inner);
  for (int64_t o = 0; o < outer; o++)
    for (int64_t in = 0; in < inner; in++) {
      double fs = 0;
      uint64_t is = 0;
      for (int64_t j = 0; j < dim; j++) {
        int64_t i = o * dim * inner + (rev ? dim - 1 - j : j) * inner + in;
        if (x->scalar == QIR_F32) {
          float v = ((const float *)x->data)[i];
          if (!excl)
            fs += v;
          ((float *)y->data)[i] = (float)fs;
          if (excl)
            fs += v;
        } else {
          int64_t v = ((const int64_t *)x->data)[i];
          if (!excl)
            is += (uint64_t)v;
          ((int64_t *)y->data)[i] = (int64_t)is;
          if (excl)
            is += (uint64_t)v;
        }
      }
    }
  return true;
}

/* top_k: a stable sort of each line's indices by value (larger first when
 * `largest`; ties keep the lower index first, as ONNX requires). */
typedef struct topk_line {
  const qir_tensor *x;
  int64_t base, stride;
  bool largest;
} topk_line;

static double line_value(const topk_line *l, int64_t j) {
  return qir_load_f64(l->x->scalar, l->x->data, l->base + j * l->stride);
}

/* Merge sort of idx[0..n) (tmp: scratch of n). */
static void sort_indices(const topk_line *l, int64_t *idx, int64_t *tmp,
                         int64_t n) {
  if (n < 2)
    return;
  int64_t h = n / 2;
  sort_indices(l, idx, tmp, h);
  sort_indices(l, idx + h, tmp, n - h);
  int64_t a = 0, b = h, o = 0;
  while (a < h && b < n) {
    double va = line_value(l, idx[a]), vb = line_value(l, idx[b]);
    bool take_b = l->largest ? vb > va : vb < va;
    tmp[o++] = take_b ? idx[b++] : idx[a++];
  }
  while (a < h)
    tmp[o++] = idx[a++];
  while (b < n)
    tmp[o++] = idx[b++];
  memcpy(idx, tmp, (size_t)n * sizeof *idx);
}

bool qir_cpu_k_top_k(const qir_kargs *k) {
  const qir_tensor *x = k->in[0];
  qir_tensor *vals = k->out[0], *inds = k->out[1];
  int axis = qk_axis(qir_op_get_int(k->op, "axis", -1), x->rank);
  if (axis < 0)
    return qk_fail(k, "has an axis out of range");
  int64_t kk = vals->dims[axis], dim = x->dims[axis];
  int64_t xst[QIR_MAX_RANK], yst[QIR_MAX_RANK];
  strides_of(x, xst);
  strides_of(vals, yst);
  int64_t inner = xst[axis], outer = qk_numel(x) / qk_nz(dim * inner);
  int64_t *idx = qir_xcalloc((size_t)dim + 1, sizeof *idx);
  int64_t *tmp = qir_xcalloc((size_t)dim + 1, sizeof *tmp);
  size_t es = qir_scalar_size(x->scalar);
  topk_line l = {x, 0, inner, qir_op_get_int(k->op, "largest", 1) != 0};
  for (int64_t o = 0; o < outer; o++)
    for (int64_t in = 0; in < inner; in++) {
      l.base = o * dim * inner + in;
      for (int64_t j = 0; j < dim; j++)
        idx[j] = j;
      sort_indices(&l, idx, tmp, dim);
      for (int64_t j = 0; j < kk; j++) {
        int64_t yi = o * kk * inner + j * yst[axis] + in;
        memcpy((uint8_t *)vals->data + (size_t)yi * es,
               (const uint8_t *)x->data +
                   (size_t)(l.base + idx[j] * inner) * es,
               es);
        ((int64_t *)inds->data)[yi] = idx[j];
      }
    }
  free(idx);
  free(tmp);
  return true;
}
