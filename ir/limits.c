/* ir/limits.c - checks of the resource limits of qir/limits.h. */
#include <inttypes.h>
#include <stdio.h>

#include "qir/limits.h"

int qir_format_limit(int64_t n, char *buf, size_t size) {
  if (n > 1024 && (n & (n - 1)) == 0) {
    int k = 0;
    while (((int64_t)1 << k) != n)
      k++;
    return snprintf(buf, size, "2^%d", k);
  }
  return snprintf(buf, size, "%" PRId64, n);
}

/* Bytes of a static tensor type, saturated at INT64_MAX; -1 when a
 * dimension is dynamic. */
static int64_t saturated_bytes(const qir_type *t) {
  int64_t n = (int64_t)qir_scalar_size(t->scalar);
  for (unsigned i = 0; i < t->rank; i++) {
    int64_t d = t->dims[i];
    if (d < 0)
      return -1;
    if (d == 0)
      return 0;
    n = n > INT64_MAX / d ? INT64_MAX : n * d;
  }
  return n;
}

bool qir_check_tensor_bytes(qir_context *ctx, qir_loc loc, const char *what,
                            const qir_type *t) {
  if (!qir_type_is_tensor(t))
    return true;
  int64_t bytes = saturated_bytes(t);
  if (bytes <= QIR_MAX_TENSOR_BYTES)
    return true;
  char type[256], size[32], limit[32];
  qir_type_format(t, type, sizeof type);
  if (bytes == INT64_MAX)
    snprintf(size, sizeof size, "over 2^63");
  else
    qir_format_limit(bytes, size, sizeof size);
  qir_format_limit(QIR_MAX_TENSOR_BYTES, limit, sizeof limit);
  qir_emit_error(ctx, loc, "%s of %s has %s bytes; the limit is %s "
                 "(QIR_MAX_TENSOR_BYTES)", what, type, size, limit);
  return false;
}
