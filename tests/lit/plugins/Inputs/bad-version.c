/* bad-version.c - a plugin that claims a future plugin API version. */
#include <qir/qir.h>

static void register_nothing(qir_context *ctx) { (void)ctx; }

static const qir_plugin_info info = {7, "bad-version", "1", register_nothing};

const qir_plugin_info *qir_plugin_get_info(void) { return &info; }
