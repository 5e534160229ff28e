/* quant/calibrate.c - the calibrate pass: runs the float model on the
 * samples with an observer on every op result, then stores each tensor's
 * chosen range on its defining op (q.range, q.minmax, q.method) and the
 * inputs' ranges on the function (q.arg_range, q.arg_minmax).
 *
 * Methods that need a histogram take two sweeps over the samples: the
 * first fixes each tensor's min/max, the second fills a histogram over
 * [-absmax, absmax]. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "backends/cpu/cpu.h"
#include "qir/progress.h"
#include "quant/quant.h"

/* Sweeps of the equalization calibrate runs (equalize's default). */
#define EQ_SWEEPS 8

typedef struct calib {
  qir_func *f;
  qq_stats *stats;   /* args first, then op results */
  unsigned num_stats;
  bool histogram;    /* second sweep */
} calib;

bool qq_is_float_tensor(const qir_type *t) {
  return qir_type_is_tensor(t) && t->elem->kind == QIR_TYPE_SCALAR &&
         qir_scalar_is_float(t->scalar);
}

float *qq_tensor_to_f32(const qir_tensor *t) {
  int64_t n = qir_tensor_numel(t);
  float *out = qir_xmalloc((size_t)(n ? n : 1) * sizeof *out);
  const qir_type *q = t->elem;
  if (q && q->kind == QIR_TYPE_QUANT) {
    int64_t inner = 1, ch = 1;
    if (q->axis >= 0)
      for (unsigned d = (unsigned)q->axis + 1; d < t->rank; d++)
        inner *= t->dims[d];
    if (q->axis >= 0)
      ch = t->dims[q->axis];
    for (int64_t i = 0; i < n; i++) {
      int64_t c = q->axis >= 0 ? (i / inner) % ch : 0;
      out[i] = (float)qir_dequantize_f64(qir_load_int(t->scalar, t->data, i),
                                         qir_quant_scale(q, c),
                                         qir_quant_zp(q, c));
    }
  } else {
    qir_convert(t->scalar, t->data, QIR_F32, out, n);
  }
  return out;
}

static void observe_tensor(calib *c, qq_stats *s, const qir_tensor *t) {
  const float *x = t->data;
  float *tmp = NULL;
  if (t->scalar != QIR_F32 || (t->elem && t->elem->kind == QIR_TYPE_QUANT))
    x = tmp = qq_tensor_to_f32(t);
  int64_t n = qir_tensor_numel(t);
  if (c->histogram)
    qq_stats_add_histogram(s, x, n);
  else
    qq_stats_add_minmax(s, x, n);
  free(tmp);
}

static void observer(const qir_op *op, unsigned result, const qir_tensor *t,
                     void *user) {
  calib *c = user;
  if (op->aux <= 0 || !qir_scalar_is_float(t->scalar))
    return;
  observe_tensor(c, &c->stats[op->aux - 1 + result], t);
}

/* Gives every op with a float result a base slot (op->aux = slot + 1). */
static unsigned assign_slots(qir_func *f) {
  unsigned n = f->body.num_args;
  qir_foreach_op(op, &f->body) {
    op->aux = 0;
    if (qir_op_is(op, QIR_OP_CONSTANT) || !op->num_results)
      continue;
    op->aux = (intptr_t)n + 1;
    n += op->num_results;
  }
  return n;
}

static bool sweep(calib *c, qq_samples *smp, qir_interp *it,
                  qir_progress *pg, size_t *done) {
  unsigned nargs = c->f->body.num_args;
  qir_tensor *in = qir_xcalloc(nargs ? nargs : 1, sizeof *in);
  bool ok = true;
  for (size_t i = 0; ok && i < qq_samples_count(smp); i++) {
    ok = qq_samples_load(smp, i, in);
    for (unsigned k = 0; ok && k < nargs; k++) {
      if (qir_scalar_is_float(in[k].scalar))
        observe_tensor(c, &c->stats[k], &in[k]);
      ok = qir_interp_set_input(it, k, &in[k]);
    }
    if (ok)
      ok = qir_interp_run(it);
    for (unsigned k = 0; k < nargs; k++)
      qir_tensor_free_data(&in[k]);
    memset(in, 0, (nargs ? nargs : 1) * sizeof *in);
    if (pg)
      qir_progress_update(pg, ++*done);
  }
  free(in);
  return ok;
}

static const qir_attr *range_attr(qir_context *ctx, const qq_stats *s,
                                  unsigned n, qq_method m, double pct,
                                  bool chosen) {
  double *v = qir_xmalloc(2 * (size_t)n * sizeof *v);
  for (unsigned i = 0; i < n; i++) {
    double lo = 0, hi = 0;
    if (chosen)
      qq_choose_range(&s[i], m, pct, 255, &lo, &hi);
    else if (s[i].lo <= s[i].hi) {
      lo = s[i].lo;
      hi = s[i].hi;
    }
    v[2 * i] = lo;
    v[2 * i + 1] = hi;
  }
  const qir_attr *a = qir_attr_floats(ctx, 2 * n, v);
  free(v);
  return a;
}

static void store_ranges(calib *c, qq_method m, double pct) {
  qir_func *f = c->f;
  qir_context *ctx = f->module->ctx;
  unsigned na = f->body.num_args;
  if (na) {
    qir_func_set_attr(f, QQ_ATTR_ARG_RANGE,
                      range_attr(ctx, c->stats, na, m, pct, true));
    qir_func_set_attr(f, QQ_ATTR_ARG_MINMAX,
                      range_attr(ctx, c->stats, na, m, pct, false));
  }
  const qir_attr *method = qir_attr_cstr(ctx, qq_method_name(m));
  qir_foreach_op(op, &f->body) {
    if (op->aux <= 0 || qir_op_get_attr(op, QQ_ATTR_FIXED))
      continue;
    bool any_float = false;
    for (unsigned r = 0; r < op->num_results; r++)
      any_float |= qq_is_float_tensor(op->results[r].type);
    if (!any_float)
      continue;
    const qq_stats *s = &c->stats[op->aux - 1];
    qir_op_set_attr(op, QQ_ATTR_RANGE,
                    range_attr(ctx, s, op->num_results, m, pct, true));
    qir_op_set_attr(op, QQ_ATTR_MINMAX,
                    range_attr(ctx, s, op->num_results, m, pct, false));
    qir_op_set_attr(op, QQ_ATTR_METHOD, method);
  }
}

static bool read_method(qir_pass *pass, qir_func *f, qq_method *m,
                        double *pct, unsigned *bins) {
  qir_context *ctx = f->module->ctx;
  const char *name = qir_pass_opt_string(pass, "method");
  if (!qq_method_from_name(name, m)) {
    qir_emit_error(ctx, f->loc, "calibrate: unknown method '%s' (expected "
                   "minmax, percentile, mse, kl or auto)", name);
    return false;
  }
  *pct = qir_pass_opt_float(pass, "percentile");
  if (!(*pct > 50.0 && *pct <= 100.0)) {
    qir_emit_error(ctx, f->loc, "calibrate: percentile must be in (50, 100]");
    return false;
  }
  int64_t b = qir_pass_opt_int(pass, "bins");
  if (b < 256 || b > (1 << 20)) {
    qir_emit_error(ctx, f->loc, "calibrate: bins must be in 256..1048576");
    return false;
  }
  *bins = (unsigned)b;
  return true;
}

/* method=auto: each candidate's ranges (and bias corrections), quantized
 * with options o, compared with the float model on the same samples; the
 * best worst output cosine wins, the earlier candidate on a tie.  cos[i]
 * receives each candidate's cosine. */
static const qq_method auto_cand[] = {QQ_MINMAX, QQ_PERCENTILE, QQ_MSE};
#define NUM_CAND (sizeof auto_cand / sizeof *auto_cand)

static bool choose_method(calib *c, qq_samples *smp, const qir_quantize_options *o,
                          double pct, bool bc, qq_method *best, double *cos) {
  qir_quantize_options quiet = *o;
  quiet.report = NULL;
  double top = -INFINITY;
  bool ok = true;
  for (unsigned i = 0; ok && i < NUM_CAND; i++) {
    store_ranges(c, auto_cand[i], pct);
    ok = (!bc || qq_correct_biases(c->f, &quiet, smp)) &&
         qq_e2e_cosine(c->f, &quiet, smp, NULL, "calibrate: method=auto", &cos[i]);
    if (ok && cos[i] > top + 1e-9) {
      top = cos[i];
      *best = auto_cand[i];
    }
  }
  return ok;
}

static void print_cosines(const double *cos) {
  for (unsigned i = 0; i < NUM_CAND; i++)
    fprintf(stderr, " %s %.6f", qq_method_name(auto_cand[i]), cos[i]);
}

static bool run_sweeps(calib *c, qq_samples *smp, bool two) {
  qir_interp *it = qq_observed_interp(c->f, observer, c);
  if (!it)
    return false;
  size_t total = qq_samples_count(smp) * (two ? 2 : 1), done = 0;
  qir_progress *pg = qq_samples_progress(smp)
                         ? qir_progress_start(stderr, "calibrate", total)
                         : NULL;
  bool ok = sweep(c, smp, it, pg, &done);
  if (ok && two) {
    for (unsigned i = 0; i < c->num_stats; i++)
      qq_stats_start_histogram(&c->stats[i], c->stats[i].nbins);
    c->histogram = true;
    ok = sweep(c, smp, it, pg, &done);
  }
  if (pg)
    qir_progress_finish(pg);
  qir_interp_destroy(it);
  return ok;
}

static calib *calib_new(qir_func *f, unsigned bins) {
  calib *c = qir_xcalloc(1, sizeof *c);
  c->f = f;
  c->num_stats = assign_slots(f);
  c->stats = qir_xcalloc(c->num_stats ? c->num_stats : 1, sizeof *c->stats);
  for (unsigned i = 0; i < c->num_stats; i++) {
    qq_stats_init(&c->stats[i]);
    c->stats[i].nbins = bins;
  }
  return c;
}

static void calib_free(calib *c) {
  if (!c)
    return;
  for (unsigned i = 0; i < c->num_stats; i++)
    qq_stats_free(&c->stats[i]);
  free(c->stats);
  free(c);
}

static double best_cosine(const double *cos) {
  double top = -INFINITY;
  for (unsigned i = 0; i < NUM_CAND; i++)
    top = fmax(top, cos[i]);
  return top;
}

/* method=auto with equalize: the models tried, each from f as it came:
 * as it is, its conv2d pairs equalized, and its shared tensors and pairs
 * equalized (in the order of preference on a tie). */
enum { ST_PLAIN, ST_PAIRS, ST_SHARED, NUM_STAGES };

/* Calibrates f as it is (the statistics in *c) and, with equalize, f with
 * its shared tensors and pairs equalized, then with its pairs alone
 * (qq_equalize on the samples), each tried when it changes f; keeps the
 * best by method=auto's cosine: f as that one has it, its statistics in
 * *c and its method in *m. */
static bool run_auto(calib **c, qq_samples *smp, const qir_quantize_options *o,
                     double pct, unsigned bins, bool bc, bool equalize,
                     qq_method *m) {
  static const unsigned order[] = {ST_SHARED, ST_PAIRS};
  double cos[NUM_STAGES][NUM_CAND];
  calib *cal[NUM_STAGES] = {*c, NULL, NULL};
  qq_method meth[NUM_STAGES] = {*m, *m, *m};
  qq_undo *undo = NULL;
  qq_eq_counts n[NUM_STAGES] = {{0, 0}, {0, 0}, {0, 0}};
  qir_func *f = (*c)->f;
  unsigned win = ST_PLAIN, now = ST_PLAIN; /* the best; what f is */
  bool tried[NUM_STAGES] = {true, false, false};
  bool ok = choose_method(cal[0], smp, o, pct, bc, &meth[0], cos[0]);
  for (unsigned i = 0; ok && equalize && i < 2; i++) {
    unsigned k = order[i];
    if (k == ST_PAIRS && now == ST_SHARED && !n[ST_SHARED].shared) {
      n[k] = n[ST_SHARED]; /* (f is that already) */
    } else {
      qq_undo_apply(undo);
      undo = NULL;
      ok = qq_equalize(f, smp, EQ_SWEEPS, k == ST_SHARED, &undo, &n[k]);
    }
    now = k;
    tried[k] = ok && (k == ST_PAIRS ? n[k].pairs > 0 : n[k].shared > 0);
    if (tried[k]) {
      cal[k] = calib_new(f, bins);
      ok = run_sweeps(cal[k], smp, true) &&
           choose_method(cal[k], smp, o, pct, bc, &meth[k], cos[k]);
    }
  }
  for (unsigned k = ST_PAIRS; ok && k < NUM_STAGES; k++)
    if (tried[k] && best_cosine(cos[k]) > best_cosine(cos[win]) + 1e-9)
      win = k;
  /* f back to the winner: equalized again the same way when that was not
   * the last tried (the same values, so its statistics still hold). */
  if (win != now) {
    qq_undo_apply(undo);
    undo = NULL;
    qq_eq_counts again;
    if (ok && win != ST_PLAIN)
      ok = qq_equalize(f, smp, EQ_SWEEPS, win == ST_SHARED, &undo, &again);
    assign_slots(f);
  }
  qq_undo_free(undo);
  for (unsigned k = 0; k < NUM_STAGES; k++)
    if (k != win)
      calib_free(cal[k]);
  *c = cal[win];
  *m = meth[win];
  if (!ok)
    return false;
  static const char *const after[NUM_STAGES] = {
      "", " after equalize", " after equalize with shared tensors"};
  fprintf(stderr, "calibrate: method=auto chose %s%s (output cosine on the "
          "%zu sample(s):", qq_method_name(*m), after[win], qq_samples_count(smp));
  print_cosines(cos[ST_PLAIN]);
  if (tried[ST_PAIRS]) {
    fprintf(stderr, "; equalized (%u pair(s)):", n[ST_PAIRS].pairs);
    print_cosines(cos[ST_PAIRS]);
  }
  if (tried[ST_SHARED]) {
    fprintf(stderr, "; with %u shared tensor(s) (%u pair(s)):",
            n[ST_SHARED].shared, n[ST_SHARED].pairs);
    print_cosines(cos[ST_SHARED]);
  }
  fprintf(stderr, ")\n");
  return true;
}

/* calibrate's equalize option. */
enum { EQ_FALSE, EQ_TRUE, EQ_AUTO };

static bool read_equalize(qir_pass *pass, qir_func *f, int *eq) {
  const char *e = qir_pass_opt_string(pass, "equalize");
  static const char *const names[] = {[EQ_FALSE] = "false", [EQ_TRUE] = "true",
                                      [EQ_AUTO] = "auto"};
  for (int i = EQ_FALSE; i <= EQ_AUTO; i++)
    if (!strcmp(e, names[i])) {
      *eq = i;
      return true;
    }
  qir_emit_error(f->module->ctx, f->loc, "calibrate: equalize must be "
                 "auto, true or false, not '%s'", e);
  return false;
}

bool qir_pass_run_calibrate(qir_pass *pass, void *unit_ir) {
  qir_func *f = unit_ir;
  qq_method m;
  double pct;
  unsigned bins;
  int eq;
  if (!read_method(pass, f, &m, &pct, &bins) || !read_equalize(pass, f, &eq))
    return false;
  qq_samples *smp = qq_samples_open(pass, f);
  if (!smp)
    return false;
  /* equalize=true: the model is equalized before anything is measured. */
  qq_eq_counts n;
  bool ok = eq != EQ_TRUE || qq_equalize(f, smp, EQ_SWEEPS, true, NULL, &n);
  calib *c = calib_new(f, bins);
  ok = ok && run_sweeps(c, smp, qq_method_needs_histogram(m));
  bool bc = qir_pass_opt_bool(pass, "bias-correction");
  qir_quantize_options o;
  qq_options_from_pass(pass, &o);
  o.dump = NULL; /* (quantize's own option: nothing to dump here) */
  if (ok && m == QQ_AUTO)
    ok = run_auto(&c, smp, &o, pct, bins, bc, eq == EQ_AUTO, &m);
  if (ok)
    store_ranges(c, m, pct);
  if (ok && bc)
    ok = qq_correct_biases(f, &o, smp);
  qir_pass_stat(pass, "samples", (long)qq_samples_count(smp));
  calib_free(c);
  qq_samples_close(smp);
  return ok;
}
