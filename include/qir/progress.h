/* qir/progress.h - a progress reporter for long jobs (calibration,
 * qir-build): a bar redrawn in place on a terminal, plain log lines
 * otherwise. */
#ifndef QIR_PROGRESS_H
#define QIR_PROGRESS_H

#include <stddef.h>
#include <stdio.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct qir_progress qir_progress;

/* A bar redrawn in place when `out` is a terminal; otherwise a plain log
 * line at start, every 10% and at the end.  total 0: unknown total (a
 * counter). */
qir_progress *qir_progress_start(FILE *out, const char *label, size_t total);
void qir_progress_update(qir_progress *p, size_t done);
void qir_progress_finish(qir_progress *p);

#ifdef __cplusplus
}
#endif
#endif
