/* backends/target-template/template.c - the skeleton of a new NPU target.
 *
 * To add a target:
 *  1. copy this folder to backends/<family>/ (or add to an existing
 *     family's file) and rename `qir_target_template`;
 *  2. fill in the figures (say in docs/Targets.md which are published and
 *     which are assumptions), the quantization scheme, the op list and
 *     the limits;
 *  3. declare it in backends/npu/npu.h and add it to the table of
 *     backends/npu/target.c;
 *  4. add its file to backends/npu/Makefile.inc and a lit test of its
 *     legalization rules under tests/lit/npu/.
 * The shared NPU model (legalization, lowering, the artifact, the
 * emulator) then works for it unchanged.  This file is compiled (so the
 * template stays valid) but not registered. */
#include <string.h>

#include "backends/npu/npu.h"

static const unsigned template_ops[] = {
    QIR_OP_CONV2D, QIR_OP_ADD, QIR_OP_RELU, QIR_OP_MAX_POOL2D,
    QIR_OP_RESHAPE, QIR_NUM_OPS};

/* A target-specific rule on top of the shared ones: here, no dilated
 * convolutions. */
static bool template_check_op(const qir_target *t, const qir_op *op,
                              char *reason, size_t size) {
  int64_t d[2];
  (void)t;
  if (qir_op_is(op, QIR_OP_CONV2D) && qir_op_get_ints(op, "dilations", d, 2) == 2 &&
      (d[0] != 1 || d[1] != 1)) {
    snprintf(reason, size, "dilated convolution");
    return false;
  }
  return true;
}

const qir_target qir_target_template = {
    .name = "template",
    .family = "template",
    .summary = "A skeleton target (not registered)",
    .cores = 1,
    .macs_per_core = 256,
    .clock_mhz = 500.0,
    .tops_int8 = 0.256,
    .sram_bytes = 256u << 10,
    .ddr_gbps = 4.0,
    .quant_scheme = QIR_QUANT_SYM_I8,
    .has_int16 = false,
    .per_channel_weights = true,
    .ops = template_ops,
    .limits = {.needs_4d = true, .max_outputs = 32, .max_channels = 1024,
               .max_spatial = 2048, .max_kernel = 7, .max_stride = 2,
               .max_pool_kernel = 3},
    .hooks = {.check_op = template_check_op},
};
