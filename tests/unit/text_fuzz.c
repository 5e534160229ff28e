/* tests/unit/text_fuzz.c - hostile input: random byte mutations and every
 * truncation of a valid module must give a module or an error, never a
 * crash or a hang. */
#include <stdlib.h>
#include <string.h>

#include "tests/unit/text_test.h"

static const char *const seed =
    "module @m attributes {producer = \"onnx\", r = [1, [2.5, -3]]}\n"
    "func @main(%x: tensor<1x3x4x4xf32>, %q: tensor<2x!q.u8<0.5:3>>) -> tensor<1x2x4x4xf32> {\n"
    "  // comment\n"
    "  %w = constant {value = dense_resource<w> : tensor<2x3x1x1xf32>} : tensor<2x3x1x1xf32>\n"
    "  %b = constant {value = dense<[0.5, -1.0]> : tensor<2xf32>} : tensor<2xf32>\n"
    "  %0 = conv2d(%x, %w, %b) {strides = [1, 1], pads = [0, 0, 0, 0]} : tensor<1x2x4x4xf32>\n"
    "  %1 = relu(%0) : tensor<1x2x4x4xf32> loc(\"m.onnx\":1:2)\n"
    "  %a, %c = split(%1) {axis = 1, sizes = [1, 1]} : (tensor<1x1x4x4xf32>, tensor<1x1x4x4xf32>)\n"
    "  %2 = concat(%a, %c) {axis = 1} /* block */ : tensor<1x2x4x4xf32>\n"
    "  %k = constant {value = dense<\"0x0000C07F\"> : tensor<1xf32>} : tensor<1xf32>\n"
    "  return(%2)\n"
    "}\n"
    "resources {\n"
    "  w: \"0x0000803F0000803F0000803F000000400000004000000040\"\n"
    "}\n";

static void parse_quietly(qir_context *ctx, const char *buf, size_t len) {
  qir_module *m = qir_parse_buffer(ctx, "fuzz.qir", buf, len, 1);
  if (m) {
    char *s = qir_print_module_to_string(m, NULL, NULL);
    free(s);
    qir_module_destroy(m);
  }
}

START_TEST(test_fuzz_seed_is_valid) {
  text_diags d;
  qir_context *ctx = text_context(&d);
  qir_module *m = text_parse(ctx, seed);
  ck_assert_msg(m != NULL, "%s", d.msg[0]);
  ck_assert(qir_verify_module(m));
  qir_module_destroy(m);
  qir_context_destroy(ctx);
}
END_TEST

START_TEST(test_fuzz_mutations) {
  static const char interesting[] = "%@\"[]{}()<>:=,x?!-.0123456789\\\n\0/*e";
  size_t len = strlen(seed);
  char *buf = malloc(len + 16);
  srand(4242);
  text_diags d;
  qir_context *ctx = text_context(&d);
  for (int iter = 0; iter < 3000; iter++) {
    memcpy(buf, seed, len);
    size_t n = len;
    int edits = 1 + rand() % 4;
    for (int e = 0; e < edits; e++) {
      size_t at = (size_t)rand() % n;
      switch (rand() % 4) {
      case 0: buf[at] = (char)(rand() & 0xff); break;
      case 1: buf[at] = interesting[rand() % (int)(sizeof interesting - 1)]; break;
      case 2: memmove(buf + at, buf + at + 1, n - at - 1); n--; break;
      default:
        if (n < len + 15) {
          memmove(buf + at + 1, buf + at, n - at);
          buf[at] = interesting[rand() % (int)(sizeof interesting - 1)];
          n++;
        }
      }
    }
    parse_quietly(ctx, buf, n);
    if (iter % 500 == 499) { /* keep the context's memory bounded */
      qir_context_destroy(ctx);
      ctx = text_context(&d);
    }
  }
  qir_context_destroy(ctx);
  free(buf);
}
END_TEST

START_TEST(test_fuzz_truncations) {
  size_t len = strlen(seed);
  text_diags d;
  qir_context *ctx = text_context(&d);
  for (size_t n = 0; n <= len; n++) {
    d.count = 0;
    qir_module *m = qir_parse_buffer(ctx, "cut.qir", seed, n, 1);
    /* A cut module is either still complete or reported. */
    ck_assert(m != NULL || d.count > 0);
    if (m)
      qir_module_destroy(m);
  }
  qir_context_destroy(ctx);
}
END_TEST

START_TEST(test_fuzz_deep_nesting) {
  text_diags d;
  qir_context *ctx = text_context(&d);
  size_t depth = 100000;
  char *buf = malloc(2 * depth + 200);
  size_t n = (size_t)sprintf(buf, "func @f() {\n  %%0 = constant {value = dense<");
  memset(buf + n, '[', depth);
  n += depth;
  n += (size_t)sprintf(buf + n, "1.0");
  memset(buf + n, ']', depth);
  n += depth;
  n += (size_t)sprintf(buf + n, "> : tensor<1xf32>} : tensor<1xf32>\n}\n");
  ck_assert_ptr_null(qir_parse_buffer(ctx, "deep.qir", buf, n, 1));
  ck_assert_str_eq(d.msg[0], "brackets nested deeper than 64 levels");
  free(buf);
  qir_context_destroy(ctx);
}
END_TEST

Suite *text_fuzz_suite(void) {
  Suite *s = suite_create("text_fuzz");
  TCase *tc = tcase_create("fuzz");
  tcase_set_timeout(tc, 120);
  tcase_add_test(tc, test_fuzz_seed_is_valid);
  tcase_add_test(tc, test_fuzz_mutations);
  tcase_add_test(tc, test_fuzz_truncations);
  tcase_add_test(tc, test_fuzz_deep_nesting);
  suite_add_tcase(s, tc);
  return s;
}
