/* quant/clone.c - copies a function into a module of its own, so that the
 * analysis passes can quantize a copy and compare it with the original. */
#include <stdlib.h>

#include "quant/quant.h"

static qir_value *mapped(qir_value *v) { return (qir_value *)v->aux; }

static qir_op *clone_op(qir_context *ctx, qir_op *op) {
  unsigned no = op->num_operands, nr = op->num_results;
  qir_value **operands = qir_xcalloc(no + 1, sizeof *operands);
  const qir_type **types = qir_xcalloc(nr + 1, sizeof *types);
  for (unsigned i = 0; i < no; i++)
    operands[i] = mapped(qir_op_operand(op, i));
  for (unsigned r = 0; r < nr; r++)
    types[r] = op->results[r].type;
  qir_op *c = qir_op_create(ctx, op->def, op->loc, no, operands, nr, types,
                            op->num_attrs, op->attrs);
  for (unsigned r = 0; r < nr; r++) {
    qir_value_set_name(ctx, &c->results[r], op->results[r].name);
    op->results[r].aux = (intptr_t)&c->results[r];
  }
  free(operands);
  free(types);
  return c;
}

qir_module *qq_clone_func(qir_func *f, qir_func **out, qir_op ***map) {
  qir_context *ctx = f->module->ctx;
  qir_module *m = qir_module_create(ctx);
  unsigned na = f->body.num_args;
  const qir_type **types = qir_xcalloc(na + 1, sizeof *types);
  const char **names = qir_xcalloc(na + 1, sizeof *names);
  for (unsigned i = 0; i < na; i++) {
    types[i] = f->body.args[i]->type;
    names[i] = f->body.args[i]->name;
  }
  qir_func *g = qir_func_create(m, f->name, f->loc, na, types, names,
                                f->num_results, f->result_types);
  free(types);
  free(names);
  for (unsigned i = 0; i < f->num_attrs; i++)
    qir_func_set_attr(g, f->attrs[i].name, f->attrs[i].attr);
  for (unsigned i = 0; i < na; i++)
    f->body.args[i]->aux = (intptr_t)g->body.args[i];
  qir_op **ops = qir_xcalloc(f->body.num_ops + 1, sizeof *ops);
  unsigned k = 0;
  qir_foreach_op(op, &f->body) {
    ops[k] = clone_op(ctx, op);
    qir_block_append(&g->body, ops[k++]);
  }
  *out = g;
  *map = ops;
  return m;
}
