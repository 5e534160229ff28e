/* ir/ops/ops.h - private declarations of the built-in ops' verify, infer
 * and fold functions (named in ir/ops.def) and the helpers they share. */
#ifndef QIR_IR_OPS_OPS_H
#define QIR_IR_OPS_OPS_H

#include "qir/qir.h"

/* ---- Verify (qir_verify_fn) ---- */
bool qir_verify_arg_reduce(qir_op *op);
bool qir_verify_batch_norm(qir_op *op);
bool qir_verify_binary(qir_op *op);
bool qir_verify_call(qir_op *op);
bool qir_verify_cast(qir_op *op);
bool qir_verify_clip(qir_op *op);
bool qir_verify_compare(qir_op *op);
bool qir_verify_concat(qir_op *op);
bool qir_verify_constant(qir_op *op);
bool qir_verify_constant_of_shape(qir_op *op);
bool qir_verify_conv2d(qir_op *op);
bool qir_verify_conv_transpose2d(qir_op *op);
bool qir_verify_depth_space(qir_op *op);
bool qir_verify_dequantize(qir_op *op);
bool qir_verify_expand(qir_op *op);
bool qir_verify_gather(qir_op *op);
bool qir_verify_gelu(qir_op *op);
bool qir_verify_gemm(qir_op *op);
bool qir_verify_global_pool(qir_op *op);
bool qir_verify_instance_norm(qir_op *op);
bool qir_verify_layer_norm(qir_op *op);
bool qir_verify_logical(qir_op *op);
bool qir_verify_matmul(qir_op *op);
bool qir_verify_pad(qir_op *op);
bool qir_verify_pool2d(qir_op *op);
bool qir_verify_quantize(qir_op *op);
bool qir_verify_range(qir_op *op);
bool qir_verify_reduce(qir_op *op);
bool qir_verify_requantize(qir_op *op);
bool qir_verify_reshape(qir_op *op);
bool qir_verify_resize(qir_op *op);
bool qir_verify_return(qir_op *op);
bool qir_verify_shape(qir_op *op);
bool qir_verify_slice(qir_op *op);
bool qir_verify_softmax(qir_op *op);
bool qir_verify_split(qir_op *op);
bool qir_verify_tile(qir_op *op);
bool qir_verify_transpose(qir_op *op);
bool qir_verify_unary(qir_op *op);
bool qir_verify_unary_float(qir_op *op);
bool qir_verify_where(qir_op *op);

/* ir/ops/extra.c: the index ops. */
bool qir_verify_gather_elements(qir_op *op);
bool qir_verify_gather_nd(qir_op *op);
bool qir_verify_scatter_elements(qir_op *op);
bool qir_verify_scatter_nd(qir_op *op);
bool qir_verify_cumsum(qir_op *op);
bool qir_verify_top_k(qir_op *op);
bool qir_infer_gather_elements(qir_op *op, const qir_type **out);
bool qir_infer_gather_nd(qir_op *op, const qir_type **out);
bool qir_infer_top_k(qir_op *op, const qir_type **out);

/* ---- Infer (qir_infer_fn) ---- */
bool qir_infer_arg_reduce(qir_op *op, const qir_type **out);
bool qir_infer_broadcast(qir_op *op, const qir_type **out);
bool qir_infer_compare(qir_op *op, const qir_type **out);
bool qir_infer_concat(qir_op *op, const qir_type **out);
bool qir_infer_constant(qir_op *op, const qir_type **out);
bool qir_infer_constant_of_shape(qir_op *op, const qir_type **out);
bool qir_infer_conv2d(qir_op *op, const qir_type **out);
bool qir_infer_conv_transpose2d(qir_op *op, const qir_type **out);
bool qir_infer_depth_to_space(qir_op *op, const qir_type **out);
bool qir_infer_expand(qir_op *op, const qir_type **out);
bool qir_infer_gather(qir_op *op, const qir_type **out);
bool qir_infer_gemm(qir_op *op, const qir_type **out);
bool qir_infer_global_pool(qir_op *op, const qir_type **out);
bool qir_infer_matmul(qir_op *op, const qir_type **out);
bool qir_infer_pad(qir_op *op, const qir_type **out);
bool qir_infer_pool2d(qir_op *op, const qir_type **out);
bool qir_infer_range(qir_op *op, const qir_type **out);
bool qir_infer_reduce(qir_op *op, const qir_type **out);
bool qir_infer_reshape(qir_op *op, const qir_type **out);
bool qir_infer_resize(qir_op *op, const qir_type **out);
bool qir_infer_same(qir_op *op, const qir_type **out);
bool qir_infer_shape(qir_op *op, const qir_type **out);
bool qir_infer_slice(qir_op *op, const qir_type **out);
bool qir_infer_space_to_depth(qir_op *op, const qir_type **out);
bool qir_infer_split(qir_op *op, const qir_type **out);
bool qir_infer_tile(qir_op *op, const qir_type **out);
bool qir_infer_transpose(qir_op *op, const qir_type **out);
bool qir_infer_where(qir_op *op, const qir_type **out);

/* ---- Fold (qir_fold_fn) ---- */
bool qir_fold_binary(qir_op *op, const qir_attr *const *operands,
                     const qir_attr **out);
bool qir_fold_cast(qir_op *op, const qir_attr *const *operands,
                   const qir_attr **out);
bool qir_fold_concat(qir_op *op, const qir_attr *const *operands,
                     const qir_attr **out);
bool qir_fold_constant(qir_op *op, const qir_attr *const *operands,
                       const qir_attr **out);
bool qir_fold_constant_of_shape(qir_op *op, const qir_attr *const *operands,
                                const qir_attr **out);
bool qir_fold_expand(qir_op *op, const qir_attr *const *operands,
                     const qir_attr **out);
bool qir_fold_gather(qir_op *op, const qir_attr *const *operands,
                     const qir_attr **out);
bool qir_fold_identity(qir_op *op, const qir_attr *const *operands,
                       const qir_attr **out);
bool qir_fold_matmul(qir_op *op, const qir_attr *const *operands,
                     const qir_attr **out);
bool qir_fold_range(qir_op *op, const qir_attr *const *operands,
                    const qir_attr **out);
bool qir_fold_reduce(qir_op *op, const qir_attr *const *operands,
                     const qir_attr **out);
bool qir_fold_reshape(qir_op *op, const qir_attr *const *operands,
                      const qir_attr **out);
bool qir_fold_shape(qir_op *op, const qir_attr *const *operands,
                    const qir_attr **out);
bool qir_fold_slice(qir_op *op, const qir_attr *const *operands,
                    const qir_attr **out);
bool qir_fold_split(qir_op *op, const qir_attr *const *operands,
                    const qir_attr **out);
bool qir_fold_transpose(qir_op *op, const qir_attr *const *operands,
                        const qir_attr **out);
bool qir_fold_unary(qir_op *op, const qir_attr *const *operands,
                    const qir_attr **out);
bool qir_fold_where(qir_op *op, const qir_attr *const *operands,
                    const qir_attr **out);

/* ---- Helpers shared by the op families (ir/ops/common.c) ---------------
 * Every check emits its own error through qir_op_emit_error and returns
 * false; infer functions run the same checks as verify functions, so an op
 * is diagnosed the same way whether the parser infers its types or the
 * verifier checks them. */

/* The text of a type (in the arena), for messages. */
const char *qir_ops_type_str(qir_context *ctx, const qir_type *t);
/* The text of a list of ints, "[1, 2, 3]" (in the arena). */
const char *qir_ops_ints_str(qir_context *ctx, const int64_t *v, unsigned n);

/* The type of operand i, NULL when the operand is missing. */
static inline const qir_type *qir_ops_type(const qir_op *op, unsigned i) {
  qir_value *v = op->operands[i].value;
  return v ? v->type : NULL;
}

/* Dim arithmetic that reports int64 overflow (huge attributes or dims):
 * false when the result does not fit. */
static inline bool qir_ops_add(int64_t a, int64_t b, int64_t *r) {
  return !__builtin_add_overflow(a, b, r);
}
static inline bool qir_ops_mul(int64_t a, int64_t b, int64_t *r) {
  return !__builtin_mul_overflow(a, b, r);
}
/* Emits `result dim overflows` and returns false. */
bool qir_ops_overflow(qir_op *op);

bool qir_ops_is_float(const qir_type *t); /* tensor of a float scalar */
bool qir_ops_is_int(const qir_type *t);   /* tensor of an integer scalar */
bool qir_ops_is_i1(const qir_type *t);

/* The operand count within the def's bounds. */
bool qir_ops_check_operand_count(qir_op *op);
/* Every operand present and a tensor. */
bool qir_ops_check_operands(qir_op *op);
/* What an infer function checks first: the operands, then the op's own
 * verify function (which, for ops that infer, never looks at results). */
bool qir_ops_infer_pre(qir_op *op);
/* A tensor result type for op (in its context). */
const qir_type *qir_ops_tensor(qir_op *op, const qir_type *elem,
                               unsigned rank, const int64_t *dims);

typedef enum qir_ops_elem_rule {
  QIR_ELEM_ANY,     /* any non-quantized element type */
  QIR_ELEM_FLOAT,   /* f64 f32 f16 bf16 */
  QIR_ELEM_INT,     /* integers other than i1 */
  QIR_ELEM_INDEX,   /* i32 or i64 */
  QIR_ELEM_I64,     /* i64 */
  QIR_ELEM_BOOL,    /* i1 */
  QIR_ELEM_NUMERIC  /* float or integer, not i1 */
} qir_ops_elem_rule;
/* Operand i's element type follows the rule; a quantized element type is
 * accepted (for ANY, FLOAT and NUMERIC) when the op is QUANTIZABLE. */
bool qir_ops_check_elem(qir_op *op, unsigned i, qir_ops_elem_rule rule);
/* Operand i's element type equals operand j's (two quantized types of a
 * QUANTIZABLE op count as equal, so do a quantized and a float one). */
bool qir_ops_check_same_elem(qir_op *op, unsigned i, unsigned j);
bool qir_ops_check_rank(qir_op *op, unsigned i, unsigned rank);
bool qir_ops_check_min_rank(qir_op *op, unsigned i, unsigned rank);

/* Attributes.  Absent attributes take the default; present ones of the
 * wrong kind are errors. */
bool qir_ops_attr_int(qir_op *op, const char *name, int64_t dflt,
                      int64_t *out);
bool qir_ops_attr_float(qir_op *op, const char *name, double dflt,
                        double *out);
/* A bool, or an int 0/1. */
bool qir_ops_attr_flag(qir_op *op, const char *name, bool dflt, bool *out);
/* An int array of at most max elements: returns its length, -1 when
 * absent, -2 after an error. */
int qir_ops_attr_ints(qir_op *op, const char *name, int64_t *out,
                      unsigned max);
/* An int array of exactly n elements; when absent: an error if required,
 * else every element dflt. */
bool qir_ops_attr_ints_n(qir_op *op, const char *name, unsigned n,
                         bool required, int64_t dflt, int64_t *out);
bool qir_ops_require_attr(qir_op *op, const char *name);
bool qir_ops_check_positive(qir_op *op, const char *name, const int64_t *v,
                            unsigned n);
bool qir_ops_check_nonneg(qir_op *op, const char *name, const int64_t *v,
                          unsigned n);
/* A string among choices (NULL-terminated); *out is its index, dflt when
 * absent (dflt < 0 makes it required). */
bool qir_ops_attr_enum(qir_op *op, const char *name,
                       const char *const *choices, int dflt, int *out);
/* Normalizes axis (negative counts from the end) into [0, rank). */
bool qir_ops_norm_axis(qir_op *op, const char *name, int64_t axis,
                       unsigned rank, unsigned *out);

/* numpy broadcasting of a and b into dims (rank *rank); false when they
 * do not broadcast. */
bool qir_ops_broadcast(const qir_type *a, const qir_type *b, int64_t *dims,
                       unsigned *rank);
/* The element type of an op's computed result: the operand's element type,
 * f32 when it is quantized (the declared type may be quantized). */
const qir_type *qir_ops_compute_elem(qir_context *ctx, const qir_type *t);
/* Whether the declared result type is acceptable for the inferred one. */
bool qir_ops_types_compatible(const qir_op *op, const qir_type *declared,
                              const qir_type *inferred);

/* ONNX Slice along one dim of size dim: the number of elements taken and,
 * in *first, the index of the first one. */
int64_t qir_ops_slice_len(int64_t dim, int64_t start, int64_t end,
                          int64_t step, int64_t *first);
/* The [start, end) dims of rank that `shape` reports (ONNX clamping). */
void qir_ops_shape_range(qir_op *op, unsigned rank, unsigned *start,
                         unsigned *end);

/* ---- Folding helpers (ir/ops/fold.c) ---- */
/* Above this many elements a fold would rather keep the op. */
#define QIR_FOLD_MAX_ELEMENTS (1 << 22)
/* Pointer to element i's bytes (splats answer for any i). */
static inline const unsigned char *qir_fold_elem(const qir_attr *a,
                                                 int64_t i) {
  size_t size = qir_scalar_size(a->u.dense.type->scalar);
  return (const unsigned char *)a->u.dense.data +
         (a->u.dense.splat ? 0 : (size_t)i * size);
}
/* A dense of static type `t` from raw bytes (num elements x size). */
const qir_attr *qir_fold_make(qir_context *ctx, const qir_type *t,
                              const void *data);

#endif
