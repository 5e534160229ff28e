/* tests/unit/pass_manager.c - running pipelines: units, failures, the
 * verifier after each pass, IR dumps, reports and plugin errors. */
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "pass_util.h"

static qir_context *ctx;
static captured_diags diags;
static unsigned func_runs, module_runs;
static qir_context *seen_ctx;
static const qir_pass_def *seen_def;

static bool count_func(qir_pass *p, void *unit) {
  (void)unit;
  func_runs++;
  seen_ctx = qir_pass_context(p);
  seen_def = qir_pass_get_def(p);
  qir_pass_stat(p, "functions", 1);
  return true;
}

static bool count_module(qir_pass *p, void *unit) {
  (void)p;
  (void)unit;
  module_runs++;
  return true;
}

static bool fail_silently(qir_pass *p, void *unit) {
  (void)p;
  (void)unit;
  return false;
}

static bool fail_loudly(qir_pass *p, void *unit) {
  qir_func *f = unit;
  qir_emit_error(qir_pass_context(p), qir_loc_unknown(), "no good: @%s",
                 f->name);
  return false;
}

static bool erase_returns(qir_pass *p, void *unit) {
  (void)p;
  qir_func *f = unit;
  qir_op_erase(qir_block_terminator(&f->body));
  return true;
}

static const qir_pass_def test_passes[] = {
    {"count-func", "", QIR_PASS_ON_FUNC, 0, NULL, count_func},
    {"count-module", "", QIR_PASS_ON_MODULE, 0, NULL, count_module},
    {"fail-silently", "", QIR_PASS_ON_MODULE, 0, NULL, fail_silently},
    {"fail-loudly", "", QIR_PASS_ON_FUNC, 0, NULL, fail_loudly},
    {"erase-returns", "", QIR_PASS_ON_FUNC, 0, NULL, erase_returns},
};

static void setup(void) {
  ctx = qir_context_create();
  for (unsigned i = 0; i < sizeof test_passes / sizeof test_passes[0]; i++)
    ck_assert(qir_register_pass(ctx, &test_passes[i]));
  pass_test_capture(ctx, &diags);
  func_runs = module_runs = 0;
}

static void teardown(void) { qir_context_destroy(ctx); }

static bool run_on(const char *text, unsigned nfuncs,
                   const qir_pm_options *o) {
  qir_pipeline *pl = qir_pipeline_parse(ctx, text);
  ck_assert_ptr_nonnull(pl);
  qir_module *m = pass_test_module(ctx, nfuncs);
  bool ok = qir_pipeline_run(pl, m, o);
  qir_module_destroy(m);
  qir_pipeline_destroy(pl);
  return ok;
}

START_TEST(runs_each_unit) {
  ck_assert(run_on("count-func,count-module,count-func", 3, NULL));
  ck_assert_uint_eq(func_runs, 6);
  ck_assert_uint_eq(module_runs, 1);
  ck_assert_ptr_eq(seen_ctx, ctx);
  ck_assert_ptr_eq(seen_def, &test_passes[0]);
  ck_assert_uint_eq(diags.n, 0);
}
END_TEST

START_TEST(stops_at_first_failure) {
  ck_assert(!run_on("count-module,fail-loudly,count-module", 2, NULL));
  ck_assert_uint_eq(module_runs, 1);
  ck_assert_uint_eq(diags.n, 1); /* the first function only */
  ck_assert_str_eq(diags.msg[0], "no good: @f0");
}
END_TEST

START_TEST(silent_failure_is_reported) {
  ck_assert(!run_on("fail-silently,count-func", 1, NULL));
  ck_assert_uint_eq(func_runs, 0);
  ck_assert_uint_eq(diags.n, 1);
  ck_assert_str_eq(diags.msg[0], "pass 'fail-silently' failed");
}
END_TEST

START_TEST(verify_each_catches_broken_ir) {
  ck_assert(!run_on("erase-returns,count-func", 1, NULL));
  ck_assert_uint_eq(func_runs, 0);
  ck_assert_uint_ge(diags.n, 2); /* ours, then the verifier's own */
  ck_assert_int_eq(diags.sev[0], QIR_SEV_ERROR);
  ck_assert_str_eq(diags.msg[0],
                   "verification failed after pass 'erase-returns'");
}
END_TEST

START_TEST(verify_each_can_be_off) {
  qir_pm_options o;
  qir_pm_options_init(&o);
  ck_assert(o.verify_each);
  o.verify_each = false;
  ck_assert(run_on("erase-returns,count-func", 1, &o));
  ck_assert_uint_eq(func_runs, 1);
  ck_assert_uint_eq(diags.n, 0);
}
END_TEST

START_TEST(prints_before_and_after) {
  char *buf = NULL;
  size_t len = 0;
  FILE *out = open_memstream(&buf, &len);
  qir_pm_options o;
  qir_pm_options_init(&o);
  o.print_out = out;
  o.print_after = "count-module";
  o.print_before = "count-func";
  ck_assert(run_on("count-func,count-module", 1, &o));
  fclose(out);
  const char *before = strstr(buf, "// -----// IR Dump Before count-func "
                                   "//----- //\n");
  const char *after = strstr(buf, "// -----// IR Dump After count-module "
                                  "//----- //\n");
  ck_assert_ptr_nonnull(before);
  ck_assert_ptr_nonnull(after);
  ck_assert(before < after);
  ck_assert_ptr_null(strstr(buf, "After count-func"));
  ck_assert_ptr_nonnull(strstr(after, "func @f0"));
  free(buf);
}
END_TEST

/* Runs with stderr sent to a file; returns what was written. */
static char *run_capturing_stderr(const char *text, const qir_pm_options *o) {
  fflush(stderr);
  FILE *tmp = tmpfile();
  ck_assert_ptr_nonnull(tmp);
  int saved = dup(2);
  dup2(fileno(tmp), 2);
  ck_assert(run_on(text, 2, o));
  fflush(stderr);
  dup2(saved, 2);
  close(saved);
  long n = ftell(tmp);
  char *s = calloc(1, (size_t)n + 1);
  rewind(tmp);
  ck_assert_uint_eq(fread(s, 1, (size_t)n, tmp), (size_t)n);
  fclose(tmp);
  return s;
}

START_TEST(reports_times_and_statistics) {
  qir_pm_options o;
  qir_pm_options_init(&o);
  o.time_passes = true;
  o.pass_stats = true;
  char *s = run_capturing_stderr("count-func,count-module", &o);
  ck_assert_ptr_nonnull(strstr(s, "... Pass execution timing report ..."));
  ck_assert_ptr_nonnull(strstr(s, "  Total Execution Time: "));
  ck_assert_ptr_nonnull(strstr(s, "   ---Wall Time---  --- Name ---\n"));
  ck_assert_ptr_nonnull(strstr(s, "%)  count-func\n"));
  ck_assert_ptr_nonnull(strstr(s, "(100.0%)  Total\n"));
  ck_assert_ptr_nonnull(strstr(s, "... Pass statistics report ..."));
  ck_assert_ptr_nonnull(strstr(s, "count-func\n  (S) 2 functions\n"));
  ck_assert_ptr_nonnull(strstr(s, "count-module\n  (no statistics)\n"));
  free(s);
}
END_TEST

START_TEST(unknown_pass_cannot_be_added) {
  qir_pipeline *pl = qir_pipeline_parse(ctx, "");
  ck_assert(!qir_pipeline_add(pl, "nope"));
  ck_assert_uint_eq(qir_pipeline_size(pl), 0);
  ck_assert_str_eq(diags.msg[0], "unknown pass 'nope'");
  qir_pipeline_destroy(pl);
}
END_TEST

START_TEST(missing_plugin) {
  ck_assert(!qir_load_plugin(ctx, "/nonexistent/libnothing.so"));
  ck_assert_uint_eq(diags.n, 1);
  const char *want = "cannot load plugin '/nonexistent/libnothing.so': ";
  ck_assert_int_eq(strncmp(diags.msg[0], want, strlen(want)), 0);
}
END_TEST

static Suite *manager_suite(void) {
  Suite *s = suite_create("pass manager");
  TCase *tc = tcase_create("run");
  tcase_add_checked_fixture(tc, setup, teardown);
  tcase_add_test(tc, runs_each_unit);
  tcase_add_test(tc, stops_at_first_failure);
  tcase_add_test(tc, silent_failure_is_reported);
  tcase_add_test(tc, verify_each_catches_broken_ir);
  tcase_add_test(tc, verify_each_can_be_off);
  tcase_add_test(tc, prints_before_and_after);
  tcase_add_test(tc, reports_times_and_statistics);
  tcase_add_test(tc, unknown_pass_cannot_be_added);
  tcase_add_test(tc, missing_plugin);
  suite_add_tcase(s, tc);
  return s;
}

Suite *pass_manager_suite(void);
Suite *pass_manager_suite(void) { return manager_suite(); }
