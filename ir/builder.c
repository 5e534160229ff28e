/* ir/builder.c - creating ops at an insertion point. */
#include <stdlib.h>

#include "ir/internal.h"

void qir_builder_init(qir_builder *b, qir_context *ctx) {
  b->ctx = ctx;
  b->block = NULL;
  b->before = NULL;
  b->loc = qir_loc_unknown();
}

void qir_builder_set_end(qir_builder *b, qir_block *block) {
  b->block = block;
  b->before = NULL;
}

void qir_builder_set_before(qir_builder *b, qir_op *op) {
  QIR_ASSERT(op->block);
  b->block = op->block;
  b->before = op;
}

void qir_builder_set_after(qir_builder *b, qir_op *op) {
  QIR_ASSERT(op->block);
  b->block = op->block;
  b->before = op->next;
}

static void insert(qir_builder *b, qir_op *op) {
  if (b->before)
    qir_op_insert_before(b->before, op);
  else if (b->block)
    qir_block_append(b->block, op);
  else
    qir_die("builder has no insertion point");
}

qir_op *qir_build_typed(qir_builder *b, const qir_op_def *def,
                        unsigned num_operands, qir_value *const *operands,
                        unsigned num_results, const qir_type *const *types,
                        unsigned num_attrs, const qir_named_attr *attrs) {
  qir_op *op = qir_op_create(b->ctx, def, b->loc, num_operands, operands,
                             num_results, types, num_attrs, attrs);
  insert(b, op);
  return op;
}

qir_op *qir_build(qir_builder *b, const qir_op_def *def,
                  unsigned num_operands, qir_value *const *operands,
                  unsigned num_attrs, const qir_named_attr *attrs) {
  if (!def->infer || def->num_results < 0) {
    qir_emit_error(b->ctx, b->loc,
                   "'%s' op has no type inference; give result types",
                   def->name);
    return NULL;
  }
  unsigned nres = (unsigned)def->num_results;
  qir_op *op = qir_op_create(b->ctx, def, b->loc, num_operands, operands,
                             nres, NULL, num_attrs, attrs);
  const qir_type *small[8];
  const qir_type **types =
      nres <= 8 ? small : qir_xcalloc(nres, sizeof *types);
  for (unsigned i = 0; i < nres; i++)
    types[i] = NULL;
  bool ok = def->infer(op, types);
  for (unsigned i = 0; ok && i < nres; i++) {
    QIR_ASSERT(types[i]);
    op->results[i].type = types[i];
  }
  if (types != small)
    free(types);
  if (!ok) {
    qir_op_erase(op);
    return NULL;
  }
  insert(b, op);
  return op;
}

qir_op *qir_build_id(qir_builder *b, unsigned op_id, unsigned num_operands,
                     qir_value *const *operands, unsigned num_attrs,
                     const qir_named_attr *attrs) {
  const qir_op_def *def = qir_builtin_op(b->ctx, op_id);
  if (!def)
    qir_die("no built-in op with id %u", op_id);
  return qir_build(b, def, num_operands, operands, num_attrs, attrs);
}

qir_value *qir_build_value(qir_builder *b, unsigned op_id,
                           unsigned num_operands, qir_value *const *operands,
                           unsigned num_attrs, const qir_named_attr *attrs) {
  qir_op *op = qir_build_id(b, op_id, num_operands, operands, num_attrs, attrs);
  if (!op)
    return NULL;
  QIR_ASSERT(op->num_results == 1);
  return &op->results[0];
}

qir_value *qir_build_constant(qir_builder *b, const qir_attr *dense) {
  QIR_ASSERT(dense && dense->kind == QIR_ATTR_DENSE);
  const qir_op_def *def = qir_builtin_op(b->ctx, QIR_OP_CONSTANT);
  QIR_ASSERT(def);
  qir_named_attr value = qir_named(b->ctx, "value", dense);
  const qir_type *t = dense->u.dense.type;
  qir_op *op = qir_build_typed(b, def, 0, NULL, 1, &t, 1, &value);
  return &op->results[0];
}

const qir_attr *qir_value_constant(const qir_value *v) {
  const qir_op *op = qir_value_def(v);
  if (!op || !qir_op_is(op, QIR_OP_CONSTANT))
    return NULL;
  const qir_attr *a = qir_op_get_attr(op, "value");
  return a && a->kind == QIR_ATTR_DENSE ? a : NULL;
}
