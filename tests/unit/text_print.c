/* tests/unit/text_print.c - the printer: exact text, names, floats,
 * options, and every registered op through print -> parse -> print. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "tests/unit/text_test.h"

static const char *const canonical =
    "module @m attributes {producer = \"test\"}\n"
    "func @main(%x: tensor<1x8xf32>, %0: tensor<1x8xf32>) -> tensor<1x8xf32> {\n"
    "  %a = add(%x, %0) : tensor<1x8xf32>\n"
    "  %1 = clip(%a) {min = 0.0, max = 6.0} : tensor<1x8xf32>\n"
    "  %s, %2 = split(%1) {axis = 1, sizes = [4, 4]} : (tensor<1x4xf32>, tensor<1x4xf32>)\n"
    "  %3 = concat(%s, %2) {axis = 1} : tensor<1x8xf32>\n"
    "  return(%3)\n"
    "}\n";

START_TEST(test_print_exact_text) {
  text_diags d;
  qir_context *ctx = text_context(&d);
  qir_module *m = text_parse(ctx, canonical);
  ck_assert_ptr_nonnull(m);
  char *s = text_print(m);
  ck_assert_str_eq(s, canonical);
  free(s);
  qir_module_destroy(m);
  qir_context_destroy(ctx);
}
END_TEST

START_TEST(test_print_to_file_matches_string) {
  text_diags d;
  qir_context *ctx = text_context(&d);
  qir_module *m = text_parse(ctx, canonical);
  FILE *f = tmpfile();
  ck_assert_ptr_nonnull(f);
  qir_print_module(f, m, NULL);
  long n = ftell(f);
  rewind(f);
  char *buf = calloc(1, (size_t)n + 1);
  ck_assert_uint_eq(fread(buf, 1, (size_t)n, f), (size_t)n);
  fclose(f);
  ck_assert_str_eq(buf, canonical);
  free(buf);
  qir_module_destroy(m);
  qir_context_destroy(ctx);
}
END_TEST

/* Values made through the API: duplicate names become unique, characters
 * a name cannot hold become '_', anonymous numbers skip taken ones. */
START_TEST(test_print_names_made_unique) {
  text_diags d;
  qir_context *ctx = text_context(&d);
  qir_module *m = qir_module_create(ctx);
  int64_t dims[1] = {2};
  const qir_type *t = qir_tensor_of(ctx, QIR_F32, 1, dims);
  const char *names[2] = {"in:0", "1"};
  const qir_type *types[2] = {t, t};
  qir_func *f = qir_func_create(m, "f", qir_loc_unknown(), 2, types, names, 1, &t);
  qir_builder b;
  qir_builder_init(&b, ctx);
  qir_builder_set_end(&b, &f->body);
  qir_value *x = f->body.args[0];
  qir_value *r1 = qir_build_value(&b, QIR_OP_RELU, 1, &x, 0, NULL);
  qir_value *r2 = qir_build_value(&b, QIR_OP_RELU, 1, &r1, 0, NULL);
  qir_value *r3 = qir_build_value(&b, QIR_OP_RELU, 1, &r2, 0, NULL);
  qir_value *r4 = qir_build_value(&b, QIR_OP_RELU, 1, &r3, 0, NULL);
  qir_value_set_name(ctx, r1, "y");
  qir_value_set_name(ctx, r2, "y");
  qir_value_set_name(ctx, r3, "y_1");
  qir_build_typed(&b, qir_builtin_op(ctx, QIR_OP_RETURN), 1, &r4, 0, NULL, 0, NULL);
  char *s = text_print(m);
  ck_assert_str_eq(s, "func @f(%in_0: tensor<2xf32>, %1: tensor<2xf32>) -> tensor<2xf32> {\n"
                      "  %y = relu(%in_0) : tensor<2xf32>\n"
                      "  %y_2 = relu(%y) : tensor<2xf32>\n"
                      "  %y_1 = relu(%y_2) : tensor<2xf32>\n"
                      "  %0 = relu(%y_1) : tensor<2xf32>\n"
                      "  return(%0)\n"
                      "}\n");
  /* The printed text reads back and prints the same way, less the digit
   * name (which the parser treats as anonymous). */
  qir_module *m2 = text_parse(ctx, s);
  ck_assert_ptr_nonnull(m2);
  char *s2 = text_print(m2);
  qir_module *m3 = text_parse(ctx, s2);
  char *s3 = text_print(m3);
  ck_assert_str_eq(s2, s3);
  free(s);
  free(s2);
  free(s3);
  qir_module_destroy(m);
  qir_module_destroy(m2);
  qir_module_destroy(m3);
  qir_context_destroy(ctx);
}
END_TEST

/* Random doubles through a float attribute and random floats through a
 * dense tensor come back with the same bits. */
START_TEST(test_print_float_round_trip) {
  text_diags d;
  qir_context *ctx = text_context(&d);
  srand(12345);
  for (int iter = 0; iter < 200; iter++) {
    uint64_t bits = 0;
    for (int k = 0; k < 4; k++)
      bits = bits << 16 | (uint64_t)(rand() & 0xffff);
    double v;
    memcpy(&v, &bits, 8);
    if (isnan(v))
      continue;
    uint32_t fbits = (uint32_t)(bits >> 17);
    float fv;
    memcpy(&fv, &fbits, 4);
    if (isnan(fv))
      fbits = 0x3f800000, fv = 1.0f;
    char src[512];
    char buf[64];
    qir_format_double(v, buf, sizeof buf);
    (void)buf;
    qir_module *m = qir_module_create(ctx);
    int64_t one = 1;
    const qir_type *t = qir_tensor_of(ctx, QIR_F32, 1, &one);
    qir_func *f = qir_func_create(m, "f", qir_loc_unknown(), 0, NULL, NULL, 0, NULL);
    qir_builder b;
    qir_builder_init(&b, ctx);
    qir_builder_set_end(&b, &f->body);
    qir_named_attr na[2] = {
        qir_named(ctx, "value", qir_attr_dense(ctx, qir_loc_unknown(), t, &fv, 4)),
        qir_named(ctx, "x", qir_attr_float(ctx, v))};
    qir_build_typed(&b, qir_lookup_op(ctx, "constant", 8), 0, NULL, 1, &t, 2, na);
    char *s = text_print(m);
    snprintf(src, sizeof src, "%s", s);
    qir_module *m2 = text_parse(ctx, src);
    ck_assert_msg(m2 != NULL, "%s", src);
    qir_op *op = m2->first->body.first;
    double back = qir_op_get_float(op, "x", 0);
    ck_assert_msg(memcmp(&back, &v, 8) == 0, "%s", src);
    const qir_attr *a = qir_op_get_attr(op, "value");
    ck_assert_msg(memcmp(a->u.dense.data, &fbits, 4) == 0, "%s", src);
    char *s2 = text_print(m2);
    ck_assert_str_eq(s, s2);
    free(s);
    free(s2);
    qir_module_destroy(m);
    qir_module_destroy(m2);
  }
  qir_context_destroy(ctx);
}
END_TEST

START_TEST(test_print_options) {
  text_diags d;
  qir_context *ctx = text_context(&d);
  qir_module *m = text_parse(
      ctx, "func @f() -> tensor<20xf32> {\n"
           "  %w = constant {value = dense<[1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0, 9.0, 10.0,"
           " 11.0, 12.0, 13.0, 14.0, 15.0, 16.0, 17.0, 18.0, 19.0, 20.0]> : tensor<20xf32>}"
           " : tensor<20xf32> loc(\"a.onnx\":3:4)\n"
           "  return(%w)\n}\n");
  ck_assert_ptr_nonnull(m);
  qir_print_options o;
  qir_print_options_init(&o);
  ck_assert_uint_eq(o.inline_limit, 64);
  char *s = qir_print_module_to_string(m, &o, NULL);
  ck_assert_ptr_nonnull(strstr(s, "dense_resource<w> : tensor<20xf32>"));
  ck_assert_ptr_nonnull(strstr(s, "resources {\n  w: \"0x0000803F00000040"));
  free(s);
  o.elide_constants = true;
  o.print_locs = true;
  s = qir_print_module_to_string(m, &o, NULL);
  ck_assert_ptr_nonnull(strstr(s, "dense_resource<__elided__> : tensor<20xf32>} "
                                  ": tensor<20xf32> loc(\"a.onnx\":3:4)\n"));
  ck_assert_ptr_null(strstr(s, "resources"));
  free(s);
  o.elide_constants = false;
  o.inline_limit = 0;
  s = qir_print_module_to_string(m, &o, NULL);
  ck_assert_ptr_nonnull(strstr(s, "dense<[1.0, 2.0, 3.0"));
  free(s);
  qir_module_destroy(m);
  qir_context_destroy(ctx);
}
END_TEST

START_TEST(test_print_op_line) {
  text_diags d;
  qir_context *ctx = text_context(&d);
  qir_module *m = text_parse(ctx, canonical);
  qir_op *op = m->first->body.first->next->next;
  char *buf = NULL;
  size_t n = 0;
  FILE *f = open_memstream(&buf, &n);
  qir_print_op(f, op);
  fclose(f);
  ck_assert_str_eq(buf, "%s, %2 = split(%1) {axis = 1, sizes = [4, 4]} : "
                        "(tensor<1x4xf32>, tensor<1x4xf32>)\n");
  free(buf);
  qir_module_destroy(m);
  qir_context_destroy(ctx);
}
END_TEST

/* An instance of every registered op (operands and results of one tensor
 * type) prints, parses back and prints the same text. */
static void add_instance(const qir_op_def *def, void *user) {
  qir_builder *b = user;
  qir_context *ctx = b->ctx;
  int64_t dims[2] = {2, 2};
  const qir_type *t = qir_tensor_of(ctx, QIR_F32, 2, dims);
  qir_value *x = b->block->args[0];
  qir_value *ops[8] = {x, x, x, x, x, x, x, x};
  unsigned nops = def->min_operands > 8 ? 8 : (unsigned)def->min_operands;
  unsigned nres = def->num_results < 0 ? 2 : (unsigned)def->num_results;
  const qir_type *types[2] = {t, t};
  qir_named_attr na = qir_named(ctx, "note", qir_attr_cstr(ctx, def->name));
  qir_build_typed(b, def, nops, ops, nres, types, 1, &na);
}

START_TEST(test_print_every_op) {
  text_diags d;
  qir_context *ctx = text_context(&d);
  qir_module *m = qir_module_create(ctx);
  int64_t dims[2] = {2, 2};
  const qir_type *t = qir_tensor_of(ctx, QIR_F32, 2, dims);
  qir_func *f = qir_func_create(m, "all", qir_loc_unknown(), 1, &t, NULL, 0, NULL);
  qir_builder b;
  qir_builder_init(&b, ctx);
  qir_builder_set_end(&b, &f->body);
  qir_foreach_op_def(ctx, add_instance, &b);
  ck_assert_uint_ge(f->body.num_ops, QIR_NUM_OPS);
  char *s = text_print(m);
  qir_module *m2 = text_parse(ctx, s);
  ck_assert_msg(m2 != NULL, "%s", d.count ? d.msg[0] : "");
  ck_assert_uint_eq(m2->first->body.num_ops, f->body.num_ops);
  char *s2 = text_print(m2);
  ck_assert_str_eq(s, s2);
  free(s);
  free(s2);
  qir_module_destroy(m);
  qir_module_destroy(m2);
  qir_context_destroy(ctx);
}
END_TEST

/* qir_write_module writes a file that qir_parse_file reads back. */
START_TEST(test_print_write_and_parse_file) {
  text_diags d;
  qir_context *ctx = text_context(&d);
  qir_module *m = text_parse(ctx, canonical);
  char path[] = "/tmp/qir-text-XXXXXX";
  int fd = mkstemp(path);
  ck_assert_int_ge(fd, 0);
  close(fd);
  ck_assert(qir_write_module(ctx, path, m, NULL));
  qir_module *m2 = qir_parse_file(ctx, path);
  ck_assert_ptr_nonnull(m2);
  char *s = text_print(m2);
  ck_assert_str_eq(s, canonical);
  free(s);
  /* Errors in files name the file. */
  FILE *f = fopen(path, "w");
  fputs("func @f() {\n  %0 = nope()\n}\n", f);
  fclose(f);
  d.count = 0;
  ck_assert_ptr_null(qir_parse_file(ctx, path));
  ck_assert_str_eq(d.msg[0], "unknown op 'nope'");
  ck_assert_uint_eq(d.line[0], 2);
  ck_assert_ptr_null(qir_parse_file(ctx, "/nonexistent/dir/x.qir"));
  unlink(path);
  qir_module_destroy(m);
  qir_module_destroy(m2);
  qir_context_destroy(ctx);
}
END_TEST

Suite *text_print_suite(void) {
  Suite *s = suite_create("text_print");
  TCase *tc = tcase_create("print");
  tcase_add_test(tc, test_print_exact_text);
  tcase_add_test(tc, test_print_to_file_matches_string);
  tcase_add_test(tc, test_print_names_made_unique);
  tcase_add_test(tc, test_print_float_round_trip);
  tcase_add_test(tc, test_print_options);
  tcase_add_test(tc, test_print_op_line);
  tcase_add_test(tc, test_print_every_op);
  tcase_add_test(tc, test_print_write_and_parse_file);
  suite_add_tcase(s, tc);
  return s;
}
