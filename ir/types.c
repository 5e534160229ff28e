/* ir/types.c - types (stub). */
#include "ir/internal.h"
#include <stdlib.h>

size_t qir_scalar_size(qir_scalar s) { return 0; }
const char * qir_scalar_name(qir_scalar s) { return NULL; }
bool qir_scalar_is_float(qir_scalar s) { return false; }
bool qir_scalar_is_signed(qir_scalar s) { return false; }
bool qir_scalar_from_name(const char *s, size_t len, qir_scalar *out) { return false; }
int64_t qir_scalar_min(qir_scalar s) { return 0; }
int64_t qir_scalar_max(qir_scalar s) { return 0; }
const qir_type * qir_scalar_type(qir_context *ctx, qir_scalar s) { return NULL; }
const qir_type * qir_quant_type(qir_context *ctx, qir_loc loc, qir_scalar storage, int axis, unsigned nparams, const double *scales, const int64_t *zero_points, int64_t qmin, int64_t qmax) { return NULL; }
const qir_type * qir_quant_type_simple(qir_context *ctx, qir_scalar storage, double scale, int64_t zero_point) { return NULL; }
const qir_type * qir_tensor_type(qir_context *ctx, const qir_type *elem, unsigned rank, const int64_t *dims) { return NULL; }
const qir_type * qir_tensor_of(qir_context *ctx, qir_scalar s, unsigned rank, const int64_t *dims) { return NULL; }
const qir_type * qir_tensor_with_elem(qir_context *ctx, const qir_type *t, const qir_type *elem) { return NULL; }
const qir_type * qir_tensor_with_dims(qir_context *ctx, const qir_type *t, unsigned rank, const int64_t *dims) { return NULL; }
bool qir_tensor_is_static(const qir_type *t) { return false; }
int64_t qir_tensor_num_elements(const qir_type *t) { return 0; }
int64_t qir_tensor_num_bytes(const qir_type *t) { return 0; }
int qir_type_format(const qir_type *t, char *buf, size_t size) { return 0; }
void qir_type_print(FILE *out, const qir_type *t) {  }
int qir_format_double(double v, char *buf, size_t n) { return 0; }
int qir_format_float(float v, char *buf, size_t n) { return 0; }
