/* backends/ax/ax.c - the Axera AX class targets: ax650, ax620e and ax615.
 * Figures and their sources: docs/Targets.md (published figures are marked
 * there; the rest are assumptions). */
#include "backends/npu/npu.h"

/* conv_transpose2d is listed (the hardware has it) and the shared rules
 * say why it stays on the CPU; softmax is not modeled on AX yet
 * (docs/Targets.md). */
static const unsigned ax_ops[] = {
    QIR_OP_CONV2D, QIR_OP_MATMUL, QIR_OP_GEMM, QIR_OP_ADD, QIR_OP_SUB,
    QIR_OP_MUL, QIR_OP_RELU, QIR_OP_CLIP, QIR_OP_SIGMOID, QIR_OP_TANH,
    QIR_OP_HARD_SIGMOID, QIR_OP_HARD_SWISH, QIR_OP_LEAKY_RELU, QIR_OP_SILU,
    QIR_OP_GELU, QIR_OP_ELU, QIR_OP_MISH, QIR_OP_SOFTPLUS,
    QIR_OP_MAX_POOL2D, QIR_OP_AVG_POOL2D, QIR_OP_GLOBAL_AVG_POOL,
    QIR_OP_GLOBAL_MAX_POOL, QIR_OP_CONCAT, QIR_OP_SPLIT, QIR_OP_SLICE,
    QIR_OP_RESHAPE, QIR_OP_IDENTITY, QIR_OP_REQUANTIZE, QIR_OP_QUANTIZE,
    QIR_OP_RESIZE, QIR_OP_TRANSPOSE, QIR_OP_CONV_TRANSPOSE2D, QIR_NUM_OPS};

/* AX615: the small part; no gelu/mish/softplus tables (assumption). */
static const unsigned ax615_ops[] = {
    QIR_OP_CONV2D, QIR_OP_MATMUL, QIR_OP_GEMM, QIR_OP_ADD, QIR_OP_SUB,
    QIR_OP_MUL, QIR_OP_RELU, QIR_OP_CLIP, QIR_OP_SIGMOID, QIR_OP_TANH,
    QIR_OP_HARD_SIGMOID, QIR_OP_HARD_SWISH, QIR_OP_LEAKY_RELU, QIR_OP_SILU,
    QIR_OP_MAX_POOL2D, QIR_OP_AVG_POOL2D, QIR_OP_GLOBAL_AVG_POOL,
    QIR_OP_GLOBAL_MAX_POOL, QIR_OP_CONCAT, QIR_OP_SPLIT, QIR_OP_SLICE,
    QIR_OP_RESHAPE, QIR_OP_IDENTITY, QIR_OP_REQUANTIZE, QIR_OP_QUANTIZE,
    QIR_OP_RESIZE, QIR_OP_TRANSPOSE, QIR_OP_CONV_TRANSPOSE2D, QIR_NUM_OPS};

const qir_target qir_target_ax650 = {
    .name = "ax650",
    .family = "ax",
    .summary = "Axera AX650N, 3 NPU cores (NPU1/NPU2/NPU3 modes)",
    .cores = 3,
    .macs_per_core = 3072,
    .clock_mhz = 976.0,
    .tops_int8 = 18.0,
    .sram_bytes = 4u << 20,
    .ddr_gbps = 34.1,
    .quant_scheme = QIR_QUANT_ASYM_U8,
    .has_int16 = true,
    .per_channel_weights = true,
    .ops = ax_ops,
    .limits = {.needs_4d = false, .max_outputs = 32, .max_channels = 16384,
               .max_spatial = 16384, .max_kernel = 15, .max_stride = 15,
               .max_pool_kernel = 32},
};

const qir_target qir_target_ax620e = {
    .name = "ax620e",
    .family = "ax",
    .summary = "Axera AX620E family (AX630C / AX620Q class), 1 NPU core",
    .cores = 1,
    .macs_per_core = 1600,
    .clock_mhz = 1000.0,
    .tops_int8 = 3.2,
    .sram_bytes = 1u << 20,
    .ddr_gbps = 8.5,
    .quant_scheme = QIR_QUANT_ASYM_U8,
    .has_int16 = true,
    .per_channel_weights = true,
    .ops = ax_ops,
    .limits = {.needs_4d = false, .max_outputs = 32, .max_channels = 8192,
               .max_spatial = 8192, .max_kernel = 15, .max_stride = 15,
               .max_pool_kernel = 32},
};

const qir_target qir_target_ax615 = {
    .name = "ax615",
    .family = "ax",
    .summary = "Axera AX615 class, 1 NPU core, int8 only",
    .cores = 1,
    .macs_per_core = 512,
    .clock_mhz = 1000.0,
    .tops_int8 = 1.0,
    .sram_bytes = 512u << 10,
    .ddr_gbps = 4.2,
    .quant_scheme = QIR_QUANT_ASYM_U8,
    .has_int16 = false,
    .per_channel_weights = true,
    .ops = ax615_ops,
    .limits = {.needs_4d = false, .max_outputs = 32, .max_channels = 4096,
               .max_spatial = 4096, .max_kernel = 11, .max_stride = 8,
               .max_pool_kernel = 16},
};
