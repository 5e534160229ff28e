/* qir/attrs.h - attributes: compile-time constant data attached to ops.
 *
 * Attributes are immutable and live in the context.  Scalars, strings and
 * symbols are uniqued; arrays and dense tensors are not (compare them with
 * qir_attr_equal). */
#ifndef QIR_ATTRS_H
#define QIR_ATTRS_H

#include "qir/types.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef enum qir_attr_kind {
  QIR_ATTR_INT,    /* 3            (int64) */
  QIR_ATTR_FLOAT,  /* 0.5          (double, printed so it reads back exactly) */
  QIR_ATTR_BOOL,   /* true         */
  QIR_ATTR_STRING, /* "nearest"    */
  QIR_ATTR_ARRAY,  /* [1, 2, 3]    (any attributes, mixed kinds allowed) */
  QIR_ATTR_DENSE,  /* dense<[1.0, 2.0]> : tensor<2xf32>, or dense_resource */
  QIR_ATTR_SYMBOL, /* @main        */
  QIR_ATTR_TYPE    /* type(f32)    */
} qir_attr_kind;

typedef struct qir_attr qir_attr;
struct qir_attr {
  qir_attr_kind kind;
  union {
    int64_t i;
    double f;
    bool b;
    struct {
      const char *data; /* interned, NUL-terminated; may contain NULs */
      size_t len;
    } str;
    struct {
      unsigned n;
      const qir_attr *const *elems;
    } array;
    struct {
      /* A static tensor type; data is row-major, little-endian, in the
       * element's storage scalar (quantized: the integer storage).  i1 uses
       * one byte per element.  A splat holds a single element. */
      const qir_type *type;
      const void *data;
      size_t nbytes;
      bool splat;
      /* Name of the resource blob it was read from or will print to (for
       * out-of-line printing); NULL when it has none yet. */
      const char *resource;
    } dense;
    const char *symbol; /* interned, without the '@' */
    const qir_type *type;
  } u;
};

const qir_attr *qir_attr_int(qir_context *ctx, int64_t v);
const qir_attr *qir_attr_float(qir_context *ctx, double v);
const qir_attr *qir_attr_bool(qir_context *ctx, bool v);
const qir_attr *qir_attr_string(qir_context *ctx, const char *s, size_t len);
const qir_attr *qir_attr_cstr(qir_context *ctx, const char *s);
const qir_attr *qir_attr_symbol(qir_context *ctx, const char *name);
const qir_attr *qir_attr_type(qir_context *ctx, const qir_type *t);
const qir_attr *qir_attr_array(qir_context *ctx, unsigned n,
                               const qir_attr *const *elems);
const qir_attr *qir_attr_ints(qir_context *ctx, unsigned n, const int64_t *v);
const qir_attr *qir_attr_floats(qir_context *ctx, unsigned n, const double *v);

/* A dense tensor.  `type` must be a static tensor; `data` holds
 * num_elements x scalar size bytes and is copied.  Returns NULL (with an
 * error at `loc`) when nbytes does not match the type. */
const qir_attr *qir_attr_dense(qir_context *ctx, qir_loc loc,
                               const qir_type *type, const void *data,
                               size_t nbytes);
/* Every element equal to the one element at `elem`. */
const qir_attr *qir_attr_dense_splat(qir_context *ctx, const qir_type *type,
                                     const void *elem);
/* Convenience: a dense tensor from doubles / int64s, converted to the
 * element type of `type` (floats round to nearest even; integers wrap as a
 * C cast would, saturating is the caller's job). */
const qir_attr *qir_attr_dense_from_f64(qir_context *ctx, const qir_type *type,
                                        const double *v);
const qir_attr *qir_attr_dense_from_i64(qir_context *ctx, const qir_type *type,
                                        const int64_t *v);
/* Same data, recorded resource name `name` (interned). */
const qir_attr *qir_attr_dense_with_resource(qir_context *ctx,
                                             const qir_attr *dense,
                                             const char *name);

/* Element i of a dense attribute (splats answer for any i < num elements),
 * converted to double / int64. */
double qir_dense_get_f64(const qir_attr *a, int64_t i);
int64_t qir_dense_get_i64(const qir_attr *a, int64_t i);
int64_t qir_dense_num_elements(const qir_attr *a);

/* Reads an int or an array of ints into out[0..max); returns the count, or
 * -1 when `a` is not an int array (or an int, giving 1), or has more than
 * `max` elements. */
int qir_attr_get_ints(const qir_attr *a, int64_t *out, unsigned max);
int qir_attr_get_floats(const qir_attr *a, double *out, unsigned max);

/* Structural equality and a hash consistent with it (dense data compared
 * byte for byte, floats compared by bits). */
bool qir_attr_equal(const qir_attr *a, const qir_attr *b);
uint64_t qir_attr_hash(const qir_attr *a);

/* IEEE half and bfloat16 conversions; to-f16/bf16 round to nearest even
 * (overflow gives inf, NaN stays NaN). */
float qir_f16_to_f32(uint16_t h);
uint16_t qir_f32_to_f16(float f);
float qir_bf16_to_f32(uint16_t h);
uint16_t qir_f32_to_bf16(float f);

typedef struct qir_named_attr {
  const char *name; /* interned */
  const qir_attr *attr;
} qir_named_attr;

#ifdef __cplusplus
}
#endif
#endif
