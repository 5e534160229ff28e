/* tests/unit/data_progress.c - the progress reporter: log lines when the
 * output is not a terminal, a bar redrawn in place on a terminal. */
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "data_test.h"
#include "qir/progress.h"

/* The text written to a temporary file. */
static char *contents(FILE *f) {
  fflush(f);
  long n = ftell(f);
  rewind(f);
  char *s = calloc(1, (size_t)n + 1);
  ck_assert_uint_eq(fread(s, 1, (size_t)n, f), (size_t)n);
  return s;
}

START_TEST(t_log_lines_every_tenth) {
  FILE *f = tmpfile();
  qir_progress *p = qir_progress_start(f, "calibrate", 20);
  for (size_t i = 1; i <= 20; i++)
    qir_progress_update(p, i);
  qir_progress_finish(p);
  char *s = contents(f);
  const char *want =
      "calibrate: 0/20\n"
      "calibrate: 2/20 (10%)\ncalibrate: 4/20 (20%)\ncalibrate: 6/20 (30%)\n"
      "calibrate: 8/20 (40%)\ncalibrate: 10/20 (50%)\n"
      "calibrate: 12/20 (60%)\ncalibrate: 14/20 (70%)\n"
      "calibrate: 16/20 (80%)\ncalibrate: 18/20 (90%)\n"
      "calibrate: 20/20 (100%) in ";
  ck_assert_msg(!strncmp(s, want, strlen(want)), "got:\n%s", s);
  ck_assert(strstr(s, " s\n") && s[strlen(s) - 1] == '\n');
  free(s);
  fclose(f);
}
END_TEST

/* Big jumps give one line, not one per step skipped. */
START_TEST(t_log_jumps_and_stop) {
  FILE *f = tmpfile();
  qir_progress *p = qir_progress_start(f, "load", 1000);
  qir_progress_update(p, 1);
  qir_progress_update(p, 550);
  qir_progress_update(p, 560);
  qir_progress_finish(p);
  char *s = contents(f);
  ck_assert_msg(!strncmp(s, "load: 0/1000\nload: 550/1000 (55%)\nload: "
                            "stopped at 560/1000 (56%) after ",
                         60),
                "got:\n%s", s);
  free(s);
  fclose(f);
}
END_TEST

START_TEST(t_log_unknown_total) {
  FILE *f = tmpfile();
  qir_progress *p = qir_progress_start(f, "scan", 0);
  qir_progress_update(p, 7);
  qir_progress_finish(p);
  char *s = contents(f);
  ck_assert_msg(!strncmp(s, "scan: started\nscan: 7 done in ", 30), "got:\n%s",
                s);
  free(s);
  fclose(f);
}
END_TEST

static void *update_many(void *arg) {
  for (size_t i = 0; i < 1000; i++)
    qir_progress_update(arg, i);
  return NULL;
}

/* Updates from several threads (calibration workers) are safe. */
START_TEST(t_threads) {
  FILE *f = tmpfile();
  qir_progress *p = qir_progress_start(f, "x", 1000);
  pthread_t t[4];
  for (int i = 0; i < 4; i++)
    pthread_create(&t[i], NULL, update_many, p);
  for (int i = 0; i < 4; i++)
    pthread_join(t[i], NULL);
  qir_progress_update(p, 1000);
  qir_progress_finish(p);
  char *s = contents(f);
  ck_assert(strstr(s, "x: 1000/1000 (100%) in "));
  free(s);
  fclose(f);
}
END_TEST

/* On a terminal (a pseudo-terminal here) the bar is redrawn with \r. */
START_TEST(t_terminal_bar) {
  int master = posix_openpt(O_RDWR | O_NOCTTY);
  ck_assert_int_ge(master, 0);
  ck_assert_int_eq(grantpt(master), 0);
  ck_assert_int_eq(unlockpt(master), 0);
  int slave = open(ptsname(master), O_RDWR | O_NOCTTY);
  ck_assert_int_ge(slave, 0);
  FILE *out = fdopen(slave, "w");
  qir_progress *p = qir_progress_start(out, "calibrate", 4);
  qir_progress_update(p, 4);
  qir_progress_finish(p);
  fclose(out);
  char buf[4096];
  ssize_t n, total = 0;
  while (total < (ssize_t)sizeof buf - 1 &&
         (n = read(master, buf + total, sizeof buf - 1 - (size_t)total)) > 0) {
    total += n;
    if (memchr(buf, '\n', (size_t)total))
      break;
  }
  buf[total] = 0;
  close(master);
  ck_assert_msg(strstr(buf, "\rcalibrate [..............................] "
                            "0/4   0%"),
                "got: %s", buf);
  ck_assert_msg(strstr(buf, "\rcalibrate [##############################] "
                            "4/4 100%"),
                "got: %s", buf);
  ck_assert(strstr(buf, "\033[K"));
}
END_TEST

Suite *data_progress_suite(void) {
  Suite *s = suite_create("data_progress");
  TCase *tc = tcase_create("progress");
  tcase_add_test(tc, t_log_lines_every_tenth);
  tcase_add_test(tc, t_log_jumps_and_stop);
  tcase_add_test(tc, t_log_unknown_total);
  tcase_add_test(tc, t_threads);
  tcase_add_test(tc, t_terminal_bar);
  suite_add_tcase(s, tc);
  return s;
}
