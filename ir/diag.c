/* ir/diag.c - diagnostics (stub). */
#include "ir/internal.h"
#include <stdlib.h>

void qir_diag_set_handler(qir_context *ctx, qir_diag_handler h, void *user, qir_diag_handler *old_h, void **old_user) {  }
void qir_diag_default_handler(qir_context *ctx, const qir_diag *d, void *user) {  }
void qir_diag_print(qir_context *ctx, const qir_diag *d, FILE *out) {  }
void qir_emit(qir_context *ctx, qir_severity sev, qir_loc loc, const char *fmt, ...) {  }
void qir_emitv(qir_context *ctx, qir_severity sev, qir_loc loc, const char *fmt, va_list ap) {  }
void qir_emit_error(qir_context *ctx, qir_loc loc, const char *fmt, ...) {  }
void qir_emit_warning(qir_context *ctx, qir_loc loc, const char *fmt, ...) {  }
void qir_emit_note(qir_context *ctx, qir_loc loc, const char *fmt, ...) {  }
void qir_emit_remark(qir_context *ctx, qir_loc loc, const char *fmt, ...) {  }
unsigned qir_diag_error_count(const qir_context *ctx) { return 0; }
void qir_diag_reset_error_count(qir_context *ctx) {  }
void qir_diag_register_source(qir_context *ctx, const char *file, const char *buf, size_t len) {  }
const char * qir_diag_source_line(qir_context *ctx, const char *file, unsigned line, size_t *len) { return NULL; }
void qir_debug_enable(qir_context *ctx, const char *channel) {  }
bool qir_debug_enabled(const qir_context *ctx, const char *channel) { return false; }
void qir_debug_printf(const char *channel, const char *fmt, ...) {  }
