/* quant/quant.h - private declarations of the quantization component:
 * observers and range choice, samples, the quantize rewrite, mixed
 * precision configs, precision analysis. */
#ifndef QIR_QUANT_QUANT_H
#define QIR_QUANT_QUANT_H

#include "qir/qir.h"
#include "qir/builder.h"
#include "qir/interp.h"
#include "qir/quant.h"
#include "qir/quantize.h"

/* ---- Attributes the passes write (docs/Quantization.md) -----------------
 * q.range  = [lo0, hi0, lo1, hi1, ...]: the chosen range of each result of
 *            the op (a function: of each argument, attribute q.arg_range);
 * q.minmax = the same layout, the observed minimum and maximum;
 * q.method = "kl": how q.range was chosen;
 * q.fixed  = true: the op's ranges came from the model (QDQ import) and
 *            calibration keeps them;
 * q.bias_correction = [c0, c1, ...]: per output channel of a conv2d/gemm,
 *            the mean error of its int8 result, which quantize subtracts
 *            from the bias (the bias-correction pass). */
#define QQ_ATTR_RANGE "q.range"
#define QQ_ATTR_MINMAX "q.minmax"
#define QQ_ATTR_ARG_RANGE "q.arg_range"
#define QQ_ATTR_ARG_MINMAX "q.arg_minmax"
#define QQ_ATTR_METHOD "q.method"
#define QQ_ATTR_FIXED "q.fixed"
#define QQ_ATTR_BIAS_CORRECTION "q.bias_correction"
/* On the function: the scheme the corrections were measured with; quantize
 * ignores them under a scheme whose weights round otherwise (pow2-i8
 * against the others). */
#define QQ_ATTR_BIAS_SCHEME "q.bias_correction_scheme"

/* The q.bias_correction of op into out[0..ch) (zeros and false when it has
 * none of that size). */
bool qq_bias_correction(const qir_op *op, double *out, int64_t ch);

/* ---- Observers (quant/observe.c) ------------------------------------------
 * Statistics of one tensor over all samples: min/max, and a histogram over
 * the symmetric range [-absmax, absmax] in 2 * nbins bins (bin i covers
 * [-absmax + i * w, -absmax + (i + 1) * w), w = absmax / nbins). */
typedef struct qq_stats {
  double lo, hi;   /* observed minimum and maximum (lo > hi: nothing seen) */
  bool nonfinite;  /* a NaN or infinity was seen (and ignored) */
  double absmax;   /* histogram range, fixed after the min/max pass */
  unsigned nbins;  /* bins per sign; 0: no histogram */
  double *counts;  /* 2 * nbins */
} qq_stats;

void qq_stats_init(qq_stats *s);
void qq_stats_free(qq_stats *s);
void qq_stats_add_minmax(qq_stats *s, const float *x, int64_t n);
/* Fixes the histogram range from the observed min/max. */
void qq_stats_start_histogram(qq_stats *s, unsigned nbins);
void qq_stats_add_histogram(qq_stats *s, const float *x, int64_t n);

typedef enum qq_method {
  QQ_MINMAX,
  QQ_PERCENTILE,
  QQ_MSE,
  QQ_KL,
  QQ_AUTO /* the best of minmax, percentile and mse end to end */
} qq_method;

bool qq_method_from_name(const char *s, qq_method *out);
const char *qq_method_name(qq_method m);
static inline bool qq_method_needs_histogram(qq_method m) {
  return m != QQ_MINMAX;
}

/* Chooses the range [*lo, *hi] of a tensor for `levels` quantization
 * steps (255 for 8 bits): minmax keeps the observed range; percentile
 * clips both tails at `percentile` (e.g. 99.99); mse minimizes the
 * expected squared error of rounding plus clipping; kl is TensorRT's
 * entropy calibration on |x|.  The range always contains 0. */
void qq_choose_range(const qq_stats *s, qq_method m, double percentile,
                     unsigned levels, double *lo, double *hi);

/* ---- Samples (quant/samples.c) --------------------------------------------
 * Calibration or evaluation inputs of a function: a dataset (data=) or
 * seeded random tensors (random=N). */
typedef struct qq_samples qq_samples;

/* Opens the samples the pass's options name (data/samples/random/...);
 * NULL after an error.  An opened set is never empty (an empty folder is
 * an error). */
qq_samples *qq_samples_open(qir_pass *pass, qir_func *f);
size_t qq_samples_count(const qq_samples *s);
/* One allocated tensor per function input (free with
 * qir_tensor_free_data). */
bool qq_samples_load(qq_samples *s, size_t i, qir_tensor *inputs);
const char *qq_samples_name(qq_samples *s, size_t i);
void qq_samples_close(qq_samples *s);
bool qq_samples_progress(const qq_samples *s);

/* An interpreter of f that calls observer(op, result, tensor, user) on
 * every op result (NULL after an error). */
qir_interp *qq_observed_interp(qir_func *f, qir_interp_observer observer,
                               void *user);

/* Loads sample i into the interpreter's inputs and runs it. */
bool qq_run_sample(qq_samples *s, size_t i, qir_interp *it);

/* ---- Ranges stored in the IR ---------------------------------------------- */

/* The chosen / observed range of v (false when it has none). */
bool qq_value_range(const qir_value *v, double *lo, double *hi);
bool qq_value_minmax(const qir_value *v, double *lo, double *hi);
/* True for a float tensor (f32/f16/bf16/f64). */
bool qq_is_float_tensor(const qir_type *t);

/* ---- Cross-layer equalization (quant/equalize.c) ------------------------
 * Equalizes the conv2d pairs of f (at most `sweeps` sweeps): by the
 * largest |x| per channel of each pair's first result on the samples when
 * smp is given, else by weight ranges; with samples and shared, first
 * the other tensors whose channels can be scaled (a pair's first result
 * has one reader; these may have several).  sweeps 0: those alone.
 * With undo, records
 * what it replaced: qq_undo_apply takes it all back exactly (and frees the
 * record).  Counts the pairs and the shared tensors changed in *n; false
 * after an error. */
typedef struct qq_undo qq_undo;
typedef struct qq_eq_counts {
  unsigned pairs;  /* conv2d pairs */
  unsigned shared; /* other tensors whose channels were scaled */
} qq_eq_counts;
bool qq_equalize(qir_func *f, qq_samples *smp, unsigned sweeps, bool shared,
                 qq_undo **undo, qq_eq_counts *n);
void qq_undo_apply(qq_undo *u);
void qq_undo_free(qq_undo *u);

/* ---- Cloning (quant/clone.c) ----------------------------------------------
 * Copies f into a new module of the same context.  map[i] receives the
 * copy of the i-th op of f's body (in block order); the caller frees it. */
qir_module *qq_clone_func(qir_func *f, qir_func **out, qir_op ***map);

/* ---- Mixed precision (quant/config.c) ------------------------------------ */

typedef enum qq_prec {
  QQ_PREC_DEFAULT = 0,
  QQ_PREC_INT8,
  QQ_PREC_INT16,
  QQ_PREC_FLOAT
} qq_prec;

const char *qq_prec_name(qq_prec p);
bool qq_prec_from_name(const char *s, qq_prec *out);

/* Where a layer's precision came from (for the applied-config table). */
typedef enum qq_rule_kind {
  QQ_RULE_NONE,
  QQ_RULE_LAYER,
  QQ_RULE_OP_TYPE,
  QQ_RULE_SUBGRAPH
} qq_rule_kind;

typedef struct qq_rule {
  qq_rule_kind kind;
  qq_prec prec;
  const char **names;   /* layer names or op types */
  unsigned num_names;
  const char **starts, **ends; /* subgraph tensor names */
  unsigned num_starts, num_ends;
  unsigned line_index;  /* position in layer_configs, for messages */
} qq_rule;

typedef struct qq_config {
  qq_rule *rules;
  unsigned num_rules;
  qq_prec output_prec; /* "output_data_type": the final conv/matmul results */
} qq_config;

/* Reads a JSON config file.  Errors name the file and the entry. */
bool qq_config_load(qir_context *ctx, const char *path, qq_config *c);
void qq_config_free(qq_config *c);
/* Gives each op of f its precision (op->aux = qq_prec, rule in rules[]):
 * layer > op type > subgraph.  Errors for names that match nothing. */
bool qq_config_apply(const qq_config *c, qir_func *f, qq_prec *precs,
                     const qq_rule **why);
void qq_config_print_table(FILE *out, qir_func *f, const qq_prec *precs,
                           const qq_rule **why);
/* Writes a config giving precs (non-default entries) as layer rules. */
bool qq_config_write(qir_context *ctx, const char *path, qir_func *f,
                     const qq_prec *precs);

/* ---- The quantize rewrite (quant/quantize.c) ----------------------------- */

/* The scheme name options o resolve to (a target's own; NULL for an
 * unknown target). */
const char *qq_scheme_name(const qir_quantize_options *o);
/* Reads the quantize options of a pass (QIR_QUANT_OPTS of passes.def). */
bool qq_options_from_pass(qir_pass *pass, qir_quantize_options *o);
/* The quantize rewrite with per-op precision overrides (indexed by op
 * position in the body; NULL: none); quiet: no config table. */
bool qq_quantize(qir_func *f, const qir_quantize_options *o,
                 const qq_prec *overrides, bool quiet);
/* The layer name of an op: its first result's name ("" when anonymous). */
const char *qq_layer_name(const qir_op *op);
/* True when the quantize rewrite may quantize this op at all. */
bool qq_op_is_layer(const qir_op *op);

/* ---- Bias correction (quant/biascorr.c) ----------------------------------
 * Stores q.bias_correction on the conv2d/gemm layers of the calibrated
 * float function f that quantize (with options o) runs on int8 inputs:
 * the mean error their int8 weights and inputs add, over the samples. */
bool qq_correct_biases(qir_func *f, const qir_quantize_options *o,
                       qq_samples *smp);

/* Does v reach only `return`, maybe through data movement?  Such values
 * (model outputs) are quantized over their min/max, never clipped. */
bool qq_reaches_only_return(const qir_value *v);

/* ---- Comparisons (quant/analysis.c) --------------------------------------- */

typedef struct qq_err {
  double dot, na, nb; /* sums of a*b, a*a, b*b */
  double sq, maxabs;  /* squared error, max abs error */
  double n;           /* elements */
} qq_err;

void qq_err_add(qq_err *e, const float *ref, const float *x, int64_t n);
double qq_err_cosine(const qq_err *e);
double qq_err_mse(const qq_err *e);
/* |ref - x|_2 / |ref|_2 */
double qq_err_relative(const qq_err *e);

/* The end-to-end worst output cosine (pooled over the samples) of f
 * quantized with options o against f, its searched ranges (not fixed, not
 * of model outputs) scaled by factor[k] of its k-th op (NULL: as they
 * are); `label` names the progress bar. */
bool qq_e2e_cosine(qir_func *f, const qir_quantize_options *o,
                   qq_samples *smp, const double *factor, const char *label,
                   double *cos);

/* A tensor as f32 (dequantized when quantized); malloc'd. */
float *qq_tensor_to_f32(const qir_tensor *t);

/* ---- Task views of precision-analysis (quant/task.c) ---------------------- */

typedef enum qq_task_kind { QQ_TASK_ARGMAX, QQ_TASK_IOU, QQ_TASK_TOPK } qq_task_kind;

typedef struct qq_task {
  unsigned output;    /* the function result it looks at */
  qq_task_kind kind;
  double param;       /* iou: the threshold; topk: K */
  double hits, total; /* pooled: agreeing rows / rows, |A and B| / |A or B|,
                         shared top elements / K per sample */
  double *per_sample; /* hits / total of each sample */
  size_t nsamples;
} qq_task;

/* Parses `task=` (`OUTPUT:KIND[:PARAM]` separated by ';'); false with an
 * error emitted on f's location. */
bool qq_tasks_parse(qir_func *f, const char *spec, qq_task **tasks,
                    unsigned *n);
void qq_tasks_free(qq_task *tasks, unsigned n);
/* Forgets the samples seen (a new evaluation). */
void qq_tasks_reset(qq_task *tasks, unsigned n);
/* Adds one sample of the task's output: ref from the float model, x from
 * the quantized one, n elements, the last axis last_dim long. */
void qq_task_add(qq_task *t, const float *ref, const float *x, int64_t n,
                 int64_t last_dim);
double qq_task_pooled(const qq_task *t);
double qq_task_worst(const qq_task *t);
const char *qq_task_kind_name(qq_task_kind k);
void qq_task_describe(const qq_task *t, char *buf, size_t n);

#endif
