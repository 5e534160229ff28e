/* quant/analysis.c - precision analysis and automatic mixed precision.
 *
 * Both run on the calibrated float function F.  An evaluation quantizes a
 * copy Q of F (with per-layer precision overrides), runs F and Q on every
 * sample, and compares each layer's result in Q (dequantized) with the
 * same layer's result in F, and each output of Q with F's: cosine, mean
 * squared error, max abs error, relative error, over all samples.
 * auto-mixed-precision repeats evaluations, promoting the layers where the
 * error grows most, until every output reaches the target cosine. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "qir/progress.h"
#include "qir/target.h"
#include "quant/quant.h"

/* ---- Error accumulators ------------------------------------------------- */

void qq_err_add(qq_err *e, const float *ref, const float *x, int64_t n) {
  for (int64_t i = 0; i < n; i++) {
    double a = ref[i], b = x[i], d = a - b;
    if (!isfinite(a) || !isfinite(b))
      continue;
    e->dot += a * b;
    e->na += a * a;
    e->nb += b * b;
    e->sq += d * d;
    e->maxabs = fmax(e->maxabs, fabs(d));
    e->n += 1;
  }
}

double qq_err_cosine(const qq_err *e) {
  if (e->na == 0 && e->nb == 0)
    return 1.0;
  if (e->na == 0 || e->nb == 0)
    return 0.0;
  return e->dot / (sqrt(e->na) * sqrt(e->nb));
}

double qq_err_mse(const qq_err *e) { return e->n ? e->sq / e->n : 0.0; }

double qq_err_relative(const qq_err *e) {
  return e->na > 0 ? sqrt(e->sq) / sqrt(e->na) : sqrt(e->sq);
}

/* ---- One evaluation --------------------------------------------------------- */

typedef struct eval {
  qir_func *f;
  unsigned nops;
  qir_op **fops;       /* F's ops in order; F op->aux = index + 1 */
  bool *compared;      /* per F op: a layer with a quantized counterpart */
  const char **qdtype; /* per F op: the element type in Q */
  bool *quantized;     /* per F op: Q's op has a quantized operand or result
                          (a high-precision output has only operands) */
  qq_err *layer;       /* per F op (result 0) */
  qq_err *out;         /* per output */
  double *sample_cos;  /* per sample and output: [i * num_results + o] */
  size_t nsamples;     /* samples compared so far */
  char **sample_names; /* their names */
  qq_task *tasks;      /* task views (precision-analysis task=) */
  unsigned ntasks;
  float **ref;         /* per F op: F's result of the current sample */
  int64_t *ref_n;
} eval;

static void eval_init(eval *e, qir_func *f) {
  memset(e, 0, sizeof *e);
  e->f = f;
  e->nops = f->body.num_ops;
  e->fops = qir_xcalloc(e->nops + 1, sizeof *e->fops);
  e->compared = qir_xcalloc(e->nops + 1, sizeof *e->compared);
  e->qdtype = qir_xcalloc(e->nops + 1, sizeof *e->qdtype);
  e->quantized = qir_xcalloc(e->nops + 1, sizeof *e->quantized);
  e->layer = qir_xcalloc(e->nops + 1, sizeof *e->layer);
  e->out = qir_xcalloc(f->num_results + 1, sizeof *e->out);
  e->ref = qir_xcalloc(e->nops + 1, sizeof *e->ref);
  e->ref_n = qir_xcalloc(e->nops + 1, sizeof *e->ref_n);
  unsigned k = 0;
  qir_foreach_op(op, &f->body) {
    e->fops[k++] = op;
    op->aux = (intptr_t)k;
  }
}

static void eval_clear_names(eval *e) {
  for (size_t i = 0; i < e->nsamples; i++)
    free(e->sample_names[i]);
  free(e->sample_names);
  e->sample_names = NULL;
}

static void eval_free(eval *e) {
  for (unsigned k = 0; k < e->nops; k++)
    free(e->ref[k]);
  free(e->fops);
  free(e->compared);
  free(e->qdtype);
  free(e->quantized);
  free(e->layer);
  free(e->out);
  free(e->ref);
  free(e->ref_n);
  free(e->sample_cos);
  qq_tasks_free(e->tasks, e->ntasks);
  eval_clear_names(e);
}

static void eval_reset(eval *e) {
  memset(e->layer, 0, e->nops * sizeof *e->layer);
  memset(e->out, 0, e->f->num_results * sizeof *e->out);
  memset(e->compared, 0, e->nops * sizeof *e->compared);
  memset(e->quantized, 0, e->nops * sizeof *e->quantized);
  qq_tasks_reset(e->tasks, e->ntasks);
  eval_clear_names(e);
  e->nsamples = 0;
}

/* Records one sample's cosine per output: the pooled cosine favours the
 * samples with large outputs, the per-sample ones show the worst image. */
static void add_sample_cosines(eval *e, const char *name, const qq_err *errs) {
  unsigned no = e->f->num_results;
  e->sample_names = qir_xrealloc(e->sample_names,
                                 (e->nsamples + 1) * sizeof *e->sample_names);
  e->sample_names[e->nsamples] = qir_xstrdup(name);
  e->sample_cos = qir_xrealloc(e->sample_cos,
                               (e->nsamples + 1) * (no + 1) * sizeof *e->sample_cos);
  for (unsigned o = 0; o < no; o++)
    e->sample_cos[e->nsamples * no + o] = qq_err_cosine(&errs[o]);
  e->nsamples++;
}

static int cmp_double(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return x < y ? -1 : x > y;
}

/* The median and the worst per-sample cosine of output o. */
static void sample_cosine_stats(const eval *e, unsigned o, double *median,
                                double *worst) {
  size_t n = e->nsamples;
  unsigned no = e->f->num_results;
  *median = *worst = 1.0;
  if (!n)
    return;
  double *v = qir_xmalloc(n * sizeof *v);
  for (size_t i = 0; i < n; i++)
    v[i] = e->sample_cos[i * no + o];
  qsort(v, n, sizeof *v, cmp_double);
  *worst = v[0];
  *median = n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
  free(v);
}

static bool is_compared_layer(const qir_op *op) {
  return !qir_op_is(op, QIR_OP_CONSTANT) && !qir_op_is(op, QIR_OP_RETURN) &&
         op->num_results && qq_is_float_tensor(op->results[0].type);
}

static void observe_float(const qir_op *op, unsigned r, const qir_tensor *t,
                          void *user) {
  eval *e = user;
  unsigned k = (unsigned)op->aux - 1;
  if (r || op->aux <= 0 || !e->compared[k])
    return;
  free(e->ref[k]);
  e->ref[k] = qq_tensor_to_f32(t);
  e->ref_n[k] = qir_tensor_numel(t);
}

static void observe_quant(const qir_op *op, unsigned r, const qir_tensor *t,
                          void *user) {
  eval *e = user;
  if (r || op->aux <= 0)
    return;
  unsigned k = (unsigned)op->aux - 1;
  if (!e->ref[k] || e->ref_n[k] != qir_tensor_numel(t))
    return;
  float *x = qq_tensor_to_f32(t);
  qq_err_add(&e->layer[k], e->ref[k], x, e->ref_n[k]);
  free(x);
}

static bool is_quantized_op(const qir_op *x) {
  for (unsigned i = 0; i < x->num_operands; i++)
    if (qir_tensor_is_quant(qir_op_operand(x, i)->type))
      return true;
  return x->num_results && qir_tensor_is_quant(x->results[0].type);
}

/* Q's ops answer to F's indices (op->aux); records Q's element types. */
static void link_copy(eval *e, qir_func *q, qir_op **map) {
  qir_foreach_op(op, &q->body) op->aux = 0;
  for (unsigned k = 0; k < e->nops; k++) {
    if (!is_compared_layer(e->fops[k]))
      continue;
    map[k]->aux = (intptr_t)k + 1;
    e->compared[k] = true;
    e->quantized[k] = is_quantized_op(map[k]);
    const qir_type *t = map[k]->results[0].type;
    e->qdtype[k] = qir_tensor_is_quant(t)
                       ? qir_scalar_name(t->elem->scalar)
                       : qir_scalar_name(t->scalar);
  }
}

/* Adds one sample of output o (ref from F, x from Q) to its task views. */
static void add_tasks(eval *e, unsigned o, const qir_tensor *t,
                      const float *ref, const float *x) {
  int64_t last = t->rank ? t->dims[t->rank - 1] : 1;
  for (unsigned i = 0; i < e->ntasks; i++)
    if (e->tasks[i].output == o)
      qq_task_add(&e->tasks[i], ref, x, qir_tensor_numel(t), last);
}

static bool run_both(eval *e, qq_samples *smp, size_t i, qir_interp *fi,
                     qir_interp *qi) {
  unsigned n = qir_interp_num_inputs(fi);
  qir_tensor *in = qir_xcalloc(n + 1, sizeof *in);
  bool ok = qq_samples_load(smp, i, in);
  bool loaded = ok;
  for (unsigned k = 0; ok && k < n; k++)
    ok = qir_interp_set_input(fi, k, &in[k]) &&
         qir_interp_set_input(qi, k, &in[k]);
  ok = ok && qir_interp_run(fi) && qir_interp_run(qi);
  unsigned no = ok ? qir_interp_num_outputs(fi) : 0;
  qq_err *one = qir_xcalloc(no + 1, sizeof *one);
  for (unsigned o = 0; o < no; o++) {
    const qir_tensor *a = qir_interp_output(fi, o), *b = qir_interp_output(qi, o);
    float *fa = qq_tensor_to_f32(a), *fb = qq_tensor_to_f32(b);
    if (qir_tensor_numel(a) == qir_tensor_numel(b)) {
      qq_err_add(&e->out[o], fa, fb, qir_tensor_numel(a));
      qq_err_add(&one[o], fa, fb, qir_tensor_numel(a));
      add_tasks(e, o, a, fa, fb);
    }
    free(fa);
    free(fb);
  }
  if (ok)
    add_sample_cosines(e, qq_samples_name(smp, i), one);
  free(one);
  for (unsigned k = 0; loaded && k < n; k++)
    qir_tensor_free_data(&in[k]);
  free(in);
  return ok;
}

static bool eval_run(eval *e, const qir_quantize_options *o,
                     const qq_prec *precs, qq_samples *smp, const char *label) {
  eval_reset(e);
  qir_func *q;
  qir_op **map;
  qir_module *qm = qq_clone_func(e->f, &q, &map);
  bool ok = qq_quantize(q, o, precs, true);
  if (ok)
    link_copy(e, q, map);
  qir_interp *fi = ok ? qq_observed_interp(e->f, observe_float, e) : NULL;
  qir_interp *qi = fi ? qq_observed_interp(q, observe_quant, e) : NULL;
  ok = qi != NULL;
  size_t n = qq_samples_count(smp);
  qir_progress *pg = ok && qq_samples_progress(smp)
                         ? qir_progress_start(stderr, label, n)
                         : NULL;
  for (size_t i = 0; ok && i < n; i++) {
    ok = run_both(e, smp, i, fi, qi);
    if (pg)
      qir_progress_update(pg, i + 1);
  }
  if (pg)
    qir_progress_finish(pg);
  qir_interp_destroy(qi);
  qir_interp_destroy(fi);
  free(map);
  qir_module_destroy(qm);
  return ok;
}

/* The worst output cosine: pooled over the samples, or (worst_sample) the
 * worst single sample's. */
static double min_output_cosine(const eval *e, bool worst_sample) {
  double m = 1.0;
  for (unsigned o = 0; o < e->f->num_results; o++) {
    double median, worst;
    sample_cosine_stats(e, o, &median, &worst);
    m = fmin(m, worst_sample ? worst : qq_err_cosine(&e->out[o]));
  }
  return m;
}

/* ---- Reports -------------------------------------------------------------- */

static const char *op_label(const qir_op *op) {
  const char *onnx = qir_op_get_string(op, "onnx.name");
  return onnx ? onnx : qq_layer_name(op);
}

static void shape_text(const qir_type *t, char *buf, size_t n) {
  size_t len = 0;
  buf[0] = 0;
  for (unsigned d = 0; d < t->rank && len + 24 < n; d++)
    len += (size_t)snprintf(buf + len, n - len, d ? "x%lld" : "%lld",
                            (long long)t->dims[d]);
}

static void print_table(const eval *e, FILE *out, bool outputs) {
  int w = 8;
  for (unsigned k = 0; k < e->nops; k++)
    if (e->compared[k] && (int)strlen(op_label(e->fops[k])) > w)
      w = (int)strlen(op_label(e->fops[k]));
  w = w > 60 ? 60 : w;
  fprintf(out, "%-*s  %-16s  %-20s  %-5s  %-6s  %-9s  %-10s  %-10s  %s\n", w,
          "Operator", "Type", "Shape", "DType", "QDType", "Cosine", "MSE",
          "MaxAbsErr", "RelErr");
  char shape[64];
  for (unsigned k = 0; k < e->nops; k++) {
    if (!e->compared[k])
      continue;
    const qir_op *op = e->fops[k];
    const qq_err *er = &e->layer[k];
    shape_text(op->results[0].type, shape, sizeof shape);
    fprintf(out, "%-*.*s  %-16s  %-20s  %-5s  %-6s  %-9.6f  %-10.4g  %-10.4g  %.4g\n",
            w, w, op_label(op), op->def->name, shape,
            qir_scalar_name(op->results[0].type->scalar), e->qdtype[k],
            qq_err_cosine(er), qq_err_mse(er), er->maxabs, qq_err_relative(er));
  }
  for (unsigned o = 0; outputs && o < e->f->num_results; o++) {
    double median, worst;
    sample_cosine_stats(e, o, &median, &worst);
    fprintf(out, "output #%u: cosine %.6f, MSE %.4g, max abs error %.4g; "
            "per sample: median cosine %.6f, worst %.6f\n", o,
            qq_err_cosine(&e->out[o]), qq_err_mse(&e->out[o]),
            e->out[o].maxabs, median, worst);
  }
  for (unsigned i = 0; outputs && i < e->ntasks; i++) {
    const qq_task *t = &e->tasks[i];
    char what[64];
    qq_task_describe(t, what, sizeof what);
    fprintf(out, "output #%u: %s %.6f; per sample: worst %.6f\n", t->output,
            what, qq_task_pooled(t), qq_task_worst(t));
  }
}

static json_object *err_json(const qq_err *er) {
  json_object *o = json_object_new_object();
  json_object_object_add(o, "cosine", json_object_new_double(qq_err_cosine(er)));
  json_object_object_add(o, "mse", json_object_new_double(qq_err_mse(er)));
  json_object_object_add(o, "max_abs_error", json_object_new_double(er->maxabs));
  json_object_object_add(o, "relative_error",
                         json_object_new_double(qq_err_relative(er)));
  return o;
}

static bool write_text(qir_context *ctx, const char *path, const char *text) {
  qir_output out;
  if (!qir_output_open(ctx, &out, path, false))
    return false;
  fputs(text, out.fp);
  return qir_output_commit(ctx, &out);
}

/* Each output's pooled errors, with its per-sample cosines (in sample
 * order), their median and the worst. */
static json_object *outputs_json(const eval *e) {
  json_object *outs = json_object_new_array();
  unsigned no = e->f->num_results;
  for (unsigned o = 0; o < no; o++) {
    json_object *j = err_json(&e->out[o]);
    double median, worst;
    sample_cosine_stats(e, o, &median, &worst);
    json_object_object_add(j, "median_sample_cosine", json_object_new_double(median));
    json_object_object_add(j, "worst_sample_cosine", json_object_new_double(worst));
    json_object *per = json_object_new_array();
    for (size_t i = 0; i < e->nsamples; i++)
      json_object_array_add(per, json_object_new_double(e->sample_cos[i * no + o]));
    json_object_object_add(j, "sample_cosines", per);
    json_object_array_add(outs, j);
  }
  return outs;
}

/* Each task view: its output, kind, parameter, the pooled figure, and
 * every sample's. */
static json_object *tasks_json(const eval *e) {
  json_object *arr = json_object_new_array();
  for (unsigned i = 0; i < e->ntasks; i++) {
    const qq_task *t = &e->tasks[i];
    json_object *j = json_object_new_object();
    json_object_object_add(j, "output", json_object_new_int((int)t->output));
    json_object_object_add(j, "task", json_object_new_string(qq_task_kind_name(t->kind)));
    if (t->kind == QQ_TASK_IOU) {
      char num[32]; /* as written, not 0.40050000000000002 */
      snprintf(num, sizeof num, "%.9g", t->param);
      json_object_object_add(j, "threshold", json_object_new_double_s(t->param, num));
    }
    if (t->kind == QQ_TASK_TOPK)
      json_object_object_add(j, "k", json_object_new_int((int)t->param));
    json_object_object_add(j, "pooled", json_object_new_double(qq_task_pooled(t)));
    json_object_object_add(j, "worst_sample", json_object_new_double(qq_task_worst(t)));
    json_object *per = json_object_new_array();
    for (size_t k = 0; k < t->nsamples; k++)
      json_object_array_add(per, json_object_new_double(t->per_sample[k]));
    json_object_object_add(j, "per_sample", per);
    json_object_array_add(arr, j);
  }
  return arr;
}

static bool write_json(const eval *e, qir_context *ctx, const char *path,
                       const char *mode) {
  json_object *root = json_object_new_object(), *layers = json_object_new_array();
  json_object_object_add(root, "mode", json_object_new_string(mode));
  char shape[64];
  for (unsigned k = 0; k < e->nops; k++) {
    if (!e->compared[k])
      continue;
    const qir_op *op = e->fops[k];
    json_object *l = err_json(&e->layer[k]);
    json_object_object_add(l, "operator", json_object_new_string(op_label(op)));
    json_object_object_add(l, "type", json_object_new_string(op->def->name));
    json_object_object_add(l, "output", json_object_new_string(qq_layer_name(op)));
    shape_text(op->results[0].type, shape, sizeof shape);
    json_object_object_add(l, "shape", json_object_new_string(shape));
    json_object_object_add(l, "dtype", json_object_new_string(
                               qir_scalar_name(op->results[0].type->scalar)));
    json_object_object_add(l, "qdtype", json_object_new_string(e->qdtype[k]));
    json_object_array_add(layers, l);
  }
  json_object_object_add(root, "layers", layers);
  json_object_object_add(root, "outputs", outputs_json(e));
  if (e->ntasks)
    json_object_object_add(root, "tasks", tasks_json(e));
  json_object *names = json_object_new_array();
  for (size_t i = 0; i < e->nsamples; i++)
    json_object_array_add(names, json_object_new_string(e->sample_names[i]));
  json_object_object_add(root, "samples", names);
  bool ok = write_text(ctx, path, json_object_to_json_string_ext(
                                      root, JSON_C_TO_STRING_PRETTY |
                                                JSON_C_TO_STRING_NOSLASHESCAPE));
  json_object_put(root);
  return ok;
}

/* Appends printf output to a growing buffer. */
typedef struct sbuf {
  char *s;
  size_t n, cap;
} sbuf;

static void sb_printf(sbuf *b, const char *fmt, ...) QIR_PRINTF(2, 3);
static void sb_printf(sbuf *b, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  int need = vsnprintf(NULL, 0, fmt, ap);
  va_end(ap);
  if (b->n + (size_t)need + 1 > b->cap) {
    b->cap = (b->n + (size_t)need + 1) * 2;
    b->s = qir_xrealloc(b->s, b->cap);
  }
  va_start(ap, fmt);
  vsnprintf(b->s + b->n, b->cap - b->n, fmt, ap);
  va_end(ap);
  b->n += (size_t)need;
}

/* CSV fields are quoted, with quotes doubled. */
static void sb_csv_field(sbuf *b, const char *s) {
  sb_printf(b, "\"");
  for (; *s; s++)
    sb_printf(b, *s == '"' ? "\"\"" : "%c", *s);
  sb_printf(b, "\",");
}

static bool write_csv(const eval *e, qir_context *ctx, const char *path) {
  sbuf b = {0};
  sb_printf(&b, "operator,type,output,shape,dtype,qdtype,cosine,mse,"
                "max_abs_error,relative_error\n");
  char shape[64];
  for (unsigned k = 0; k < e->nops; k++) {
    if (!e->compared[k])
      continue;
    const qir_op *op = e->fops[k];
    const qq_err *er = &e->layer[k];
    shape_text(op->results[0].type, shape, sizeof shape);
    sb_csv_field(&b, op_label(op));
    sb_printf(&b, "%s,", op->def->name);
    sb_csv_field(&b, qq_layer_name(op));
    sb_printf(&b, "%s,%s,%s,%.9g,%.9g,%.9g,%.9g\n", shape,
              qir_scalar_name(op->results[0].type->scalar), e->qdtype[k],
              qq_err_cosine(er), qq_err_mse(er), er->maxabs,
              qq_err_relative(er));
  }
  bool ok = write_text(ctx, path, b.s);
  free(b.s);
  return ok;
}

/* A Mermaid flowchart: one node per layer, green >= 0.999, yellow >= 0.99,
 * red below. */
static bool write_mermaid(const eval *e, qir_context *ctx, const char *path) {
  sbuf b = {0};
  sb_printf(&b, "flowchart TD\n"
                "  classDef good fill:#9f9\n  classDef fair fill:#ff9\n"
                "  classDef poor fill:#f99\n");
  for (unsigned k = 0; k < e->nops; k++) {
    if (!e->compared[k])
      continue;
    const qir_op *op = e->fops[k];
    double c = qq_err_cosine(&e->layer[k]);
    sb_printf(&b, "  n%u[\"%s<br/>%s %.5f\"]:::%s\n", k, op->def->name,
              e->qdtype[k], c, c >= 0.999 ? "good" : c >= 0.99 ? "fair" : "poor");
    for (unsigned i = 0; i < op->num_operands; i++) {
      const qir_op *d = qir_value_def(qir_op_operand(op, i));
      if (d && d->aux > 0 && e->compared[d->aux - 1])
        sb_printf(&b, "  n%ld --> n%u\n", (long)d->aux - 1, k);
    }
  }
  bool ok = write_text(ctx, path, b.s);
  free(b.s);
  return ok;
}

/* ---- Per-layer (isolated) evaluation -----------------------------------------
 * One function G runs both: a copy of F, then a copy of each quantized
 * layer of Q whose activation operands are quantize(F's values) with Q's
 * parameters.  Each layer's error is then its own, not its inputs'. */

typedef struct iso {
  eval *e;
  qir_func *g;
  qir_op **gmap; /* F index -> G's copy */
} iso;

/* The value of G that a value of Q stands for (through Q's quantize,
 * dequantize and requantize ops); NULL when there is none. */
static qir_value *g_value_of(const iso *s, qir_value *qv) {
  for (;;) {
    qir_op *d = qir_value_def(qv);
    if (!d)
      return s->g->body.args[qv->index];
    if (d->aux > 0)
      return &s->gmap[d->aux - 1]->results[qv->index];
    if (!qir_op_is(d, QIR_OP_QUANTIZE) && !qir_op_is(d, QIR_OP_DEQUANTIZE) &&
        !qir_op_is(d, QIR_OP_REQUANTIZE))
      return NULL;
    qv = qir_op_operand(d, 0);
  }
}

static qir_value *iso_operand(const iso *s, qir_builder *b, qir_value *v) {
  const qir_attr *c = qir_value_constant(v);
  if (c)
    return qir_build_constant(b, c);
  qir_value *gv = g_value_of(s, v);
  if (!gv || !qir_tensor_is_quant(v->type))
    return gv;
  qir_op *q = qir_build_typed(b, qir_builtin_op(b->ctx, QIR_OP_QUANTIZE), 1,
                              &gv, 1, &v->type, 0, NULL);
  return &q->results[0];
}

/* Appends the isolated copy of Q's layer x (F index k) before G's return. */
static void add_isolated(iso *s, qir_op *x, unsigned k) {
  qir_builder b;
  qir_builder_init(&b, s->g->module->ctx);
  qir_builder_set_before(&b, qir_block_terminator(&s->g->body));
  qir_value **ops = qir_xcalloc(x->num_operands + 1, sizeof *ops);
  const qir_type **types = qir_xcalloc(x->num_results + 1, sizeof *types);
  bool ok = true;
  for (unsigned i = 0; i < x->num_operands && ok; i++)
    ok = (ops[i] = iso_operand(s, &b, qir_op_operand(x, i))) != NULL;
  for (unsigned r = 0; r < x->num_results; r++)
    types[r] = x->results[r].type;
  if (ok) {
    qir_op *c = qir_op_create(b.ctx, x->def, x->loc, x->num_operands, ops,
                              x->num_results, types, x->num_attrs, x->attrs);
    qir_op_insert_before(qir_block_terminator(&s->g->body), c);
    c->aux = (intptr_t)(s->e->nops + k + 1);
  }
  free(ops);
  free(types);
}

static void observe_iso(const qir_op *op, unsigned r, const qir_tensor *t,
                        void *user) {
  eval *e = user;
  if (op->aux > (intptr_t)e->nops) {
    qir_op fake = *op;
    fake.aux = op->aux - (intptr_t)e->nops;
    observe_quant(&fake, r, t, user);
  } else {
    observe_float(op, r, t, user);
  }
}

static bool iso_build(eval *e, qir_func *q, qir_op **qmap, qir_module **gm,
                      iso *s) {
  s->e = e;
  *gm = qq_clone_func(e->f, &s->g, &s->gmap);
  qir_foreach_op(op, &s->g->body) op->aux = 0;
  for (unsigned k = 0; k < e->nops; k++)
    if (e->compared[k])
      s->gmap[k]->aux = (intptr_t)k + 1;
  for (unsigned k = 0; k < e->nops; k++)
    if (e->compared[k] && is_quantized_op(qmap[k]))
      add_isolated(s, qmap[k], k);
  return qir_verify_func(s->g);
}

static bool iso_run(eval *e, const qir_quantize_options *o, qq_samples *smp) {
  eval_reset(e);
  qir_func *q;
  qir_op **qmap;
  qir_module *qm = qq_clone_func(e->f, &q, &qmap), *gm = NULL;
  iso s = {0};
  bool ok = qq_quantize(q, o, NULL, true);
  if (ok) {
    link_copy(e, q, qmap);
    for (unsigned k = 0; k < e->nops; k++)
      if (!qir_op_is(e->fops[k], QIR_OP_CONSTANT))
        qmap[k]->aux = (intptr_t)k + 1;
    ok = iso_build(e, q, qmap, &gm, &s);
  }
  qir_interp *gi = ok ? qq_observed_interp(s.g, observe_iso, e) : NULL;
  ok = gi != NULL;
  size_t n = qq_samples_count(smp);
  unsigned nin = gi ? qir_interp_num_inputs(gi) : 0;
  for (size_t i = 0; ok && i < n; i++) {
    qir_tensor *in = qir_xcalloc(nin + 1, sizeof *in);
    ok = qq_samples_load(smp, i, in);
    for (unsigned k = 0; ok && k < nin; k++)
      ok = qir_interp_set_input(gi, k, &in[k]);
    ok = ok && qir_interp_run(gi);
    for (unsigned k = 0; k < nin; k++)
      qir_tensor_free_data(&in[k]);
    free(in);
  }
  qir_interp_destroy(gi);
  free(s.gmap);
  if (gm)
    qir_module_destroy(gm);
  free(qmap);
  qir_module_destroy(qm);
  return ok;
}

/* The quantize options (without a dump: evaluations quantize copies) and
 * the samples of an analysis pass; NULL with an error emitted. */
static qq_samples *open_analysis(qir_pass *pass, qir_func *f,
                                 qir_quantize_options *o) {
  qq_options_from_pass(pass, o);
  o->dump = NULL;
  return qq_samples_open(pass, f);
}

/* ---- precision-analysis ----------------------------------------------------- */

bool qir_pass_run_precision_analysis(qir_pass *pass, void *unit_ir) {
  qir_func *f = unit_ir;
  qir_context *ctx = f->module->ctx;
  const char *mode = qir_pass_opt_string(pass, "mode");
  bool per_layer = !strcmp(mode, "per-layer");
  if (!per_layer && strcmp(mode, "end-to-end")) {
    qir_emit_error(ctx, f->loc, "precision-analysis: unknown mode '%s' "
                   "(expected end-to-end or per-layer)", mode);
    return false;
  }
  qir_quantize_options o;
  qq_samples *smp = open_analysis(pass, f, &o);
  if (!smp)
    return false;
  eval e;
  eval_init(&e, f);
  const char *task = qir_pass_opt_string(pass, "task");
  bool ok = true;
  if (*task && per_layer) {
    qir_emit_error(ctx, f->loc, "precision-analysis: task= needs "
                   "mode=end-to-end");
    ok = false;
  }
  ok = ok && qq_tasks_parse(f, task, &e.tasks, &e.ntasks);
  ok = ok && (per_layer ? iso_run(&e, &o, smp)
                      : eval_run(&e, &o, NULL, smp, "precision-analysis"));
  if (ok) {
    fprintf(stderr, "Precision analysis of @%s (%s, %zu samples):\n", f->name,
            mode, qq_samples_count(smp));
    print_table(&e, stderr, !per_layer);
  }
  const char *p;
  if (ok && *(p = qir_pass_opt_string(pass, "json")))
    ok = write_json(&e, ctx, p, mode);
  if (ok && *(p = qir_pass_opt_string(pass, "csv")))
    ok = write_csv(&e, ctx, p);
  if (ok && *(p = qir_pass_opt_string(pass, "mermaid")))
    ok = write_mermaid(&e, ctx, p);
  eval_free(&e);
  qq_samples_close(smp);
  return ok;
}

/* ---- auto-mixed-precision ----------------------------------------------------- */

/* The options of the search. */
typedef struct amp_opts {
  double target;     /* what the user asks for */
  double goal;       /* what the search aims at: target + margin (<= 1) */
  double margin;
  qq_prec to;        /* int16 or float; QQ_PREC_DEFAULT: int16, then float
                        for the layers int16 does not fix (float-fallback) */
  unsigned max_layers;
  bool worst_sample;
} amp_opts;

/* Why a layer was promoted: its precision before, its cosine and its own
 * error jump in the evaluation that chose it. */
typedef struct promo {
  qq_prec from;
  double cosine, jump;
} promo;

/* How much error layer k adds: its 1 - cosine minus the worst of its
 * inputs' (layers whose error jumps are the ones worth promoting). */
static double error_jump(const eval *e, unsigned k) {
  const qir_op *op = e->fops[k];
  double own = 1.0 - qq_err_cosine(&e->layer[k]), in = 0;
  for (unsigned i = 0; i < op->num_operands; i++) {
    const qir_op *d = qir_value_def(qir_op_operand(op, i));
    if (d && d->aux > 0 && e->compared[d->aux - 1])
      in = fmax(in, 1.0 - qq_err_cosine(&e->layer[d->aux - 1]));
  }
  return own - in;
}

/* The precision layer k would be promoted to next (QQ_PREC_DEFAULT: none):
 * an int8 layer to int16 (or float); with float_phase, an int16 one to
 * float (float-fallback). */
static qq_prec next_prec(const eval *e, const qq_prec *precs,
                         const amp_opts *a, unsigned k, bool float_phase) {
  if (!e->compared[k] || !e->quantized[k] || !qq_op_is_layer(e->fops[k]))
    return QQ_PREC_DEFAULT;
  if (precs[k] == QQ_PREC_DEFAULT && !float_phase)
    return a->to == QQ_PREC_FLOAT ? QQ_PREC_FLOAT : QQ_PREC_INT16;
  if (precs[k] == QQ_PREC_INT16 && a->to == QQ_PREC_DEFAULT && float_phase)
    return QQ_PREC_FLOAT;
  return QQ_PREC_DEFAULT;
}

static unsigned count_float(const qq_prec *precs, unsigned n) {
  unsigned c = 0;
  for (unsigned k = 0; k < n; k++)
    c += precs[k] == QQ_PREC_FLOAT;
  return c;
}

static unsigned count_promoted(const qq_prec *precs, unsigned n) {
  unsigned c = 0;
  for (unsigned k = 0; k < n; k++)
    c += precs[k] != QQ_PREC_DEFAULT;
  return c;
}

/* The layer with the largest error jump that can go to the next
 * precision (-1: none). */
static int worst_layer(const eval *e, const qq_prec *precs, const bool *taken,
                       const amp_opts *a, bool float_phase, double *jump) {
  int best = -1;
  for (unsigned k = 0; k < e->nops; k++) {
    if (taken[k] || next_prec(e, precs, a, k, float_phase) == QQ_PREC_DEFAULT)
      continue;
    double j = error_jump(e, k);
    if (best < 0 || j > *jump) {
      best = (int)k;
      *jump = j;
    }
  }
  return best;
}

/* Promotes up to `count` of the layers with the largest error jumps (a
 * layer promoted in this batch is not promoted again in it); returns how
 * many it promoted.  int8 layers go to int16 while the budget of
 * max-layers lasts and some are left; then (float-fallback) the int16
 * ones go to float, a quarter of the float count plus one at a time: a
 * jump that int16 did not remove. */
static unsigned promote_worst(const eval *e, qq_prec *precs, promo *why,
                              const amp_opts *a, unsigned count) {
  bool *taken = qir_xcalloc(e->nops + 1, sizeof *taken);
  unsigned done = 0;
  bool float_phase = false;
  while (done < count) {
    bool budget = count_promoted(precs, e->nops) < a->max_layers;
    double jump = 0;
    int best = -1;
    if (!float_phase && budget)
      best = worst_layer(e, precs, taken, a, false, &jump);
    if (best < 0 && !done && !float_phase) {
      /* Float batches grow with the float layers, not with all. */
      float_phase = true;
      count = count_float(precs, e->nops) / 4 + 1;
    }
    if (best < 0 && float_phase)
      best = worst_layer(e, precs, taken, a, true, &jump);
    if (best < 0)
      break;
    unsigned k = (unsigned)best;
    why[k].from = precs[k] == QQ_PREC_DEFAULT ? QQ_PREC_INT8 : precs[k];
    why[k].cosine = qq_err_cosine(&e->layer[k]);
    why[k].jump = jump;
    precs[k] = next_prec(e, precs, a, k, float_phase);
    taken[k] = true;
    done++;
  }
  free(taken);
  return done;
}

static void report_promoted(FILE *out, const eval *first, const qq_prec *precs,
                            const promo *why, const amp_opts *a, double before,
                            double after, const char *what) {
  unsigned n = count_promoted(precs, first->nops);
  fprintf(out, "auto-mixed-precision: %s %.6f -> %.6f (target %.8g", what,
          before, after, a->target);
  if (a->margin > 0)
    fprintf(out, ", searched to %.8g with margin %.8g", a->goal, a->margin);
  fprintf(out, "), %u layer(s) promoted\n", n);
  if (!n)
    return;
  int w = 40;
  for (unsigned k = 0; k < first->nops; k++)
    if (precs[k] != QQ_PREC_DEFAULT && (int)strlen(op_label(first->fops[k])) > w)
      w = (int)strlen(op_label(first->fops[k]));
  w = w > 60 ? 60 : w;
  fprintf(out, "%-*s  %-16s  %-9s  %s\n", w, "Layer", "Op", "Precision",
          "Why: cosine at the former precision (its own drop)");
  for (unsigned k = 0; k < first->nops; k++) {
    if (precs[k] == QQ_PREC_DEFAULT)
      continue;
    /* Long (ONNX) names differ at their end: keep that. */
    const char *l = op_label(first->fops[k]);
    size_t len = strlen(l);
    fprintf(out, "%s%-*s  %-16s  %-9s  %s %.6f (%.2e)\n",
            (int)len > w ? "..." : "", (int)len > w ? w - 3 : w,
            (int)len > w ? l + len - (size_t)(w - 3) : l,
            first->fops[k]->def->name, qq_prec_name(precs[k]),
            qq_prec_name(why[k].from), why[k].cosine, why[k].jump);
  }
}

/* promote-to=int16 with float-fallback (the default): int16, then float
 * for the layers int16 does not fix; float alone on a target without
 * int16. */
static bool read_promote_to(qir_pass *pass, qir_func *f, amp_opts *a) {
  const char *s = qir_pass_opt_string(pass, "promote-to");
  if (!qq_prec_from_name(s, &a->to) || a->to == QQ_PREC_INT8) {
    qir_emit_error(f->module->ctx, f->loc, "auto-mixed-precision: promote-to "
                   "must be int16 or float, not '%s'", s);
    return false;
  }
  if (a->to == QQ_PREC_INT16 && qir_pass_opt_bool(pass, "float-fallback")) {
    a->to = QQ_PREC_DEFAULT;
    const char *tn = qir_pass_opt_string(pass, "target");
    const qir_target *t = *tn ? qir_target_lookup(tn) : NULL;
    if (t && !t->has_int16)
      a->to = QQ_PREC_FLOAT;
  }
  return true;
}

static bool read_amp_options(qir_pass *pass, qir_func *f, amp_opts *a) {
  qir_context *ctx = f->module->ctx;
  const char *crit = qir_pass_opt_string(pass, "criterion");
  a->worst_sample = !strcmp(crit, "worst-sample");
  if (!a->worst_sample && strcmp(crit, "pooled")) {
    qir_emit_error(ctx, f->loc, "auto-mixed-precision: unknown criterion '%s' "
                   "(expected pooled or worst-sample)", crit);
    return false;
  }
  a->target = qir_pass_opt_float(pass, "target_cosine");
  if (!(a->target > 0 && a->target <= 1)) {
    qir_emit_error(ctx, f->loc, "auto-mixed-precision: target_cosine must be "
                   "in (0, 1]");
    return false;
  }
  a->margin = qir_pass_opt_float(pass, "margin");
  if (!(a->margin >= 0 && a->margin < 1)) {
    qir_emit_error(ctx, f->loc, "auto-mixed-precision: margin must be in "
                   "[0, 1)");
    return false;
  }
  a->goal = fmin(1.0, a->target + a->margin);
  if (!read_promote_to(pass, f, a))
    return false;
  int64_t m = qir_pass_opt_int(pass, "max-layers");
  a->max_layers = m > 0 ? (unsigned)m : ~0u;
  return true;
}

/* A cosine short of a goal (with the rounding of identical outputs, whose
 * cosine may come out a few ulps below 1). */
static bool below(double cosine, double goal) { return cosine < goal - 1e-12; }

/* Evaluates, promotes a batch of the worst layers, and again, until the
 * goal is met or nothing is left to promote.  Batches grow as the search
 * goes on (1, 1, 1, 1, 2, 2, 3, 3, 4, 5, ...: a quarter of the promoted count
 * plus one): a deep model needing 50 layers takes 13 evaluations, not 25. */
static bool search(eval *e, eval *first, const qir_quantize_options *o,
                   qq_prec *precs, promo *why, qq_samples *smp,
                   const amp_opts *a, double *before, double *after) {
  bool ok = eval_run(first, o, precs, smp, "auto-mixed-precision");
  *before = *after = ok ? min_output_cosine(first, a->worst_sample) : 0;
  const eval *cur = first;
  while (ok && below(*after, a->goal)) {
    unsigned batch = count_promoted(precs, first->nops) / 4 + 1;
    if (!promote_worst(cur, precs, why, a, batch))
      break;
    ok = eval_run(e, o, precs, smp, "auto-mixed-precision");
    *after = ok ? min_output_cosine(e, a->worst_sample) : 0;
    cur = e;
  }
  return ok;
}

bool qir_pass_run_auto_mixed_precision(qir_pass *pass, void *unit_ir) {
  qir_func *f = unit_ir;
  amp_opts a;
  if (!read_amp_options(pass, f, &a))
    return false;
  qir_quantize_options o;
  qq_samples *smp = open_analysis(pass, f, &o);
  if (!smp)
    return false;
  eval e, first;
  eval_init(&first, f);
  eval_init(&e, f);
  qq_prec *precs = qir_xcalloc(first.nops + 1, sizeof *precs);
  promo *why = qir_xcalloc(first.nops + 1, sizeof *why);
  double before, after;
  bool ok = search(&e, &first, &o, precs, why, smp, &a, &before, &after);
  const char *what = a.worst_sample ? "worst sample's output cosine"
                                    : "output cosine";
  if (ok)
    report_promoted(stderr, &first, precs, why, &a, before, after, what);
  if (ok && below(after, a.target))
    qir_emit_warning(f->module->ctx, f->loc, "auto-mixed-precision: %s %.6f "
                     "stays below the target %.8g", what, after, a.target);
  else if (ok && below(after, a.goal))
    qir_emit_warning(f->module->ctx, f->loc, "auto-mixed-precision: %s %.6f "
                     "reaches the target %.8g but not the margin (%.8g)", what,
                     after, a.target, a.goal);
  const char *cfg_out = qir_pass_opt_string(pass, "config-out");
  if (ok && *cfg_out)
    ok = qq_config_write(f->module->ctx, cfg_out, f, precs);
  const char *dump = qir_pass_opt_string(pass, "dump");
  o.dump = *dump ? dump : NULL;
  if (ok)
    ok = qq_quantize(f, &o, precs, true);
  free(precs);
  free(why);
  eval_free(&e);
  eval_free(&first);
  qq_samples_close(smp);
  return ok;
}

/* ---- scale-search ------------------------------------------------------------
 * A search of activation ranges in the manner of EasyQuant: the ranges
 * calibrate chose are narrowed by factors from a grid, and each tensor
 * keeps the factor under which the layers that produce and consume it
 * lose least (per-layer mode: each layer fed quantize(float inputs), so
 * one run per factor measures every layer at once).  The result is kept
 * only when the end-to-end worst output cosine improves. */

#define SS_MAX_FACTORS 32

/* A range worth searching: chosen by calibrate (not fixed), of a tensor
 * inside the network (quantize never clips model outputs). */
static bool is_searched(const qir_op *op) {
  return qir_op_get_attr(op, QQ_ATTR_RANGE) &&
         !qir_op_get_attr(op, QQ_ATTR_FIXED) && op->num_results &&
         !qq_reaches_only_return(&op->results[0]);
}

/* Multiplies every searched range of g (ops in the order of F) by factor[k]
 * of its op; factor NULL: by `all`. */
static void scale_ranges(qir_func *g, const double *factor, double all) {
  qir_context *ctx = g->module->ctx;
  unsigned k = 0;
  qir_foreach_op(op, &g->body) {
    double f = factor ? factor[k] : all;
    k++;
    const qir_attr *a = qir_op_get_attr(op, QQ_ATTR_RANGE);
    double v[2 * 64];
    int n = f != 1.0 && is_searched(op) ? qir_attr_get_floats(a, v, 2 * 64) : -1;
    if (n <= 0)
      continue;
    for (int i = 0; i < n; i++)
      v[i] *= f;
    qir_op_set_attr(op, QQ_ATTR_RANGE, qir_attr_floats(ctx, (unsigned)n, v));
  }
}

/* Each compared layer's 1 - cosine in per-layer mode with every range
 * scaled by f (err[k]; 0 for ops not compared). */
static bool layer_errors(qir_func *f, const qir_quantize_options *o,
                         qq_samples *smp, double factor, double *err) {
  qir_func *g;
  qir_op **map;
  qir_module *gm = qq_clone_func(f, &g, &map);
  scale_ranges(g, NULL, factor);
  eval e;
  eval_init(&e, g);
  bool ok = iso_run(&e, o, smp);
  for (unsigned k = 0; ok && k < e.nops; k++)
    err[k] = e.compared[k] ? 1.0 - qq_err_cosine(&e.layer[k]) : 0.0;
  eval_free(&e);
  free(map);
  qir_module_destroy(gm);
  return ok;
}

bool qq_e2e_cosine(qir_func *f, const qir_quantize_options *o,
                   qq_samples *smp, const double *factor, const char *label,
                   double *cos) {
  qir_func *g;
  qir_op **map;
  qir_module *gm = qq_clone_func(f, &g, &map);
  if (factor)
    scale_ranges(g, factor, 1.0);
  eval e;
  eval_init(&e, g);
  bool ok = eval_run(&e, o, NULL, smp, label);
  *cos = ok ? min_output_cosine(&e, false) : 0;
  eval_free(&e);
  free(map);
  qir_module_destroy(gm);
  return ok;
}

/* The error a tensor's factor moves: its producer's and its consumers'
 * (F's ops carry index + 1 in aux). */
static double tensor_error(const qir_op *op, unsigned k, const double *err) {
  double s = err[k];
  for (unsigned r = 0; r < op->num_results; r++)
    for (const qir_use *u = op->results[r].uses; u; u = u->next)
      if (u->owner->aux > 0)
        s += err[u->owner->aux - 1];
  return s;
}

static bool read_factors(qir_pass *pass, qir_func *f, double *v, unsigned *n) {
  const char *s = qir_pass_opt_string(pass, "factors");
  bool ok = *s != 0;
  *n = 0;
  for (const char *p = s; ok && *p; p++) {
    char *end;
    double x = strtod(p, &end);
    ok = end != p && x > 0 && x <= 1 && *n < SS_MAX_FACTORS &&
         (*end == 0 || (*end == ':' && end[1]));
    if (ok)
      v[(*n)++] = x;
    p = end;
    if (!*p)
      break;
  }
  if (!ok)
    qir_emit_error(f->module->ctx, f->loc, "scale-search: factors must be "
                   "1 to %d numbers in (0, 1] separated by ':', not '%s'",
                   SS_MAX_FACTORS, s);
  return ok;
}

bool qir_pass_run_scale_search(qir_pass *pass, void *unit_ir) {
  qir_func *f = unit_ir;
  double fac[SS_MAX_FACTORS];
  unsigned nf;
  if (!read_factors(pass, f, fac, &nf))
    return false;
  qir_quantize_options o;
  qq_samples *smp = open_analysis(pass, f, &o);
  if (!smp)
    return false;
  unsigned nops = f->body.num_ops;
  double *err = qir_xcalloc((size_t)nf * nops + 1, sizeof *err);
  bool ok = true;
  for (unsigned i = 0; ok && i < nf; i++)
    ok = layer_errors(f, &o, smp, fac[i], err + (size_t)i * nops);
  /* Each op's best factor: the least error, the larger factor on a tie. */
  double *best = qir_xcalloc(nops + 1, sizeof *best);
  unsigned k = 0, narrowed = 0, searched = 0;
  qir_foreach_op(op, &f->body) op->aux = (intptr_t)++k;
  k = 0;
  qir_foreach_op(op, &f->body) {
    best[k] = 1.0;
    if (ok && is_searched(op)) {
      double least = INFINITY;
      for (unsigned i = 0; i < nf; i++) {
        double s = tensor_error(op, k, err + (size_t)i * nops);
        if (s < least - 1e-12 || (s <= least + 1e-12 && fac[i] > best[k])) {
          least = fmin(s, least);
          best[k] = fac[i];
        }
      }
      searched++;
      narrowed += best[k] < 1.0;
    }
    k++;
  }
  double before = 0, after = 0;
  ok = ok && qq_e2e_cosine(f, &o, smp, NULL, "scale-search", &before) &&
       qq_e2e_cosine(f, &o, smp, best, "scale-search", &after);
  bool keep = ok && after > before;
  if (ok)
    fprintf(stderr, "scale-search: %u of %u ranges narrowed; output cosine "
            "%.6f -> %.6f (%s)\n", narrowed, searched, before, after,
            keep ? "kept" : "not kept: no better");
  if (keep)
    scale_ranges(f, best, 1.0);
  free(best);
  free(err);
  qq_samples_close(smp);
  return ok;
}
