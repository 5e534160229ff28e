/* ir/pass/manager.c - runs a pipeline over a module: function passes on
 * each function, module passes once, the verifier after each pass, IR dumps
 * before and after passes, timing and statistics reports. */
#include <string.h>
#include <time.h>

#include "ir/pass/pass.h"

void qir_pm_options_init(qir_pm_options *o) {
  memset(o, 0, sizeof *o);
  o->verify_each = true;
}

double qir_now_seconds(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

/* Is `name` an element of the comma-separated `list`? */
static bool in_comma_list(const char *list, const char *name) {
  if (!list)
    return false;
  size_t n = strlen(name);
  for (const char *p = list; *p;) {
    const char *end = strchr(p, ',');
    size_t len = end ? (size_t)(end - p) : strlen(p);
    while (len && p[0] == ' ') {
      p++;
      len--;
    }
    while (len && p[len - 1] == ' ')
      len--;
    if (len == n && memcmp(p, name, n) == 0)
      return true;
    if (!end)
      break;
    p = end + 1;
  }
  return false;
}

static void dump_module(const qir_pm_options *o, const char *when,
                        const char *pass_name, bool failed, qir_module *m) {
  FILE *out = o->print_out ? o->print_out : stderr;
  fprintf(out, "// -----// IR Dump %s %s%s //----- //\n", when, pass_name,
          failed ? " Failed" : "");
  qir_print_options popts;
  qir_print_options_init(&popts);
  qir_print_module(out, m, o->print_opts ? o->print_opts : &popts);
  fputc('\n', out);
  fflush(out);
}

static bool run_pass_once(qir_pass *p, qir_module *m) {
  if (!p->def->run)
    qir_die("pass '%s' has no run function", p->def->name);
  if (p->def->unit == QIR_PASS_ON_MODULE)
    return p->def->run(p, m);
  qir_func *f = m->first;
  while (f) {
    /* A function pass may erase its own function; take next first. */
    qir_func *next = f->next;
    if (!p->def->run(p, f))
      return false;
    f = next;
  }
  return true;
}

/* Runs p; when it fails without saying why, says so. */
static bool run_pass(qir_pass *p, qir_module *m) {
  qir_context *ctx = m->ctx;
  unsigned errors = qir_diag_error_count(ctx);
  if (run_pass_once(p, m))
    return true;
  if (qir_diag_error_count(ctx) == errors)
    qir_emit_error(ctx, qir_loc_unknown(), "pass '%s' failed", p->def->name);
  return false;
}

/* ---- Verification with the verifier's messages after ours ------------- */

typedef struct held_diag {
  qir_severity severity;
  qir_loc loc;
  char *message;
} held_diag;

typedef struct diag_hold {
  held_diag *diags;
  unsigned n, cap;
} diag_hold;

static void hold_diag(qir_context *ctx, const qir_diag *d, void *user) {
  (void)ctx;
  diag_hold *h = user;
  if (h->n == h->cap) {
    h->cap = h->cap ? 2 * h->cap : 8;
    h->diags = qir_xrealloc(h->diags, h->cap * sizeof *h->diags);
  }
  h->diags[h->n].severity = d->severity;
  h->diags[h->n].loc = d->loc;
  h->diags[h->n].message = qir_xstrdup(d->message ? d->message : "");
  h->n++;
}

static bool verify_after(qir_pass *p, qir_module *m) {
  qir_context *ctx = m->ctx;
  diag_hold hold = {NULL, 0, 0};
  qir_diag_handler old_h;
  void *old_user;
  qir_diag_set_handler(ctx, hold_diag, &hold, &old_h, &old_user);
  bool ok = qir_verify_module(m);
  qir_diag_set_handler(ctx, old_h, old_user, NULL, NULL);
  if (!ok)
    qir_emit_error(ctx, qir_loc_unknown(),
                   "verification failed after pass '%s'", p->def->name);
  for (unsigned i = 0; i < hold.n; i++) {
    qir_emit(ctx, hold.diags[i].severity, hold.diags[i].loc, "%s",
             hold.diags[i].message);
    free(hold.diags[i].message);
  }
  free(hold.diags);
  return ok;
}

/* ---- Reports ----------------------------------------------------------- */

static void report_rule(FILE *out) {
  fputs("===-------------------------------------------------------------"
        "------------===\n",
        out);
}

static void report_header(FILE *out, const char *title) {
  report_rule(out);
  size_t pad = (79 - strlen(title)) / 2;
  fprintf(out, "%*s%s\n", (int)pad, "", title);
  report_rule(out);
}

static void timing_row(FILE *out, double secs, double total,
                       const char *name) {
  double pct = total > 0 ? 100.0 * secs / total : 0.0;
  fprintf(out, "  %8.4f (%5.1f%%)  %s\n", secs, pct, name);
}

/* Rows: `before` (e.g. parsing), each pass, the verifier, `after` (e.g.
 * printing); percentages of the sum of all of them. */
void qir_pipeline_report_times(const qir_pipeline *pl,
                               const qir_time_row *before, unsigned nb,
                               const qir_time_row *after, unsigned na,
                               FILE *out) {
  double total = 0;
  for (unsigned i = 0; i < nb; i++)
    total += before[i].seconds;
  for (unsigned i = 0; pl && i < pl->num_passes; i++)
    total += pl->passes[i]->seconds;
  if (pl && pl->verified)
    total += pl->verify_seconds;
  for (unsigned i = 0; i < na; i++)
    total += after[i].seconds;
  report_header(out, "... Pass execution timing report ...");
  fprintf(out, "  Total Execution Time: %.4f seconds\n\n", total);
  fputs("   ---Wall Time---  --- Name ---\n", out);
  for (unsigned i = 0; i < nb; i++)
    timing_row(out, before[i].seconds, total, before[i].name);
  for (unsigned i = 0; pl && i < pl->num_passes; i++)
    timing_row(out, pl->passes[i]->seconds, total, pl->passes[i]->def->name);
  if (pl && pl->verified)
    timing_row(out, pl->verify_seconds, total, "(verifier)");
  for (unsigned i = 0; i < na; i++)
    timing_row(out, after[i].seconds, total, after[i].name);
  timing_row(out, total, total, "Total");
  fflush(out);
}

static void report_stats(qir_pipeline *pl) {
  FILE *out = stderr;
  report_header(out, "... Pass statistics report ...");
  for (unsigned i = 0; i < pl->num_passes; i++) {
    qir_pass *p = pl->passes[i];
    fprintf(out, "%s\n", p->def->name);
    if (p->num_stats == 0)
      fputs("  (no statistics)\n", out);
    for (unsigned j = 0; j < p->num_stats; j++)
      fprintf(out, "  (S) %ld %s\n", p->stats[j].value, p->stats[j].name);
  }
  fflush(out);
}

/* ---- The pipeline ------------------------------------------------------ */

bool qir_pipeline_run(qir_pipeline *pl, qir_module *m,
                      const qir_pm_options *o) {
  qir_pm_options defaults;
  if (!o) {
    qir_pm_options_init(&defaults);
    o = &defaults;
  }
  bool ok = true;
  pl->verify_seconds = 0;
  pl->verified = o->verify_each;
  for (unsigned i = 0; i < pl->num_passes; i++) {
    pl->passes[i]->seconds = 0;
    pl->passes[i]->num_stats = 0;
  }
  for (unsigned i = 0; i < pl->num_passes && ok; i++) {
    qir_pass *p = pl->passes[i];
    const char *name = p->def->name;
    if (in_comma_list(o->print_before, name))
      dump_module(o, "Before", name, false, m);
    double t0 = qir_now_seconds();
    ok = run_pass(p, m);
    p->seconds += qir_now_seconds() - t0;
    if (o->print_after_all || in_comma_list(o->print_after, name))
      dump_module(o, "After", name, !ok, m);
    if (!ok)
      break;
    if (o->verify_each) {
      double v0 = qir_now_seconds();
      ok = verify_after(p, m);
      pl->verify_seconds += qir_now_seconds() - v0;
    }
    if (ok && pl->after_pass)
      ok = pl->after_pass(p, m, pl->after_pass_user);
  }
  if (o->time_passes)
    qir_pipeline_report_times(pl, NULL, 0, NULL, 0, stderr);
  if (o->pass_stats)
    report_stats(pl);
  return ok;
}
