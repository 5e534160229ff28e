/* null-info.c - a plugin whose entry point returns no information. */
#include <qir/qir.h>

const qir_plugin_info *qir_plugin_get_info(void) { return NULL; }
