/* frontends/data/progress.c - progress reporter (qir/progress.h). */
#include <stdlib.h>

#include "qir/progress.h"

struct qir_progress {
  FILE *out;
  size_t total;
};

qir_progress *qir_progress_start(FILE *out, const char *label, size_t total) {
  (void)label;
  qir_progress *p = calloc(1, sizeof *p);
  if (p) {
    p->out = out;
    p->total = total;
  }
  return p;
}

void qir_progress_update(qir_progress *p, size_t done) {
  (void)p, (void)done;
}

void qir_progress_finish(qir_progress *p) { free(p); }
