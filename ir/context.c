/* ir/context.c - the context (stub). */
#include "ir/internal.h"
#include <stdlib.h>

qir_context * qir_context_create(void) { return NULL; }
void qir_context_destroy(qir_context *ctx) {  }
const char * qir_intern(qir_context *ctx, const char *s, size_t len) { return NULL; }
const char * qir_intern_cstr(qir_context *ctx, const char *s) { return NULL; }
void * qir_arena_alloc(qir_context *ctx, size_t size) { return NULL; }
void * qir_arena_dup(qir_context *ctx, const void *p, size_t size) { return NULL; }
void qir_context_add_cleanup(qir_context *ctx, void (*fn)(void *arg), void *arg) {  }
qir_loc qir_loc_make(qir_context *ctx, const char *file, unsigned line, unsigned col) { return qir_loc_unknown(); }
_Noreturn void qir_die_at(const char *file, int line, const char *fmt, ...) { abort(); }
void * qir_xmalloc(size_t n) { return NULL; }
void * qir_xcalloc(size_t n, size_t size) { return NULL; }
void * qir_xrealloc(void *p, size_t n) { return NULL; }
char * qir_xstrdup(const char *s) { return NULL; }
bool qir_register_op(qir_context *ctx, qir_op_def *def) { return false; }
const qir_op_def * qir_lookup_op(const qir_context *ctx, const char *name, size_t len) { return NULL; }
const qir_op_def * qir_builtin_op(const qir_context *ctx, unsigned id) { return NULL; }
void qir_foreach_op_def(const qir_context *ctx, void (*fn)(const qir_op_def *def, void *user), void *user) {  }
bool qir_register_pass(qir_context *ctx, const qir_pass_def *def) { return false; }
const qir_pass_def * qir_lookup_pass(const qir_context *ctx, const char *name) { return NULL; }
void qir_foreach_pass_def(const qir_context *ctx, void (*fn)(const qir_pass_def *d, void *user), void *user) {  }
