/* tests/unit/pass_pipeline.c - pipeline strings: passes, typed options and
 * the exact text of each error. */
#include <signal.h>
#include <string.h>

#include "ir/pass/pass.h"
#include "pass_util.h"

/* ---- A test pass that records its option values ---------------------- */

static struct {
  bool flag;
  int64_t count;
  double ratio;
  const char *label;
  unsigned runs;
} seen;

static bool record_options(qir_pass *p, void *unit) {
  (void)unit;
  seen.flag = qir_pass_opt_bool(p, "flag");
  seen.count = qir_pass_opt_int(p, "count");
  seen.ratio = qir_pass_opt_float(p, "ratio");
  seen.label = qir_pass_opt_string(p, "label");
  seen.runs++;
  return true;
}

/* Asks for an option with the wrong getter: a bug in the pass. */
static bool misuse_options(qir_pass *p, void *unit) {
  (void)unit;
  return qir_pass_opt_int(p, "flag") != 0;
}

static const qir_pass_option_def opts[] = {
    {"flag", QIR_OPT_BOOL, "false", "a bool"},
    {"count", QIR_OPT_INT, "3", "an int"},
    {"ratio", QIR_OPT_FLOAT, "0.5", "a float"},
    {"label", QIR_OPT_STRING, "none", "a string"},
};
static const qir_pass_def opts_pass = {
    "test-opts", "Records its options", QIR_PASS_ON_MODULE, 4, opts,
    record_options};

static const qir_pass_def misuse_pass = {
    "test-misuse", "Uses its options wrongly", QIR_PASS_ON_MODULE, 4, opts,
    misuse_options};

static qir_context *ctx;
static captured_diags diags;

static void setup(void) {
  ctx = qir_context_create();
  ck_assert(qir_register_pass(ctx, &opts_pass));
  ck_assert(qir_register_pass(ctx, &misuse_pass));
  pass_test_capture(ctx, &diags);
  memset(&seen, 0, sizeof seen);
}

static void teardown(void) { qir_context_destroy(ctx); }

/* Parses and runs `text` on a one-function module; false if either fails. */
static bool run_text(const char *text) {
  qir_pipeline *pl = qir_pipeline_parse(ctx, text);
  if (!pl)
    return false;
  qir_module *m = pass_test_module(ctx, 1);
  bool ok = qir_pipeline_run(pl, m, NULL);
  qir_module_destroy(m);
  qir_pipeline_destroy(pl);
  return ok;
}

static void expect_error(const char *text, unsigned col, const char *msg) {
  ck_assert_ptr_null(qir_pipeline_parse(ctx, text));
  ck_assert_uint_eq(diags.n, 1);
  ck_assert_int_eq(diags.sev[0], QIR_SEV_ERROR);
  ck_assert_str_eq(diags.msg[0], msg);
  ck_assert_uint_eq(diags.col[0], col);
}

START_TEST(parses_pass_lists) {
  qir_pipeline *pl = qir_pipeline_parse(ctx, "canonicalize,cse,dce");
  ck_assert_ptr_nonnull(pl);
  ck_assert_uint_eq(qir_pipeline_size(pl), 3);
  ck_assert(qir_pipeline_add(pl, "fold"));
  ck_assert_uint_eq(qir_pipeline_size(pl), 4);
  qir_pipeline_destroy(pl);
  pl = qir_pipeline_parse(ctx, "  cse , dce  ");
  ck_assert_ptr_nonnull(pl);
  ck_assert_uint_eq(qir_pipeline_size(pl), 2);
  qir_pipeline_destroy(pl);
  pl = qir_pipeline_parse(ctx, "");
  ck_assert_ptr_nonnull(pl);
  ck_assert_uint_eq(qir_pipeline_size(pl), 0);
  qir_pipeline_destroy(pl);
  ck_assert_uint_eq(diags.n, 0);
}
END_TEST

START_TEST(options_have_defaults) {
  ck_assert(run_text("test-opts"));
  ck_assert_uint_eq(seen.runs, 1);
  ck_assert(!seen.flag);
  ck_assert_int_eq(seen.count, 3);
  ck_assert(seen.ratio == 0.5);
  ck_assert_str_eq(seen.label, "none");
}
END_TEST

START_TEST(options_are_typed) {
  ck_assert(run_text("test-opts{flag=true count=-12,ratio=2.5e-1 "
                     "label=\"a b,c{}\\\"d\"}"));
  ck_assert(seen.flag);
  ck_assert_int_eq(seen.count, -12);
  ck_assert(seen.ratio == 0.25);
  ck_assert_str_eq(seen.label, "a b,c{}\"d");
  ck_assert(run_text("test-opts{flag count=0}"));
  ck_assert(seen.flag);
  ck_assert(run_text("test-opts{flag=0}"));
  ck_assert(!seen.flag);
  ck_assert_uint_eq(diags.n, 0);
}
END_TEST

START_TEST(same_pass_twice_keeps_own_options) {
  ck_assert(run_text("test-opts{count=1},test-opts"));
  ck_assert_uint_eq(seen.runs, 2);
  ck_assert_int_eq(seen.count, 3); /* the second instance: its default */
}
END_TEST

START_TEST(unknown_pass) {
  expect_error("cse,frobnicate", 5, "unknown pass 'frobnicate'");
}
END_TEST

START_TEST(unknown_pass_suggests) {
  expect_error("canonicalize,csee", 14, "unknown pass 'csee'; did you mean "
                                        "'cse'?");
}
END_TEST

START_TEST(empty_pass_name) {
  expect_error("cse,,dce", 5, "empty pass name");
  diags.n = 0;
  expect_error("cse,", 5, "empty pass name");
}
END_TEST

START_TEST(unknown_option) {
  expect_error("test-opts{cout=1}", 11, "unknown option 'cout' for pass "
                                        "'test-opts'; did you mean 'count'?");
  diags.n = 0;
  expect_error("cse{x=1}", 5, "unknown option 'x' for pass 'cse'");
}
END_TEST

START_TEST(bad_option_values) {
  expect_error("test-opts{count=ten}", 17, "expected an integer for option "
               "'count' of pass 'test-opts', got 'ten'");
  diags.n = 0;
  expect_error("test-opts{flag=yes}", 16, "expected true or false for option "
               "'flag' of pass 'test-opts', got 'yes'");
  diags.n = 0;
  expect_error("test-opts{ratio=1.5x}", 17, "expected a number for option "
               "'ratio' of pass 'test-opts', got '1.5x'");
  diags.n = 0;
  expect_error("test-opts{count=99999999999999999999}", 17,
               "expected an integer for option 'count' of pass 'test-opts', "
               "got '99999999999999999999'");
}
END_TEST

START_TEST(malformed_braces) {
  expect_error("test-opts{count=1", 10, "unterminated '{' in the options of "
                                        "pass 'test-opts'");
  diags.n = 0;
  expect_error("test-opts{label=\"abc}", 17, "unterminated string");
  diags.n = 0;
  expect_error("test-opts{count}", 11, "option 'count' of pass 'test-opts' "
                                       "needs a value");
  diags.n = 0;
  expect_error("test-opts{count=1 count=2}", 19, "option 'count' of pass "
                                                 "'test-opts' is given twice");
  diags.n = 0;
  expect_error("cse}", 4, "expected ',' or the end of the pipeline after "
                          "pass 'cse'");
}
END_TEST

START_TEST(wrong_getter_is_an_internal_error) {
  run_text("test-misuse"); /* aborts */
}
END_TEST

static char *print_pipeline(const qir_pipeline *pl) {
  char *buf = NULL;
  size_t len = 0;
  FILE *out = open_memstream(&buf, &len);
  qir_pipeline_print(pl, out);
  fclose(out);
  return buf;
}

START_TEST(printed_pipeline_reads_back) {
  qir_pipeline *pl = qir_pipeline_parse(
      ctx, "cse,test-opts{label=\"x, {y}\\\" z\" ratio=1e-7 flag}");
  ck_assert_ptr_nonnull(pl);
  char *text = print_pipeline(pl);
  ck_assert_str_eq(text, "cse,test-opts{flag=true count=3 ratio=1e-07 "
                         "label=\"x, {y}\\\" z\"}");
  qir_pipeline *again = qir_pipeline_parse(ctx, text);
  ck_assert_ptr_nonnull(again);
  char *text2 = print_pipeline(again);
  ck_assert_str_eq(text, text2);
  free(text);
  free(text2);
  qir_pipeline_destroy(pl);
  qir_pipeline_destroy(again);
}
END_TEST

static Suite *pipeline_suite(void) {
  Suite *s = suite_create("pipeline");
  TCase *tc = tcase_create("parse");
  tcase_add_checked_fixture(tc, setup, teardown);
  tcase_add_test(tc, parses_pass_lists);
  tcase_add_test(tc, options_have_defaults);
  tcase_add_test(tc, options_are_typed);
  tcase_add_test(tc, same_pass_twice_keeps_own_options);
  tcase_add_test(tc, unknown_pass);
  tcase_add_test(tc, unknown_pass_suggests);
  tcase_add_test(tc, empty_pass_name);
  tcase_add_test(tc, unknown_option);
  tcase_add_test(tc, bad_option_values);
  tcase_add_test(tc, malformed_braces);
  tcase_add_test(tc, printed_pipeline_reads_back);
  const char *fork = getenv("CK_FORK"); /* an abort needs a forked test */
  if (!fork || strcmp(fork, "no") != 0)
    tcase_add_test_raise_signal(tc, wrong_getter_is_an_internal_error,
                                SIGABRT);
  suite_add_tcase(s, tc);
  return s;
}

Suite *pass_pipeline_suite(void);
Suite *pass_pipeline_suite(void) { return pipeline_suite(); }
