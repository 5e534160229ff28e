/* backends/bpu/bpu.c - the Horizon BPU class targets: bpu-bernoulli2 and
 * bpu-bayes.  Figures and their sources: docs/Targets.md (published
 * figures are marked there; the rest are assumptions). */
#include "backends/npu/npu.h"

/* The ops of both BPU generations; Bayes adds the LUT activations of
 * newer networks and softmax.  conv_transpose2d is listed (the hardware
 * has it) and the shared rules say why it stays on the CPU. */
static const unsigned bernoulli2_ops[] = {
    QIR_OP_CONV2D, QIR_OP_MATMUL, QIR_OP_GEMM, QIR_OP_ADD, QIR_OP_SUB,
    QIR_OP_MUL, QIR_OP_RELU, QIR_OP_CLIP, QIR_OP_SIGMOID, QIR_OP_TANH,
    QIR_OP_MAX_POOL2D, QIR_OP_AVG_POOL2D, QIR_OP_GLOBAL_AVG_POOL,
    QIR_OP_GLOBAL_MAX_POOL, QIR_OP_CONCAT, QIR_OP_SPLIT, QIR_OP_SLICE,
    QIR_OP_RESHAPE, QIR_OP_IDENTITY, QIR_OP_REQUANTIZE, QIR_OP_QUANTIZE,
    QIR_OP_RESIZE, QIR_OP_CONV_TRANSPOSE2D, QIR_NUM_OPS};

static const unsigned bayes_ops[] = {
    QIR_OP_CONV2D, QIR_OP_MATMUL, QIR_OP_GEMM, QIR_OP_ADD, QIR_OP_SUB,
    QIR_OP_MUL, QIR_OP_RELU, QIR_OP_CLIP, QIR_OP_SIGMOID, QIR_OP_TANH,
    QIR_OP_HARD_SIGMOID, QIR_OP_HARD_SWISH, QIR_OP_LEAKY_RELU, QIR_OP_SILU,
    QIR_OP_GELU, QIR_OP_ELU, QIR_OP_MAX_POOL2D, QIR_OP_AVG_POOL2D,
    QIR_OP_GLOBAL_AVG_POOL, QIR_OP_GLOBAL_MAX_POOL, QIR_OP_CONCAT,
    QIR_OP_SPLIT, QIR_OP_SLICE, QIR_OP_RESHAPE, QIR_OP_IDENTITY,
    QIR_OP_REQUANTIZE, QIR_OP_QUANTIZE, QIR_OP_RESIZE, QIR_OP_TRANSPOSE,
    QIR_OP_SOFTMAX, QIR_OP_CONV_TRANSPOSE2D, QIR_NUM_OPS};

/* Bayes reduces a softmax along the channel axis of NCHW only
 * (assumption, docs/Targets.md). */
static bool bayes_check_op(const qir_target *t, const qir_op *op, char *reason,
                           size_t size) {
  if (!qir_op_is(op, QIR_OP_SOFTMAX))
    return true;
  int64_t rank = qir_op_operand(op, 0)->type->rank;
  int64_t axis = qir_op_get_int(op, "axis", -1);
  if (axis < 0)
    axis += rank;
  if (axis == 1)
    return true;
  snprintf(reason, size, "softmax along axis %lld; %s reduces along the "
           "channel axis (1) only", (long long)axis, t->name);
  return false;
}

const qir_target qir_target_bpu_bernoulli2 = {
    .name = "bpu-bernoulli2",
    .family = "bpu",
    .summary = "Horizon BPU Bernoulli 2.0 (Sunrise X3 class), dual core",
    .cores = 2,
    .macs_per_core = 1280,
    .clock_mhz = 1000.0,
    .tops_int8 = 5.0,
    .sram_bytes = 1u << 20,
    .ddr_gbps = 10.6,
    .quant_scheme = QIR_QUANT_POW2_I8,
    .has_int16 = false,
    .per_channel_weights = true,
    .ops = bernoulli2_ops,
    .limits = {.needs_4d = true, .max_outputs = 32, .max_chw = 8192,
               .max_channels = 2048, .max_spatial = 4096, .max_kernel = 7,
               .max_stride = 4, .max_pool_kernel = 7},
};

const qir_target qir_target_bpu_bayes = {
    .name = "bpu-bayes",
    .family = "bpu",
    .summary = "Horizon BPU Bayes (Journey 5 class), dual core",
    .cores = 2,
    .macs_per_core = 16384,
    .clock_mhz = 2000.0,
    .tops_int8 = 128.0,
    .sram_bytes = 8u << 20,
    .ddr_gbps = 34.1,
    .quant_scheme = QIR_QUANT_SYM_I8,
    .has_int16 = true,
    .per_channel_weights = true,
    .ops = bayes_ops,
    .limits = {.needs_4d = true, .max_outputs = 32, .max_chw = 65536,
               .max_channels = 8192, .max_spatial = 8192, .max_kernel = 32,
               .max_stride = 8, .max_pool_kernel = 32},
    .hooks = {.check_op = bayes_check_op},
};
