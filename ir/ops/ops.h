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

#endif
