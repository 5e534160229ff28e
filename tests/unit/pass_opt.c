/* tests/unit/pass_opt.c - the qir-opt driver called as a library function:
 * exit statuses and the output file. */
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "pass_util.h"
#include "qir/opt.h"

static char dir[64], input[96], output[96];

static const char module_text[] =
    "func @f(%x: tensor<4xf32>) -> (tensor<4xf32>) {\n"
    "  %0 = relu(%x) : tensor<4xf32>\n"
    "  %1 = relu(%x) : tensor<4xf32>\n"
    "  return(%0)\n"
    "}\n";

static void setup(void) {
  snprintf(dir, sizeof dir, "%s", "/tmp/qir-pass-opt-XXXXXX");
  ck_assert_ptr_nonnull(mkdtemp(dir));
  snprintf(input, sizeof input, "%s/in.qir", dir);
  snprintf(output, sizeof output, "%s/out.qir", dir);
  FILE *f = fopen(input, "w");
  ck_assert_ptr_nonnull(f);
  fputs(module_text, f);
  fclose(f);
}

static void teardown(void) {
  unlink(input);
  unlink(output);
  rmdir(dir);
}

static int run_opt(const char *a1, const char *a2, const char *a3,
                   const char *a4) {
  char *argv[] = {"qir-opt", (char *)a1, (char *)a2, (char *)a3, (char *)a4,
                  NULL};
  int argc = 1;
  while (argv[argc])
    argc++;
  return qir_opt_main(argc, argv);
}

static char *read_all(const char *path) {
  FILE *f = fopen(path, "r");
  if (!f)
    return NULL;
  static char buf[4096];
  size_t n = fread(buf, 1, sizeof buf - 1, f);
  buf[n] = '\0';
  fclose(f);
  return buf;
}

START_TEST(writes_the_output) {
  ck_assert_int_eq(run_opt(input, "-pass=cse,dce", "-o", output), 0);
  const char *text = read_all(output);
  ck_assert_ptr_nonnull(text);
  ck_assert_ptr_nonnull(strstr(text, "func @f"));
  const char *first = strstr(text, "relu");
  ck_assert_ptr_nonnull(first);
  ck_assert_ptr_null(strstr(first + 1, "relu")); /* cse merged them */
}
END_TEST

START_TEST(failure_leaves_no_output) {
  ck_assert_int_eq(run_opt(input, "-pass=nope", "-o", output), 1);
  ck_assert_int_ne(access(output, F_OK), 0);
}
END_TEST

START_TEST(bad_usage_is_status_one) {
  ck_assert_int_eq(run_opt("-no-such-option", NULL, NULL, NULL), 1);
  ck_assert_int_eq(run_opt("-o", NULL, NULL, NULL), 1);
  ck_assert_int_eq(run_opt(input, input, NULL, NULL), 1);
  ck_assert_int_eq(run_opt("-verify-each=maybe", input, NULL, NULL), 1);
}
END_TEST

static Suite *opt_suite(void) {
  Suite *s = suite_create("qir-opt");
  TCase *tc = tcase_create("main");
  tcase_add_checked_fixture(tc, setup, teardown);
  tcase_add_test(tc, writes_the_output);
  tcase_add_test(tc, failure_leaves_no_output);
  tcase_add_test(tc, bad_usage_is_status_one);
  suite_add_tcase(s, tc);
  return s;
}

Suite *pass_opt_suite(void);
Suite *pass_opt_suite(void) { return opt_suite(); }
