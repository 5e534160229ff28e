/* frontends/data/progress.c - progress reporter (qir/progress.h).
 *
 * On a terminal: one line redrawn in place (at most ten times a second)
 *   calibrate [############..................]  40/100  40%  12.5/s  ETA 0:04
 * Otherwise (logs, CI): a line at the start, at each 10% step and at the
 * end, so a log shows progress without a flood of lines:
 *   calibrate: 0/100
 *   calibrate: 10/100 (10%)
 *   calibrate: 100/100 (100%) in 8.0 s
 * Updates may come from several threads. */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "qir/context.h"
#include "qir/progress.h"

enum { BAR_WIDTH = 30 };

struct qir_progress {
  pthread_mutex_t mu;
  FILE *out;
  char *label;
  size_t total, done;
  bool tty;
  double start, last_draw;
  unsigned last_step; /* tenths reported so far (logs) */
};

static double now_seconds(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

/* "m:ss" or "h:mm:ss". */
static void format_duration(double s, char *buf, size_t size) {
  unsigned long t = s > 0 && s < 1e9 ? (unsigned long)(s + 0.5) : 0;
  if (t >= 3600)
    snprintf(buf, size, "%lu:%02lu:%02lu", t / 3600, t / 60 % 60, t % 60);
  else
    snprintf(buf, size, "%lu:%02lu", t / 60, t % 60);
}

static void draw_bar(qir_progress *p, double t) {
  double elapsed = t - p->start;
  double rate = elapsed > 0 ? (double)p->done / elapsed : 0;
  if (!p->total) {
    fprintf(p->out, "\r%s %zu done  %.1f/s\033[K", p->label, p->done, rate);
    fflush(p->out);
    return;
  }
  size_t done = p->done < p->total ? p->done : p->total;
  char bar[BAR_WIDTH + 1];
  size_t fill = done * BAR_WIDTH / p->total;
  memset(bar, '#', fill);
  memset(bar + fill, '.', BAR_WIDTH - fill);
  bar[BAR_WIDTH] = 0;
  char eta[32] = "?";
  if (rate > 0)
    format_duration((double)(p->total - done) / rate, eta, sizeof eta);
  fprintf(p->out, "\r%s [%s] %zu/%zu %3u%%  %.1f/s  ETA %s\033[K", p->label,
          bar, done, p->total, (unsigned)(done * 100 / p->total), rate, eta);
  fflush(p->out);
}

/* Logs: one line for each 10% step crossed since the last line. */
static void log_steps(qir_progress *p) {
  if (!p->total)
    return;
  size_t done = p->done < p->total ? p->done : p->total;
  unsigned step = (unsigned)(done * 10 / p->total);
  if (step <= p->last_step || step == 10)
    return; /* 100% is the end line */
  p->last_step = step;
  fprintf(p->out, "%s: %zu/%zu (%u%%)\n", p->label, done, p->total,
          (unsigned)(done * 100 / p->total));
  fflush(p->out);
}

qir_progress *qir_progress_start(FILE *out, const char *label, size_t total) {
  qir_progress *p = qir_xcalloc(1, sizeof *p);
  pthread_mutex_init(&p->mu, NULL);
  p->out = out;
  p->label = qir_xstrdup(label ? label : "progress");
  p->total = total;
  p->tty = isatty(fileno(out));
  p->start = p->last_draw = now_seconds();
  if (p->tty)
    draw_bar(p, p->start);
  else if (total)
    fprintf(out, "%s: 0/%zu\n", p->label, total);
  else
    fprintf(out, "%s: started\n", p->label);
  fflush(out);
  return p;
}

void qir_progress_update(qir_progress *p, size_t done) {
  if (!p)
    return;
  pthread_mutex_lock(&p->mu);
  p->done = done;
  if (p->tty) {
    double t = now_seconds();
    if (t - p->last_draw >= 0.1 || (p->total && done >= p->total)) {
      p->last_draw = t;
      draw_bar(p, t);
    }
  } else {
    log_steps(p);
  }
  pthread_mutex_unlock(&p->mu);
}

static void log_end(qir_progress *p, double elapsed) {
  if (!p->total)
    fprintf(p->out, "%s: %zu done in %.1f s\n", p->label, p->done, elapsed);
  else if (p->done >= p->total)
    fprintf(p->out, "%s: %zu/%zu (100%%) in %.1f s\n", p->label, p->total,
            p->total, elapsed);
  else
    fprintf(p->out, "%s: stopped at %zu/%zu (%u%%) after %.1f s\n", p->label,
            p->done, p->total, (unsigned)(p->done * 100 / p->total), elapsed);
}

void qir_progress_finish(qir_progress *p) {
  if (!p)
    return;
  double t = now_seconds();
  if (p->tty) {
    draw_bar(p, t);
    fputc('\n', p->out);
  } else {
    log_end(p, t - p->start);
  }
  fflush(p->out);
  pthread_mutex_destroy(&p->mu);
  free(p->label);
  free(p);
}
