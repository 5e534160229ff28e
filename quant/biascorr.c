/* quant/biascorr.c - bias correction (docs/Quantization.md,
 * "bias-correction").
 *
 * Quantizing weights and activations shifts the mean of a layer's output:
 * rounding errors of a channel's weights do not cancel over a large input,
 * and clipping is one-sided.  The pass quantizes a copy of the calibrated
 * function, runs both on the samples, and records for every conv2d/gemm
 * with a bias the mean difference (quantized - float) of each output
 * channel as q.bias_correction; the quantize pass subtracts it from the
 * bias before quantizing it.  The float function itself is unchanged. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "qir/progress.h"
#include "quant/quant.h"

/* One layer whose bias is corrected. */
typedef struct layer {
  qir_op *op;         /* in the float function */
  int64_t ch;         /* output channels (dimension 1 of the result) */
  double lo, hi;      /* the fused activation's identity region */
  double *sum, *cnt;  /* per channel: sum of differences, their count */
  float *ref;         /* the float result of the current sample */
  int64_t n;
} layer;

typedef struct corrector {
  layer *l;
  unsigned nl;
} corrector;

/* The region where a fused activation is the identity (slope 1): only
 * positions whose float result lies strictly inside it tell the bias's
 * error.  False for activations without one (sigmoid...). */
static bool identity_region(const qir_op *op, double *lo, double *hi) {
  const char *a = qir_op_get_string(op, "activation");
  *lo = -INFINITY;
  *hi = INFINITY;
  if (!a || !*a || !strcmp(a, "none"))
    return true;
  if (!strcmp(a, "relu") || !strcmp(a, "leaky_relu")) {
    *lo = 0;
  } else if (!strcmp(a, "relu6") || !strcmp(a, "clip")) {
    bool six = !strcmp(a, "relu6");
    *lo = qir_op_get_float(op, "act_min", six ? 0.0 : -INFINITY);
    *hi = qir_op_get_float(op, "act_max", six ? 6.0 : INFINITY);
  } else if (!strcmp(a, "hard_swish")) {
    *lo = 3; /* x * relu6(x + 3) / 6 = x for x >= 3 */
  } else {
    return false;
  }
  return true;
}

/* The constant per-channel bias of a conv2d/gemm (NULL: none). */
static const qir_attr *layer_bias(const qir_op *op, int64_t ch) {
  if (!qir_op_is(op, QIR_OP_CONV2D) && !qir_op_is(op, QIR_OP_GEMM))
    return NULL;
  if (op->num_operands < 3 ||
      (qir_op_get_bool(op, "sum_in", false) && op->num_operands < 4))
    return NULL;
  const qir_attr *b = qir_value_constant(qir_op_operand(op, 2));
  if (!b || b->u.dense.type->rank != 1 || qir_dense_num_elements(b) != ch)
    return NULL;
  return b;
}

/* The op in the quantized copy runs on 8-bit activations (16-bit and
 * float layers need no correction). */
static bool runs_int8(const qir_op *q) {
  const qir_type *t = qir_op_operand(q, 0)->type;
  return qir_tensor_is_quant(t) && qir_scalar_size(t->elem->scalar) == 1;
}

/* Picks the layers of f (F op->aux: layer index + 1) whose copy in the
 * quantized function (map) runs in int8. */
static void find_layers(corrector *c, qir_func *f, qir_op **map) {
  c->l = qir_xcalloc(f->body.num_ops + 1, sizeof *c->l);
  c->nl = 0;
  unsigned k = 0;
  qir_foreach_op(op, &f->body) {
    qir_op *q = map[k++];
    op->aux = 0;
    q->aux = 0;
    const qir_type *t = op->num_results ? op->results[0].type : NULL;
    double lo, hi;
    if (!t || !qq_is_float_tensor(t) || t->rank < 2 || t->dims[1] <= 0 ||
        !layer_bias(op, t->dims[1]) || !identity_region(op, &lo, &hi) ||
        !runs_int8(q))
      continue;
    layer *l = &c->l[c->nl++];
    l->op = op;
    l->ch = t->dims[1];
    l->lo = lo;
    l->hi = hi;
    l->sum = qir_xcalloc((size_t)l->ch, sizeof *l->sum);
    l->cnt = qir_xcalloc((size_t)l->ch, sizeof *l->cnt);
    op->aux = q->aux = (intptr_t)c->nl;
  }
}

static void free_layers(corrector *c) {
  for (unsigned i = 0; i < c->nl; i++) {
    free(c->l[i].sum);
    free(c->l[i].cnt);
    free(c->l[i].ref);
  }
  free(c->l);
}

static void observe_float(const qir_op *op, unsigned r, const qir_tensor *t,
                          void *user) {
  corrector *c = user;
  if (r || op->aux <= 0)
    return;
  layer *l = &c->l[op->aux - 1];
  free(l->ref);
  l->ref = qq_tensor_to_f32(t);
  l->n = qir_tensor_numel(t);
}

/* Adds quantized - float per channel (dimension 1) where the float result
 * lies in the activation's identity region. */
static void observe_quant(const qir_op *op, unsigned r, const qir_tensor *t,
                          void *user) {
  corrector *c = user;
  if (r || op->aux <= 0)
    return;
  layer *l = &c->l[op->aux - 1];
  if (!l->ref || l->n != qir_tensor_numel(t) || t->rank < 2 ||
      t->dims[1] != l->ch)
    return;
  float *x = qq_tensor_to_f32(t);
  int64_t inner = l->n / (t->dims[0] * l->ch);
  for (int64_t i = 0; i < l->n; i++) {
    double f = l->ref[i], d = (double)x[i] - f;
    if (f > l->lo && f < l->hi && isfinite(d)) {
      int64_t ch = (i / inner) % l->ch;
      l->sum[ch] += d;
      l->cnt[ch] += 1;
    }
  }
  free(x);
}

static bool run_samples(corrector *c, qir_func *f, qir_func *q,
                        qq_samples *smp) {
  qir_interp_options io;
  qir_interp_options_init(&io);
  io.observer = observe_float;
  io.observer_user = c;
  qir_interp *fi = qir_interp_create(f, &io);
  io.observer = observe_quant;
  qir_interp *qi = fi ? qir_interp_create(q, &io) : NULL;
  bool ok = qi != NULL;
  size_t n = qq_samples_count(smp);
  qir_progress *pg = ok && qq_samples_progress(smp)
                         ? qir_progress_start(stderr, "bias-correction", n)
                         : NULL;
  /* Each sample runs the float function, then the quantized one: the
   * float results are at hand when the quantized ones arrive. */
  for (size_t i = 0; ok && i < n; i++) {
    ok = qq_run_sample(smp, i, fi) && qq_run_sample(smp, i, qi);
    if (pg)
      qir_progress_update(pg, i + 1);
  }
  if (pg)
    qir_progress_finish(pg);
  qir_interp_destroy(qi);
  qir_interp_destroy(fi);
  return ok;
}

/* Adds the measured mean differences to each layer's q.bias_correction;
 * returns the largest change (in units of the layer's output). */
static double store_corrections(qir_context *ctx, corrector *c,
                                const char **worst) {
  double largest = 0;
  for (unsigned i = 0; i < c->nl; i++) {
    layer *l = &c->l[i];
    double *v = qir_xcalloc((size_t)l->ch, sizeof *v);
    qq_bias_correction(l->op, v, l->ch);
    for (int64_t ch = 0; ch < l->ch; ch++) {
      double m = l->cnt[ch] > 0 ? l->sum[ch] / l->cnt[ch] : 0;
      v[ch] += m;
      if (fabs(m) > largest) {
        largest = fabs(m);
        *worst = qq_layer_name(l->op);
      }
    }
    qir_op_set_attr(l->op, QQ_ATTR_BIAS_CORRECTION,
                    qir_attr_floats(ctx, (unsigned)l->ch, v));
    free(v);
  }
  return largest;
}

/* One round: quantize a copy (with the corrections so far), measure,
 * correct.  *count receives the number of corrected layers. */
static bool correct_once(qir_func *f, const qir_quantize_options *o,
                         qq_samples *smp, unsigned *count, double *largest,
                         const char **worst) {
  qir_func *q;
  qir_op **map;
  qir_module *qm = qq_clone_func(f, &q, &map);
  bool ok = qq_quantize(q, o, NULL, true);
  corrector c = {0};
  if (ok) {
    find_layers(&c, f, map);
    ok = run_samples(&c, f, q, smp);
  }
  if (ok) {
    *count = c.nl;
    *largest = store_corrections(f->module->ctx, &c, worst);
  }
  free_layers(&c);
  free(map);
  qir_module_destroy(qm);
  return ok;
}

bool qq_bias_correction(const qir_op *op, double *out, int64_t ch) {
  const qir_attr *a = qir_op_get_attr(op, QQ_ATTR_BIAS_CORRECTION);
  if (!a || ch <= 0 || ch > (1 << 24) ||
      qir_attr_get_floats(a, out, (unsigned)ch) != ch) {
    memset(out, 0, (size_t)(ch > 0 ? ch : 0) * sizeof *out);
    return false;
  }
  for (int64_t c = 0; c < ch; c++)
    if (!isfinite(out[c]))
      out[c] = 0;
  return true;
}

bool qir_pass_run_bias_correction(qir_pass *pass, void *unit_ir) {
  qir_func *f = unit_ir;
  int64_t iters = qir_pass_opt_int(pass, "iterations");
  if (iters < 1) {
    qir_emit_error(f->module->ctx, f->loc, "bias-correction: iterations must "
                   "be at least 1");
    return false;
  }
  qir_quantize_options o;
  qq_options_from_pass(pass, &o);
  o.dump = NULL;
  qq_samples *smp = qq_samples_open(pass, f);
  if (!smp)
    return false;
  bool ok = true;
  unsigned count = 0;
  double largest = 0;
  const char *worst = "";
  for (int64_t i = 0; ok && i < iters; i++)
    ok = correct_once(f, &o, smp, &count, &largest, &worst);
  if (ok && count)
    fprintf(stderr, "bias-correction: %u conv2d/gemm bias(es) corrected over "
            "%zu sample(s); largest shift of the last round %.4g ('%s')\n",
            count, qq_samples_count(smp), largest, worst);
  else if (ok)
    fprintf(stderr, "bias-correction: no bias to correct (no int8 conv2d or "
            "gemm with a bias and no activation, or a relu-like one)\n");
  qq_samples_close(smp);
  return ok;
}
