/* tests/unit/build_outdir.c - the output folder changes all at once: a
 * temporary sibling replaces it on success, nothing changes on failure,
 * and a folder qir-build did not write is never replaced. */
#include <dirent.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "build_test.h"
#include "driver/build-internal.h"

char *test_tmpdir(void) {
  char tmpl[] = "/tmp/qir-build-test-XXXXXX";
  ck_assert_ptr_nonnull(mkdtemp(tmpl));
  return qir_xstrdup(tmpl);
}

void write_text(const char *dir, const char *name, const char *text) {
  char *path = build_path_join(dir, name);
  FILE *f = fopen(path, "w");
  ck_assert_ptr_nonnull(f);
  fputs(text, f);
  fclose(f);
  free(path);
}

/* The file's text, or NULL when it does not exist. */
char *read_text(const char *dir, const char *name) {
  char *path = build_path_join(dir, name);
  FILE *f = fopen(path, "r");
  free(path);
  if (!f)
    return NULL;
  char *buf = qir_xcalloc(1, 65536);
  size_t n = fread(buf, 1, 65535, f);
  buf[n] = 0;
  fclose(f);
  return buf;
}

unsigned count_entries(const char *dir) {
  DIR *d = opendir(dir);
  ck_assert_ptr_nonnull(d);
  unsigned n = 0;
  struct dirent *e;
  while ((e = readdir(d)) != NULL)
    n += strcmp(e->d_name, ".") && strcmp(e->d_name, "..");
  closedir(d);
  return n;
}

void remove_test_dir(const char *dir) {
  char cmd[512];
  snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
  ck_assert_int_eq(system(cmd), 0);
}

START_TEST(commit_replaces_a_previous_build) {
  char *top = test_tmpdir();
  char *out = build_path_join(top, "out");
  mkdir(out, 0777);
  write_text(out, "build.log", "old log\n");
  write_text(out, "stale.qir", "old\n");
  build_env e;
  build_env_init(&e);
  build_outdir od;
  ck_assert(build_outdir_begin(e.ctx, &od, out));
  write_text(od.tmp, "build.log", "new log\n");
  /* Until the commit the old outputs are all there, untouched. */
  char *old = read_text(out, "build.log");
  ck_assert_str_eq(old, "old log\n");
  free(old);
  ck_assert_uint_eq(count_entries(top), 2);
  ck_assert(build_outdir_commit(e.ctx, &od));
  char *log = read_text(out, "build.log");
  ck_assert_str_eq(log, "new log\n");
  free(log);
  ck_assert_ptr_null(read_text(out, "stale.qir"));
  ck_assert_uint_eq(count_entries(top), 1); /* no temporary left */
  ck_assert_str_eq(build_env_diags(&e), "");
  build_env_done(&e);
  remove_test_dir(top);
  free(out);
  free(top);
}
END_TEST

START_TEST(abort_keeps_the_old_outputs) {
  char *top = test_tmpdir();
  char *out = build_path_join(top, "out");
  mkdir(out, 0777);
  write_text(out, "build.log", "old log\n");
  build_env e;
  build_env_init(&e);
  build_outdir od;
  ck_assert(build_outdir_begin(e.ctx, &od, out));
  write_text(od.tmp, "build.log", "half\n");
  build_outdir_abort(&od);
  char *log = read_text(out, "build.log");
  ck_assert_str_eq(log, "old log\n");
  free(log);
  ck_assert_uint_eq(count_entries(top), 1);
  build_env_done(&e);
  remove_test_dir(top);
  free(out);
  free(top);
}
END_TEST

START_TEST(a_new_output_dir_and_trailing_slashes) {
  char *top = test_tmpdir();
  char *out = build_path_join(top, "new/");
  build_env e;
  build_env_init(&e);
  build_outdir od;
  ck_assert(build_outdir_begin(e.ctx, &od, out));
  write_text(od.tmp, "build.log", "x\n");
  ck_assert(build_outdir_commit(e.ctx, &od));
  char *log = read_text(out, "build.log");
  ck_assert_str_eq(log, "x\n");
  free(log);
  ck_assert_uint_eq(count_entries(top), 1);
  build_env_done(&e);
  remove_test_dir(top);
  free(out);
  free(top);
}
END_TEST

START_TEST(a_folder_of_the_user_is_never_replaced) {
  char *top = test_tmpdir();
  write_text(top, "thesis.tex", "precious\n");
  build_env e;
  build_env_init(&e);
  build_outdir od;
  ck_assert(!build_outdir_begin(e.ctx, &od, top));
  char want[512];
  snprintf(want, sizeof want,
           "error: output_dir '%s' exists and does not hold a previous "
           "qir-build output (no build.log); remove it or choose another "
           "output_dir\n", top);
  ck_assert_str_eq(build_env_diags(&e), want);
  free(od.final);
  char *file = build_path_join(top, "thesis.tex");
  ck_assert(!build_outdir_begin(e.ctx, &od, file));
  ck_assert_ptr_nonnull(strstr(build_env_diags(&e), "exists and is not a "
                                                    "folder\n"));
  free(od.final);
  free(file);
  build_env_done(&e);
  remove_test_dir(top);
  free(top);
}
END_TEST

START_TEST(paths) {
  char *p = build_path_join("/a/b", "c");
  ck_assert_str_eq(p, "/a/b/c");
  free(p);
  p = build_path_join("/a/b/", "/abs");
  ck_assert_str_eq(p, "/abs");
  free(p);
  p = build_path_join("/a/b/", "../../../c/./d/");
  ck_assert_str_eq(p, "/c/d");
  free(p);
  p = build_path_join("/a/b", "..");
  ck_assert_str_eq(p, "/a");
  free(p);
  p = build_path_join("/a", "./..");
  ck_assert_str_eq(p, "/");
  free(p);
  p = build_path_join("rel", "x");
  ck_assert_str_eq(p, "rel/x");
  free(p);
  p = build_abs_dir_of("/x.json");
  ck_assert_str_eq(p, "/");
  free(p);
  p = build_abs_dir_of("/p/q/x.json");
  ck_assert_str_eq(p, "/p/q");
  free(p);
  char *cwd = getcwd(NULL, 0);
  p = build_abs_dir_of("x.json");
  ck_assert_str_eq(p, cwd);
  free(p);
  free(cwd);
}
END_TEST

Suite *build_outdir_suite(void) {
  Suite *s = suite_create("build_outdir");
  TCase *tc = tcase_create("outdir");
  tcase_add_test(tc, commit_replaces_a_previous_build);
  tcase_add_test(tc, abort_keeps_the_old_outputs);
  tcase_add_test(tc, a_new_output_dir_and_trailing_slashes);
  tcase_add_test(tc, a_folder_of_the_user_is_never_replaced);
  tcase_add_test(tc, paths);
  suite_add_tcase(s, tc);
  return s;
}
