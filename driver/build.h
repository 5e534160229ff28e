/* driver/build.h - the state of one qir-build run, shared by its steps
 * (driver/build-run.c), its reports (driver/report.c) and its compiler
 * check (driver/check.c). */
#ifndef QIR_DRIVER_BUILD_H
#define QIR_DRIVER_BUILD_H

#include "driver/build-internal.h"
#include "qir/target.h"

/* What the summary shows; each figure only when a step produced it. */
typedef struct build_summary {
  unsigned ops_float, ops_int8, ops_int16; /* quantized module, by results */
  unsigned ops_npu, ops_cpu;               /* placement */
  bool have_placement;
  double cosine; /* worst output cosine of the compiler check */
  char cosine_output[64]; /* the output that has it */
  bool have_cosine;
  char check_result[64]; /* "passed (equal, 1 sample)"; empty: no check */
  double fps, ddr_bytes;
  bool have_perf;
} build_summary;

typedef struct build {
  qir_context *ctx;
  const qir_build_config *c;
  const qir_build_options *o;
  build_outdir od;
  FILE *log;    /* build.log in the temporary output folder */
  FILE *out;    /* tables and progress: stdout, or NULL when quiet */
  qir_module *m; /* the module the steps work on */
  char *stem;   /* the model's file name without folder and extension */
  const qir_target *target;
  unsigned cores;
  char *float_qir; /* the optimized float module, in the output folder */
  char *quant_qir; /* the quantized module */
  build_summary sum;
  /* The previous diagnostics handler, restored at the end. */
  qir_diag_handler old_handler;
  void *old_user;
} build;

/* A line on stdout (unless quiet) and in build.log. */
void build_say(build *b, const char *fmt, ...) QIR_PRINTF(2, 3);
/* Only in build.log. */
void build_log(build *b, const char *fmt, ...) QIR_PRINTF(2, 3);
/* Opens build.log and routes diagnostics to stderr and to it. */
bool build_log_open(build *b);
void build_log_close(build *b);

/* A text table: header, rows, printed with aligned columns. */
typedef struct build_table build_table;
build_table *build_table_new(unsigned ncols, const char *const *headers);
/* Adds a row of ncols cells (copied). */
void build_table_row(build_table *t, const char *const *cells);
/* Prints with a title on stdout (unless quiet) and in build.log, then
 * frees the table. */
void build_table_emit(build *b, build_table *t, const char *title);

/* Tables of the inputs' calibration configuration and of the layers'
 * precision. */
/* counts[i]: the samples input i calibrates with. */
void build_report_inputs(build *b, qir_func *f, const size_t *counts);
void build_report_layers(build *b, qir_func *f);
/* The one-screen summary at the end. */
void build_report_summary(build *b, double seconds);

/* Element precision of a type: the storage scalar ("u8", "i16", "f32"),
 * "i4"/"u4" for quantized types of at most 16 levels. */
const char *build_precision_of(const qir_type *t);

/* The compiler check: runs the artifact in the emulator and the quantized
 * module in the interpreter on the same inputs and compares their outputs
 * at the configured level. */
bool build_check_artifact(build *b, const char *artifact);

/* ---- Inputs (driver/inputs.c, driver/preprocess.c) ---------------------- */

/* The ONNX name of input or output i of an imported function (attr is
 * "onnx.inputs" or "onnx.outputs"), or NULL. */
const char *build_onnx_name(qir_func *f, const char *attr, unsigned i);
/* The element of the array of objects at list_path ("quant.input_configs",
 * "input_processors") whose tensor_name is f's input i (by its name or
 * its ONNX name), else the first DEFAULT one; NULL: none. */
json_object *build_find_for_input(const build *b, const char *list_path,
                                  qir_func *f, unsigned i);

/* How the data reader prepares the samples of one input. */
typedef struct build_input_data {
  const char *dataset, *format, *channel_order;
  bool nhwc;
  bool in_model; /* the model does the preprocessing (input_processors) */
  long long samples;
  unsigned nmean, nstd;
  double mean[4], std[4];
} build_input_data;

/* The data of f's input i; false (with an error) when no input config
 * serves it. */
bool build_input_data_of(build *b, qir_func *f, unsigned i,
                         build_input_data *d);
/* Appends the calibrate pass's data options (data, samples, preprocessing)
 * for f's inputs. */
bool build_data_options(build *b, qir_func *f, FILE *out);
/* Appends ` name="value"` to a pipeline's options. */
void build_opt_append(FILE *f, const char *name, const char *value);
/* The samples of f's inputs (limit > 0 keeps the first `limit`); NULL
 * after an error. */
struct qir_dataset *build_open_dataset(build *b, qir_func *f, size_t limit);

/* Inserts the conversion ops of input_processors at the start of f. */
bool build_insert_preprocessing(build *b, qir_func *f);
/* When input i of f (already converted) has an input processor: the
 * channel order and layout of the deployed input. */
bool build_processor_source(const build *b, qir_func *f, unsigned i,
                            const char **channel_order, bool *nhwc);

#endif
