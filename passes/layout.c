/* passes/layout.c - layout helpers: NCHW is the canonical layout of qir
 * (ir/ops.def).  Models exported from NHWC frameworks take NHWC inputs and
 * transpose them to NCHW first; with fuse{nchw-inputs=true} such an input
 * takes NCHW itself, the transposes go, and the function records the
 * original layout of each input in its `input_layouts` attribute ("NHWC"
 * for a changed input, "" for the others), for the runtime and for the
 * equivalence check, which feed NHWC data through the same permutation.
 * Transposes move up to the input first through elementwise ops whose
 * other operands are one-element constants (input scaling such as
 * x * (1 / 127.5) - 1). */
#include <stdlib.h>
#include <string.h>

#include "passes/fuse.h"

static const int64_t nhwc_to_nchw[4] = {0, 3, 1, 2};

static bool is_nhwc_to_nchw(const qir_op *op) {
  int64_t perm[4];
  return qir_op_is(op, QIR_OP_TRANSPOSE) &&
         qir_op_get_ints(op, "perm", perm, 4) == 4 &&
         memcmp(perm, nhwc_to_nchw, sizeof perm) == 0;
}

/* True when every use of arg is a transpose from NHWC to NCHW. */
static bool only_transposed_to_nchw(const qir_value *arg) {
  if (!arg->uses || !qir_type_is_tensor(arg->type) || arg->type->rank != 4)
    return false;
  for (const qir_use *u = arg->uses; u; u = u->next)
    if (!is_nhwc_to_nchw(u->owner))
      return false;
  return true;
}

static void make_input_nchw(fuser *fu, qir_value *arg) {
  const qir_type *t = arg->type;
  int64_t dims[4];
  for (unsigned i = 0; i < 4; i++)
    dims[i] = t->dims[nhwc_to_nchw[i]];
  qir_value_set_type(arg, qir_tensor_with_dims(fu->ctx, t, 4, dims));
  /* Replacing a transpose gives arg its users: take the transposes first. */
  unsigned n = qir_value_num_uses(arg), i = 0;
  qir_op **transposes = qir_xcalloc(n, sizeof *transposes);
  for (qir_use *u = arg->uses; u; u = u->next)
    transposes[i++] = u->owner;
  for (i = 0; i < n; i++) {
    QIR_ASSERT(qir_op_result(transposes[i], 0)->type == arg->type);
    fuse_note(fu, transposes[i], "inputs made NCHW");
    qir_passes_replace_op(NULL, transposes[i], &arg, false);
  }
  free(transposes);
}

/* ---- Moving transposes up to the input ------------------------------------ */

/* True when op is elementwise, computes on one tensor x of its own result
 * type, and its other operands are one-element constants (which broadcast
 * the same way in any layout). */
static bool layout_free_elementwise(const qir_op *op, unsigned *x_index) {
  if (!qir_op_has_trait(op, QIR_TRAIT_ELEMENTWISE) || op->num_results != 1 ||
      op->def->id >= QIR_NUM_OPS)
    return false;
  int found = -1;
  for (unsigned i = 0; i < op->num_operands; i++) {
    const qir_value *v = qir_op_operand(op, i);
    const qir_attr *c = qir_value_constant(v);
    if (c && qir_dense_num_elements(c) == 1 &&
        qir_type_is_tensor(v->type) && v->type->rank <= 4)
      continue;
    if (found >= 0 || v->type != op->results[0].type)
      return false;
    found = (int)i;
  }
  if (found < 0)
    return false;
  *x_index = (unsigned)found;
  return true;
}

/* transpose(f(x, k)) -> f(transpose(x), k) for such an f whose result has
 * no other user: the transpose moves one op up. */
static bool hoist_transpose(fuser *fu, qir_op *tr) {
  qir_value *v = qir_op_operand(tr, 0);
  qir_op *op = qir_value_def(v);
  unsigned xi;
  if (!op || !qir_value_has_one_use(v) || !layout_free_elementwise(op, &xi))
    return false;
  /* The transpose now reads x; op computes on its result in its place. */
  qir_op_set_operand(tr, 0, qir_op_operand(op, xi));
  qir_op_move_before(op, tr);
  qir_value *y = qir_op_result(tr, 0);
  const qir_type *t = y->type;
  qir_value *r = qir_op_result(op, 0);
  qir_value_replace_all_uses(y, r);
  qir_op_set_operand(op, xi, y);
  qir_value_set_type(r, t);
  fuse_note(fu, tr, "transposes moved up to the inputs");
  return true;
}

static void hoist_input_transposes(fuser *fu, qir_func *f) {
  qir_foreach_op(op, &f->body) {
    if (is_nhwc_to_nchw(op))
      while (hoist_transpose(fu, op))
        ;
  }
}

/* The existing input_layouts entry of input i, "" when none. */
static const char *old_layout(const qir_func *f, unsigned i) {
  const qir_attr *a = qir_func_get_attr(f, "input_layouts");
  if (!a || a->kind != QIR_ATTR_ARRAY || i >= a->u.array.n ||
      a->u.array.elems[i]->kind != QIR_ATTR_STRING)
    return "";
  return a->u.array.elems[i]->u.str.data;
}

void fuse_nchw_inputs(fuser *fu, qir_func *f) {
  unsigned n = f->body.num_args;
  if (n == 0)
    return;
  hoist_input_transposes(fu, f);
  const qir_attr **layouts = qir_xcalloc(n, sizeof *layouts);
  bool changed = false;
  for (unsigned i = 0; i < n; i++) {
    qir_value *arg = f->body.args[i];
    const char *layout = old_layout(f, i);
    if (only_transposed_to_nchw(arg) && !*layout) {
      make_input_nchw(fu, arg);
      layout = "NHWC";
      changed = true;
    }
    layouts[i] = qir_attr_cstr(fu->ctx, layout);
  }
  if (changed)
    qir_func_set_attr(f, "input_layouts", qir_attr_array(fu->ctx, n, layouts));
  free(layouts);
}
