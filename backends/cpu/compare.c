/* backends/cpu/compare.c - comparing two tensors of the same type: the
 * compiler checks of qir-llc and qir-build use these, so that their levels
 * (equal, close, cosine) mean the same in both. */
#include <math.h>
#include <string.h>

#include "backends/cpu/cpu.h"

double qir_tensor_real_at(const qir_tensor *t, int64_t i) {
  double v = qir_load_f64(t->scalar, t->data, i);
  const qir_type *e = t->elem;
  if (!e || e->kind != QIR_TYPE_QUANT)
    return v;
  unsigned p = 0;
  if (e->axis >= 0 && (unsigned)e->axis < t->rank) {
    int64_t inner = 1;
    for (unsigned d = (unsigned)e->axis + 1; d < t->rank; d++)
      inner *= t->dims[d];
    p = (unsigned)((i / inner) % t->dims[e->axis]);
  }
  return e->scales[p] * (v - (double)e->zero_points[p]);
}

double qir_tensor_cosine(const qir_tensor *a, const qir_tensor *b) {
  double ab = 0, aa = 0, bb = 0;
  int64_t n = qir_tensor_numel(a);
  for (int64_t i = 0; i < n; i++) {
    double x = qir_tensor_real_at(a, i), y = qir_tensor_real_at(b, i);
    ab += x * y, aa += x * x, bb += y * y;
  }
  if (aa == 0 && bb == 0)
    return 1.0;
  return aa == 0 || bb == 0 ? 0.0 : ab / sqrt(aa * bb);
}

double qir_tensor_steps_apart(const qir_tensor *a, const qir_tensor *b,
                              double rtol, double atol) {
  bool quant = a->elem && a->elem->kind == QIR_TYPE_QUANT;
  double worst = 0;
  int64_t n = qir_tensor_numel(a);
  for (int64_t i = 0; i < n; i++) {
    double x = qir_load_f64(a->scalar, a->data, i);
    double y = qir_load_f64(b->scalar, b->data, i);
    double tol = fmax(atol, rtol * fabs(y));
    double d = quant ? fabs(x - y) : x == y ? 0 : tol > 0 ? fabs(x - y) / tol : INFINITY;
    if (d > worst)
      worst = d;
  }
  return worst;
}

bool qir_tensor_same_shape(const qir_tensor *a, const qir_tensor *b) {
  return a->scalar == b->scalar && a->rank == b->rank &&
         !memcmp(a->dims, b->dims, a->rank * sizeof a->dims[0]);
}
