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
 * layers are quantized per output channel and do not care.
 *
 * With samples, tensors that are no pair's link (a residual stream: read
 * by the next block and by its shortcut) are scaled per channel too, as
 * classes of channels that must share one scale (below, "Shared
 * tensors"). */
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

/* The 4-D float results of f, measured on the samples: value v (with
 * v->aux = index + 1) has channels node[base[i]...], one per channel. */
typedef struct eq_state {
  qq_undo *undo;   /* NULL: not recorded */
  qir_value **val; /* the tracked results */
  unsigned *base;  /* first node of each */
  unsigned num_val, num_node;
  double *act;     /* per node: max |x| on the samples; NULL: data-free */
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
  intptr_t k = a->results[0].aux;
  double *act = k > 0 && st->act ? st->act + st->base[k - 1] : NULL;
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
  intptr_t k = op->results[result].aux;
  if (k <= 0 || t->rank != 4)
    return;
  double *r = st->act + st->base[k - 1];
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

/* The results tracked (v->aux: index + 1; others 0): with `all`, every
 * 4-D float result of an op that computes, else the pairs' first results
 * alone (all the pairs measure). */
static void track(qir_func *f, eq_state *st, bool all) {
  for (unsigned i = 0; i < f->body.num_args; i++)
    f->body.args[i]->aux = 0;
  qir_foreach_op(op, &f->body) {
    for (unsigned r = 0; r < op->num_results; r++)
      op->results[r].aux = 0;
    qir_value *v = &op->results[0];
    bool dw;
    if (op->num_results != 1 || qir_op_is(op, QIR_OP_CONSTANT) ||
        !qq_is_float_tensor(v->type) || v->type->rank != 4 ||
        v->type->dims[1] <= 0 || (!all && !pair_of(op, &dw)))
      continue;
    st->val = qir_xrealloc(st->val, (st->num_val + 1) * sizeof *st->val);
    st->base = qir_xrealloc(st->base, (st->num_val + 1) * sizeof *st->base);
    st->val[st->num_val] = v;
    st->base[st->num_val++] = st->num_node;
    st->num_node += (unsigned)v->type->dims[1];
    v->aux = (intptr_t)st->num_val;
  }
}

/* Measures the largest |x| per channel of every tracked result on the
 * samples. */
static bool measure(qir_func *f, qq_samples *smp, eq_state *st) {
  st->act = qir_xcalloc(st->num_node + 1, sizeof *st->act);
  qir_interp *it = qq_observed_interp(f, observe, st);
  bool ok = it != NULL;
  for (size_t i = 0; ok && i < qq_samples_count(smp); i++)
    ok = qq_run_sample(smp, i, it);
  qir_interp_destroy(it);
  return ok;
}

/* ---- Shared tensors -------------------------------------------------------
 * A result read by several ops is no pair's A, but its channels can still
 * be scaled when every op that makes it can take the scale and every op
 * that reads it can undo it.  Making: a conv2d (its output channel, as A
 * of a pair), or an op that passes channels through unchanged by a
 * positive scale: relu, max_pool2d, avg_pool2d, resize, add (operands and
 * result alike), concat along channels (each part a slice), a conv2d's
 * `sum` operand (like its result).  Reading: a conv2d's input channel
 * (plain or depthwise), or one of those pass-through ops.  Channels linked
 * by the pass-through ops share one scale: a class (union-find over the
 * channels of all tracked results).  A class that touches anything else (a
 * model input or output, a transpose, a mul, a concat of a non-zero
 * constant) keeps scale 1.
 *
 * Each class takes s = a, a its largest measured range relative to its
 * tensor's largest channel: every channel then reaches, in the tensor
 * where it is relatively widest, the tensor's range, which no channel
 * exceeds.  A depthwise reader absorbs s in its per-channel weights
 * exactly; a plain conv2d reader multiplies a column of its weights, which
 * per-output-channel weights feel, so a class with such readers takes
 * s = sqrt(a / w) instead, w the column's relative weight range, as the
 * pairs do. */

typedef struct eq_shared {
  unsigned *parent; /* union-find over the nodes */
  bool *pinned;     /* per root: scale 1 */
  bool *plain;      /* per root: read by a plain conv2d */
  double *a, *w;    /* per root: largest relative range, column weight */
} eq_shared;

static unsigned find(eq_shared *sh, unsigned n) {
  while (sh->parent[n] != n)
    n = sh->parent[n] = sh->parent[sh->parent[n]];
  return n;
}

static void unite(eq_shared *sh, unsigned x, unsigned y) {
  x = find(sh, x);
  y = find(sh, y);
  if (x != y) {
    sh->parent[y] = x;
    sh->pinned[x] |= sh->pinned[y];
  }
}

static int64_t channels(const qir_value *v) { return v->type->dims[1]; }

/* The first node of v, or -1 when v is not tracked. */
static int64_t node_of(const eq_state *st, const qir_value *v) {
  return v->aux > 0 ? (int64_t)st->base[v->aux - 1] : -1;
}

static void pin(const eq_state *st, eq_shared *sh, const qir_value *v,
                int64_t from, int64_t n) {
  int64_t b = node_of(st, v);
  for (int64_t c = 0; b >= 0 && c < n; c++)
    sh->pinned[find(sh, (unsigned)(b + from + c))] = true;
}

/* Links channel c of operand v to channel off + c of result r, for the n
 * channels of v; when v is not tracked, pins those of r. */
static void link(const eq_state *st, eq_shared *sh, const qir_value *r,
                 const qir_value *v, int64_t off, int64_t n) {
  int64_t rb = node_of(st, r), vb = node_of(st, v);
  n = off + n > channels(r) ? channels(r) - off : n;
  if (vb < 0)
    pin(st, sh, r, off, n);
  for (int64_t c = 0; vb >= 0 && c < n; c++)
    unite(sh, (unsigned)(rb + off + c), (unsigned)(vb + c));
}

static bool all_zero(const qir_value *v) {
  const qir_attr *a = qir_value_constant(v);
  if (!a)
    return false;
  for (int64_t i = 0, n = qir_dense_num_elements(a); i < n; i++)
    if (qir_dense_get_f64(a, i) != 0)
      return false;
  return true;
}

static bool passes_through(const qir_op *op) {
  if (qir_op_is(op, QIR_OP_CONCAT)) {
    int64_t axis = qir_op_get_int(op, "axis", 0);
    return axis == 1 || axis == -3;
  }
  if (qir_op_is(op, QIR_OP_ADD))
    return op->num_operands == 2 &&
           qir_op_operand(op, 0)->type == op->results[0].type &&
           qir_op_operand(op, 1)->type == op->results[0].type;
  return qir_op_is(op, QIR_OP_RELU) || qir_op_is(op, QIR_OP_MAX_POOL2D) ||
         qir_op_is(op, QIR_OP_AVG_POOL2D) || qir_op_is(op, QIR_OP_RESIZE);
}

/* A conv2d whose output channels can take a scale (weights and bias). */
static bool scalable_conv(const qir_op *op) {
  const qir_attr *w = float_weight(op, 1);
  bool sum = qir_op_get_bool(op, "sum_in", false);
  unsigned n = op->num_operands - (sum ? 1 : 0);
  return w && w->u.dense.type->rank == 4 &&
         w->u.dense.type->dims[0] == channels(&op->results[0]) &&
         homogeneous_activation(op) && (n < 3 || conv_bias(op));
}

/* Whether op may read tracked v as operand i without pinning it (the
 * links of its result are made on the result's side). */
static bool reads_ok(const qir_op *op, unsigned i, const qir_value *v) {
  bool dw;
  bool tracked_result = op->num_results == 1 && op->results[0].aux > 0;
  if (qir_op_is(op, QIR_OP_CONV2D)) {
    bool sum = qir_op_get_bool(op, "sum_in", false);
    if (sum && i == op->num_operands - 1)
      return tracked_result;
    return i == 0 && b_layout(op, channels(v), &dw);
  }
  return passes_through(op) && tracked_result;
}

/* The classes of f's tracked results. */
static void classify(qir_func *f, const eq_state *st, eq_shared *sh) {
  for (unsigned n = 0; n < st->num_node; n++)
    sh->parent[n] = n;
  qir_foreach_op(op, &f->body) {
    qir_value *r = op->num_results == 1 ? &op->results[0] : NULL;
    bool dw;
    if (r && r->aux > 0) {
      if (qir_op_is(op, QIR_OP_CONV2D)) {
        /* (A pair's first result is the pairs' own business.) */
        if (!scalable_conv(op) || pair_of(op, &dw))
          pin(st, sh, r, 0, channels(r));
        if (qir_op_get_bool(op, "sum_in", false))
          link(st, sh, r, qir_op_operand(op, op->num_operands - 1), 0,
               channels(r));
      } else if (qir_op_is(op, QIR_OP_CONCAT) && passes_through(op)) {
        int64_t off = 0;
        for (unsigned i = 0; i < op->num_operands; i++) {
          qir_value *v = qir_op_operand(op, i);
          int64_t n = v->type->rank == 4 ? v->type->dims[1] : 0;
          if (!all_zero(v))
            link(st, sh, r, v, off, n);
          off += n;
        }
      } else if (passes_through(op)) {
        for (unsigned i = 0; i < op->num_operands; i++)
          link(st, sh, r, qir_op_operand(op, i), 0, channels(r));
      } else {
        pin(st, sh, r, 0, channels(r));
      }
    }
    for (unsigned i = 0; i < op->num_operands; i++) {
      qir_value *v = qir_op_operand(op, i);
      if (v->aux > 0 && !reads_ok(op, i, v))
        pin(st, sh, v, 0, channels(v));
    }
  }
}

/* max |w| over the kernel of each input channel of a plain conv2d's weight
 * relative to the largest of its output channel's, the most over the
 * output channels (col[c]). */
static void column_weights(const qir_attr *w, double *col) {
  const int64_t *d = w->u.dense.type->dims;
  int64_t k = d[2] * d[3];
  for (int64_t o = 0; o < d[0]; o++) {
    double row = 0;
    for (int64_t i = 0; i < d[1] * k; i++)
      row = fmax(row, fabs(qir_dense_get_f64(w, o * d[1] * k + i)));
    for (int64_t c = 0; row > 0 && isfinite(row) && c < d[1]; c++) {
      double m = 0;
      for (int64_t i = 0; i < k; i++)
        m = fmax(m, fabs(qir_dense_get_f64(w, (o * d[1] + c) * k + i)));
      col[c] = fmax(col[c], m / row);
    }
  }
}

/* The scale of channel c of tracked v (1 when v is not tracked). */
static double scale_of(const eq_state *st, eq_shared *sh, const qir_value *v,
                       int64_t c) {
  int64_t b = node_of(st, v);
  return b < 0 ? 1.0 : sh->a[find(sh, (unsigned)(b + c))];
}

/* Scales operand i of op along axis by the scales of v's channels (inv:
 * their inverses); false when all are 1. */
static bool apply_scales(qir_context *ctx, const eq_state *st, eq_shared *sh,
                         qir_op *op, unsigned i, unsigned axis,
                         const qir_value *v, bool inv) {
  int64_t ch = channels(v);
  double *f = qir_xmalloc((size_t)ch * sizeof *f);
  bool any = false;
  for (int64_t c = 0; c < ch; c++) {
    double s = scale_of(st, sh, v, c);
    f[c] = inv ? 1.0 / s : s;
    any |= s != 1.0;
  }
  if (any)
    scale_constant(ctx, st->undo, op, i, axis, f);
  free(f);
  return any;
}

/* Scales the shared tensors of f (needs st->act); returns how many
 * tensors changed. */
static unsigned equalize_shared(qir_func *f, eq_state *st) {
  qir_context *ctx = f->module->ctx;
  size_t n = (size_t)st->num_node + 1;
  eq_shared sh = {qir_xcalloc(n, sizeof *sh.parent), qir_xcalloc(n, sizeof *sh.pinned),
                  qir_xcalloc(n, sizeof *sh.plain), qir_xcalloc(n, sizeof *sh.a),
                  qir_xcalloc(n, sizeof *sh.w)};
  classify(f, st, &sh);
  for (unsigned i = 0; i < st->num_val; i++) {
    const double *r = st->act + st->base[i];
    int64_t ch = channels(st->val[i]);
    double top = 0;
    for (int64_t c = 0; c < ch; c++)
      top = fmax(top, r[c]);
    for (int64_t c = 0; top > 0 && c < ch; c++) {
      unsigned k = find(&sh, st->base[i] + (unsigned)c);
      sh.a[k] = fmax(sh.a[k], r[c] / top);
    }
  }
  qir_foreach_op(op, &f->body) {
    bool dw;
    qir_value *v = op->num_operands ? qir_op_operand(op, 0) : NULL;
    if (!qir_op_is(op, QIR_OP_CONV2D) || v->aux <= 0 ||
        !b_layout(op, channels(v), &dw) || dw)
      continue;
    double *col = qir_xcalloc((size_t)channels(v) + 1, sizeof *col);
    column_weights(float_weight(op, 1), col);
    for (int64_t c = 0; c < channels(v); c++) {
      unsigned k = find(&sh, st->base[v->aux - 1] + (unsigned)c);
      sh.plain[k] = true;
      sh.w[k] = fmax(sh.w[k], col[c]);
    }
    free(col);
  }
  for (unsigned k = 0; k < st->num_node; k++) {
    if (sh.parent[k] != k)
      continue;
    double a = sh.a[k], s = 1.0;
    if (!sh.pinned[k] && a > 0)
      s = sh.plain[k] && sh.w[k] > 0 ? sqrt(a / sh.w[k]) : a;
    s = fmin(fmax(s, 1.0 / EQ_MAX_SCALE), EQ_MAX_SCALE);
    sh.a[k] = fabs(s - 1.0) < 1e-9 ? 1.0 : s; /* from here on: the scale */
  }
  qir_foreach_op(op, &f->body) {
    bool dw;
    if (!qir_op_is(op, QIR_OP_CONV2D))
      continue;
    qir_value *r = &op->results[0], *v = qir_op_operand(op, 0);
    if (r->aux > 0 && apply_scales(ctx, st, &sh, op, 1, 0, r, true) && conv_bias(op))
      apply_scales(ctx, st, &sh, op, 2, 0, r, true);
    if (v->aux > 0 && b_layout(op, channels(v), &dw))
      apply_scales(ctx, st, &sh, op, 1, dw ? 0 : 1, v, false);
  }
  unsigned changed = 0;
  for (unsigned i = 0; i < st->num_val; i++) {
    bool any = false;
    for (int64_t c = 0; c < channels(st->val[i]); c++)
      any |= scale_of(st, &sh, st->val[i], c) != 1.0;
    changed += any;
  }
  free(sh.parent);
  free(sh.pinned);
  free(sh.plain);
  free(sh.a);
  free(sh.w);
  return changed;
}

bool qq_equalize(qir_func *f, qq_samples *smp, unsigned sweeps, bool shared,
                 qq_undo **undo, qq_eq_counts *n) {
  eq_state st = {0};
  if (undo)
    st.undo = *undo = qir_xcalloc(1, sizeof **undo);
  n->pairs = n->shared = 0;
  track(f, &st, smp && shared);
  bool ok = !smp || measure(f, smp, &st);
  if (ok && smp && shared)
    n->shared = equalize_shared(f, &st);
  /* Stops once no channel moves by more than 0.1%. */
  for (unsigned i = 0; ok && i < sweeps; i++)
    if (sweep(f, &st, &n->pairs) < 1e-3)
      break;
  for (unsigned i = 0; i < st.num_val; i++)
    st.val[i]->aux = 0;
  free(st.val);
  free(st.base);
  free(st.act);
  return ok;
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
  qq_eq_counts n;
  bool shared = qir_pass_opt_bool(pass, "shared");
  bool ok = qq_equalize(f, smp, (unsigned)sweeps, shared, NULL, &n);
  if (smp)
    qq_samples_close(smp);
  if (!ok)
    return false;
  qir_pass_stat(pass, "pairs", n.pairs);
  if (smp && shared)
    qir_pass_stat(pass, "shared tensors", n.shared);
  return true;
}
