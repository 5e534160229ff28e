/* qir/onnx.h - the ONNX frontend: import ONNX models into qir and export
 * qir modules back to ONNX (opset 17).  docs/ONNX.md describes the mapping
 * of every supported ONNX operator. */
#ifndef QIR_ONNX_H
#define QIR_ONNX_H

#include "qir/ir.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Opsets of the default ONNX domain the importer accepts. */
#define QIR_ONNX_MIN_OPSET 7
#define QIR_ONNX_MAX_OPSET 18
/* The opset the exporter writes. */
#define QIR_ONNX_EXPORT_OPSET 17

typedef struct qir_onnx_import_options {
  /* Fixed shapes of graph inputs, `x:1x3x640x640;y:1x16` (the
   * --input-shapes option); NULL for none.  Every dynamic input dimension
   * must be fixed here. */
  const char *input_shapes;
  /* Fold ops whose operands are all constants while importing.  Integer
   * (shape) computations fold even when this is false.  Default true. */
  bool fold_constants;
  /* Keep the float ops of a QDQ model between its quantize and dequantize
   * ops instead of folding them into ops on quantized types (the
   * --keep-qdq option).  Default false. */
  bool keep_qdq;
} qir_onnx_import_options;

void qir_onnx_import_options_init(qir_onnx_import_options *o);

/* Imports the ONNX model at `path` into a new module with one function
 * @main.  External data files are found relative to the model's folder.
 * On bad input emits every error it can find and returns NULL.  The module
 * is verified before it is returned. */
qir_module *qir_onnx_import_file(qir_context *ctx, const char *path,
                                 const qir_onnx_import_options *o);
/* Imports `len` bytes of a serialized ModelProto; `name` is used in
 * messages and `base_dir` (may be NULL: no external data allowed) locates
 * external data files. */
qir_module *qir_onnx_import_buffer(qir_context *ctx, const char *name,
                                   const void *buf, size_t len,
                                   const char *base_dir,
                                   const qir_onnx_import_options *o);

/* Folds the quantize/dequantize pairs of an imported QDQ model in `f`:
 * each quantizable op whose float operands all come from `dequantize` and
 * whose results all go to `quantize` becomes the op on quantized types,
 * and every op with a quantized result gets `q.fixed = true` (parameters
 * from the model, kept by calibration).  The importer runs it on QDQ models
 * unless keep_qdq is set. */
void qir_onnx_fold_qdq(qir_context *ctx, qir_func *f);

/* Serializes function @main (or the first function) of `m` as an ONNX
 * model of opset QIR_ONNX_EXPORT_OPSET into a malloc'd buffer.  Returns
 * NULL (with errors) when an op or a type has no ONNX form. */
void *qir_onnx_export_buffer(qir_context *ctx, qir_module *m, size_t *len);
/* Writes the model atomically to `path` (no file is left on failure). */
bool qir_onnx_export_file(qir_context *ctx, qir_module *m, const char *path);

/* The qir-translate tool: `--import-onnx` / `--export-onnx`.  Returns the
 * exit status. */
int qir_translate_main(int argc, char **argv);

#ifdef __cplusplus
}
#endif
#endif
