/* ir/internal.h - declarations shared inside libqir, not part of the public
 * API. */
#ifndef QIR_IR_INTERNAL_H
#define QIR_IR_INTERNAL_H

#include <string.h>

#include "qir/qir.h"

/* Registers the ops of ir/ops.def (ir/ops/registry.c); called by
 * qir_context_create. */
void qir_register_builtin_ops(qir_context *ctx);

/* ---- Hashing ----------------------------------------------------------- */

uint64_t qir_hash_bytes(const void *p, size_t n);

static inline uint64_t qir_hash_mix(uint64_t h, uint64_t v) {
  h ^= v + 0x9e3779b97f4a7c15ull + (h << 6) + (h >> 2);
  h ^= h >> 31;
  h *= 0xbf58476d1ce4e5b9ull;
  h ^= h >> 29;
  return h;
}

/* An open-addressing hash table of pointers (linear probing).  Items are
 * never removed; the caller gives the hash and an equality test between a
 * stored item and a lookup key. */
typedef struct qir_htab {
  uint64_t *hashes;
  const void **items; /* NULL = empty slot */
  size_t cap;         /* a power of two, or 0 */
  size_t count;
} qir_htab;

typedef bool (*qir_htab_eq_fn)(const void *item, const void *key);

const void *qir_htab_find(const qir_htab *t, uint64_t hash,
                          qir_htab_eq_fn eq, const void *key);
/* Adds an item (the caller checked it is not there yet). */
void qir_htab_insert(qir_htab *t, uint64_t hash, const void *item);
void qir_htab_free(qir_htab *t);

/* ---- Context internals shared by the core files ------------------------- */

/* The interned copy of s[0..len) when it exists, else NULL (never adds). */
const char *qir_intern_find(const qir_context *ctx, const char *s,
                            size_t len);

/* Uniquing tables of types.c and attrs.c, kept in the context. */
qir_htab *qir_context_type_table(qir_context *ctx);
qir_htab *qir_context_attr_table(qir_context *ctx);
/* The cached scalar types (QIR_NUM_SCALARS entries). */
const qir_type **qir_context_scalar_types(qir_context *ctx);

/* Diagnostics state, owned by the context and managed by diag.c. */
typedef struct qir_diag_source qir_diag_source;
typedef struct qir_diag_state {
  qir_diag_handler handler;
  void *user;
  unsigned error_count;
  qir_diag_source *sources;
  unsigned num_sources, cap_sources;
  bool debug_all;
  unsigned num_debug;
  const char **debug_channels; /* interned */
} qir_diag_state;

qir_diag_state *qir_context_diag(qir_context *ctx);
const qir_diag_state *qir_context_diag_const(const qir_context *ctx);
void qir_diag_state_free(qir_diag_state *d);

/* ---- Small blocks ----------------------------------------------------------
 * Zeroed blocks that can be freed one by one, carved from the arena and
 * recycled through per-size free lists (ops are allocated this way: no
 * malloc header, no malloc call per op).  The caller gives the size again
 * on free.  Builds with AddressSanitizer use calloc/free instead, so
 * use-after-free of IR is still caught. */
void *qir_block_alloc(qir_context *ctx, size_t size);
void qir_block_free(qir_context *ctx, void *p, size_t size);

/* ---- Growable arrays ------------------------------------------------------ */

/* Ensures *arr has room for `need` elements of `elem` bytes, doubling. */
void qir_grow(void *arr, unsigned *cap, unsigned need, size_t elem);

/* ---- Named attribute lists (ops, functions, modules) -------------------- */

const qir_attr *qir_named_attrs_get(const qir_named_attr *attrs, unsigned n,
                                    const char *name);

#endif
