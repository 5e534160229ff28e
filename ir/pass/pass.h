/* ir/pass/pass.h - private structures of the pass manager. */
#ifndef QIR_IR_PASS_PASS_H
#define QIR_IR_PASS_PASS_H

#include <stdlib.h>

#include "qir/qir.h"

typedef union qir_opt_value {
  bool b;
  int64_t i;
  double f;
  const char *s; /* interned */
} qir_opt_value;

typedef struct qir_pass_statistic {
  const char *name; /* interned */
  long value;
} qir_pass_statistic;

struct qir_pass {
  qir_context *ctx;
  const qir_pass_def *def;
  qir_opt_value *values; /* one per option of def */
  qir_pass_statistic *stats;
  unsigned num_stats, cap_stats;
  double seconds; /* wall time of the last run */
};

/* Called after each pass (and its verification) of a pipeline run;
 * returning false stops the pipeline as a failing pass would (the hook has
 * reported why).  qir-opt's -check-each uses it. */
typedef bool (*qir_pass_hook)(qir_pass *p, qir_module *m, void *user);

struct qir_pipeline {
  qir_context *ctx;
  qir_pass **passes;
  unsigned num_passes, cap_passes;
  double verify_seconds; /* of the last run */
  bool verified;         /* the last run verified after each pass */
  qir_pass_hook after_pass; /* NULL: none */
  void *after_pass_user;
};

/* Monotonic wall clock, in seconds. */
double qir_now_seconds(void);

/* The -time-passes table, with extra rows before and after the passes (a
 * driver's parsing and printing); pl may be NULL. */
typedef struct qir_time_row {
  const char *name;
  double seconds;
} qir_time_row;
void qir_pipeline_report_times(const qir_pipeline *pl,
                               const qir_time_row *before, unsigned nb,
                               const qir_time_row *after, unsigned na,
                               FILE *out);

/* Index of option `name` (len bytes) of def, -1 when it has none. */
int qir_pass_find_option(const qir_pass_def *def, const char *name,
                         size_t len);
const char *qir_opt_type_name(qir_opt_type t); /* "int" */

/* "Did you mean" support: offer candidates, keep the closest one that is
 * close enough (Levenshtein distance within a third of the word). */
typedef struct qir_close_match {
  const char *word;
  size_t len;
  const char *best; /* NULL when nothing is close */
  size_t best_dist;
} qir_close_match;
size_t qir_edit_distance(const char *a, size_t la, const char *b, size_t lb);
void qir_close_match_init(qir_close_match *m, const char *word, size_t len);
void qir_close_match_offer(qir_close_match *m, const char *candidate);

/* Creates a pass with every option at its default. */
qir_pass *qir_pass_create(qir_context *ctx, const qir_pass_def *def);
void qir_pass_destroy(qir_pass *p);
/* Converts `text` to the option's type; false when it does not parse. */
bool qir_opt_value_parse(qir_context *ctx, qir_opt_type type,
                         const char *text, size_t len, qir_opt_value *out);

/* Prints the pipeline with every option value, in the form
 * qir_pipeline_parse reads back. */
void qir_pipeline_print(const qir_pipeline *pl, FILE *out);

/* -verify-diagnostics (ir/pass/verify-diags.c).  collect reads the
 * expected-* directives of a buffer (reporting malformed ones); begin
 * captures every diagnostic; finish stops capturing, reports what did not
 * match, frees the set and returns true when everything matched. */
typedef struct qir_expect_set qir_expect_set;
qir_expect_set *qir_expect_collect(qir_context *ctx, const char *file,
                                   const char *buf, size_t len,
                                   unsigned first_line);
void qir_expect_begin(qir_expect_set *s);
bool qir_expect_finish(qir_expect_set *s);

#endif
