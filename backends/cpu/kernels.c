/* backends/cpu/kernels.c - the kernel tables of the interpreter, indexed by
 * op id (QIR_OP_*). */
#include "backends/cpu/cpu.h"

#define K(id, fn, conv) [QIR_OP_##id] = {qir_cpu_##fn, conv}

/* k_index.c */
bool qir_cpu_k_gather_elements(const qir_kargs *k);
bool qir_cpu_k_gather_nd(const qir_kargs *k);
bool qir_cpu_k_scatter_elements(const qir_kargs *k);
bool qir_cpu_k_scatter_nd(const qir_kargs *k);
bool qir_cpu_k_cumsum(const qir_kargs *k);
bool qir_cpu_k_top_k(const qir_kargs *k);

static const qir_kernel kernels[QIR_NUM_OPS] = {
    K(CONSTANT, k_constant, QK_RAW),
    K(IDENTITY, k_identity, QK_RAW),
    K(ADD, k_binary, QK_NUM), K(SUB, k_binary, QK_NUM),
    K(MUL, k_binary, QK_NUM), K(DIV, k_binary, QK_NUM),
    K(POW, k_binary, QK_NUM), K(MAX, k_binary, QK_NUM),
    K(MIN, k_binary, QK_NUM), K(MOD, k_binary, QK_NUM),
    K(PRELU, k_binary, QK_NUM),
    K(EQUAL, k_compare, QK_NUM), K(LESS, k_compare, QK_NUM),
    K(LESS_EQUAL, k_compare, QK_NUM), K(GREATER, k_compare, QK_NUM),
    K(GREATER_EQUAL, k_compare, QK_NUM),
    K(AND, k_logical, QK_RAW), K(OR, k_logical, QK_RAW),
    K(XOR, k_logical, QK_RAW), K(WHERE, k_where, QK_RAW),
    K(NEG, k_unary, QK_NUM), K(ABS, k_unary, QK_NUM),
    K(SIGN, k_unary, QK_NUM),
    K(SQRT, k_unary, QK_F32), K(RSQRT, k_unary, QK_F32),
    K(RECIPROCAL, k_unary, QK_F32), K(EXP, k_unary, QK_F32),
    K(LOG, k_unary, QK_F32), K(ERF, k_unary, QK_F32),
    K(SIN, k_unary, QK_F32), K(COS, k_unary, QK_F32),
    K(FLOOR, k_unary, QK_F32), K(CEIL, k_unary, QK_F32),
    K(ROUND, k_unary, QK_F32),
    K(NOT, k_not, QK_RAW), K(CAST, k_cast, QK_RAW),
    K(RELU, k_activation, QK_NUM), K(CLIP, k_activation, QK_NUM),
    K(SIGMOID, k_activation, QK_F32), K(TANH, k_activation, QK_F32),
    K(HARD_SIGMOID, k_activation, QK_F32),
    K(HARD_SWISH, k_activation, QK_F32),
    K(LEAKY_RELU, k_activation, QK_F32), K(ELU, k_activation, QK_F32),
    K(SELU, k_activation, QK_F32), K(SOFTPLUS, k_activation, QK_F32),
    K(MISH, k_activation, QK_F32), K(GELU, k_activation, QK_F32),
    K(SILU, k_activation, QK_F32),
    K(CONV2D, k_conv2d, QK_F32),
    K(CONV_TRANSPOSE2D, k_conv_transpose2d, QK_F32),
    K(MATMUL, k_matmul, QK_F32), K(GEMM, k_gemm, QK_F32),
    K(BATCH_NORM, k_batch_norm, QK_F32),
    K(INSTANCE_NORM, k_instance_norm, QK_F32),
    K(LAYER_NORM, k_layer_norm, QK_F32),
    K(MAX_POOL2D, k_max_pool2d, QK_F32),
    K(AVG_POOL2D, k_avg_pool2d, QK_F32),
    K(GLOBAL_AVG_POOL, k_global_avg_pool, QK_F32),
    K(GLOBAL_MAX_POOL, k_global_max_pool, QK_F32),
    K(REDUCE_MEAN, k_reduce, QK_NUM), K(REDUCE_SUM, k_reduce, QK_NUM),
    K(REDUCE_MAX, k_reduce, QK_NUM), K(REDUCE_MIN, k_reduce, QK_NUM),
    K(REDUCE_PROD, k_reduce, QK_NUM), K(REDUCE_L2, k_reduce, QK_NUM),
    K(SOFTMAX, k_softmax, QK_F32), K(LOG_SOFTMAX, k_softmax, QK_F32),
    K(ARGMAX, k_arg_reduce, QK_NUM), K(ARGMIN, k_arg_reduce, QK_NUM),
    K(CONCAT, k_concat, QK_RAW), K(SPLIT, k_split, QK_RAW),
    K(SLICE, k_slice, QK_RAW), K(RESHAPE, k_reshape, QK_RAW),
    K(TRANSPOSE, k_transpose, QK_RAW), K(PAD, k_pad, QK_RAW),
    K(RESIZE, k_resize, QK_F32), K(GATHER, k_gather, QK_RAW),
    K(EXPAND, k_expand, QK_RAW), K(TILE, k_tile, QK_RAW),
    K(DEPTH_TO_SPACE, k_depth_to_space, QK_RAW),
    K(SPACE_TO_DEPTH, k_space_to_depth, QK_RAW),
    K(SHAPE, k_shape, QK_RAW),
    K(CONSTANT_OF_SHAPE, k_constant_of_shape, QK_RAW),
    K(RANGE, k_range, QK_NUM),
    K(QUANTIZE, k_quantize, QK_RAW), K(DEQUANTIZE, k_dequantize, QK_RAW),
    K(REQUANTIZE, k_requantize, QK_RAW),
    K(GATHER_ELEMENTS, k_gather_elements, QK_RAW),
    K(GATHER_ND, k_gather_nd, QK_RAW),
    K(SCATTER_ELEMENTS, k_scatter_elements, QK_NUM),
    K(SCATTER_ND, k_scatter_nd, QK_NUM),
    K(CUMSUM, k_cumsum, QK_NUM), K(TOP_K, k_top_k, QK_NUM),
};

#define Q(id, fn) [QIR_OP_##id] = qir_cpu_##fn

static const qir_kernel_fn qkernels[QIR_NUM_OPS] = {
    Q(QUANTIZE, k_quantize), Q(DEQUANTIZE, k_dequantize),
    Q(REQUANTIZE, k_requantize),
    Q(CONV2D, kq_conv2d), Q(MATMUL, kq_matmul), Q(GEMM, kq_gemm),
    Q(ADD, kq_add), Q(SUB, kq_sub), Q(MUL, kq_mul),
    Q(MAX, kq_minmax), Q(MIN, kq_minmax),
    Q(RELU, kq_relu), Q(CLIP, kq_clip),
    Q(MAX_POOL2D, kq_max_pool2d), Q(AVG_POOL2D, kq_avg_pool2d),
    Q(GLOBAL_AVG_POOL, kq_global_avg_pool),
    Q(GLOBAL_MAX_POOL, kq_global_max_pool),
    Q(CONCAT, kq_concat),
    Q(IDENTITY, kq_move), Q(SPLIT, kq_move), Q(SLICE, kq_move),
    Q(RESHAPE, kq_move), Q(TRANSPOSE, kq_move), Q(PAD, kq_move),
    Q(RESIZE, kq_move), Q(GATHER, kq_move), Q(EXPAND, kq_move),
    Q(TILE, kq_move), Q(DEPTH_TO_SPACE, kq_move),
    Q(SPACE_TO_DEPTH, kq_move),
};

const qir_kernel *qir_cpu_kernel(unsigned id) {
  return id < QIR_NUM_OPS ? &kernels[id] : NULL;
}

qir_kernel_fn qir_cpu_qkernel(unsigned id) {
  return id < QIR_NUM_OPS ? qkernels[id] : NULL;
}
