/* passes/registry.c - registers the passes of passes.def. */
#include "passes/passes.h"

/* One option array per pass.  Each starts with a sentinel element so that a
 * pass without options still has a well-formed (non-empty) array; the
 * definitions point past it. */
#define QIR_OPT(name, type, dflt, help) {name, type, dflt, help}
#define QIR_PASS(ID, name, unit, summary, ...)                                \
  static const qir_pass_option_def options_##ID[] = {                         \
      {NULL, QIR_OPT_BOOL, NULL, NULL}, __VA_ARGS__};
#include "passes/passes.def"
#undef QIR_PASS
#undef QIR_OPT

#define QIR_PASS(ID, name, unit, summary, ...)                                \
  {name,                                                                      \
   summary,                                                                   \
   unit,                                                                      \
   (unsigned)(sizeof options_##ID / sizeof options_##ID[0] - 1),              \
   options_##ID + 1,                                                          \
   qir_pass_run_##ID},
static const qir_pass_def builtin_passes[] = {
#include "passes/passes.def"
};
#undef QIR_PASS

void qir_register_builtin_passes(qir_context *ctx) {
  for (size_t i = 0; i < sizeof builtin_passes / sizeof builtin_passes[0]; i++)
    if (!qir_register_pass(ctx, &builtin_passes[i]))
      qir_die("built-in pass '%s' registered twice", builtin_passes[i].name);
}
