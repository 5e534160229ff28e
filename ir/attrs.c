/* ir/attrs.c - attributes (stub). */
#include "ir/internal.h"
#include <stdlib.h>

const qir_attr * qir_attr_int(qir_context *ctx, int64_t v) { return NULL; }
const qir_attr * qir_attr_float(qir_context *ctx, double v) { return NULL; }
const qir_attr * qir_attr_bool(qir_context *ctx, bool v) { return NULL; }
const qir_attr * qir_attr_string(qir_context *ctx, const char *s, size_t len) { return NULL; }
const qir_attr * qir_attr_cstr(qir_context *ctx, const char *s) { return NULL; }
const qir_attr * qir_attr_symbol(qir_context *ctx, const char *name) { return NULL; }
const qir_attr * qir_attr_type(qir_context *ctx, const qir_type *t) { return NULL; }
const qir_attr * qir_attr_array(qir_context *ctx, unsigned n, const qir_attr *const *elems) { return NULL; }
const qir_attr * qir_attr_ints(qir_context *ctx, unsigned n, const int64_t *v) { return NULL; }
const qir_attr * qir_attr_floats(qir_context *ctx, unsigned n, const double *v) { return NULL; }
const qir_attr * qir_attr_dense(qir_context *ctx, qir_loc loc, const qir_type *type, const void *data, size_t nbytes) { return NULL; }
const qir_attr * qir_attr_dense_splat(qir_context *ctx, const qir_type *type, const void *elem) { return NULL; }
const qir_attr * qir_attr_dense_from_f64(qir_context *ctx, const qir_type *type, const double *v) { return NULL; }
const qir_attr * qir_attr_dense_from_i64(qir_context *ctx, const qir_type *type, const int64_t *v) { return NULL; }
const qir_attr * qir_attr_dense_with_resource(qir_context *ctx, const qir_attr *dense, const char *name) { return NULL; }
double qir_dense_get_f64(const qir_attr *a, int64_t i) { return 0; }
int64_t qir_dense_get_i64(const qir_attr *a, int64_t i) { return 0; }
int64_t qir_dense_num_elements(const qir_attr *a) { return 0; }
int qir_attr_get_ints(const qir_attr *a, int64_t *out, unsigned max) { return 0; }
int qir_attr_get_floats(const qir_attr *a, double *out, unsigned max) { return 0; }
bool qir_attr_equal(const qir_attr *a, const qir_attr *b) { return false; }
uint64_t qir_attr_hash(const qir_attr *a) { return 0; }
float qir_f16_to_f32(uint16_t h) { return 0; }
uint16_t qir_f32_to_f16(float f) { return 0; }
float qir_bf16_to_f32(uint16_t h) { return 0; }
uint16_t qir_f32_to_bf16(float f) { return 0; }
