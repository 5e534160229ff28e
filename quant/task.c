/* quant/task.c - task views of precision-analysis (`task=`): what a
 * model's user sees of an output, compared between the float and the
 * quantized model, beside the cosine.
 *
 *   OUTPUT:argmax     the class chosen along the last axis (a classifier)
 *   OUTPUT:iou:T      the mask x > T, as intersection over union (a
 *                     segmentation or text map binarized at T)
 *   OUTPUT:topk:K     the K largest elements, as the share of the float
 *                     model's K also among the quantized model's (the top
 *                     detections of a detector's scores)
 *
 * OUTPUT is the output's index or name; several views are separated by
 * ';'.  Each view keeps a pooled figure (over all samples together) and
 * every sample's. */
#include <ctype.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "quant/quant.h"

static const char *const kind_names[] = {"argmax", "iou", "topk"};

const char *qq_task_kind_name(qq_task_kind k) { return kind_names[k]; }

/* The index of output `s` (a number or a name) of f, or -1. */
static int output_index(const qir_func *f, const char *s, size_t len) {
  const qir_op *ret = qir_block_terminator(&f->body);
  unsigned n = ret ? ret->num_operands : 0;
  char *end;
  long i = strtol(s, &end, 10);
  if (len && isdigit((unsigned char)*s) && end == s + len)
    return i >= 0 && (unsigned long)i < n ? (int)i : -1;
  for (unsigned j = 0; j < n; j++) {
    const char *name = ret->operands[j].value->name;
    if (name && strlen(name) == len && !strncmp(name, s, len))
      return (int)j;
  }
  return -1;
}

static bool parse_param(const char *p, qq_task *t) {
  char *end;
  if (t->kind == QQ_TASK_ARGMAX)
    return !*p;
  if (!*p)
    return false;
  if (t->kind == QQ_TASK_TOPK) {
    long k = strtol(p, &end, 10);
    t->param = (double)k;
    return !*end && k > 0 && k <= 1000000;
  }
  t->param = strtod(p, &end);
  return !*end && t->param == t->param;
}

/* One `OUTPUT:KIND[:PARAM]` of `spec` (len bytes). */
static bool parse_one(qir_func *f, const char *spec, size_t len, qq_task *t) {
  qir_context *ctx = f->module->ctx;
  char *s = qir_xmalloc(len + 1);
  memcpy(s, spec, len);
  s[len] = 0;
  char *kind = strchr(s, ':');
  bool ok = kind != NULL;
  if (!ok)
    qir_emit_error(ctx, f->loc, "precision-analysis: task '%s' is not "
                   "OUTPUT:argmax, OUTPUT:iou:THRESHOLD or OUTPUT:topk:K", s);
  int o = ok ? output_index(f, s, (size_t)(kind - s)) : 0;
  if (ok && o < 0) {
    *kind = 0;
    qir_emit_error(ctx, f->loc, "precision-analysis: task: @%s has no output "
                   "'%s'", f->name, s);
    ok = false;
  }
  char *param = ok ? strchr(++kind, ':') : NULL;
  if (param)
    *param++ = 0;
  unsigned k = 0;
  while (ok && k < 3 && strcmp(kind, kind_names[k]))
    k++;
  if (ok && k == 3) {
    qir_emit_error(ctx, f->loc, "precision-analysis: unknown task '%s' "
                   "(expected argmax, iou or topk)", kind);
    ok = false;
  }
  if (ok) {
    memset(t, 0, sizeof *t);
    t->output = (unsigned)o;
    t->kind = (qq_task_kind)k;
    if (!parse_param(param ? param : "", t)) {
      qir_emit_error(ctx, f->loc, "precision-analysis: task '%s': %s", kind,
                     t->kind == QQ_TASK_ARGMAX ? "takes no parameter"
                     : t->kind == QQ_TASK_IOU  ? "needs a threshold, e.g. iou:0.3"
                                               : "needs a count from 1 to 1000000, "
                                                 "e.g. topk:10");
      ok = false;
    }
  }
  free(s);
  return ok;
}

bool qq_tasks_parse(qir_func *f, const char *spec, qq_task **tasks,
                    unsigned *n) {
  *tasks = NULL;
  *n = 0;
  bool ok = true;
  for (const char *p = spec; ok && *p;) {
    size_t len = strcspn(p, ";");
    if (len) {
      *tasks = qir_xrealloc(*tasks, (*n + 1) * sizeof **tasks);
      ok = parse_one(f, p, len, &(*tasks)[*n]);
      *n += ok;
    }
    p += len + (p[len] == ';');
  }
  if (!ok) {
    qq_tasks_free(*tasks, *n);
    *tasks = NULL;
    *n = 0;
  }
  return ok;
}

void qq_tasks_free(qq_task *tasks, unsigned n) {
  for (unsigned i = 0; i < n; i++)
    free(tasks[i].per_sample);
  free(tasks);
}

void qq_tasks_reset(qq_task *tasks, unsigned n) {
  for (unsigned i = 0; i < n; i++) {
    free(tasks[i].per_sample);
    tasks[i].per_sample = NULL;
    tasks[i].nsamples = 0;
    tasks[i].hits = tasks[i].total = 0;
  }
}

/* Rows along the last axis whose argmax agree. */
static void count_argmax(const float *ref, const float *x, int64_t n,
                         int64_t classes, double *hits, double *total) {
  for (int64_t r = 0; classes > 0 && r + classes <= n; r += classes) {
    int64_t a = 0, b = 0;
    for (int64_t c = 1; c < classes; c++) {
      a = ref[r + c] > ref[r + a] ? c : a;
      b = x[r + c] > x[r + b] ? c : b;
    }
    *hits += a == b;
    *total += 1;
  }
}

static void count_iou(const float *ref, const float *x, int64_t n, double t,
                      double *inter, double *uni) {
  for (int64_t i = 0; i < n; i++) {
    bool a = ref[i] > t, b = x[i] > t;
    *inter += a && b;
    *uni += a || b;
  }
}

typedef struct ranked {
  float v;
  int64_t i;
} ranked;

static int cmp_ranked(const void *pa, const void *pb) {
  const ranked *a = pa, *b = pb;
  if (a->v != b->v)
    return a->v < b->v ? 1 : -1; /* largest first */
  return (a->i > b->i) - (a->i < b->i);
}

/* Marks the k largest elements of x in `in` (ties: the lower index). */
static void mark_top(const float *x, int64_t n, int64_t k, bool *in) {
  ranked *r = qir_xmalloc((size_t)n * sizeof *r);
  for (int64_t i = 0; i < n; i++)
    r[i] = (ranked){x[i] == x[i] ? x[i] : -INFINITY, i};
  qsort(r, (size_t)n, sizeof *r, cmp_ranked);
  for (int64_t i = 0; i < k; i++)
    in[r[i].i] = true;
  free(r);
}

static void count_topk(const float *ref, const float *x, int64_t n, int64_t k,
                       double *hits, double *total) {
  k = k < n ? k : n;
  bool *a = qir_xcalloc((size_t)n + 1, 1), *b = qir_xcalloc((size_t)n + 1, 1);
  mark_top(ref, n, k, a);
  mark_top(x, n, k, b);
  for (int64_t i = 0; i < n; i++)
    *hits += a[i] && b[i];
  *total += (double)k;
  free(a);
  free(b);
}

void qq_task_add(qq_task *t, const float *ref, const float *x, int64_t n,
                 int64_t last_dim) {
  double hits = 0, total = 0;
  switch (t->kind) {
  case QQ_TASK_ARGMAX:
    count_argmax(ref, x, n, last_dim, &hits, &total);
    break;
  case QQ_TASK_IOU:
    count_iou(ref, x, n, t->param, &hits, &total);
    break;
  case QQ_TASK_TOPK:
    count_topk(ref, x, n, (int64_t)t->param, &hits, &total);
    break;
  }
  t->hits += hits;
  t->total += total;
  t->per_sample = qir_xrealloc(t->per_sample,
                               (t->nsamples + 1) * sizeof *t->per_sample);
  t->per_sample[t->nsamples++] = total > 0 ? hits / total : 1.0;
}

double qq_task_pooled(const qq_task *t) {
  return t->total > 0 ? t->hits / t->total : 1.0;
}

double qq_task_worst(const qq_task *t) {
  double w = 1.0;
  for (size_t i = 0; i < t->nsamples; i++)
    w = t->per_sample[i] < w ? t->per_sample[i] : w;
  return w;
}

/* "argmax agreement", "IoU of x > 0.3", "top-10 overlap". */
void qq_task_describe(const qq_task *t, char *buf, size_t n) {
  switch (t->kind) {
  case QQ_TASK_ARGMAX:
    snprintf(buf, n, "argmax agreement");
    break;
  case QQ_TASK_IOU:
    snprintf(buf, n, "IoU of x > %g", t->param);
    break;
  case QQ_TASK_TOPK:
    snprintf(buf, n, "top-%lld overlap", (long long)t->param);
    break;
  }
}
