/* ir/ops/registry.c - registers the built-in ops of ir/ops.def. */
#include "ir/internal.h"
#include "ir/ops/ops.h"

/* One definition per line of ops.def, in order, so that the index of each
 * entry is its QIR_OP_<ID>. */
static qir_op_def builtin_ops[QIR_NUM_OPS] = {
#define QIR_OP(ID, name, minops, maxops, nres, traits, verify, infer, fold,   \
               summary)                                                       \
  {name, QIR_OP_##ID, minops, maxops, nres, traits, summary, verify, infer,   \
   fold, NULL},
#include "qir/ops.def"
#undef QIR_OP
};

void qir_register_builtin_ops(qir_context *ctx) {
  for (unsigned i = 0; i < QIR_NUM_OPS; i++) {
    if (!qir_register_op(ctx, &builtin_ops[i]))
      qir_die("built-in op '%s' registered twice", builtin_ops[i].name);
    QIR_ASSERT(builtin_ops[i].id == i);
  }
}
