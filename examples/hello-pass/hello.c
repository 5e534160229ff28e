/* hello.c - a qir pass plugin built outside the qir tree.
 *
 *   make                     (uses `pkg-config --cflags --libs qir`)
 *   qir-opt model.qir -load=./libhello.so -pass='hello{greeting="Hi there"}'
 *
 * The pass `hello` emits one remark per function, at the function, with
 * the number of ops in its body, and counts the functions and ops it saw
 * (shown by -pass-stats).  The plugin also adds an op to the IR,
 * `hello.mark`, which returns its operand unchanged:
 *     %1 = hello.mark(%0) : tensor<1x8xf32> */
#include <qir/qir.h>

static bool hello_run(qir_pass *pass, void *unit) {
  qir_func *f = unit;
  qir_context *ctx = qir_pass_context(pass);
  const char *greeting = qir_pass_opt_string(pass, "greeting");
  unsigned ops = f->body.num_ops;
  if (qir_pass_opt_bool(pass, "skip-return") && qir_block_terminator(&f->body))
    ops--;
  qir_emit_remark(ctx, f->loc, "%s from @%s: %u ops", greeting, f->name, ops);
  qir_pass_stat(pass, "functions", 1);
  qir_pass_stat(pass, "ops", (long)ops);
  return true;
}

static const qir_pass_option_def hello_options[] = {
    {"greeting", QIR_OPT_STRING, "Hello", "The first words of each remark"},
    {"skip-return", QIR_OPT_BOOL, "false", "Do not count the return op"},
};

static const qir_pass_def hello_pass = {
    "hello",
    "Says hello to each function and tells how many ops it has",
    QIR_PASS_ON_FUNC,
    sizeof hello_options / sizeof hello_options[0],
    hello_options,
    hello_run,
};

/* ---- The op: verifier, type inference, definition ----------------------- */

static bool mark_verify(qir_op *op) {
  if (!qir_type_is_tensor(qir_op_operand(op, 0)->type)) {
    qir_op_emit_error(op, "operand must be a tensor");
    return false;
  }
  return true;
}

static bool mark_infer(qir_op *op, const qir_type **out) {
  out[0] = qir_op_operand(op, 0)->type;
  return true;
}

static qir_op_def mark_op = {
    .name = "hello.mark",
    .min_operands = 1,
    .max_operands = 1,
    .num_results = 1,
    .traits = QIR_TRAIT_PURE | QIR_TRAIT_SAME_TYPE,
    .summary = "Returns its operand unchanged (an example op)",
    .verify = mark_verify,
    .infer = mark_infer,
};

static void hello_register(qir_context *ctx) {
  qir_register_pass(ctx, &hello_pass);
  qir_register_op(ctx, &mark_op);
}

static const qir_plugin_info hello_info = {
    QIR_PLUGIN_API_VERSION,
    "hello",
    "1.0",
    hello_register,
};

/* The one symbol qir looks for. */
const qir_plugin_info *qir_plugin_get_info(void) { return &hello_info; }
