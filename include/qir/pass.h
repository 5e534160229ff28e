/* qir/pass.h - passes, pipelines, the pass manager and plugins.
 *
 * A pass is a definition (name, summary, the IR unit it runs on, typed
 * options with defaults and help, a run function).  Built-in passes are
 * listed once in passes/passes.def; plugins register more.  A pipeline is a
 * string: "canonicalize,cse,quantize{method=kl bits=8}". */
#ifndef QIR_PASS_H
#define QIR_PASS_H

#include "qir/io.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef enum qir_pass_unit {
  QIR_PASS_ON_MODULE, /* run once per module */
  QIR_PASS_ON_FUNC    /* run once per function */
} qir_pass_unit;

typedef enum qir_opt_type {
  QIR_OPT_BOOL,
  QIR_OPT_INT,
  QIR_OPT_FLOAT,
  QIR_OPT_STRING
} qir_opt_type;

typedef struct qir_pass_option_def {
  const char *name;
  qir_opt_type type;
  const char *dflt; /* default, in the text form the option takes */
  const char *help;
} qir_pass_option_def;

typedef struct qir_pass qir_pass; /* a pass instance with its option values */

/* `unit` is the qir_module * or the qir_func * the pass runs on.  Returns
 * false after emitting an error when it fails; the pipeline then stops. */
typedef bool (*qir_pass_run_fn)(qir_pass *pass, void *unit);

typedef struct qir_pass_def {
  const char *name;    /* "canonicalize" */
  const char *summary; /* one line */
  qir_pass_unit unit;
  unsigned num_options;
  const qir_pass_option_def *options;
  qir_pass_run_fn run;
} qir_pass_def;

/* Registers a pass (the definition must outlive the context).  False when
 * the name is taken. */
bool qir_register_pass(qir_context *ctx, const qir_pass_def *def);
const qir_pass_def *qir_lookup_pass(const qir_context *ctx, const char *name);
void qir_foreach_pass_def(const qir_context *ctx,
                          void (*fn)(const qir_pass_def *d, void *user),
                          void *user);
/* Registers the passes of passes/passes.def (qir_context_create does). */
void qir_register_builtin_passes(qir_context *ctx);

/* Inside a run function. */
qir_context *qir_pass_context(const qir_pass *p);
const qir_pass_def *qir_pass_get_def(const qir_pass *p);
bool qir_pass_opt_bool(const qir_pass *p, const char *name);
int64_t qir_pass_opt_int(const qir_pass *p, const char *name);
double qir_pass_opt_float(const qir_pass *p, const char *name);
const char *qir_pass_opt_string(const qir_pass *p, const char *name);
/* Adds to a named statistic, printed by -pass-stats. */
void qir_pass_stat(qir_pass *p, const char *name, long delta);

typedef struct qir_pipeline qir_pipeline;

/* Parses a pipeline string.  Errors (unknown pass, unknown option, bad
 * value) are reported as `<pipeline>:1:COL: error: ...` and give NULL. */
qir_pipeline *qir_pipeline_parse(qir_context *ctx, const char *text);
void qir_pipeline_destroy(qir_pipeline *pl);
unsigned qir_pipeline_size(const qir_pipeline *pl);
/* Appends one pass with default options. */
bool qir_pipeline_add(qir_pipeline *pl, const char *pass_name);

typedef struct qir_pm_options {
  bool verify_each;        /* verify after every pass (default true) */
  bool print_after_all;    /* print the module after every pass */
  const char *print_after; /* comma list of pass names, or NULL */
  const char *print_before;
  bool time_passes;        /* table of wall time per pass on stderr */
  bool pass_stats;         /* statistics per pass on stderr */
  FILE *print_out;         /* where -print-after* goes (stderr if NULL) */
  const qir_print_options *print_opts;
} qir_pm_options;

void qir_pm_options_init(qir_pm_options *o);
/* Runs the passes in order; stops at the first failure (the pass has
 * reported why) or verifier failure (`error: verification failed after
 * pass 'NAME'`).  Returns true when every pass succeeded. */
bool qir_pipeline_run(qir_pipeline *pl, qir_module *m,
                      const qir_pm_options *o);

/* ---- Plugins -------------------------------------------------------------
 * A plugin is a shared object exporting
 *     const qir_plugin_info *qir_plugin_get_info(void);
 * whose api_version must equal QIR_PLUGIN_API_VERSION of the qir that loads
 * it.  Its register_fn registers passes (and ops) in the context. */
#define QIR_PLUGIN_API_VERSION 1
#define QIR_PLUGIN_ENTRY "qir_plugin_get_info"

typedef struct qir_plugin_info {
  uint32_t api_version;
  const char *name;
  const char *version;
  void (*register_fn)(qir_context *ctx);
} qir_plugin_info;

/* dlopens `path` and registers it.  Errors: cannot load, no entry point,
 * API version mismatch. */
bool qir_load_plugin(qir_context *ctx, const char *path);

#ifdef __cplusplus
}
#endif
#endif
