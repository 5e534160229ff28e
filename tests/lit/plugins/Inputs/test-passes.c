/* test-passes.c - passes for testing the pass manager from lit: they show
 * their options, fail on purpose, break the IR and count things. */
#include <qir/qir.h>

/* Shows every option value, one remark per function. */
static bool run_options(qir_pass *p, void *unit) {
  qir_func *f = unit;
  qir_emit_remark(qir_pass_context(p), f->loc,
                  "test-options on @%s: flag=%s count=%lld ratio=%g "
                  "label='%s'",
                  f->name, qir_pass_opt_bool(p, "flag") ? "true" : "false",
                  (long long)qir_pass_opt_int(p, "count"),
                  qir_pass_opt_float(p, "ratio"),
                  qir_pass_opt_string(p, "label"));
  return true;
}

/* Fails with an error at the function. */
static bool run_fail(qir_pass *p, void *unit) {
  qir_func *f = unit;
  qir_emit_error(qir_pass_context(p), f->loc, "test-fail failed on @%s",
                 f->name);
  return false;
}

/* Fails without saying why. */
static bool run_fail_silent(qir_pass *p, void *unit) {
  (void)p;
  (void)unit;
  return false;
}

/* Removes each function's return: the verifier must catch it. */
static bool run_break_ir(qir_pass *p, void *unit) {
  (void)p;
  qir_func *f = unit;
  qir_op *ret = qir_block_terminator(&f->body);
  if (ret)
    qir_op_erase(ret);
  return true;
}

/* A remark located in another file, at the function's line. */
static bool run_other_file(qir_pass *p, void *unit) {
  qir_func *f = unit;
  qir_context *ctx = qir_pass_context(p);
  qir_emit_remark(ctx, qir_loc_make(ctx, "other.qir", f->loc.line, 1),
                  "in another file");
  return true;
}

static bool run_stats(qir_pass *p, void *unit) {
  qir_func *f = unit;
  qir_pass_stat(p, "functions", 1);
  qir_pass_stat(p, "ops", (long)f->body.num_ops);
  return true;
}

static bool run_module(qir_pass *p, void *unit) {
  qir_module *m = unit;
  QIR_DEBUG(qir_pass_context(p), "test-module", "visiting %u functions\n",
            m->num_funcs);
  qir_emit_remark(qir_pass_context(p), qir_loc_unknown(),
                  "test-module: %u functions", m->num_funcs);
  return true;
}

/* Names the first op result of each function (to make text that does not
 * print back the same). */
static bool run_rename(qir_pass *p, void *unit) {
  qir_func *f = unit;
  qir_foreach_op(op, &f->body) {
    if (op->num_results) {
      qir_value_set_name(qir_pass_context(p), qir_op_result(op, 0),
                         qir_pass_opt_string(p, "name"));
      break;
    }
  }
  return true;
}

static const qir_pass_option_def rename_options[] = {
    {"name", QIR_OPT_STRING, "renamed", "The new name"},
};

static const qir_pass_option_def options[] = {
    {"flag", QIR_OPT_BOOL, "false", "A bool"},
    {"count", QIR_OPT_INT, "3", "An integer"},
    {"ratio", QIR_OPT_FLOAT, "0.5", "A float"},
    {"label", QIR_OPT_STRING, "none", "A string"},
};

static const qir_pass_def passes[] = {
    {"test-options", "Shows its options", QIR_PASS_ON_FUNC, 4, options,
     run_options},
    {"test-fail", "Fails with an error", QIR_PASS_ON_FUNC, 0, NULL, run_fail},
    {"test-fail-silent", "Fails without a diagnostic", QIR_PASS_ON_MODULE, 0,
     NULL, run_fail_silent},
    {"test-break-ir", "Erases each return", QIR_PASS_ON_FUNC, 0, NULL,
     run_break_ir},
    {"test-stats", "Counts functions and ops", QIR_PASS_ON_FUNC, 0, NULL,
     run_stats},
    {"test-other-file", "Remarks in another file", QIR_PASS_ON_FUNC, 0, NULL,
     run_other_file},
    {"test-module", "Counts the functions of the module", QIR_PASS_ON_MODULE,
     0, NULL, run_module},
    {"test-rename", "Names the first result of each function",
     QIR_PASS_ON_FUNC, 1, rename_options, run_rename},
};

static void register_all(qir_context *ctx) {
  for (unsigned i = 0; i < sizeof passes / sizeof passes[0]; i++)
    qir_register_pass(ctx, &passes[i]);
}

static const qir_plugin_info info = {QIR_PLUGIN_API_VERSION, "test-passes",
                                     "1", register_all};

const qir_plugin_info *qir_plugin_get_info(void) { return &info; }
