/* tests/unit/core_context.c - interning, the arena, cleanup hooks, the op
 * and pass registries, debug channels, allocators. */
#include <signal.h>
#include <stdint.h>
#include <string.h>
#include <unistd.h>

#include "core_test.h"
#include "ir/internal.h"

START_TEST(intern_same_pointer) {
  qir_context *ctx = qir_context_create();
  char a[] = "conv2d", b[] = "conv2d";
  const char *x = qir_intern_cstr(ctx, a);
  const char *y = qir_intern(ctx, b, 6);
  ck_assert_ptr_eq(x, y);
  ck_assert_ptr_ne(x, a);
  ck_assert_str_eq(x, "conv2d");
  ck_assert_ptr_ne(qir_intern_cstr(ctx, "conv"), x);
  /* A prefix given by length is its own string, NUL-terminated. */
  const char *p = qir_intern(ctx, "conv2d_x", 4);
  ck_assert_str_eq(p, "conv");
  ck_assert_ptr_eq(p, qir_intern_cstr(ctx, "conv"));
  qir_context_destroy(ctx);
}
END_TEST

START_TEST(intern_embedded_nul_and_empty) {
  qir_context *ctx = qir_context_create();
  const char *a = qir_intern(ctx, "a\0b", 3);
  const char *b = qir_intern(ctx, "a\0c", 3);
  ck_assert_ptr_ne(a, b);
  ck_assert_ptr_eq(a, qir_intern(ctx, "a\0b", 3));
  ck_assert_ptr_ne(a, qir_intern_cstr(ctx, "a"));
  const char *e = qir_intern(ctx, "", 0);
  ck_assert_str_eq(e, "");
  ck_assert_ptr_eq(e, qir_intern(ctx, "xyz", 0));
  qir_context_destroy(ctx);
}
END_TEST

START_TEST(intern_many_strings) {
  qir_context *ctx = qir_context_create();
  enum { N = 20000 };
  static const char *ptrs[N];
  char buf[32];
  for (int i = 0; i < N; i++) {
    snprintf(buf, sizeof buf, "v%d", i);
    ptrs[i] = qir_intern_cstr(ctx, buf);
  }
  for (int i = 0; i < N; i++) {
    snprintf(buf, sizeof buf, "v%d", i);
    ck_assert_ptr_eq(qir_intern_cstr(ctx, buf), ptrs[i]);
    ck_assert_str_eq(ptrs[i], buf);
  }
  ck_assert_ptr_null(qir_intern_find(ctx, "never-interned", 14));
  ck_assert_ptr_eq(qir_intern_find(ctx, "v7", 2), ptrs[7]);
  qir_context_destroy(ctx);
}
END_TEST

START_TEST(arena_zeroed_aligned_and_big) {
  qir_context *ctx = qir_context_create();
  for (size_t size = 1; size < 5000; size += 37) {
    unsigned char *p = qir_arena_alloc(ctx, size);
    ck_assert_uint_eq((uintptr_t)p % 16, 0);
    for (size_t i = 0; i < size; i++)
      ck_assert_uint_eq(p[i], 0);
    memset(p, 0xab, size);
  }
  /* Larger than a chunk: its own block. */
  size_t big = 1u << 20;
  unsigned char *p = qir_arena_alloc(ctx, big);
  ck_assert_uint_eq(p[0], 0);
  ck_assert_uint_eq(p[big - 1], 0);
  memset(p, 1, big);
  /* The current chunk keeps serving small requests after a big one. */
  unsigned char *q = qir_arena_alloc(ctx, 8);
  ck_assert_uint_eq(q[0], 0);
  int v[4] = {1, 2, 3, 4};
  int *d = qir_arena_dup(ctx, v, sizeof v);
  ck_assert_ptr_ne(d, v);
  ck_assert_int_eq(d[3], 4);
  qir_context_destroy(ctx);
}
END_TEST

START_TEST(small_blocks_recycled_zeroed) {
  qir_context *ctx = qir_context_create();
  unsigned char *a = qir_block_alloc(ctx, 200);
  unsigned char *b = qir_block_alloc(ctx, 200);
  ck_assert_ptr_ne(a, b);
  ck_assert_uint_eq((uintptr_t)a % 16, 0);
  memset(a, 0xff, 200);
  memset(b, 0xff, 200);
  qir_block_free(ctx, a, 200);
  unsigned char *c = qir_block_alloc(ctx, 193); /* same size class */
  for (int i = 0; i < 193; i++)
    ck_assert_uint_eq(c[i], 0);
  unsigned char *big = qir_block_alloc(ctx, 10000);
  ck_assert_uint_eq(big[9999], 0);
  memset(big, 1, 10000);
  qir_block_free(ctx, big, 10000);
  qir_block_free(ctx, b, 200);
  qir_block_free(ctx, c, 193);
  unsigned char *tiny = qir_block_alloc(ctx, 0);
  qir_block_free(ctx, tiny, 0);
  qir_context_destroy(ctx);
}
END_TEST

static char order[8];
static int norder;
static void record(void *arg) { order[norder++] = *(const char *)arg; }

START_TEST(cleanup_hooks_latest_first) {
  static const char a = 'a', b = 'b', c = 'c';
  norder = 0;
  qir_context *ctx = qir_context_create();
  qir_context_add_cleanup(ctx, record, (void *)&a);
  qir_context_add_cleanup(ctx, record, (void *)&b);
  qir_context_add_cleanup(ctx, record, (void *)&c);
  ck_assert_int_eq(norder, 0);
  qir_context_destroy(ctx);
  ck_assert_int_eq(norder, 3);
  ck_assert(memcmp(order, "cba", 3) == 0);
}
END_TEST

START_TEST(builtin_ops_registered) {
  qir_context *ctx = qir_context_create();
  const qir_op_def *conv = qir_lookup_op(ctx, "conv2d_extra", 6);
  ck_assert_ptr_nonnull(conv);
  ck_assert_str_eq(conv->name, "conv2d");
  ck_assert_uint_eq(conv->id, QIR_OP_CONV2D);
  ck_assert_ptr_eq(qir_builtin_op(ctx, QIR_OP_CONV2D), conv);
  ck_assert_ptr_eq(qir_builtin_op(ctx, QIR_OP_RETURN),
                   qir_lookup_op(ctx, "return", 6));
  ck_assert_ptr_null(qir_builtin_op(ctx, QIR_NUM_OPS));
  ck_assert_ptr_null(qir_lookup_op(ctx, "conv", 4));
  ck_assert_ptr_null(qir_lookup_op(ctx, "nosuchop", 8));
  qir_context_destroy(ctx);
}
END_TEST

static void count_defs(const qir_op_def *d, void *user) {
  (void)d;
  ++*(unsigned *)user;
}

START_TEST(register_plugin_op) {
  qir_context *ctx = qir_context_create();
  static qir_op_def mine = {"my.op", 0, 1, 1, 1, QIR_TRAIT_PURE, "mine",
                            NULL, NULL, NULL, NULL};
  static qir_op_def dup = {"relu", 0, 1, 1, 1, 0, "dup",
                           NULL, NULL, NULL, NULL};
  unsigned before = 0, after = 0;
  qir_foreach_op_def(ctx, count_defs, &before);
  ck_assert_uint_eq(before, QIR_NUM_OPS);
  ck_assert(qir_register_op(ctx, &mine));
  ck_assert_uint_ge(mine.id, QIR_NUM_OPS);
  ck_assert_ptr_eq(qir_lookup_op(ctx, "my.op", 5), &mine);
  ck_assert(!qir_register_op(ctx, &mine));
  ck_assert(!qir_register_op(ctx, &dup));
  qir_foreach_op_def(ctx, count_defs, &after);
  ck_assert_uint_eq(after, QIR_NUM_OPS + 1);
  qir_context_destroy(ctx);
}
END_TEST

static bool dummy_run(qir_pass *p, void *unit) {
  (void)p;
  (void)unit;
  return true;
}

static void find_my_pass(const qir_pass_def *d, void *user) {
  if (strcmp(d->name, "my-pass") == 0)
    ++*(int *)user;
}

START_TEST(pass_registry) {
  qir_context *ctx = qir_context_create();
  static const qir_pass_def mine = {"my-pass", "does nothing",
                                    QIR_PASS_ON_FUNC, 0, NULL, dummy_run};
  ck_assert_ptr_nonnull(qir_lookup_pass(ctx, "cse"));
  ck_assert_ptr_null(qir_lookup_pass(ctx, "my-pass"));
  ck_assert(qir_register_pass(ctx, &mine));
  ck_assert_ptr_eq(qir_lookup_pass(ctx, "my-pass"), &mine);
  ck_assert(!qir_register_pass(ctx, &mine));
  int seen = 0;
  qir_foreach_pass_def(ctx, find_my_pass, &seen);
  ck_assert_int_eq(seen, 1);
  qir_context_destroy(ctx);
}
END_TEST

START_TEST(debug_channels) {
  qir_context *ctx = qir_context_create();
  ck_assert(!qir_debug_enabled(ctx, "fuse"));
  qir_debug_enable(ctx, "fuse,cse");
  ck_assert(qir_debug_enabled(ctx, "fuse"));
  ck_assert(qir_debug_enabled(ctx, "cse"));
  ck_assert(!qir_debug_enabled(ctx, "dce"));
  ck_assert(!qir_debug_enabled(ctx, "fus"));
  qir_debug_enable(ctx, ",,licm,");
  ck_assert(qir_debug_enabled(ctx, "licm"));
  ck_assert(!qir_debug_enabled(ctx, ""));
  int evaluated = 0;
  QIR_DEBUG(ctx, "dce", "%d", ++evaluated);
  ck_assert_int_eq(evaluated, 0); /* arguments not evaluated when off */
  qir_debug_enable(ctx, "all");
  ck_assert(qir_debug_enabled(ctx, "dce"));
  qir_context_destroy(ctx);
}
END_TEST

START_TEST(debug_printf_format) {
  /* qir_debug_printf writes to stderr; redirect it to a file. */
  char path[] = "/tmp/qir-core-debug-XXXXXX";
  int fd = mkstemp(path);
  ck_assert_int_ge(fd, 0);
  fflush(stderr);
  ck_assert_ptr_nonnull(freopen(path, "w", stderr));
  qir_debug_printf("fuse", "merged %d ops\n", 2);
  fflush(stderr);
  FILE *in = fopen(path, "r");
  char line[64] = "";
  ck_assert_ptr_nonnull(fgets(line, sizeof line, in));
  fclose(in);
  unlink(path);
  ck_assert_str_eq(line, "[fuse] merged 2 ops\n");
}
END_TEST

START_TEST(die_aborts) {
  /* Runs in a forked child; Check expects SIGABRT. */
  qir_die("impossible state %d", 42);
}
END_TEST

START_TEST(xalloc_helpers) {
  char *s = qir_xstrdup("hello");
  ck_assert_str_eq(s, "hello");
  int *p = qir_xcalloc(4, sizeof *p);
  ck_assert_int_eq(p[3], 0);
  p = qir_xrealloc(p, 100 * sizeof *p);
  p[99] = 1;
  free(p);
  free(s);
  free(qir_xmalloc(0));
}
END_TEST

START_TEST(loc_make_interns_file) {
  qir_context *ctx = qir_context_create();
  char name[] = "a.qir";
  qir_loc l = qir_loc_make(ctx, name, 3, 7);
  ck_assert_ptr_eq(l.file, qir_intern_cstr(ctx, "a.qir"));
  ck_assert_uint_eq(l.line, 3);
  ck_assert_uint_eq(l.col, 7);
  qir_loc u = qir_loc_make(ctx, NULL, 0, 0);
  ck_assert_ptr_null(u.file);
  qir_context_destroy(ctx);
}
END_TEST

Suite *core_context_suite(void) {
  Suite *s = suite_create("core_context");
  TCase *tc = tcase_create("context");
  tcase_set_timeout(tc, 60); /* slow under sanitizers on a busy machine */
  tcase_add_test(tc, intern_same_pointer);
  tcase_add_test(tc, intern_embedded_nul_and_empty);
  tcase_add_test(tc, intern_many_strings);
  tcase_add_test(tc, arena_zeroed_aligned_and_big);
  tcase_add_test(tc, small_blocks_recycled_zeroed);
  tcase_add_test(tc, cleanup_hooks_latest_first);
  tcase_add_test(tc, builtin_ops_registered);
  tcase_add_test(tc, register_plugin_op);
  tcase_add_test(tc, pass_registry);
  tcase_add_test(tc, debug_channels);
  tcase_add_test(tc, debug_printf_format);
  tcase_add_test_raise_signal(tc, die_aborts, SIGABRT);
  tcase_add_test(tc, xalloc_helpers);
  tcase_add_test(tc, loc_make_interns_file);
  suite_add_tcase(s, tc);
  return s;
}
