/* qir/types.h - uniqued types: scalars, quantized scalars, ranked tensors.
 *
 * Types are immutable and uniqued in the context, so pointer equality is type
 * equality.  Read the fields of struct qir_type directly; create types only
 * through the functions below. */
#ifndef QIR_TYPES_H
#define QIR_TYPES_H

#include "qir/context.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Element kinds, in the order of the text format's keywords. */
#define QIR_SCALAR_LIST(X)                                                    \
  X(F64, "f64", 8, 1, 1)                                                      \
  X(F32, "f32", 4, 1, 1)                                                      \
  X(F16, "f16", 2, 1, 1)                                                      \
  X(BF16, "bf16", 2, 1, 1)                                                    \
  X(I1, "i1", 1, 0, 0)                                                        \
  X(I8, "i8", 1, 0, 1)                                                        \
  X(U8, "u8", 1, 0, 0)                                                        \
  X(I16, "i16", 2, 0, 1)                                                      \
  X(U16, "u16", 2, 0, 0)                                                      \
  X(I32, "i32", 4, 0, 1)                                                      \
  X(I64, "i64", 8, 0, 1)
/* X(ID, keyword, byte size, is float, is signed) */

typedef enum qir_scalar {
#define X(id, kw, size, isf, iss) QIR_##id,
  QIR_SCALAR_LIST(X)
#undef X
  QIR_NUM_SCALARS
} qir_scalar;

size_t qir_scalar_size(qir_scalar s);       /* bytes per element */
const char *qir_scalar_name(qir_scalar s);  /* "f32" */
bool qir_scalar_is_float(qir_scalar s);
bool qir_scalar_is_signed(qir_scalar s);    /* floats are signed */
/* Parses a keyword ("f32"); returns false when it is not one. */
bool qir_scalar_from_name(const char *s, size_t len, qir_scalar *out);
/* Integer range of an integer scalar (i1: 0..1). */
int64_t qir_scalar_min(qir_scalar s);
int64_t qir_scalar_max(qir_scalar s);

typedef enum qir_type_kind {
  QIR_TYPE_SCALAR, /* f32, i8, ... */
  QIR_TYPE_QUANT,  /* !q.i8<0.0235:3> */
  QIR_TYPE_TENSOR  /* tensor<1x3x?x224xf32> */
} qir_type_kind;

#define QIR_DYN ((int64_t)-1) /* a dynamic dimension, printed `?` */

typedef struct qir_type qir_type;
struct qir_type {
  qir_type_kind kind;
  /* SCALAR: the scalar.  QUANT: the storage scalar (i8 u8 i16 u16 i32).
   * TENSOR: the scalar of the element type (the storage one when the
   * element is quantized). */
  qir_scalar scalar;

  /* QUANT only.  real = scale * (q - zero_point).  axis is -1 for a
   * per-tensor type, else the tensor dimension that carries one parameter
   * pair per index (nparams of them).  qmin..qmax is the storage range
   * (narrower than the storage type for 4-bit or restricted ranges). */
  int axis;
  unsigned nparams;
  const double *scales;
  const int64_t *zero_points;
  int64_t qmin, qmax;

  /* TENSOR only. */
  const qir_type *elem; /* SCALAR or QUANT */
  unsigned rank;
  const int64_t *dims; /* QIR_DYN for a dynamic dimension */

  uint64_t hash;
};

const qir_type *qir_scalar_type(qir_context *ctx, qir_scalar s);

/* A quantized element type.  `zero_points` may be NULL (all zero).  qmin and
 * qmax must lie inside the storage type; pass qir_scalar_min/max for the full
 * range.  Returns NULL (and emits an error at `loc`) when the parameters are
 * invalid: storage not an integer of 8 to 32 bits, scale <= 0 or not finite,
 * zero point outside [qmin, qmax], nparams == 0, or axis < -1. */
const qir_type *qir_quant_type(qir_context *ctx, qir_loc loc, qir_scalar storage,
                               int axis, unsigned nparams, const double *scales,
                               const int64_t *zero_points, int64_t qmin,
                               int64_t qmax);
/* Per-tensor, full storage range. */
const qir_type *qir_quant_type_simple(qir_context *ctx, qir_scalar storage,
                                      double scale, int64_t zero_point);

/* A ranked tensor (rank 0 is a scalar tensor).  Dims are >= 0 or QIR_DYN.
 * Returns NULL for a negative dim other than QIR_DYN, a rank over
 * QIR_MAX_RANK, or an element type that is a tensor. */
#define QIR_MAX_RANK 16
const qir_type *qir_tensor_type(qir_context *ctx, const qir_type *elem,
                                unsigned rank, const int64_t *dims);
const qir_type *qir_tensor_of(qir_context *ctx, qir_scalar s, unsigned rank,
                              const int64_t *dims);
/* Same shape, other element type / same element type, other shape. */
const qir_type *qir_tensor_with_elem(qir_context *ctx, const qir_type *t,
                                     const qir_type *elem);
const qir_type *qir_tensor_with_dims(qir_context *ctx, const qir_type *t,
                                     unsigned rank, const int64_t *dims);

static inline bool qir_type_is_tensor(const qir_type *t) {
  return t && t->kind == QIR_TYPE_TENSOR;
}
static inline bool qir_type_is_quant(const qir_type *t) {
  return t && t->kind == QIR_TYPE_QUANT;
}
/* True for a tensor whose element type is quantized. */
static inline bool qir_tensor_is_quant(const qir_type *t) {
  return qir_type_is_tensor(t) && t->elem->kind == QIR_TYPE_QUANT;
}
bool qir_tensor_is_static(const qir_type *t);
/* Number of elements; -1 when a dimension is dynamic or on overflow. */
int64_t qir_tensor_num_elements(const qir_type *t);
/* Bytes of a static tensor's data (elements x scalar size); -1 as above. */
int64_t qir_tensor_num_bytes(const qir_type *t);

/* Writes the text form (`tensor<1x3xf32>`, `!q.i8<0.5>`) like snprintf;
 * returns the length it needed. */
int qir_type_format(const qir_type *t, char *buf, size_t size);
void qir_type_print(FILE *out, const qir_type *t);
/* The same text, kept with the type (made once, when the type is created):
 * NUL-terminated, owned by the context; *len (if not NULL) receives its
 * length.  The fast path for printers. */
const char *qir_type_text(const qir_type *t, size_t *len);

/* Shortest text that reads back (strtod/strtof) bit-exact, always with a
 * '.' or an 'e' ("1.0", "1.5e-05", "0.1") or one of inf, -inf, nan.
 * Writes like snprintf; returns the length it needed. */
int qir_format_double(double v, char *buf, size_t n);
int qir_format_float(float v, char *buf, size_t n);

#ifdef __cplusplus
}
#endif
#endif
