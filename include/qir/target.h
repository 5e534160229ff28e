/* qir/target.h - NPU targets: their descriptions and the registry.
 *
 * A target is one constant description (figures, limits, the quantization
 * scheme it takes, the ops it runs) plus a few optional hooks.  The shared
 * NPU model in backends/npu reads these fields; a new target is a new
 * description (backends/target-template/ is the skeleton), registered in
 * the table of backends/npu/target.c.  docs/Targets.md gives every figure
 * with its source or marks it as an assumption.
 *
 *   const qir_target *t = qir_target_lookup("ax650");
 *   if (t && !t->has_int16) ...
 *   for (unsigned i = 0; i < qir_target_count(); i++)
 *     puts(qir_target_at(i)->name);
 */
#ifndef QIR_TARGET_H
#define QIR_TARGET_H

#include "qir/ir.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Names of the quantization schemes (quant_scheme below):
 *   "sym-i8"   symmetric int8 activations (zero point 0), int8 weights;
 *   "asym-u8"  asymmetric uint8 activations, symmetric int8 weights;
 *   "pow2-i8"  symmetric int8 with power-of-two scales (shift-only
 *              requantization). */
#define QIR_QUANT_SYM_I8 "sym-i8"
#define QIR_QUANT_ASYM_U8 "asym-u8"
#define QIR_QUANT_POW2_I8 "pow2-i8"

/* Shape and size limits the legalizer checks (0: no limit). */
typedef struct qir_target_limits {
  bool needs_4d;            /* compute ops need 4-D (NCHW) activations */
  unsigned max_outputs;     /* model outputs; more is an error */
  int64_t max_chw;          /* C*H*W of one tensor, for the ops that have
                               the limit (reductions, softmax-like ops) */
  int64_t max_channels;     /* input or output channels of conv/matmul */
  int64_t max_spatial;      /* H or W of an activation */
  int64_t max_kernel;       /* kernel height or width of conv and pooling */
  int64_t max_stride;       /* stride of conv and pooling */
  int64_t max_pool_kernel;  /* kernel height or width of pooling */
} qir_target_limits;

typedef struct qir_target qir_target;

/* Optional per-target hooks (NULL: none). */
typedef struct qir_target_hooks {
  /* Extra legality rules after the shared ones.  Returns true when the op
   * can run on the NPU; else writes the reason (a short phrase such as
   * "dilation over 1 is not supported") into reason[0..size). */
  bool (*check_op)(const qir_target *t, const qir_op *op, char *reason,
                   size_t size);
} qir_target_hooks;

struct qir_target {
  const char *name;        /* "ax650" */
  const char *family;      /* "bpu" or "ax" */
  const char *summary;     /* one line for --print-targets */
  /* Machine figures (docs/Targets.md says which are published). */
  unsigned cores;          /* NPU cores (AX650: 3, the NPU3 mode) */
  unsigned macs_per_core;  /* int8 multiply-accumulates per cycle per core */
  double clock_mhz;        /* NPU clock */
  double tops_int8;        /* peak int8 TOPS (all cores) */
  uint64_t sram_bytes;     /* on-chip SRAM per core */
  double ddr_gbps;         /* DDR bandwidth, GB/s */
  /* Quantization. */
  const char *quant_scheme; /* QIR_QUANT_* */
  bool has_int16;          /* int16 activations/weights supported */
  bool per_channel_weights; /* per-output-channel weight scales */
  /* Ops the NPU runs: a list of QIR_OP_* ids ending with QIR_NUM_OPS. */
  const unsigned *ops;
  qir_target_limits limits;
  qir_target_hooks hooks;
};

/* The target named `name`, or NULL. */
const qir_target *qir_target_lookup(const char *name);
/* Iteration over all registered targets, in the order --print-targets
 * lists them. */
unsigned qir_target_count(void);
const qir_target *qir_target_at(unsigned i);
/* True when op id (QIR_OP_*) is in the target's op list. */
bool qir_target_has_op(const qir_target *t, unsigned op_id);
/* Peak int8 MACs per second with `cores` cores (0: all). */
double qir_target_peak_macs(const qir_target *t, unsigned cores);
/* Prints the table of --print-targets. */
void qir_target_print_all(FILE *out);

#ifdef __cplusplus
}
#endif
#endif
