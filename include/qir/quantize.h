/* qir/quantize.h - quantizing a calibrated function from C.
 *
 * The passes calibrate, quantize, precision-analysis and
 * auto-mixed-precision (docs/Quantization.md) are the usual way in:
 *
 *   qir_pipeline *pl = qir_pipeline_parse(ctx,
 *       "calibrate{data=calib/ method=kl},quantize{scheme=asym-u8}");
 *
 * This header gives the quantize step itself to embedders (qir-build) that
 * hold their options in a struct rather than in a pipeline string. */
#ifndef QIR_QUANTIZE_H
#define QIR_QUANTIZE_H

#include "qir/ir.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct qir_quantize_options {
  const char *scheme;      /* "sym-i8", "asym-i8" (default), "asym-u8",
                              "pow2-i8" */
  const char *target;      /* a target name whose scheme wins; NULL: none */
  unsigned bits;           /* default precision of layers: 8 or 16 */
  const char *config;      /* mixed precision JSON (layer_configs); NULL */
  const char *input_scale; /* "x:0.0078125:0;y:0.5"; NULL */
  bool float_output;       /* the last conv2d/matmul/gemm of each path gives
                              f32 and what follows stays float (default) */
  const char *dump;        /* JSON dump of every tensor's parameters; NULL */
  FILE *report;            /* where the applied config table and the
                              bias-correction summary go (stderr; NULL:
                              no summary) */
} qir_quantize_options;

void qir_quantize_options_init(qir_quantize_options *o);

/* Quantizes f, which must carry calibration ranges (the calibrate pass).
 * Errors (no ranges, bad config, ...) go through f's context; false then,
 * with f unchanged. */
bool qir_quantize_func(qir_func *f, const qir_quantize_options *o);

#ifdef __cplusplus
}
#endif
#endif
