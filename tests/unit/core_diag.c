/* tests/unit/core_diag.c - the diagnostics engine: clang-style printing with
 * a caret, handlers, error counting, registered sources. */
#include <string.h>

#include "core_test.h"

static const char src[] = "func @f() {\n"
                          "  %0 = bogus(%x) : tensor<f32>\n"
                          "\treturn(%0)\r\n"
                          "}";

static char *print_diag(qir_context *ctx, qir_severity sev, qir_loc loc,
                        const char *msg) {
  char *buf = NULL;
  size_t len = 0;
  FILE *fp = open_memstream(&buf, &len);
  qir_diag d = {sev, loc, msg};
  qir_diag_print(ctx, &d, fp);
  fclose(fp);
  return buf;
}

START_TEST(print_with_caret) {
  qir_context *ctx = qir_context_create();
  qir_diag_register_source(ctx, "t.qir", src, strlen(src));
  char *out = print_diag(ctx, QIR_SEV_ERROR, qir_loc_make(ctx, "t.qir", 2, 8),
                         "unknown op 'bogus'");
  ck_assert_str_eq(out, "t.qir:2:8: error: unknown op 'bogus'\n"
                        "  %0 = bogus(%x) : tensor<f32>\n"
                        "       ^\n");
  free(out);
  qir_context_destroy(ctx);
}
END_TEST

START_TEST(print_caret_keeps_tabs_and_strips_cr) {
  qir_context *ctx = qir_context_create();
  qir_diag_register_source(ctx, "t.qir", src, strlen(src));
  char *out = print_diag(ctx, QIR_SEV_WARNING,
                         qir_loc_make(ctx, "t.qir", 3, 9), "w");
  ck_assert_str_eq(out, "t.qir:3:9: warning: w\n"
                        "\treturn(%0)\n"
                        "\t       ^\n");
  free(out);
  /* The last line has no newline; a column past the end puts the caret
   * just after the text. */
  out = print_diag(ctx, QIR_SEV_NOTE, qir_loc_make(ctx, "t.qir", 4, 50), "n");
  ck_assert_str_eq(out, "t.qir:4:50: note: n\n}\n ^\n");
  free(out);
  qir_context_destroy(ctx);
}
END_TEST

START_TEST(print_without_source_or_location) {
  qir_context *ctx = qir_context_create();
  char *out = print_diag(ctx, QIR_SEV_REMARK,
                         qir_loc_make(ctx, "other.qir", 5, 1), "r");
  ck_assert_str_eq(out, "other.qir:5:1: remark: r\n");
  free(out);
  out = print_diag(ctx, QIR_SEV_ERROR, qir_loc_unknown(), "no file");
  ck_assert_str_eq(out, "error: no file\n");
  free(out);
  out = print_diag(ctx, QIR_SEV_ERROR, qir_loc_make(ctx, "x.qir", 0, 0), "m");
  ck_assert_str_eq(out, "x.qir: error: m\n");
  free(out);
  /* A line past the end of a registered file: no source line. */
  qir_diag_register_source(ctx, "t.qir", src, strlen(src));
  out = print_diag(ctx, QIR_SEV_ERROR, qir_loc_make(ctx, "t.qir", 9, 1), "m");
  ck_assert_str_eq(out, "t.qir:9:1: error: m\n");
  free(out);
  qir_context_destroy(ctx);
}
END_TEST

START_TEST(source_lines) {
  qir_context *ctx = qir_context_create();
  qir_diag_register_source(ctx, "t.qir", src, strlen(src));
  size_t len = 0;
  const char *l = qir_diag_source_line(ctx, "t.qir", 1, &len);
  ck_assert_ptr_nonnull(l);
  ck_assert_uint_eq(len, 11);
  ck_assert(memcmp(l, "func @f() {", 11) == 0);
  l = qir_diag_source_line(ctx, "t.qir", 4, &len);
  ck_assert_uint_eq(len, 1);
  ck_assert_int_eq(l[0], '}');
  ck_assert_ptr_null(qir_diag_source_line(ctx, "t.qir", 5, &len));
  ck_assert_ptr_null(qir_diag_source_line(ctx, "t.qir", 0, &len));
  ck_assert_ptr_null(qir_diag_source_line(ctx, "u.qir", 1, &len));
  /* Registering again replaces the text. */
  qir_diag_register_source(ctx, "t.qir", "one\ntwo\n", 8);
  l = qir_diag_source_line(ctx, "t.qir", 2, &len);
  ck_assert_uint_eq(len, 3);
  ck_assert(memcmp(l, "two", 3) == 0);
  l = qir_diag_source_line(ctx, "t.qir", 3, &len);
  ck_assert_uint_eq(len, 0);
  qir_context_destroy(ctx);
}
END_TEST

START_TEST(adopt_source_without_copy) {
  qir_context *ctx = qir_context_create();
  char *text = qir_xstrdup("a\nbb\n");
  qir_diag_adopt_source(ctx, "t.qir", text, 5);
  size_t len = 0;
  const char *l = qir_diag_source_line(ctx, "t.qir", 2, &len);
  ck_assert_ptr_eq(l, text + 2); /* no copy */
  ck_assert_uint_eq(len, 2);
  /* Registering the same text again keeps the adopted buffer. */
  qir_diag_register_source(ctx, "t.qir", "a\nbb\n", 5);
  ck_assert_ptr_eq(qir_diag_source_line(ctx, "t.qir", 1, &len), text);
  /* Other text replaces it (and frees the adopted one: ASan checks). */
  qir_diag_register_source(ctx, "t.qir", "x\n", 2);
  l = qir_diag_source_line(ctx, "t.qir", 1, &len);
  ck_assert_uint_eq(len, 1);
  ck_assert_int_eq(l[0], 'x');
  qir_context_destroy(ctx);
}
END_TEST

typedef struct seen {
  int count;
  qir_severity sev;
  unsigned line;
  char msg[128];
} seen;

static void custom_handler(qir_context *ctx, const qir_diag *d, void *user) {
  (void)ctx;
  seen *s = user;
  s->count++;
  s->sev = d->severity;
  s->line = d->loc.line;
  snprintf(s->msg, sizeof s->msg, "%s", d->message);
}

START_TEST(custom_handler_and_restore) {
  qir_context *ctx = qir_context_create();
  seen s = {0};
  qir_diag_handler old_h = NULL;
  void *old_user = (void *)1;
  qir_diag_set_handler(ctx, custom_handler, &s, &old_h, &old_user);
  ck_assert_ptr_eq((void *)old_h, (void *)qir_diag_default_handler);
  ck_assert_ptr_null(old_user);
  qir_emit_warning(ctx, qir_loc_make(ctx, "a", 7, 1), "value %d is %s", 3,
                   "odd");
  ck_assert_int_eq(s.count, 1);
  ck_assert_int_eq(s.sev, QIR_SEV_WARNING);
  ck_assert_uint_eq(s.line, 7);
  ck_assert_str_eq(s.msg, "value 3 is odd");
  qir_diag_handler cur;
  void *cur_user;
  qir_diag_set_handler(ctx, old_h, old_user, &cur, &cur_user);
  ck_assert_ptr_eq((void *)cur, (void *)custom_handler);
  ck_assert_ptr_eq(cur_user, &s);
  qir_context_destroy(ctx);
}
END_TEST

START_TEST(long_message_not_truncated) {
  qir_context *ctx = qir_context_create();
  seen s = {0};
  char *big = malloc(3001);
  memset(big, 'x', 3000);
  big[3000] = '\0';
  diag_capture c;
  capture_begin(&c, ctx);
  qir_emit_error(ctx, qir_loc_unknown(), "<%s>", big);
  const char *t = capture_text(&c);
  ck_assert_uint_eq(strlen(t), strlen("error: <>\n") + 3000);
  ck_assert_int_eq(t[strlen(t) - 2], '>');
  capture_end(&c);
  free(big);
  (void)s;
  qir_context_destroy(ctx);
}
END_TEST

START_TEST(error_count_only_errors) {
  qir_context *ctx = qir_context_create();
  diag_capture c;
  capture_begin(&c, ctx);
  ck_assert_uint_eq(qir_diag_error_count(ctx), 0);
  qir_emit_error(ctx, qir_loc_unknown(), "e1");
  qir_emit_warning(ctx, qir_loc_unknown(), "w");
  qir_emit_note(ctx, qir_loc_unknown(), "n");
  qir_emit_remark(ctx, qir_loc_unknown(), "r");
  qir_emit(ctx, QIR_SEV_ERROR, qir_loc_unknown(), "e%d", 2);
  ck_assert_uint_eq(qir_diag_error_count(ctx), 2);
  ck_assert_str_eq(capture_text(&c), "error: e1\nwarning: w\nnote: n\n"
                                     "remark: r\nerror: e2\n");
  qir_diag_reset_error_count(ctx);
  ck_assert_uint_eq(qir_diag_error_count(ctx), 0);
  capture_end(&c);
  qir_context_destroy(ctx);
}
END_TEST

START_TEST(default_handler_writes_stderr) {
  char path[] = "/tmp/qir-core-diag-XXXXXX";
  int fd = mkstemp(path);
  ck_assert_int_ge(fd, 0);
  fflush(stderr);
  ck_assert_ptr_nonnull(freopen(path, "w", stderr));
  qir_context *ctx = qir_context_create();
  qir_diag_register_source(ctx, "t.qir", src, strlen(src));
  qir_emit_error(ctx, qir_loc_make(ctx, "t.qir", 1, 6), "bad symbol");
  qir_context_destroy(ctx);
  fflush(stderr);
  char buf[256] = "";
  FILE *in = fopen(path, "r");
  size_t n = fread(buf, 1, sizeof buf - 1, in);
  buf[n] = '\0';
  fclose(in);
  remove(path);
  ck_assert_str_eq(buf, "t.qir:1:6: error: bad symbol\n"
                        "func @f() {\n"
                        "     ^\n");
}
END_TEST

Suite *core_diag_suite(void) {
  Suite *s = suite_create("core_diag");
  TCase *tc = tcase_create("diag");
  tcase_set_timeout(tc, 60); /* slow under sanitizers on a busy machine */
  tcase_add_test(tc, print_with_caret);
  tcase_add_test(tc, print_caret_keeps_tabs_and_strips_cr);
  tcase_add_test(tc, print_without_source_or_location);
  tcase_add_test(tc, source_lines);
  tcase_add_test(tc, adopt_source_without_copy);
  tcase_add_test(tc, custom_handler_and_restore);
  tcase_add_test(tc, long_message_not_truncated);
  tcase_add_test(tc, error_count_only_errors);
  tcase_add_test(tc, default_handler_writes_stderr);
  suite_add_tcase(s, tc);
  return s;
}
