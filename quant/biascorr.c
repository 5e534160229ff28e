/* quant/biascorr.c - bias correction (docs/Quantization.md,
 * "bias-correction").
 *
 * Rounding a channel's weights to int8 does not average out over a large
 * input: the layer's int8 result is off by a mean that depends on the
 * input's mean.  For every conv2d/gemm with a bias that runs on int8
 * inputs, the pass measures over the samples the mean of each input
 * channel, float (x) and as the int8 layer sees it (x~ = dequantize(
 * quantize(x)) with the quantized layer's input parameters), and stores
 * per output channel c
 *
 *     q.bias_correction[c] = sum_i,taps (W~[c, i] * mean x~[i] - W[c, i] * mean x[i])
 *
 * the mean error of the layer's output before its activation when fed the
 * float model's input (W~: the dequantized int8 weights).  The quantize
 * pass subtracts it from the bias.  The layer's own error only: the
 * errors of the layers before it are corrected there, not counted twice.
 * Zero padding at the borders is not accounted for. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "qir/progress.h"
#include "quant/quant.h"

/* One layer whose bias is corrected. */
typedef struct layer {
  qir_op *op;           /* in the float function */
  const qir_op *q;      /* its quantized copy */
  int64_t cin;          /* input channels (conv2d: dim 1; gemm: K) */
  double *sx, *sxq;     /* per input channel: sums of x and x~ */
  double count;         /* values summed per channel */
} layer;

typedef struct corrector {
  layer *l;
  unsigned nl;
  layer **by_value; /* per float value (value->aux - 1): a layer reading it */
} corrector;

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

/* The quantized copy runs on 8-bit activations with int8 weights. */
static bool runs_int8(const qir_op *q) {
  const qir_type *x = qir_op_operand(q, 0)->type;
  const qir_type *w = qir_op_operand(q, 1)->type;
  return qir_tensor_is_quant(x) && qir_scalar_size(x->elem->scalar) == 1 &&
         qir_tensor_is_quant(w) && qir_value_constant(qir_op_operand(q, 1));
}

/* Output channels and input channels of a conv2d/gemm, from its types. */
static bool layer_dims(const qir_op *op, int64_t *cout, int64_t *cin) {
  if ((!qir_op_is(op, QIR_OP_CONV2D) && !qir_op_is(op, QIR_OP_GEMM)) ||
      op->num_operands < 2 || !op->num_results)
    return false;
  const qir_type *x = qir_op_operand(op, 0)->type, *y = op->results[0].type;
  if (x->rank < 2 || y->rank < 2)
    return false;
  if (qir_op_is(op, QIR_OP_CONV2D)) {
    *cout = y->dims[1];
    *cin = x->dims[1];
  } else {
    *cout = y->dims[1];
    *cin = x->dims[qir_op_get_int(op, "trans_a", 0) ? 0 : 1];
  }
  return *cout > 0 && *cin > 0;
}

/* A float conv2d/gemm with a bias whose quantized form q runs int8: the
 * layers bias correction handles. */
static bool correctable(const qir_op *op, const qir_op *q, int64_t *cout,
                        int64_t *cin) {
  return op->num_results && qq_is_float_tensor(op->results[0].type) &&
         layer_dims(op, cout, cin) && layer_bias(op, *cout) && runs_int8(q);
}

/* Picks the layers and indexes the values they read (value->aux). */
static void find_layers(corrector *c, qir_func *f, qir_op **map) {
  unsigned nv = f->body.num_args, k = 0;
  qir_foreach_op(op, &f->body) nv += op->num_results;
  c->l = qir_xcalloc(f->body.num_ops + 1, sizeof *c->l);
  c->by_value = qir_xcalloc(nv + 1, sizeof *c->by_value);
  unsigned v = 0;
  for (unsigned i = 0; i < f->body.num_args; i++)
    f->body.args[i]->aux = (intptr_t)++v;
  qir_foreach_op(op, &f->body) {
    for (unsigned r = 0; r < op->num_results; r++)
      op->results[r].aux = (intptr_t)++v;
  }
  qir_foreach_op(op, &f->body) {
    const qir_op *q = map[k++];
    int64_t cout, cin;
    if (!correctable(op, q, &cout, &cin))
      continue;
    qir_value *x = qir_op_operand(op, 0);
    if (c->by_value[x->aux - 1])
      continue; /* one layer per input value: others read the same means */
    layer *l = &c->l[c->nl++];
    l->op = op;
    l->q = q;
    l->cin = cin;
    l->sx = qir_xcalloc((size_t)cin, sizeof *l->sx);
    l->sxq = qir_xcalloc((size_t)cin, sizeof *l->sxq);
    c->by_value[x->aux - 1] = l;
  }
}

static void free_layers(corrector *c) {
  for (unsigned i = 0; i < c->nl; i++) {
    free(c->l[i].sx);
    free(c->l[i].sxq);
  }
  free(c->l);
  free(c->by_value);
}

/* Adds a tensor read by layer l to its per-channel sums of x and x~. */
static void add_input(layer *l, const qir_tensor *t) {
  float *x = qq_tensor_to_f32(t);
  int64_t n = qir_tensor_numel(t);
  bool conv = qir_op_is(l->op, QIR_OP_CONV2D);
  bool trans = !conv && qir_op_get_int(l->op, "trans_a", 0);
  /* conv2d: NCHW, the channel is dim 1; gemm: [M, K] or [K, M]. */
  int64_t inner = conv ? n / (t->dims[0] * l->cin) : trans ? t->dims[1] : 1;
  const qir_type *qt = qir_op_operand(l->q, 0)->type->elem;
  double s = qt->scales[0];
  int64_t zp = qir_quant_zp(qt, 0);
  for (int64_t i = 0; i < n; i++) {
    if (!isfinite(x[i]))
      continue;
    int64_t ch = (i / inner) % l->cin;
    int64_t q = qir_quantize_f64(x[i], s, zp, qt->qmin, qt->qmax);
    l->sx[ch] += x[i];
    l->sxq[ch] += s * (double)(q - zp);
  }
  l->count += (double)n / (double)l->cin;
  free(x);
}

static void observe(const qir_op *op, unsigned r, const qir_tensor *t,
                    void *user) {
  corrector *c = user;
  intptr_t v = op->results[r].aux;
  if (v > 0 && c->by_value[v - 1])
    add_input(c->by_value[v - 1], t);
}

static bool run_samples(corrector *c, qir_func *f, qq_samples *smp) {
  qir_interp *it = qq_observed_interp(f, observe, c);
  bool ok = it != NULL;
  size_t n = qq_samples_count(smp);
  unsigned nin = it ? qir_interp_num_inputs(it) : 0;
  qir_progress *pg = ok && qq_samples_progress(smp)
                         ? qir_progress_start(stderr, "bias-correction", n)
                         : NULL;
  for (size_t i = 0; ok && i < n; i++) {
    qir_tensor *in = qir_xcalloc(nin + 1, sizeof *in);
    ok = qq_samples_load(smp, i, in);
    for (unsigned k = 0; ok && k < nin; k++) {
      /* Inputs read directly by a layer have no op to observe. */
      layer *l = c->by_value[f->body.args[k]->aux - 1];
      if (l)
        add_input(l, &in[k]);
      ok = qir_interp_set_input(it, k, &in[k]);
    }
    ok = ok && qir_interp_run(it);
    for (unsigned k = 0; k < nin; k++)
      qir_tensor_free_data(&in[k]);
    free(in);
    if (pg)
      qir_progress_update(pg, i + 1);
  }
  if (pg)
    qir_progress_finish(pg);
  qir_interp_destroy(it);
  return ok;
}

/* Element i of a quantized constant, dequantized. */
static double dequant_at(const qir_attr *a, int64_t i) {
  const qir_type *t = a->u.dense.type, *e = t->elem;
  unsigned p = 0;
  if (e->axis >= 0) {
    int64_t inner = 1;
    for (unsigned d = (unsigned)e->axis + 1; d < t->rank; d++)
      inner *= t->dims[d];
    p = (unsigned)((i / inner) % t->dims[e->axis]);
  }
  return e->scales[p] * (double)(qir_dense_get_i64(a, i) - qir_quant_zp(e, p));
}

/* The correction of each output channel of op (float weights w, int8
 * weights wq of its copy l->q) from the input means of l. */
static void layer_corrections(const layer *l, const qir_op *op, double *out) {
  const qir_attr *w = qir_value_constant(qir_op_operand(op, 1));
  const qir_attr *wq = qir_value_constant(qir_op_operand(l->q, 1));
  const qir_type *wt = w->u.dense.type;
  int64_t cout, cin, n = qir_dense_num_elements(w);
  layer_dims(op, &cout, &cin);
  bool conv = qir_op_is(op, QIR_OP_CONV2D);
  bool trans_b = !conv && qir_op_get_int(op, "trans_b", 0);
  int64_t group = conv ? qir_op_get_int(op, "group", 1) : 1;
  int64_t taps = conv ? n / (wt->dims[0] * wt->dims[1]) : 1;
  int64_t per_in = conv ? wt->dims[1] : 0;
  memset(out, 0, (size_t)cout * sizeof *out);
  for (int64_t i = 0; i < n; i++) {
    int64_t o, ic;
    if (conv) {
      o = i / (per_in * taps);
      ic = (o / (cout / group)) * per_in + (i / taps) % per_in;
    } else {
      o = trans_b ? i / cin : i % cout;
      ic = trans_b ? i % cin : i / cout;
    }
    if (o >= cout || ic >= l->cin || l->count <= 0)
      continue;
    double mx = l->sx[ic] / l->count, mxq = l->sxq[ic] / l->count;
    out[o] += dequant_at(wq, i) * mxq - qir_dense_get_f64(w, i) * mx;
  }
}

/* Stores the corrections of every layer reading a measured input value;
 * returns how many layers it corrected and the largest shift. */
static unsigned store_corrections(qir_context *ctx, corrector *c, qir_func *f,
                                  qir_op **map, double *largest,
                                  const char **worst) {
  unsigned done = 0, k = 0;
  qir_foreach_op(op, &f->body) {
    const qir_op *q = map[k++];
    int64_t cout, cin;
    if (!correctable(op, q, &cout, &cin))
      continue;
    layer *l = c->by_value[qir_op_operand(op, 0)->aux - 1];
    if (!l || l->cin != cin)
      continue;
    layer me = *l;
    me.q = q; /* its own weights and input parameters */
    double *v = qir_xcalloc((size_t)cout, sizeof *v);
    layer_corrections(&me, op, v);
    for (int64_t o = 0; o < cout; o++)
      if (fabs(v[o]) > *largest) {
        *largest = fabs(v[o]);
        *worst = qq_layer_name(op);
      }
    qir_op_set_attr(op, QQ_ATTR_BIAS_CORRECTION,
                    qir_attr_floats(ctx, (unsigned)cout, v));
    free(v);
    done++;
  }
  return done;
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

/* A float conv2d/gemm with a bias and a calibrated result (a QDQ model's
 * quantized layers keep their own biases). */
static bool has_biased_layer(qir_func *f) {
  int64_t cout, cin;
  double lo, hi;
  qir_foreach_op(op, &f->body) {
    if (layer_dims(op, &cout, &cin) && layer_bias(op, cout) &&
        qq_is_float_tensor(op->results[0].type) &&
        qq_value_range(&op->results[0], &lo, &hi))
      return true;
  }
  return false;
}

bool qq_correct_biases(qir_func *f, const qir_quantize_options *o,
                       qq_samples *smp) {
  if (!has_biased_layer(f)) {
    if (o->report)
      fprintf(o->report, "bias-correction: no bias to correct (no conv2d or "
              "gemm with a bias on int8 inputs)\n");
    return true;
  }
  qir_func *q;
  qir_op **map;
  qir_module *qm = qq_clone_func(f, &q, &map);
  bool ok = qq_quantize(q, o, NULL, true);
  corrector c = {0};
  unsigned count = 0;
  double largest = 0;
  const char *worst = "";
  if (ok) {
    find_layers(&c, f, map);
    ok = run_samples(&c, f, smp);
  }
  if (ok)
    count = store_corrections(f->module->ctx, &c, f, map, &largest, &worst);
  const char *scheme = qq_scheme_name(o);
  if (ok && count && scheme)
    qir_func_set_attr(f, QQ_ATTR_BIAS_SCHEME,
                      qir_attr_cstr(f->module->ctx, scheme));
  if (ok && count && o->report)
    fprintf(o->report, "bias-correction: %u conv2d/gemm bias(es) corrected over "
            "%zu sample(s); largest shift %.4g ('%s')\n", count,
            qq_samples_count(smp), largest, worst);
  else if (ok && o->report)
    fprintf(o->report, "bias-correction: no bias to correct (no conv2d or "
            "gemm with a bias on int8 inputs)\n");
  free_layers(&c);
  free(map);
  qir_module_destroy(qm);
  return ok;
}

static bool has_ranges(qir_func *f) {
  double lo, hi;
  for (unsigned i = 0; i < f->body.num_args; i++)
    if (qq_value_range(f->body.args[i], &lo, &hi))
      return true;
  qir_foreach_op(op, &f->body) {
    for (unsigned r = 0; r < op->num_results; r++)
      if (qq_value_range(&op->results[r], &lo, &hi))
        return true;
  }
  return false;
}

bool qir_pass_run_bias_correction(qir_pass *pass, void *unit_ir) {
  qir_func *f = unit_ir;
  qir_quantize_options o;
  qq_options_from_pass(pass, &o);
  o.dump = NULL;
  if (!has_ranges(f)) {
    qir_emit_error(f->module->ctx, f->loc, "bias-correction: @%s has no "
                   "calibration ranges (run the calibrate pass first)",
                   f->name);
    return false;
  }
  qq_samples *smp = qq_samples_open(pass, f);
  if (!smp)
    return false;
  bool ok = qq_correct_biases(f, &o, smp);
  qq_samples_close(smp);
  return ok;
}
