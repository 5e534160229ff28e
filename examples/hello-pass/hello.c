/* hello.c - a qir pass plugin built outside the qir tree.
 *
 *   make                     (uses `pkg-config --cflags --libs qir`)
 *   qir-opt model.qir -load=./libhello.so -pass='hello{greeting="Hi there"}'
 *
 * The pass `hello` emits one remark per function, at the function, with
 * the number of ops in its body, and counts the functions and ops it saw
 * (shown by -pass-stats). */
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

static void hello_register(qir_context *ctx) {
  qir_register_pass(ctx, &hello_pass);
}

static const qir_plugin_info hello_info = {
    QIR_PLUGIN_API_VERSION,
    "hello",
    "1.0",
    hello_register,
};

/* The one symbol qir looks for. */
const qir_plugin_info *qir_plugin_get_info(void) { return &hello_info; }
