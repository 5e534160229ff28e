/* qir/context.h - the context, interned strings, locations, diagnostics.
 *
 * A qir_context owns everything that is shared and uniqued: types, attribute
 * storage, interned strings, the op registry, the pass registry and the
 * diagnostics engine.  Everything allocated from a context lives until the
 * context is destroyed.  A context is not thread-safe for mutation; reading
 * IR from several threads (the interpreter) is fine. */
#ifndef QIR_CONTEXT_H
#define QIR_CONTEXT_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#ifdef __cplusplus
extern "C" {
#endif

#if defined(__GNUC__)
#define QIR_PRINTF(f, a) __attribute__((format(printf, f, a)))
#else
#define QIR_PRINTF(f, a)
#endif

typedef struct qir_context qir_context;

qir_context *qir_context_create(void);
void qir_context_destroy(qir_context *ctx);

/* Interned strings: equal contents give the same pointer for the life of the
 * context.  The result is NUL-terminated. */
const char *qir_intern(qir_context *ctx, const char *s, size_t len);
const char *qir_intern_cstr(qir_context *ctx, const char *s);

/* Zeroed memory that lives as long as the context.  Never returns NULL
 * (out of memory is an internal error). */
void *qir_arena_alloc(qir_context *ctx, size_t size);
/* Copy of `size` bytes into the arena. */
void *qir_arena_dup(qir_context *ctx, const void *p, size_t size);

/* Runs fn(arg) when the context is destroyed, latest first (plugins use it
 * to dlclose their handles; analyses to free their caches). */
void qir_context_add_cleanup(qir_context *ctx, void (*fn)(void *arg),
                             void *arg);

/* A source location.  `file` is interned (or NULL when unknown); line and
 * col are 1-based, 0 when unknown. */
typedef struct qir_loc {
  const char *file;
  unsigned line, col;
} qir_loc;

static inline qir_loc qir_loc_unknown(void) {
  qir_loc l = {NULL, 0, 0};
  return l;
}
qir_loc qir_loc_make(qir_context *ctx, const char *file, unsigned line,
                     unsigned col);

/* ---- Diagnostics ------------------------------------------------------ */

typedef enum qir_severity {
  QIR_SEV_ERROR,
  QIR_SEV_WARNING,
  QIR_SEV_NOTE,
  QIR_SEV_REMARK
} qir_severity;

typedef struct qir_diag {
  qir_severity severity;
  qir_loc loc;
  const char *message; /* valid only during the handler call */
} qir_diag;

/* A handler sees every diagnostic.  The default handler prints to stderr in
 * the clang form `file:line:col: error: message`, then the source line and a
 * caret when the file's text was registered with qir_diag_register_source. */
typedef void (*qir_diag_handler)(qir_context *ctx, const qir_diag *d,
                                 void *user);
/* Installs `h` (NULL restores the default); returns the previous handler
 * through *old_h / *old_user when those are non-NULL. */
void qir_diag_set_handler(qir_context *ctx, qir_diag_handler h, void *user,
                          qir_diag_handler *old_h, void **old_user);
void qir_diag_default_handler(qir_context *ctx, const qir_diag *d, void *user);
/* Formats `d` as the default handler does, onto `out`. */
void qir_diag_print(qir_context *ctx, const qir_diag *d, FILE *out);

void qir_emit(qir_context *ctx, qir_severity sev, qir_loc loc,
              const char *fmt, ...) QIR_PRINTF(4, 5);
void qir_emitv(qir_context *ctx, qir_severity sev, qir_loc loc,
               const char *fmt, va_list ap);
void qir_emit_error(qir_context *ctx, qir_loc loc, const char *fmt, ...)
    QIR_PRINTF(3, 4);
void qir_emit_warning(qir_context *ctx, qir_loc loc, const char *fmt, ...)
    QIR_PRINTF(3, 4);
void qir_emit_note(qir_context *ctx, qir_loc loc, const char *fmt, ...)
    QIR_PRINTF(3, 4);
void qir_emit_remark(qir_context *ctx, qir_loc loc, const char *fmt, ...)
    QIR_PRINTF(3, 4);

/* Errors emitted since the context was created (or the counter reset). */
unsigned qir_diag_error_count(const qir_context *ctx);
void qir_diag_reset_error_count(qir_context *ctx);

/* Registers the text of a source file so diagnostics can show the line and
 * a caret.  The buffer is copied. */
void qir_diag_register_source(qir_context *ctx, const char *file,
                              const char *buf, size_t len);
/* Like qir_diag_register_source without the copy: takes ownership of
 * `buf` (malloc'd, as qir_read_file returns it), which the context frees;
 * the caller may keep reading it until the context is destroyed or the
 * file's text is registered again.  Saves a copy of big inputs. */
void qir_diag_adopt_source(qir_context *ctx, const char *file, char *buf,
                           size_t len);
/* The text of line `line` (1-based) of a registered file, without the
 * newline; NULL when unknown.  *len receives its length. */
const char *qir_diag_source_line(qir_context *ctx, const char *file,
                                 unsigned line, size_t *len);

/* ---- Debug channels (-debug-only=NAME) -------------------------------- */

/* Enables a channel, a comma-separated list of them, or "all". */
void qir_debug_enable(qir_context *ctx, const char *channel);
bool qir_debug_enabled(const qir_context *ctx, const char *channel);
void qir_debug_printf(const char *channel, const char *fmt, ...)
    QIR_PRINTF(2, 3);
#define QIR_DEBUG(ctx, channel, ...)                                          \
  do {                                                                        \
    if (qir_debug_enabled((ctx), (channel)))                                  \
      qir_debug_printf((channel), __VA_ARGS__);                               \
  } while (0)

/* ---- Internal errors -------------------------------------------------- */

/* For bugs in qir itself, never for bad input: prints the compiler's own
 * source position and aborts. */
_Noreturn void qir_die_at(const char *file, int line, const char *fmt, ...)
    QIR_PRINTF(3, 4);
#define qir_die(...) qir_die_at(__FILE__, __LINE__, __VA_ARGS__)
#define QIR_ASSERT(c)                                                         \
  do {                                                                        \
    if (!(c))                                                                 \
      qir_die("assertion failed: %s", #c);                                    \
  } while (0)

/* malloc/calloc/realloc that die on exhaustion. */
void *qir_xmalloc(size_t n);
void *qir_xcalloc(size_t n, size_t size);
void *qir_xrealloc(void *p, size_t n);
char *qir_xstrdup(const char *s);

#ifdef __cplusplus
}
#endif
#endif
