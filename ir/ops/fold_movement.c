/* ir/ops/fold_movement.c - constant folding of the data movement ops.
 * They copy elements byte for byte, so they fold any element type,
 * quantized ones included. */
#include <stdlib.h>
#include <string.h>

#include "ir/ops/ops.h"

static size_t elem_size(const qir_attr *a) {
  return qir_scalar_size(a->u.dense.type->scalar);
}

/* A dense of `t` whose element i is element map(i) of `src`; map is
 * called with the multi-index of i. */
typedef int64_t (*index_map)(const int64_t *coord, void *ctx);

static const qir_attr *gather_elems(qir_context *ctx, const qir_type *t,
                                    const qir_attr *src, index_map map,
                                    void *user) {
  int64_t n = qir_tensor_num_elements(t);
  if (n < 0 || n > QIR_FOLD_MAX_ELEMENTS)
    return NULL;
  if (src->u.dense.splat)
    return qir_attr_dense_splat(ctx, t, qir_fold_elem(src, 0));
  size_t size = elem_size(src);
  unsigned char *buf = qir_xcalloc((size_t)n + 1, size);
  int64_t coord[QIR_MAX_RANK] = {0};
  for (int64_t i = 0; i < n; i++) {
    memcpy(buf + (size_t)i * size, qir_fold_elem(src, map(coord, user)), size);
    for (unsigned k = t->rank; k-- > 0;) /* next multi-index */
      if (++coord[k] < t->dims[k])
        break;
      else
        coord[k] = 0;
  }
  const qir_attr *a = qir_fold_make(ctx, t, buf);
  free(buf);
  return a;
}

/* Row-major linear index of coord in dims. */
static int64_t linear(const int64_t *coord, const int64_t *dims,
                      unsigned rank) {
  int64_t lin = 0;
  for (unsigned k = 0; k < rank; k++)
    lin = lin * dims[k] + coord[k];
  return lin;
}

/* ---- reshape, identity-like --------------------------------------------- */

bool qir_fold_reshape(qir_op *op, const qir_attr *const *operands,
                      const qir_attr **out) {
  const qir_attr *x = operands[0];
  int64_t shape[QIR_MAX_RANK];
  int n = qir_op_get_ints(op, "shape", shape, QIR_MAX_RANK);
  if (!x || n < 0)
    return false;
  int64_t total = qir_dense_num_elements(x), known = 1;
  int minus = -1;
  for (int i = 0; i < n; i++) {
    if (shape[i] == -1 && minus < 0)
      minus = i;
    else if (shape[i] < 0 || !qir_ops_mul(known, shape[i], &known))
      return false;
  }
  if (minus >= 0) {
    if (known == 0 || total % known)
      return false;
    shape[minus] = total / known;
  } else if (known != total) {
    return false;
  }
  const qir_type *t = qir_tensor_with_dims(op->ctx, x->u.dense.type,
                                           (unsigned)n, shape);
  if (!t)
    return false;
  out[0] = x->u.dense.splat
               ? qir_attr_dense_splat(op->ctx, t, qir_fold_elem(x, 0))
               : qir_attr_dense(op->ctx, qir_loc_unknown(), t, x->u.dense.data,
                                x->u.dense.nbytes);
  return out[0] != NULL;
}

/* ---- transpose ---------------------------------------------------------- */

typedef struct transpose_map {
  const qir_type *in;
  unsigned perm[QIR_MAX_RANK];
} transpose_map;

static int64_t transpose_index(const int64_t *coord, void *user) {
  transpose_map *m = user;
  int64_t c[QIR_MAX_RANK];
  for (unsigned k = 0; k < m->in->rank; k++)
    c[m->perm[k]] = coord[k];
  return linear(c, m->in->dims, m->in->rank);
}

bool qir_fold_transpose(qir_op *op, const qir_attr *const *operands,
                        const qir_attr **out) {
  const qir_attr *x = operands[0];
  if (!x)
    return false;
  transpose_map m = {x->u.dense.type, {0}};
  unsigned rank = m.in->rank;
  int64_t p[QIR_MAX_RANK], dims[QIR_MAX_RANK];
  int n = qir_op_get_ints(op, "perm", p, QIR_MAX_RANK);
  if (n < 0 || (n > 0 && (unsigned)n != rank))
    return false;
  bool seen[QIR_MAX_RANK] = {false};
  for (unsigned k = 0; k < rank; k++) {
    int64_t pk = n == 0 ? (int64_t)(rank - 1 - k) : p[k];
    if (pk < 0 || pk >= (int64_t)rank || seen[pk])
      return false;
    seen[pk] = true;
    m.perm[k] = (unsigned)pk;
    dims[k] = m.in->dims[pk];
  }
  const qir_type *t = qir_tensor_with_dims(op->ctx, m.in, rank, dims);
  out[0] = gather_elems(op->ctx, t, x, transpose_index, &m);
  return out[0] != NULL;
}

/* ---- slice -------------------------------------------------------------- */

typedef struct slice_map {
  const qir_type *in;
  int64_t first[QIR_MAX_RANK], step[QIR_MAX_RANK];
} slice_map;

static int64_t slice_index(const int64_t *coord, void *user) {
  slice_map *m = user;
  int64_t c[QIR_MAX_RANK];
  for (unsigned k = 0; k < m->in->rank; k++)
    c[k] = m->first[k] + coord[k] * m->step[k];
  return linear(c, m->in->dims, m->in->rank);
}

bool qir_fold_slice(qir_op *op, const qir_attr *const *operands,
                    const qir_attr **out) {
  const qir_attr *x = operands[0];
  if (!x)
    return false;
  slice_map m;
  m.in = x->u.dense.type;
  unsigned rank = m.in->rank;
  int64_t starts[QIR_MAX_RANK], ends[QIR_MAX_RANK], axes[QIR_MAX_RANK],
      steps[QIR_MAX_RANK], dims[QIR_MAX_RANK];
  int n = qir_op_get_ints(op, "starts", starts, QIR_MAX_RANK);
  int ne = qir_op_get_ints(op, "ends", ends, QIR_MAX_RANK);
  int na = qir_op_get_ints(op, "axes", axes, QIR_MAX_RANK);
  int ns = qir_op_get_ints(op, "steps", steps, QIR_MAX_RANK);
  if (n < 0 || ne != n || (na > 0 && na != n) || (ns > 0 && ns != n))
    return false;
  for (unsigned k = 0; k < rank; k++) {
    m.first[k] = 0;
    m.step[k] = 1;
    dims[k] = m.in->dims[k];
  }
  for (int i = 0; i < n; i++) {
    int64_t ax = na > 0 ? axes[i] : i, st = ns > 0 ? steps[i] : 1;
    if (ax < 0)
      ax += rank;
    if (ax < 0 || ax >= (int64_t)rank || st == 0)
      return false;
    dims[ax] = qir_ops_slice_len(m.in->dims[ax], starts[i], ends[i], st,
                                 &m.first[ax]);
    m.step[ax] = st;
  }
  const qir_type *t = qir_tensor_with_dims(op->ctx, m.in, rank, dims);
  out[0] = gather_elems(op->ctx, t, x, slice_index, &m);
  return out[0] != NULL;
}

/* ---- concat, split -------------------------------------------------------- */

/* Copies the block [lo, hi) of dim `axis` of src into dst (whose dim axis
 * has size dst_dim, at offset dst_lo). */
static void copy_blocks(unsigned char *dst, int64_t dst_dim, int64_t dst_lo,
                        const qir_attr *src, int64_t lo, int64_t hi,
                        unsigned axis) {
  const qir_type *t = src->u.dense.type;
  size_t size = elem_size(src);
  int64_t outer = 1, inner = 1;
  for (unsigned k = 0; k < axis; k++)
    outer *= t->dims[k];
  for (unsigned k = axis + 1; k < t->rank; k++)
    inner *= t->dims[k];
  for (int64_t o = 0; o < outer; o++)
    for (int64_t a = lo; a < hi; a++)
      for (int64_t i = 0; i < inner; i++) {
        int64_t s = (o * t->dims[axis] + a) * inner + i;
        int64_t d = (o * dst_dim + dst_lo + (a - lo)) * inner + i;
        memcpy(dst + (size_t)d * size, qir_fold_elem(src, s), size);
      }
}

bool qir_fold_concat(qir_op *op, const qir_attr *const *operands,
                     const qir_attr **out) {
  if (op->num_operands == 0 || !operands[0])
    return false;
  const qir_type *t0 = operands[0]->u.dense.type;
  int64_t axis = qir_op_get_int(op, "axis", 0);
  if (axis < 0)
    axis += t0->rank;
  if (axis < 0 || axis >= (int64_t)t0->rank)
    return false;
  int64_t dims[QIR_MAX_RANK];
  for (unsigned k = 0; k < t0->rank; k++)
    dims[k] = t0->dims[k];
  dims[axis] = 0;
  for (unsigned i = 0; i < op->num_operands; i++) {
    const qir_attr *a = operands[i];
    if (!a || a->u.dense.type->elem != t0->elem ||
        a->u.dense.type->rank != t0->rank)
      return false;
    if (!qir_ops_add(dims[axis], a->u.dense.type->dims[axis], &dims[axis]))
      return false;
  }
  const qir_type *t = qir_tensor_with_dims(op->ctx, t0, t0->rank, dims);
  int64_t n = qir_tensor_num_elements(t);
  if (!t || n < 0 || n > QIR_FOLD_MAX_ELEMENTS)
    return false;
  unsigned char *buf = qir_xcalloc((size_t)n + 1, elem_size(operands[0]));
  int64_t at = 0;
  for (unsigned i = 0; i < op->num_operands; i++) {
    int64_t d = operands[i]->u.dense.type->dims[axis];
    copy_blocks(buf, dims[axis], at, operands[i], 0, d, (unsigned)axis);
    at += d;
  }
  out[0] = qir_fold_make(op->ctx, t, buf);
  free(buf);
  return out[0] != NULL;
}

/* The n part sizes of dim `dim` (sizes has n + 1 entries); false when
 * the attribute does not describe a split of dim. */
static bool split_sizes(qir_op *op, int64_t dim, unsigned n, int64_t *sizes) {
  int got = qir_op_get_ints(op, "sizes", sizes, n + 1);
  if (got == 0) { /* absent: equal parts */
    for (unsigned i = 0; i < n; i++)
      sizes[i] = dim / n;
    return dim % n == 0;
  }
  int64_t sum = 0;
  for (unsigned i = 0; i < n; i++)
    if (sizes[i] < 0 || sizes[i] > dim || !qir_ops_add(sum, sizes[i], &sum))
      return false;
  return (unsigned)got == n && sum == dim;
}

/* Part [at, at + size) of x along axis. */
static const qir_attr *split_part(qir_context *ctx, const qir_attr *x,
                                  unsigned axis, int64_t at, int64_t size) {
  const qir_type *t = x->u.dense.type;
  int64_t dims[QIR_MAX_RANK];
  for (unsigned k = 0; k < t->rank; k++)
    dims[k] = k == axis ? size : t->dims[k];
  const qir_type *rt = qir_tensor_with_dims(ctx, t, t->rank, dims);
  int64_t m = qir_tensor_num_elements(rt);
  if (m < 0 || m > QIR_FOLD_MAX_ELEMENTS)
    return NULL;
  if (x->u.dense.splat)
    return qir_attr_dense_splat(ctx, rt, qir_fold_elem(x, 0));
  unsigned char *buf = qir_xcalloc((size_t)m + 1, elem_size(x));
  copy_blocks(buf, size, 0, x, at, at + size, axis);
  const qir_attr *a = qir_fold_make(ctx, rt, buf);
  free(buf);
  return a;
}

bool qir_fold_split(qir_op *op, const qir_attr *const *operands,
                    const qir_attr **out) {
  const qir_attr *x = operands[0];
  unsigned n = op->num_results;
  if (!x || n == 0)
    return false;
  const qir_type *t = x->u.dense.type;
  int64_t axis = qir_op_get_int(op, "axis", 0);
  if (axis < 0)
    axis += t->rank;
  if (axis < 0 || axis >= (int64_t)t->rank)
    return false;
  int64_t *sizes = qir_xcalloc(n + 1, sizeof *sizes);
  bool ok = split_sizes(op, t->dims[axis], n, sizes);
  int64_t at = 0;
  for (unsigned i = 0; ok && i < n; at += sizes[i], i++) {
    out[i] = split_part(op->ctx, x, (unsigned)axis, at, sizes[i]);
    ok = out[i] != NULL;
  }
  free(sizes);
  return ok;
}

/* ---- gather ------------------------------------------------------------- */

typedef struct gather_map {
  const qir_type *in;
  const qir_attr *indices;
  unsigned axis, irank;
} gather_map;

static int64_t gather_index(const int64_t *coord, void *user) {
  gather_map *m = user;
  const qir_type *it = m->indices->u.dense.type;
  int64_t c[QIR_MAX_RANK];
  for (unsigned k = 0; k < m->axis; k++)
    c[k] = coord[k];
  int64_t idx = qir_dense_get_i64(m->indices,
                                  linear(coord + m->axis, it->dims, m->irank));
  c[m->axis] = idx < 0 ? idx + m->in->dims[m->axis] : idx;
  for (unsigned k = m->axis + 1; k < m->in->rank; k++)
    c[k] = coord[k - 1 + m->irank];
  return linear(c, m->in->dims, m->in->rank);
}

bool qir_fold_gather(qir_op *op, const qir_attr *const *operands,
                     const qir_attr **out) {
  const qir_attr *x = operands[0], *idx = operands[1];
  if (!x || !idx)
    return false;
  gather_map m = {x->u.dense.type, idx, 0, idx->u.dense.type->rank};
  int64_t axis = qir_op_get_int(op, "axis", 0);
  if (axis < 0)
    axis += m.in->rank;
  if (axis < 0 || axis >= (int64_t)m.in->rank ||
      m.in->rank - 1 + m.irank > QIR_MAX_RANK)
    return false;
  m.axis = (unsigned)axis;
  int64_t d = m.in->dims[axis], ni = qir_dense_num_elements(idx);
  for (int64_t i = 0; i < ni; i++) {
    int64_t v = qir_dense_get_i64(idx, i);
    if (v < -d || v >= d)
      return false;
  }
  int64_t dims[QIR_MAX_RANK];
  unsigned r = 0;
  for (unsigned k = 0; k < m.axis; k++)
    dims[r++] = m.in->dims[k];
  for (unsigned k = 0; k < m.irank; k++)
    dims[r++] = idx->u.dense.type->dims[k];
  for (unsigned k = m.axis + 1; k < m.in->rank; k++)
    dims[r++] = m.in->dims[k];
  const qir_type *t = qir_tensor_with_dims(op->ctx, m.in, r, dims);
  out[0] = gather_elems(op->ctx, t, x, gather_index, &m);
  return out[0] != NULL;
}

/* ---- expand ------------------------------------------------------------- */

typedef struct expand_map {
  const qir_type *in;
  unsigned out_rank;
} expand_map;

static int64_t expand_index(const int64_t *coord, void *user) {
  expand_map *m = user;
  int64_t lin = 0;
  unsigned lead = m->out_rank - m->in->rank;
  for (unsigned k = 0; k < m->in->rank; k++) {
    int64_t d = m->in->dims[k];
    lin = lin * d + (d == 1 ? 0 : coord[lead + k]);
  }
  return lin;
}

bool qir_fold_expand(qir_op *op, const qir_attr *const *operands,
                     const qir_attr **out) {
  const qir_attr *x = operands[0];
  int64_t shape[QIR_MAX_RANK], dims[QIR_MAX_RANK];
  int n = qir_op_get_ints(op, "shape", shape, QIR_MAX_RANK);
  if (!x || n < 0)
    return false;
  for (int i = 0; i < n; i++)
    if (shape[i] < 0)
      return false;
  expand_map m = {x->u.dense.type, 0};
  const qir_type *target = qir_tensor_of(op->ctx, QIR_I1, (unsigned)n, shape);
  if (!qir_ops_broadcast(m.in, target, dims, &m.out_rank))
    return false;
  const qir_type *t = qir_tensor_with_dims(op->ctx, m.in, m.out_rank, dims);
  out[0] = gather_elems(op->ctx, t, x, expand_index, &m);
  return out[0] != NULL;
}
