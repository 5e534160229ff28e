/* tests/unit/core_output.c - safe output files and qir_read_file. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core_test.h"

static char dir[64];

static void make_dir(void) {
  strcpy(dir, "/tmp/qir-core-out-XXXXXX");
  ck_assert_ptr_nonnull(mkdtemp(dir));
}

/* Number of entries in the test folder (besides . and ..). */
static int count_files(void) {
  DIR *d = opendir(dir);
  int n = 0;
  for (struct dirent *e; (e = readdir(d));)
    n += e->d_name[0] != '.';
  closedir(d);
  return n;
}

static void remove_dir(void) {
  DIR *d = opendir(dir);
  char path[512];
  for (struct dirent *e; (e = readdir(d));) {
    if (e->d_name[0] == '.')
      continue;
    snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
    unlink(path);
  }
  closedir(d);
  rmdir(dir);
}

static char *slurp(const char *path) {
  qir_context *ctx = qir_context_create();
  size_t len;
  char *s = qir_read_file(ctx, path, &len);
  qir_context_destroy(ctx);
  return s;
}

static void write_file(const char *path, const char *text) {
  FILE *fp = fopen(path, "w");
  fputs(text, fp);
  fclose(fp);
}

START_TEST(output_commit_replaces_destination) {
  make_dir();
  qir_context *ctx = qir_context_create();
  char path[128];
  snprintf(path, sizeof path, "%s/out.qir", dir);
  write_file(path, "old\n");
  qir_output o;
  ck_assert(qir_output_open(ctx, &o, path, false));
  ck_assert_ptr_nonnull(o.tmp_path);
  ck_assert(strncmp(o.tmp_path, path, strlen(path)) == 0);
  ck_assert(strncmp(o.tmp_path + strlen(path), ".tmp.", 5) == 0);
  fputs("new\n", o.fp);
  fflush(o.fp);
  /* Until commit, the destination is untouched. */
  char *s = slurp(path);
  ck_assert_str_eq(s, "old\n");
  free(s);
  ck_assert_int_eq(count_files(), 2);
  ck_assert(qir_output_commit(ctx, &o));
  ck_assert_ptr_null(o.fp);
  s = slurp(path);
  ck_assert_str_eq(s, "new\n");
  free(s);
  ck_assert_int_eq(count_files(), 1);
  /* The file gets normal permissions, not mkstemp's 0600. */
  struct stat st;
  ck_assert_int_eq(stat(path, &st), 0);
  mode_t mask = umask(0);
  umask(mask);
  ck_assert_uint_eq(st.st_mode & 0777, 0666 & ~mask);
  qir_context_destroy(ctx);
  remove_dir();
}
END_TEST

START_TEST(output_abort_leaves_nothing) {
  make_dir();
  qir_context *ctx = qir_context_create();
  char path[128], old[128];
  snprintf(path, sizeof path, "%s/new.qir", dir);
  qir_output o;
  ck_assert(qir_output_open(ctx, &o, path, true));
  fputs("partial", o.fp);
  qir_output_abort(&o);
  ck_assert_int_eq(count_files(), 0);
  ck_assert_int_eq(access(path, F_OK), -1);
  /* Abort over an existing file keeps it as it was. */
  snprintf(old, sizeof old, "%s/keep.qir", dir);
  write_file(old, "keep\n");
  ck_assert(qir_output_open(ctx, &o, old, false));
  fputs("garbage", o.fp);
  qir_output_abort(&o);
  char *s = slurp(old);
  ck_assert_str_eq(s, "keep\n");
  free(s);
  ck_assert_int_eq(count_files(), 1);
  qir_context_destroy(ctx);
  remove_dir();
}
END_TEST

START_TEST(output_open_error) {
  qir_context *ctx = qir_context_create();
  diag_capture c;
  capture_begin(&c, ctx);
  qir_output o;
  ck_assert(!qir_output_open(ctx, &o, "/nonexistent-dir/x.qir", false));
  ck_assert_ptr_null(o.fp);
  ck_assert_str_eq(capture_text(&c), "error: cannot open "
                                     "'/nonexistent-dir/x.qir': No such file "
                                     "or directory\n");
  capture_end(&c);
  qir_context_destroy(ctx);
}
END_TEST

START_TEST(output_stdout) {
  qir_context *ctx = qir_context_create();
  qir_output o;
  ck_assert(qir_output_open(ctx, &o, "-", false));
  ck_assert_ptr_eq(o.fp, stdout);
  ck_assert_ptr_null(o.path);
  ck_assert(qir_output_commit(ctx, &o));
  qir_context_destroy(ctx);
}
END_TEST

START_TEST(output_to_fifo_writes_in_place) {
  /* A device or FIFO is written in place, never replaced by a renamed
   * temporary (think of -o /dev/null run as root). */
  make_dir();
  qir_context *ctx = qir_context_create();
  char path[128];
  snprintf(path, sizeof path, "%s/pipe", dir);
  ck_assert_int_eq(mkfifo(path, 0600), 0);
  int rd = open(path, O_RDONLY | O_NONBLOCK);
  ck_assert_int_ge(rd, 0);
  qir_output o;
  ck_assert(qir_output_open(ctx, &o, path, false));
  ck_assert_ptr_null(o.tmp_path);
  fputs("through", o.fp);
  ck_assert(qir_output_commit(ctx, &o));
  char buf[16] = "";
  ck_assert_int_eq(read(rd, buf, sizeof buf - 1), 7);
  ck_assert_str_eq(buf, "through");
  close(rd);
  struct stat st;
  ck_assert_int_eq(stat(path, &st), 0);
  ck_assert(S_ISFIFO(st.st_mode));
  ck_assert_int_eq(count_files(), 1);
  qir_context_destroy(ctx);
  remove_dir();
}
END_TEST

START_TEST(read_file_contents_and_errors) {
  make_dir();
  qir_context *ctx = qir_context_create();
  char path[128];
  snprintf(path, sizeof path, "%s/in.qir", dir);
  /* Bigger than the first read buffer, with a NUL inside. */
  size_t n = 200000;
  char *data = malloc(n);
  for (size_t i = 0; i < n; i++)
    data[i] = (char)('a' + i % 26);
  data[5] = '\0';
  FILE *fp = fopen(path, "wb");
  fwrite(data, 1, n, fp);
  fclose(fp);
  size_t len = 0;
  char *s = qir_read_file(ctx, path, &len);
  ck_assert_ptr_nonnull(s);
  ck_assert_uint_eq(len, n);
  ck_assert(memcmp(s, data, n) == 0);
  ck_assert_int_eq(s[n], '\0');
  free(s);
  free(data);
  diag_capture c;
  capture_begin(&c, ctx);
  ck_assert_ptr_null(qir_read_file(ctx, "/nonexistent/in.qir", &len));
  ck_assert_ptr_null(qir_read_file(ctx, dir, &len));
  char want[256];
  snprintf(want, sizeof want,
           "error: cannot open '/nonexistent/in.qir': No such file or "
           "directory\nerror: cannot read '%s': Is a directory\n",
           dir);
  ck_assert_str_eq(capture_text(&c), want);
  capture_end(&c);
  qir_context_destroy(ctx);
  remove_dir();
}
END_TEST

Suite *core_output_suite(void) {
  Suite *s = suite_create("core_output");
  TCase *tc = tcase_create("output");
  tcase_set_timeout(tc, 60); /* slow under sanitizers on a busy machine */
  tcase_add_test(tc, output_commit_replaces_destination);
  tcase_add_test(tc, output_abort_leaves_nothing);
  tcase_add_test(tc, output_open_error);
  tcase_add_test(tc, output_stdout);
  tcase_add_test(tc, output_to_fifo_writes_in_place);
  tcase_add_test(tc, read_file_contents_and_errors);
  suite_add_tcase(s, tc);
  return s;
}
