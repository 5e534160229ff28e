/* tests/unit/build_main.c - the qir-build unit tests' runner and helpers. */
#include <string.h>

#include "build_test.h"

static void collect(qir_context *ctx, const qir_diag *d, void *user) {
  build_env *e = user;
  char *buf = NULL;
  size_t len = 0;
  FILE *fp = open_memstream(&buf, &len);
  qir_diag_print(ctx, d, fp);
  fclose(fp);
  char *nl = strchr(buf, '\n');
  fprintf(e->fp, "%.*s\n", (int)(nl ? nl - buf : (long)len), buf);
  free(buf);
}

void build_env_init(build_env *e) {
  e->ctx = qir_context_create();
  e->diags = NULL;
  e->len = 0;
  e->fp = open_memstream(&e->diags, &e->len);
  qir_diag_set_handler(e->ctx, collect, e, NULL, NULL);
}

const char *build_env_diags(build_env *e) {
  fflush(e->fp);
  return e->diags;
}

void build_env_done(build_env *e) {
  fclose(e->fp);
  free(e->diags);
  qir_context_destroy(e->ctx);
}

qir_build_config *parse(build_env *e, const char *name, const char *text) {
  return qir_build_config_parse(e->ctx, name, text, strlen(text));
}

char *to_json(const qir_build_config *c) {
  size_t len;
  return qir_build_config_to_json(c, &len);
}

QIR_UNIT_MAIN(build_config_suite, build_override_suite, build_outdir_suite,
              build_run_suite, build_preprocess_suite)
