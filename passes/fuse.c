/* passes/fuse.c - fuses op chains into the fused forms NPUs execute
 * natively (docs/Optimization.md):
 *
 *   conv2d + activation            -> conv2d {activation = ...}
 *   conv2d + add(other) [+ act]    -> conv2d(x, w, b, other) {sum_in = true}
 *   matmul + add(bias)             -> gemm(a, b, bias)
 *   pad + conv2d / pool            -> the pad in the conv's / pool's pads
 *   x * clip(x + 3, 0, 6) / 6      -> hard_swish(x)
 *   conv2d {act} * a + b           -> conv2d {act, post_mul = a, post_add = b}
 *   batch norms and per-channel scales and shifts fold into conv weights
 *   (passes/fuse-fold.c).
 *
 * A worklist drives the rewriting as in canonicalize; every rule looks at
 * the last op of its pattern, and fires only when each intermediate value
 * has no other user, every folded parameter is a constant, and the types
 * are plain f32 (quantized graphs are left alone). */
#include <math.h>
#include <string.h>

#include "passes/fuse.h"

/* ---- Shared helpers ------------------------------------------------------- */

void fuse_note(fuser *fu, const qir_op *op, const char *stat) {
  QIR_DEBUG(fu->ctx, "fuse", "%s: '%s' op at %s:%u:%u\n", stat,
            op->def->name, op->loc.file ? op->loc.file : "?", op->loc.line,
            op->loc.col);
  qir_pass_stat(fu->pass, stat, 1);
}

bool fuse_is_f32(const qir_type *t) {
  return qir_type_is_tensor(t) && t->elem->kind == QIR_TYPE_SCALAR &&
         t->scalar == QIR_F32 && qir_tensor_is_static(t);
}

qir_op *fuse_single_use_def(qir_value *v, unsigned id) {
  qir_op *def = qir_value_def(v);
  if (!def || !qir_op_is(def, id) || def->num_results != 1 ||
      !qir_value_has_one_use(v))
    return NULL;
  return def;
}

/* An `activation` other than "none". */
static bool has_activation(const qir_op *conv) {
  const char *a = qir_op_get_string(conv, "activation");
  return a && *a && strcmp(a, "none") != 0;
}

bool fuse_conv_has_activation(const qir_op *conv) {
  float pm, pa;
  return has_activation(conv) || qir_op_post_affine(conv, &pm, &pa);
}

static bool is_constant_f32(const qir_value *v, unsigned rank) {
  const qir_attr *a = qir_value_constant(v);
  return a && fuse_is_f32(v->type) && v->type->rank == rank;
}

bool fuse_is_plain_conv(const qir_op *conv) {
  if (!qir_op_is(conv, QIR_OP_CONV2D) &&
      !qir_op_is(conv, QIR_OP_CONV_TRANSPOSE2D))
    return false;
  if (fuse_conv_has_activation(conv) ||
      qir_op_get_bool(conv, "sum_in", false) || conv->num_operands > 3)
    return false;
  if (!fuse_is_f32(qir_op_operand(conv, 0)->type) ||
      !fuse_is_f32(conv->results[0].type) ||
      !is_constant_f32(qir_op_operand(conv, 1), 4))
    return false;
  return conv->num_operands < 3 || is_constant_f32(qir_op_operand(conv, 2), 1);
}

qir_op *fuse_conv_def(qir_value *v) {
  qir_op *def = qir_value_def(v);
  if (!def || !qir_value_has_one_use(v) || !fuse_is_plain_conv(def))
    return NULL;
  return def;
}

/* The fused value takes the name of the op it replaces, the last of the
 * pattern: a function's outputs keep their names. */
void fuse_replace(fuser *fu, qir_op *op, qir_value *v) {
  qir_op *def = qir_value_def(v);
  if (def)
    qir_worklist_push(&fu->wl, def);
  const char *name = op->results[0].name;
  if (name) {
    qir_value_set_name(fu->ctx, &op->results[0], NULL);
    qir_value_set_name(fu->ctx, v, name);
  }
  qir_passes_replace_op(&fu->wl, op, &v, false);
}

bool fuse_read_per_channel(const qir_value *v, const qir_type *t,
                           double *out) {
  const qir_attr *a = qir_value_constant(v);
  if (!a || !fuse_is_f32(v->type) || t->rank < 2 || v->type->rank > t->rank)
    return false;
  const qir_type *ct = v->type;
  int64_t c = t->dims[1];
  bool per_channel = false;
  for (unsigned i = 0; i < ct->rank; i++) {
    unsigned j = t->rank - ct->rank + i; /* numpy broadcasting aligns right */
    int64_t d = ct->dims[i];
    if (d == 1)
      continue;
    if (j != 1 || d != c)
      return false;
    per_channel = true;
  }
  for (int64_t i = 0; i < c; i++)
    out[i] = qir_dense_get_f64(a, per_channel ? i : 0);
  return true;
}

/* ---- conv2d + activation -------------------------------------------------- */

/* The fused form of activation op `act`: its `activation` name and the
 * act_* attributes; false when conv2d has no such form. */
static bool activation_form(const qir_op *act, const char **name,
                            qir_named_attr *attrs, unsigned *n) {
  qir_context *ctx = act->ctx;
  *n = 0;
  switch (act->def->id) {
  case QIR_OP_RELU: *name = "relu"; return true;
  case QIR_OP_SIGMOID: *name = "sigmoid"; return true;
  case QIR_OP_HARD_SWISH: *name = "hard_swish"; return true;
  case QIR_OP_HARD_SIGMOID:
    *name = "hard_sigmoid";
    attrs[(*n)++] = qir_named(ctx, "act_alpha",
        qir_attr_float(ctx, qir_op_get_float(act, "alpha", 0.2)));
    attrs[(*n)++] = qir_named(ctx, "act_beta",
        qir_attr_float(ctx, qir_op_get_float(act, "beta", 0.5)));
    return true;
  case QIR_OP_LEAKY_RELU:
    *name = "leaky_relu";
    attrs[(*n)++] = qir_named(ctx, "act_alpha",
        qir_attr_float(ctx, qir_op_get_float(act, "alpha", 0.01)));
    return true;
  case QIR_OP_CLIP: {
    const qir_attr *lo = qir_op_get_attr(act, "min");
    const qir_attr *hi = qir_op_get_attr(act, "max");
    if (lo && hi && qir_op_get_float(act, "min", 1) == 0.0 &&
        qir_op_get_float(act, "max", 0) == 6.0) {
      *name = "relu6";
      return true;
    }
    *name = "clip";
    if (lo)
      attrs[(*n)++] = qir_named(ctx, "act_min", lo);
    if (hi)
      attrs[(*n)++] = qir_named(ctx, "act_max", hi);
    return true;
  }
  default:
    return false;
  }
}

static bool fuse_activation(fuser *fu, qir_op *act) {
  if (!fu->activations)
    return false;
  qir_value *y = qir_op_operand(act, 0);
  qir_op *conv = fuse_single_use_def(y, QIR_OP_CONV2D);
  if (!conv || fuse_conv_has_activation(conv) || !fuse_is_f32(y->type) ||
      qir_op_result(act, 0)->type != y->type)
    return false;
  const char *name;
  qir_named_attr attrs[2];
  unsigned n;
  if (!activation_form(act, &name, attrs, &n))
    return false;
  qir_op_set_attr(conv, "activation", qir_attr_cstr(fu->ctx, name));
  for (unsigned i = 0; i < n; i++)
    qir_op_set_attr(conv, attrs[i].name, attrs[i].attr);
  fuse_note(fu, act, "activations fused into convs");
  fuse_replace(fu, act, y);
  return true;
}

/* ---- conv2d + add: the residual sum --------------------------------------- */

/* A zero bias for a conv that has none (the sum is operand 3). */
static void ensure_bias(fuser *fu, qir_op *conv) {
  if (conv->num_operands >= 3)
    return;
  int64_t c = qir_op_result(conv, 0)->type->dims[1];
  qir_builder b;
  qir_builder_init(&b, fu->ctx);
  qir_builder_set_before(&b, conv);
  b.loc = conv->loc;
  float zero = 0.0f;
  const qir_type *t = qir_tensor_of(fu->ctx, QIR_F32, 1, &c);
  qir_value *bias = qir_build_constant(&b, qir_attr_dense_splat(fu->ctx, t, &zero));
  qir_value *ops[3] = {qir_op_operand(conv, 0), qir_op_operand(conv, 1), bias};
  qir_op_set_operands(conv, 3, ops);
}

/* The conv operand of add(a, b) that can take the other as its sum. */
static qir_op *summing_conv(qir_op *add, unsigned *other) {
  const qir_type *t = qir_op_result(add, 0)->type;
  /* With two convs, the second operand takes the first as its sum. */
  for (int i = 1; i >= 0; i--) {
    qir_value *v = qir_op_operand(add, (unsigned)i);
    qir_op *conv = fuse_single_use_def(v, QIR_OP_CONV2D);
    qir_value *s = qir_op_operand(add, 1u - (unsigned)i);
    if (conv && !fuse_conv_has_activation(conv) &&
        !qir_op_get_bool(conv, "sum_in", false) && conv->num_operands <= 3 &&
        v->type == t && s->type == t && s != v) {
      *other = 1u - (unsigned)i;
      return conv;
    }
  }
  return NULL;
}

static bool fuse_sum(fuser *fu, qir_op *add) {
  if (!fu->sum_in || !fuse_is_f32(qir_op_result(add, 0)->type))
    return false;
  unsigned other;
  qir_op *conv = summing_conv(add, &other);
  if (!conv)
    return false;
  /* The sum may be computed after the conv: the conv moves down to the
   * add, which is after both. */
  qir_op_move_before(add, conv);
  ensure_bias(fu, conv);
  qir_value *ops[4] = {qir_op_operand(conv, 0), qir_op_operand(conv, 1),
                       qir_op_operand(conv, 2), qir_op_operand(add, other)};
  qir_op_set_operands(conv, 4, ops);
  qir_op_set_attr(conv, "sum_in", qir_attr_bool(fu->ctx, true));
  fuse_note(fu, add, "residual adds fused into convs");
  fuse_replace(fu, add, qir_op_result(conv, 0));
  return true;
}

/* ---- matmul + add -> gemm ------------------------------------------------- */

/* A gemm `c` operand: [N], [1|M, 1|N]. */
static bool is_gemm_bias(const qir_type *c, const qir_type *y) {
  if (!fuse_is_f32(c))
    return false;
  if (c->rank == 1)
    return c->dims[0] == y->dims[1] || c->dims[0] == 1;
  return c->rank == 2 && (c->dims[0] == 1 || c->dims[0] == y->dims[0]) &&
         (c->dims[1] == 1 || c->dims[1] == y->dims[1]);
}

static bool fuse_gemm(fuser *fu, qir_op *add) {
  if (!fu->gemm)
    return false;
  const qir_type *t = qir_op_result(add, 0)->type;
  for (unsigned i = 0; i < 2; i++) {
    qir_value *y = qir_op_operand(add, i);
    qir_value *c = qir_op_operand(add, 1 - i);
    qir_op *mm = fuse_single_use_def(y, QIR_OP_MATMUL);
    if (!mm || y->type != t || t->rank != 2 || !fuse_is_f32(t) ||
        !is_gemm_bias(c->type, t) ||
        qir_op_operand(mm, 0)->type->rank != 2 ||
        qir_op_operand(mm, 1)->type->rank != 2)
      continue;
    qir_builder b;
    qir_builder_init(&b, fu->ctx);
    qir_builder_set_before(&b, add);
    b.loc = mm->loc;
    qir_value *ops[3] = {qir_op_operand(mm, 0), qir_op_operand(mm, 1), c};
    qir_value *g = qir_build_value(&b, QIR_OP_GEMM, 3, ops, 0, NULL);
    if (!g || g->type != t)
      qir_die("gemm from matmul + add has another type");
    fuse_note(fu, add, "matmul + add fused into gemm");
    fuse_replace(fu, add, g);
    return true;
  }
  return false;
}

/* ---- pad + conv2d / pooling ------------------------------------------------ */

/* The spatial pads [top, left, bottom, right] of a constant-mode pad of
 * an NCHW tensor that pads only H and W, by `value`; false otherwise. */
static bool spatial_pads(const qir_op *pad, double value, int64_t *out) {
  const char *mode = qir_op_get_string(pad, "mode");
  int64_t p[8];
  if ((mode && strcmp(mode, "constant")) ||
      qir_op_get_float(pad, "value", 0.0) != value ||
      qir_op_operand(pad, 0)->type->rank != 4 ||
      qir_op_get_ints(pad, "pads", p, 8) != 8)
    return false;
  for (unsigned i = 0; i < 8; i++)
    if (p[i] < 0 || ((i % 4) < 2 && p[i] != 0))
      return false;
  out[0] = p[2];
  out[1] = p[3];
  out[2] = p[6];
  out[3] = p[7];
  return true;
}

static bool fuse_pad(fuser *fu, qir_op *op) {
  if (!fu->pad)
    return false;
  qir_op *pad = qir_value_def(qir_op_operand(op, 0));
  if (!pad || !qir_op_is(pad, QIR_OP_PAD) || !fuse_is_f32(pad->results[0].type))
    return false;
  double value = qir_op_is(op, QIR_OP_MAX_POOL2D) ? -INFINITY : 0.0;
  int64_t add[4], pads[4] = {0, 0, 0, 0};
  if (!spatial_pads(pad, value, add) ||
      qir_op_get_ints(op, "pads", pads, 4) < 0)
    return false;
  if (qir_op_is(op, QIR_OP_AVG_POOL2D)) {
    /* The padded zeros count in the mean: only without pads of its own. */
    if (pads[0] || pads[1] || pads[2] || pads[3] ||
        qir_op_get_int(op, "ceil_mode", 0))
      return false;
    qir_op_set_attr(op, "count_include_pad", qir_attr_int(fu->ctx, 1));
  }
  for (unsigned i = 0; i < 4; i++)
    pads[i] += add[i];
  qir_op_set_attr(op, "pads", qir_attr_ints(fu->ctx, 4, pads));
  qir_op_set_operand(op, 0, qir_op_operand(pad, 0));
  if (qir_op_results_unused(pad))
    qir_passes_erase_op(&fu->wl, pad);
  qir_worklist_push(&fu->wl, op);
  fuse_note(fu, op, "pads folded into convs and pools");
  return true;
}

/* ---- x * clip(x + 3, 0, 6) / 6 -> hard_swish(x) ---------------------------- */

/* The value of a one-element finite f32 constant. */
static bool scalar_of(const qir_value *v, double *x) {
  const qir_attr *a = qir_value_constant(v);
  if (!a || !fuse_is_f32(v->type) || qir_dense_num_elements(a) != 1)
    return false;
  *x = qir_dense_get_f64(a, 0);
  return isfinite(*x);
}

static bool is_splat_of(const qir_value *v, double x) {
  double c;
  return scalar_of(v, &c) && c == x;
}

/* clip(x + 3, 0, 6) -> x, else NULL. */
static qir_value *relu6_of_x_plus_3(qir_value *v) {
  qir_op *clip = fuse_single_use_def(v, QIR_OP_CLIP);
  if (!clip || qir_op_get_float(clip, "min", -1) != 0.0 ||
      qir_op_get_float(clip, "max", -1) != 6.0)
    return NULL;
  qir_op *add = fuse_single_use_def(qir_op_operand(clip, 0), QIR_OP_ADD);
  if (!add)
    return NULL;
  for (unsigned i = 0; i < 2; i++)
    if (is_splat_of(qir_op_operand(add, 1 - i), 3.0) &&
        qir_op_operand(add, i)->type == v->type)
      return qir_op_operand(add, i);
  return NULL;
}

static bool fuse_hard_swish(fuser *fu, qir_op *div) {
  if (!fu->hard_swish || !is_splat_of(qir_op_operand(div, 1), 6.0))
    return false;
  qir_op *mul = fuse_single_use_def(qir_op_operand(div, 0), QIR_OP_MUL);
  const qir_type *t = qir_op_result(div, 0)->type;
  if (!mul || !fuse_is_f32(t))
    return false;
  for (unsigned i = 0; i < 2; i++) {
    qir_value *x = qir_op_operand(mul, i);
    if (x->type != t || relu6_of_x_plus_3(qir_op_operand(mul, 1 - i)) != x)
      continue;
    qir_builder b;
    qir_builder_init(&b, fu->ctx);
    qir_builder_set_before(&b, div);
    b.loc = div->loc;
    qir_value *h = qir_build_value(&b, QIR_OP_HARD_SWISH, 1, &x, 0, NULL);
    QIR_ASSERT(h && h->type == t);
    fuse_note(fu, div, "hard swishes recognized");
    fuse_replace(fu, div, h);
    return true;
  }
  return false;
}

/* ---- conv2d {activation} * a + b: the post-activation affine ---------------- */

/* mul(y, a), add(y, b) or sub(y, b) of the result y of a conv2d with an
 * activation or a sum (a plain conv folds scales into its weights), in
 * that order: y * a then + b are the post affine's two f32 roundings, so
 * the fused conv computes what the ops did, bit for bit (x - b is
 * x + -b in IEEE arithmetic). */
static bool fuse_post_affine(fuser *fu, qir_op *op) {
  if (!fu->post_affine)
    return false;
  bool mul = qir_op_is(op, QIR_OP_MUL), sub = qir_op_is(op, QIR_OP_SUB);
  const qir_type *t = qir_op_result(op, 0)->type;
  for (unsigned i = 0; i < (sub ? 1u : 2u); i++) {
    qir_value *y = qir_op_operand(op, i);
    qir_op *conv = fuse_single_use_def(y, QIR_OP_CONV2D);
    double c;
    if (!conv || y->type != t || !fuse_is_f32(t) ||
        !scalar_of(qir_op_operand(op, 1 - i), &c))
      continue;
    if (!has_activation(conv) && !qir_op_get_bool(conv, "sum_in", false))
      continue;
    if (qir_op_get_attr(conv, "post_add") ||
        (mul && qir_op_get_attr(conv, "post_mul")))
      continue;
    qir_op_set_attr(conv, mul ? "post_mul" : "post_add",
                    qir_attr_float(fu->ctx, sub ? -c : c));
    fuse_note(fu, op, "affine steps fused into convs");
    fuse_replace(fu, op, y);
    return true;
  }
  return false;
}

/* ---- Driver ----------------------------------------------------------------- */

static bool apply_rules(fuser *fu, qir_op *op) {
  switch (op->def->id) {
  case QIR_OP_BATCH_NORM:
    return fuse_batch_norm(fu, op);
  case QIR_OP_ADD:
    return fuse_scale_shift(fu, op) || fuse_gemm(fu, op) || fuse_sum(fu, op) ||
           fuse_post_affine(fu, op);
  case QIR_OP_MUL:
  case QIR_OP_SUB:
    return fuse_scale_shift(fu, op) || fuse_post_affine(fu, op);
  case QIR_OP_DIV:
    return fuse_scale_shift(fu, op) || fuse_hard_swish(fu, op);
  case QIR_OP_RELU:
  case QIR_OP_CLIP:
  case QIR_OP_SIGMOID:
  case QIR_OP_HARD_SIGMOID:
  case QIR_OP_HARD_SWISH:
  case QIR_OP_LEAKY_RELU:
    return fuse_activation(fu, op);
  case QIR_OP_CONV2D:
  case QIR_OP_MAX_POOL2D:
  case QIR_OP_AVG_POOL2D:
    return fuse_pad(fu, op);
  default:
    return false;
  }
}

/* Erases an op left without users by a rewrite.  The other users of its
 * operands may now be their only user, and go back on the list. */
static bool remove_if_dead(fuser *fu, qir_op *op) {
  if (!qir_op_is_removable(op) || !qir_op_results_unused(op))
    return false;
  for (unsigned i = 0; i < op->num_operands; i++) {
    qir_value *v = qir_op_operand(op, i);
    if (v)
      qir_worklist_push_value_users(&fu->wl, v);
  }
  qir_passes_erase_op(&fu->wl, op);
  return true;
}

static bool operands_present(const qir_op *op) {
  for (unsigned i = 0; i < op->num_operands; i++)
    if (!qir_op_operand(op, i))
      return false;
  return op->num_operands > 0;
}

bool qir_pass_run_fuse(qir_pass *pass, void *unit_ir) {
  qir_func *f = unit_ir;
  fuser fu;
  memset(&fu, 0, sizeof fu);
  fu.pass = pass;
  fu.ctx = qir_pass_context(pass);
  fu.fold_bn = qir_pass_opt_bool(pass, "batch-norm");
  fu.fold_scale = qir_pass_opt_bool(pass, "scale-shift");
  fu.activations = qir_pass_opt_bool(pass, "activation");
  fu.sum_in = qir_pass_opt_bool(pass, "sum-in");
  fu.gemm = qir_pass_opt_bool(pass, "gemm");
  fu.pad = qir_pass_opt_bool(pass, "pad");
  fu.hard_swish = qir_pass_opt_bool(pass, "hard-swish");
  fu.post_affine = qir_pass_opt_bool(pass, "post-affine");
  fu.nchw_inputs = qir_pass_opt_bool(pass, "nchw-inputs");
  if (fu.nchw_inputs)
    fuse_nchw_inputs(&fu, f);
  qir_worklist_init(&fu.wl);
  qir_passes_clear_aux(&f->body);
  qir_worklist_push_block(&fu.wl, &f->body);
  qir_op *op;
  while ((op = qir_worklist_pop(&fu.wl)))
    if (!remove_if_dead(&fu, op) && op->def->id < QIR_NUM_OPS &&
        operands_present(op))
      apply_rules(&fu, op);
  qir_worklist_free(&fu.wl);
  return true;
}
