/* quant/equalize.c - cross-layer equalization (docs/Quantization.md,
 * "equalize").
 *
 * A conv2d A whose only user is a conv2d B can trade scale per channel:
 * dividing A's output channel c (its weights and bias) by s_c and
 * multiplying B's input channel c by s_c leaves B's result unchanged when
 * nothing between them bends (no activation, relu or leaky_relu: positive
 * homogeneous).  With s_c = sqrt(r1_c / r2_c), r1 the weight range of A's
 * channel and r2 the weight range of B's input channel, both become
 * sqrt(r1 r2): a channel whose huge weights made a huge activation range
 * (and forced a per-tensor scale that starves the other channels) is
 * brought in line.  Chains A -> B -> C are swept a few times.
 *
 * With samples, r1 is instead the largest |x| of A's output channel c on
 * them (measured once: a scale s_c divides it exactly), the quantity the
 * per-tensor activation quantization actually sees; the weights of both
 * layers are quantized per output channel and do not care. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "quant/quant.h"

/* Scales outside this band are clamped: a channel with near-zero weights
 * on one side would otherwise take an absurd factor. */
#define EQ_MAX_SCALE 1e4

/* What equalization replaced, so that it can be taken back exactly: the
 * original weight and bias values, kept in the function (unused) until
 * qq_undo_apply puts them back or qq_undo_free erases them. */
struct qq_undo {
  qir_op **ops;
  unsigned *operand;
  qir_value **orig;
  unsigned n, cap;
};

typedef struct eq_state {
  qq_undo *undo;   /* NULL: not recorded */
  double **act;    /* per A (op->aux - 1): max |x| per channel, or NULL */
  unsigned num_act;
} eq_state;

/* A's fused activation commutes with a positive per-channel scale (a
 * post-activation affine's shift does not). */
static bool homogeneous_activation(const qir_op *op) {
  const char *act = qir_op_get_string(op, "activation");
  float pm, pa;
  return (!act || !strcmp(act, "relu") || !strcmp(act, "leaky_relu")) &&
         !qir_op_post_affine(op, &pm, &pa);
}

static const qir_attr *float_weight(const qir_op *op, unsigned i) {
  if (i >= op->num_operands)
    return NULL;
  const qir_value *v = qir_op_operand(op, i);
  const qir_attr *a = qir_value_constant(v);
  return a && qq_is_float_tensor(v->type) ? a : NULL;
}

/* The bias operand of a conv2d (NULL when it has none). */
static const qir_attr *conv_bias(const qir_op *op) {
  bool sum = qir_op_get_bool(op, "sum_in", false);
  unsigned n = op->num_operands - (sum ? 1 : 0);
  if (n < 3)
    return NULL;
  const qir_attr *b = float_weight(op, 2);
  return b && b->u.dense.type->rank == 1 ? b : NULL;
}

/* B's input channels: per input channel of a plain conv (group 1), or per
 * channel of a depthwise one (multiplier 1). */
static bool b_layout(const qir_op *b, int64_t ch, bool *depthwise) {
  const qir_attr *w = float_weight(b, 1);
  if (!w || w->u.dense.type->rank != 4)
    return false;
  const int64_t *d = w->u.dense.type->dims;
  int64_t group = qir_op_get_int(b, "group", 1);
  *depthwise = group != 1;
  if (group == 1)
    return d[1] == ch;
  return group == ch && d[0] == ch && d[1] == 1;
}

/* The conv2d that A's result feeds, when A and it form a pair. */
static qir_op *pair_of(qir_op *a, bool *depthwise) {
  if (!qir_op_is(a, QIR_OP_CONV2D) || a->num_results != 1 ||
      qir_op_get_bool(a, "sum_in", false) || !homogeneous_activation(a))
    return NULL;
  const qir_attr *wa = float_weight(a, 1);
  if (!wa || wa->u.dense.type->rank != 4 ||
      !qir_value_has_one_use(&a->results[0]))
    return NULL;
  const qir_use *u = a->results[0].uses;
  qir_op *b = u->owner;
  if (!qir_op_is(b, QIR_OP_CONV2D) || u->index != 0)
    return NULL;
  return b_layout(b, wa->u.dense.type->dims[0], depthwise) ? b : NULL;
}

/* max |w| per index of dimension `axis` (0 or 1) of a 4-D weight. */
static double *channel_ranges(const qir_attr *w, unsigned axis) {
  const int64_t *d = w->u.dense.type->dims;
  int64_t n = qir_dense_num_elements(w), inner = d[2] * d[3];
  int64_t ch = d[axis];
  double *r = qir_xcalloc((size_t)ch + 1, sizeof *r);
  for (int64_t i = 0; i < n; i++) {
    int64_t c = axis == 0 ? i / (d[1] * inner) : (i / inner) % d[1];
    double v = fabs(qir_dense_get_f64(w, i));
    if (isfinite(v))
      r[c] = fmax(r[c], v);
  }
  return r;
}

/* Records operand i of op as replaced; true when it was not yet (old is
 * the original value, to keep). */
static bool record(qq_undo *u, qir_op *op, unsigned i, qir_value *old) {
  if (!u)
    return false;
  for (unsigned k = 0; k < u->n; k++)
    if (u->ops[k] == op && u->operand[k] == i)
      return false;
  if (u->n == u->cap) {
    u->cap = u->cap ? 2 * u->cap : 16;
    u->ops = qir_xrealloc(u->ops, u->cap * sizeof *u->ops);
    u->operand = qir_xrealloc(u->operand, u->cap * sizeof *u->operand);
    u->orig = qir_xrealloc(u->orig, u->cap * sizeof *u->orig);
  }
  u->ops[u->n] = op;
  u->operand[u->n] = i;
  u->orig[u->n++] = old;
  return true;
}

/* Erases the op defining v when nothing uses v any more. */
static void erase_unused(qir_value *v) {
  qir_op *def = qir_value_def(v);
  if (def && !qir_value_has_uses(v))
    qir_op_erase(def);
}

/* Replaces operand i of op by a copy of its constant with every element
 * of channel c (index along `axis`) multiplied by f[c]; the original goes
 * to the undo record u (when given), an intermediate copy away. */
static void scale_constant(qir_context *ctx, qq_undo *u, qir_op *op, unsigned i,
                           unsigned axis, const double *f) {
  qir_value *old = qir_op_operand(op, i);
  const qir_attr *w = qir_value_constant(old);
  const qir_type *t = w->u.dense.type;
  int64_t n = qir_dense_num_elements(w), inner = 1;
  for (unsigned k = axis + 1; k < t->rank; k++)
    inner *= t->dims[k];
  double *v = qir_xmalloc((size_t)(n ? n : 1) * sizeof *v);
  for (int64_t k = 0; k < n; k++)
    v[k] = qir_dense_get_f64(w, k) * f[(k / inner) % t->dims[axis]];
  qir_builder b;
  qir_builder_init(&b, ctx);
  qir_builder_set_before(&b, op);
  qir_op_set_operand(op, i, qir_build_constant(&b, qir_attr_dense_from_f64(ctx, t, v)));
  if (!record(u, op, i, old))
    erase_unused(old);
  free(v);
}

/* Equalizes one pair; returns the largest |log s_c| it applied. */
static double equalize_pair(qir_context *ctx, eq_state *st, qir_op *a, qir_op *b,
                            bool depthwise) {
  const qir_attr *wa = float_weight(a, 1), *wb = float_weight(b, 1);
  int64_t ch = wa->u.dense.type->dims[0];
  double *act = a->aux > 0 && st->act ? st->act[a->aux - 1] : NULL;
  double *r1 = channel_ranges(wa, 0), *r2 = channel_ranges(wb, depthwise ? 0 : 1);
  if (act)
    memcpy(r1, act, (size_t)ch * sizeof *r1);
  double *inv = qir_xcalloc((size_t)ch + 1, sizeof *inv);
  double moved = 0;
  for (int64_t c = 0; c < ch; c++) {
    double s = r1[c] > 0 && r2[c] > 0 ? sqrt(r1[c] / r2[c]) : 1.0;
    s = fmin(fmax(s, 1.0 / EQ_MAX_SCALE), EQ_MAX_SCALE);
    moved = fmax(moved, fabs(log(s)));
    r2[c] = s; /* reused: B's factor */
    inv[c] = 1.0 / s;
    if (act)
      act[c] /= s;
  }
  if (moved > 0) {
    scale_constant(ctx, st->undo, a, 1, 0, inv);
    if (conv_bias(a))
      scale_constant(ctx, st->undo, a, 2, 0, inv);
    scale_constant(ctx, st->undo, b, 1, depthwise ? 0 : 1, r2);
  }
  free(r1);
  free(r2);
  free(inv);
  return moved;
}

/* One sweep over the pairs of f; returns the largest change. */
static double sweep(qir_func *f, eq_state *st, unsigned *pairs) {
  double moved = 0;
  *pairs = 0;
  qir_foreach_op(op, &f->body) {
    bool dw;
    qir_op *b = pair_of(op, &dw);
    if (!b)
      continue;
    (*pairs)++;
    moved = fmax(moved, equalize_pair(f->module->ctx, st, op, b, dw));
  }
  return moved;
}

static void observe(const qir_op *op, unsigned result, const qir_tensor *t,
                    void *user) {
  eq_state *st = user;
  if (op->aux <= 0 || result != 0 || t->rank != 4)
    return;
  double *r = st->act[op->aux - 1];
  float *tmp = t->scalar == QIR_F32 ? NULL : qq_tensor_to_f32(t);
  const float *x = tmp ? tmp : t->data;
  int64_t ch = t->dims[1], inner = t->dims[2] * t->dims[3];
  for (int64_t i = 0, n = qir_tensor_numel(t); i < n; i++) {
    double v = fabs((double)x[i]);
    int64_t c = (i / inner) % ch;
    if (isfinite(v) && v > r[c])
      r[c] = v;
  }
  free(tmp);
}

/* Measures the largest |x| per channel of every pair's A on the samples
 * (A's op->aux: its index + 1). */
static bool measure(qir_func *f, qq_samples *smp, eq_state *st) {
  qir_foreach_op(op, &f->body)
    op->aux = 0;
  qir_foreach_op(op, &f->body) {
    bool dw;
    if (!pair_of(op, &dw))
      continue;
    st->act = qir_xrealloc(st->act, (st->num_act + 1) * sizeof *st->act);
    st->act[st->num_act++] =
        qir_xcalloc((size_t)op->results[0].type->dims[1] + 1, sizeof(double));
    op->aux = (intptr_t)st->num_act;
  }
  qir_interp *it = qq_observed_interp(f, observe, st);
  bool ok = it != NULL;
  for (size_t i = 0; ok && i < qq_samples_count(smp); i++)
    ok = qq_run_sample(smp, i, it);
  qir_interp_destroy(it);
  return ok;
}

int qq_equalize(qir_func *f, qq_samples *smp, unsigned sweeps, qq_undo **undo) {
  eq_state st = {NULL, NULL, 0};
  if (undo)
    st.undo = *undo = qir_xcalloc(1, sizeof **undo);
  unsigned pairs = 0;
  bool ok = !smp || measure(f, smp, &st);
  /* Stops once no channel moves by more than 0.1%. */
  for (unsigned i = 0; ok && i < sweeps; i++)
    if (sweep(f, &st, &pairs) < 1e-3)
      break;
  for (unsigned i = 0; i < st.num_act; i++)
    free(st.act[i]);
  free(st.act);
  qir_foreach_op(op, &f->body)
    op->aux = 0;
  return ok ? (int)pairs : -1;
}

/* Frees the record; with restore, puts the original values back first,
 * else erases them. */
static void undo_release(qq_undo *u, bool restore) {
  if (!u)
    return;
  for (unsigned k = 0; k < u->n; k++) {
    qir_value *cur = qir_op_operand(u->ops[k], u->operand[k]);
    if (restore)
      qir_op_set_operand(u->ops[k], u->operand[k], u->orig[k]);
    erase_unused(restore ? cur : u->orig[k]);
  }
  free(u->ops);
  free(u->operand);
  free(u->orig);
  free(u);
}

void qq_undo_apply(qq_undo *u) { undo_release(u, true); }
void qq_undo_free(qq_undo *u) { undo_release(u, false); }

bool qir_pass_run_equalize(qir_pass *pass, void *unit_ir) {
  qir_func *f = unit_ir;
  int64_t sweeps = qir_pass_opt_int(pass, "sweeps");
  if (sweeps < 1) {
    qir_emit_error(f->module->ctx, f->loc, "equalize: sweeps must be at "
                   "least 1");
    return false;
  }
  qq_samples *smp = NULL;
  if (*qir_pass_opt_string(pass, "data") || qir_pass_opt_int(pass, "random") != 0) {
    smp = qq_samples_open(pass, f);
    if (!smp)
      return false;
  }
  int pairs = qq_equalize(f, smp, (unsigned)sweeps, NULL);
  if (smp)
    qq_samples_close(smp);
  if (pairs < 0)
    return false;
  qir_pass_stat(pass, "pairs", pairs);
  return true;
}
