/* tests/unit/build_run.c - qir_build_run: the checks before any step, and
 * a failing step that leaves output_dir as it was. */
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "build_test.h"

static const char model[] =
    "func @main(%x: tensor<1x4xf32>) -> (tensor<1x4xf32>) {\n"
    "  %0 = relu(%x) : tensor<1x4xf32>\n"
    "  return(%0)\n"
    "}\n";

/* Runs the configuration `json` written in folder `dir` quietly. */
static bool run_config(build_env *e, const char *dir, const char *json) {
  write_text(dir, "b.json", json);
  char path[512];
  snprintf(path, sizeof path, "%s/b.json", dir);
  qir_build_config *c = qir_build_config_load(e->ctx, path);
  ck_assert_ptr_nonnull(c);
  qir_build_options o;
  qir_build_options_init(&o);
  o.quiet = true;
  bool ok = qir_build_run(e->ctx, c, &o);
  qir_build_config_free(c);
  return ok;
}

static void assert_run_error(const char *json, const char *want) {
  char *dir = test_tmpdir();
  write_text(dir, "m.qir", model);
  build_env e;
  build_env_init(&e);
  ck_assert(!run_config(&e, dir, json));
  char full[1024];
  snprintf(full, sizeof full, want, dir);
  ck_assert_str_eq(build_env_diags(&e), full);
  /* Nothing was written: only the model and the configuration. */
  ck_assert_uint_eq(count_entries(dir), 2);
  build_env_done(&e);
  remove_test_dir(dir);
  free(dir);
}

START_TEST(checks_before_the_steps) {
  assert_run_error("{\"input\": \"m.qir\"}",
                   "%s/b.json: error: target: a required key is missing\n");
  assert_run_error("{\"input\": \"m.qir\", \"target\": \"npu9\"}",
                   "error: target: unknown target 'npu9' (known: "
                   "bpu-bernoulli2, bpu-bayes, ax650, ax620e, ax615)\n");
  assert_run_error("{\"input\": \"m.qir\", \"target\": \"ax620e\", "
                   "\"npu_mode\": \"NPU2\"}",
                   "error: npu_mode: NPU2 needs 2 NPU cores; ax620e has 1\n");
  assert_run_error("{\"input\": \"m.qir\", \"target\": \"ax650\", "
                   "\"input_processors\": [{\"tensor_format\": \"NV12\"}]}",
                   "error: input_processors[0]: the input must be a static "
                   "4-D f32 tensor, not tensor<1x4xf32>\n"
                   "note: the build stopped at the preprocess step; "
                   "output_dir is unchanged\n");
}
END_TEST

START_TEST(a_failing_step_keeps_the_old_outputs) {
  char *dir = test_tmpdir();
  char *out = qir_xmalloc(strlen(dir) + 8);
  sprintf(out, "%s/out", dir);
  ck_assert_int_eq(mkdir(out, 0777), 0);
  write_text(out, "build.log", "the previous build\n");
  write_text(dir, "m.qir", "func @main( {\n");
  build_env e;
  build_env_init(&e);
  ck_assert(!run_config(&e, dir, "{\"input\": \"m.qir\", \"target\": "
                                 "\"ax650\", \"output_dir\": \"out\"}"));
  ck_assert_ptr_nonnull(strstr(build_env_diags(&e), "m.qir:1:13: error: "));
  char *log = read_text(out, "build.log");
  ck_assert_str_eq(log, "the previous build\n");
  free(log);
  ck_assert_uint_eq(count_entries(out), 1);
  ck_assert_uint_eq(count_entries(dir), 3); /* m.qir, b.json, out */
  build_env_done(&e);
  remove_test_dir(dir);
  free(out);
  free(dir);
}
END_TEST

Suite *build_run_suite(void) {
  Suite *s = suite_create("build_run");
  TCase *tc = tcase_create("run");
  tcase_add_test(tc, checks_before_the_steps);
  tcase_add_test(tc, a_failing_step_keeps_the_old_outputs);
  suite_add_tcase(s, tc);
  return s;
}
