/* driver/stub.c - placeholder entry points of qir-build until the driver
 * lands; each reports that it is not available yet. */
#include <stdio.h>
#include <stdlib.h>

#include "qir/build.h"

qir_build_config *qir_build_config_parse(qir_context *ctx, const char *name,
                                         const char *text, size_t len) {
  (void)text;
  (void)len;
  qir_emit_error(ctx, qir_loc_make(ctx, name, 0, 0),
                 "build configurations are not supported yet");
  return NULL;
}

qir_build_config *qir_build_config_load(qir_context *ctx, const char *path) {
  return qir_build_config_parse(ctx, path, "", 0);
}

void qir_build_config_free(qir_build_config *c) { free(c); }

bool qir_build_config_override(qir_build_config *c, const char *assignment) {
  (void)c;
  (void)assignment;
  return false;
}

char *qir_build_config_to_json(const qir_build_config *c, size_t *len) {
  (void)c;
  *len = 0;
  return NULL;
}

const char *qir_build_config_get(const qir_build_config *c,
                                 const char *key_path) {
  (void)c;
  (void)key_path;
  return NULL;
}

void qir_build_options_init(qir_build_options *o) {
  o->quiet = false;
  o->no_progress = false;
}

bool qir_build_run(qir_context *ctx, const qir_build_config *c,
                   const qir_build_options *o) {
  (void)c;
  (void)o;
  qir_emit_error(ctx, qir_loc_unknown(), "qir-build is not available yet");
  return false;
}

int qir_build_main(int argc, char **argv) {
  (void)argc;
  (void)argv;
  fputs("qir-build: error: not available yet\n", stderr);
  return 1;
}
