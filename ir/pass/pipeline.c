/* ir/pass/pipeline.c - pass instances, options and pipeline strings. */
#include <string.h>

#include "ir/pass/pass.h"

qir_pass *qir_pass_create(qir_context *ctx, const qir_pass_def *def) {
  qir_pass *p = qir_xcalloc(1, sizeof *p);
  p->ctx = ctx;
  p->def = def;
  p->values = qir_xcalloc(def->num_options + 1, sizeof *p->values);
  return p;
}

void qir_pass_destroy(qir_pass *p) {
  if (!p)
    return;
  free(p->values);
  free(p->stats);
  free(p);
}

bool qir_opt_value_parse(qir_context *ctx, qir_opt_type type, const char *text,
                         size_t len, qir_opt_value *out) {
  (void)ctx; (void)type; (void)text; (void)len; (void)out;
  return false;
}

qir_context *qir_pass_context(const qir_pass *p) { return p->ctx; }
const qir_pass_def *qir_pass_get_def(const qir_pass *p) { return p->def; }
bool qir_pass_opt_bool(const qir_pass *p, const char *name) { (void)p; (void)name; return false; }
int64_t qir_pass_opt_int(const qir_pass *p, const char *name) { (void)p; (void)name; return 0; }
double qir_pass_opt_float(const qir_pass *p, const char *name) { (void)p; (void)name; return 0; }
const char *qir_pass_opt_string(const qir_pass *p, const char *name) { (void)p; (void)name; return ""; }
void qir_pass_stat(qir_pass *p, const char *name, long delta) { (void)p; (void)name; (void)delta; }

qir_pipeline *qir_pipeline_parse(qir_context *ctx, const char *text) {
  (void)text;
  qir_pipeline *pl = qir_xcalloc(1, sizeof *pl);
  pl->ctx = ctx;
  return pl;
}

void qir_pipeline_destroy(qir_pipeline *pl) {
  if (!pl)
    return;
  for (unsigned i = 0; i < pl->num_passes; i++)
    qir_pass_destroy(pl->passes[i]);
  free(pl->passes);
  free(pl);
}

unsigned qir_pipeline_size(const qir_pipeline *pl) { return pl->num_passes; }

bool qir_pipeline_add(qir_pipeline *pl, const char *pass_name) {
  (void)pl; (void)pass_name;
  return false;
}
