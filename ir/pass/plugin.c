/* ir/pass/plugin.c - loading pass plugins. */
#include "ir/pass/pass.h"

bool qir_load_plugin(qir_context *ctx, const char *path) {
  qir_emit_error(ctx, qir_loc_unknown(), "cannot load plugin '%s'", path);
  return false;
}
