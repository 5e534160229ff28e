/* ir/context.c - the context: arena, interned strings, hash tables, the op
 * and pass registries, cleanup hooks, internal errors and allocators. */
#include <stdalign.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "ir/internal.h"

/* ---- Allocators and internal errors ------------------------------------- */

_Noreturn void qir_die_at(const char *file, int line, const char *fmt, ...) {
  va_list ap;
  fflush(stdout);
  fprintf(stderr, "qir: internal error at %s:%d: ", file, line);
  va_start(ap, fmt);
  vfprintf(stderr, fmt, ap);
  va_end(ap);
  fputc('\n', stderr);
  fflush(stderr);
  abort();
}

void *qir_xmalloc(size_t n) {
  void *p = malloc(n ? n : 1);
  if (!p)
    qir_die("out of memory allocating %zu bytes", n);
  return p;
}

void *qir_xcalloc(size_t n, size_t size) {
  void *p = calloc(n ? n : 1, size ? size : 1);
  if (!p)
    qir_die("out of memory allocating %zu x %zu bytes", n, size);
  return p;
}

void *qir_xrealloc(void *p, size_t n) {
  void *q = realloc(p, n ? n : 1);
  if (!q)
    qir_die("out of memory allocating %zu bytes", n);
  return q;
}

char *qir_xstrdup(const char *s) {
  size_t n = strlen(s) + 1;
  return memcpy(qir_xmalloc(n), s, n);
}

void qir_grow(void *arr, unsigned *cap, unsigned need, size_t elem) {
  void **p = arr;
  if (need <= *cap)
    return;
  unsigned c = *cap ? *cap : 4;
  while (c < need) {
    if (c > (1u << 30))
      qir_die("array too large");
    c *= 2;
  }
  *p = qir_xrealloc(*p, (size_t)c * elem);
  *cap = c;
}

/* ---- Hashing ----------------------------------------------------------- */

uint64_t qir_hash_bytes(const void *p, size_t n) {
  const unsigned char *s = p;
  uint64_t h = 0x243f6a8885a308d3ull ^ ((uint64_t)n * 0x9e3779b97f4a7c15ull);
  while (n >= 8) {
    uint64_t w;
    memcpy(&w, s, 8);
    h = (h ^ w) * 0xff51afd7ed558ccdull;
    h ^= h >> 32;
    s += 8;
    n -= 8;
  }
  uint64_t w = 0;
  if (n)
    memcpy(&w, s, n);
  h = (h ^ w) * 0xc4ceb9fe1a85ec53ull;
  h ^= h >> 29;
  h *= 0xbf58476d1ce4e5b9ull;
  h ^= h >> 32;
  return h;
}

const void *qir_htab_find(const qir_htab *t, uint64_t hash,
                          qir_htab_eq_fn eq, const void *key) {
  if (!t->cap)
    return NULL;
  size_t mask = t->cap - 1;
  for (size_t i = hash & mask;; i = (i + 1) & mask) {
    const void *item = t->items[i];
    if (!item)
      return NULL;
    if (t->hashes[i] == hash && eq(item, key))
      return item;
  }
}

static void htab_place(uint64_t *hashes, const void **items, size_t cap,
                       uint64_t hash, const void *item) {
  size_t mask = cap - 1;
  size_t i = hash & mask;
  while (items[i])
    i = (i + 1) & mask;
  hashes[i] = hash;
  items[i] = item;
}

static void htab_rehash(qir_htab *t, size_t cap) {
  uint64_t *hashes = qir_xmalloc(cap * sizeof *hashes);
  const void **items = qir_xcalloc(cap, sizeof *items);
  for (size_t i = 0; i < t->cap; i++)
    if (t->items[i])
      htab_place(hashes, items, cap, t->hashes[i], t->items[i]);
  free(t->hashes);
  free(t->items);
  t->hashes = hashes;
  t->items = items;
  t->cap = cap;
}

void qir_htab_insert(qir_htab *t, uint64_t hash, const void *item) {
  if ((t->count + 1) * 4 > t->cap * 3)
    htab_rehash(t, t->cap ? t->cap * 2 : 64);
  htab_place(t->hashes, t->items, t->cap, hash, item);
  t->count++;
}

void qir_htab_free(qir_htab *t) {
  free(t->hashes);
  free(t->items);
  memset(t, 0, sizeof *t);
}

/* ---- The context -------------------------------------------------------- */

typedef struct arena_chunk {
  struct arena_chunk *next;
  size_t size, used;
  alignas(max_align_t) unsigned char data[];
} arena_chunk;

#define QIR_BLOCK_GRAIN 16
#define QIR_BLOCK_CLASSES 128 /* blocks up to 2 KiB */

typedef struct cleanup {
  void (*fn)(void *arg);
  void *arg;
} cleanup;

struct qir_context {
  arena_chunk *chunks; /* current chunk first */
  size_t arena_bytes;
  qir_htab strings;
  qir_htab types;
  qir_htab attrs;
  const qir_type *scalar_types[QIR_NUM_SCALARS];

  qir_htab op_names;
  const qir_op_def **ops; /* registration order */
  unsigned num_ops, cap_ops;
  const qir_op_def *builtin_ops[QIR_NUM_OPS];
  unsigned next_op_id;

  qir_htab pass_names;
  const qir_pass_def **passes;
  unsigned num_passes, cap_passes;

  cleanup *cleanups;
  unsigned num_cleanups, cap_cleanups;

  void *free_blocks[QIR_BLOCK_CLASSES]; /* recycled small blocks per class */

  qir_diag_state diag;
};

qir_htab *qir_context_type_table(qir_context *ctx) { return &ctx->types; }
qir_htab *qir_context_attr_table(qir_context *ctx) { return &ctx->attrs; }
const qir_type **qir_context_scalar_types(qir_context *ctx) {
  return ctx->scalar_types;
}
qir_diag_state *qir_context_diag(qir_context *ctx) { return &ctx->diag; }
const qir_diag_state *qir_context_diag_const(const qir_context *ctx) {
  return &ctx->diag;
}

qir_context *qir_context_create(void) {
  qir_context *ctx = qir_xcalloc(1, sizeof *ctx);
  ctx->next_op_id = QIR_NUM_OPS;
  qir_register_builtin_ops(ctx);
  qir_register_builtin_passes(ctx);
  return ctx;
}

void qir_context_destroy(qir_context *ctx) {
  if (!ctx)
    return;
  for (unsigned i = ctx->num_cleanups; i-- > 0;)
    ctx->cleanups[i].fn(ctx->cleanups[i].arg);
  free(ctx->cleanups);
  qir_diag_state_free(&ctx->diag);
  qir_htab_free(&ctx->strings);
  qir_htab_free(&ctx->types);
  qir_htab_free(&ctx->attrs);
  qir_htab_free(&ctx->op_names);
  qir_htab_free(&ctx->pass_names);
  free(ctx->ops);
  free(ctx->passes);
  for (arena_chunk *c = ctx->chunks, *next; c; c = next) {
    next = c->next;
    free(c);
  }
  free(ctx);
}

void qir_context_add_cleanup(qir_context *ctx, void (*fn)(void *arg),
                             void *arg) {
  qir_grow(&ctx->cleanups, &ctx->cap_cleanups, ctx->num_cleanups + 1,
           sizeof *ctx->cleanups);
  ctx->cleanups[ctx->num_cleanups].fn = fn;
  ctx->cleanups[ctx->num_cleanups].arg = arg;
  ctx->num_cleanups++;
}

/* ---- The arena ------------------------------------------------------------ */

#define ARENA_ALIGN alignof(max_align_t)
#define ARENA_CHUNK (64 * 1024)

static arena_chunk *arena_new_chunk(size_t size) {
  if (size > SIZE_MAX - sizeof(arena_chunk))
    qir_die("arena allocation of %zu bytes is too large", size);
  arena_chunk *c = qir_xcalloc(1, sizeof(arena_chunk) + size);
  c->size = size;
  return c;
}

void *qir_arena_alloc(qir_context *ctx, size_t size) {
  if (size > SIZE_MAX - ARENA_ALIGN)
    qir_die("arena allocation of %zu bytes is too large", size);
  size = (size + ARENA_ALIGN - 1) & ~(ARENA_ALIGN - 1);
  arena_chunk *c = ctx->chunks;
  if (c && c->size - c->used >= size) {
    void *p = c->data + c->used;
    c->used += size;
    return p;
  }
  if (size > ARENA_CHUNK / 4) {
    /* A big block gets a chunk of its own, behind the current one, so the
     * current chunk's free space is not wasted. */
    arena_chunk *big = arena_new_chunk(size);
    big->used = size;
    if (c) {
      big->next = c->next;
      c->next = big;
    } else {
      ctx->chunks = big;
    }
    ctx->arena_bytes += size;
    return big->data;
  }
  c = arena_new_chunk(ARENA_CHUNK);
  c->next = ctx->chunks;
  ctx->chunks = c;
  c->used = size;
  ctx->arena_bytes += ARENA_CHUNK;
  return c->data;
}

void *qir_arena_dup(qir_context *ctx, const void *p, size_t size) {
  void *q = qir_arena_alloc(ctx, size);
  if (size)
    memcpy(q, p, size);
  return q;
}

/* ---- Small blocks ----------------------------------------------------- */

#if defined(__SANITIZE_ADDRESS__)
#define QIR_BLOCKS_USE_MALLOC 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define QIR_BLOCKS_USE_MALLOC 1
#endif
#endif

/* The size class of a block: its size in grains (at least one, to hold the
 * free-list link). */
static size_t block_class(size_t size) {
  size_t cls = (size + QIR_BLOCK_GRAIN - 1) / QIR_BLOCK_GRAIN;
  return cls ? cls : 1;
}

void *qir_block_alloc(qir_context *ctx, size_t size) {
  size_t cls = block_class(size);
#ifdef QIR_BLOCKS_USE_MALLOC
  cls = QIR_BLOCK_CLASSES;
#endif
  if (cls >= QIR_BLOCK_CLASSES)
    return qir_xcalloc(1, size);
  void *p = ctx->free_blocks[cls];
  if (!p)
    return qir_arena_alloc(ctx, cls * QIR_BLOCK_GRAIN);
  memcpy(&ctx->free_blocks[cls], p, sizeof(void *));
  return memset(p, 0, cls * QIR_BLOCK_GRAIN);
}

void qir_block_free(qir_context *ctx, void *p, size_t size) {
  size_t cls = block_class(size);
#ifdef QIR_BLOCKS_USE_MALLOC
  cls = QIR_BLOCK_CLASSES;
#endif
  if (cls >= QIR_BLOCK_CLASSES) {
    free(p);
    return;
  }
  memcpy(p, &ctx->free_blocks[cls], sizeof(void *));
  ctx->free_blocks[cls] = p;
}

/* ---- Interned strings ------------------------------------------------------
 * Each string is stored in the arena behind its length:
 * [size_t len][bytes][NUL]. */

typedef struct string_key {
  const char *s;
  size_t len;
} string_key;

static size_t interned_len(const char *s) {
  size_t len;
  memcpy(&len, s - sizeof(size_t), sizeof len);
  return len;
}

static bool string_eq(const void *item, const void *key) {
  const string_key *k = key;
  return interned_len(item) == k->len &&
         (k->len == 0 || memcmp(item, k->s, k->len) == 0);
}

const char *qir_intern_find(const qir_context *ctx, const char *s,
                            size_t len) {
  string_key k = {s, len};
  return qir_htab_find(&ctx->strings, qir_hash_bytes(s, len), string_eq, &k);
}

const char *qir_intern(qir_context *ctx, const char *s, size_t len) {
  uint64_t h = qir_hash_bytes(s, len);
  string_key k = {s, len};
  const char *found = qir_htab_find(&ctx->strings, h, string_eq, &k);
  if (found)
    return found;
  if (len > SIZE_MAX - sizeof(size_t) - 1)
    qir_die("string too long to intern");
  char *mem = qir_arena_alloc(ctx, sizeof(size_t) + len + 1);
  memcpy(mem, &len, sizeof len);
  char *str = mem + sizeof(size_t);
  if (len)
    memcpy(str, s, len);
  str[len] = '\0';
  qir_htab_insert(&ctx->strings, h, str);
  return str;
}

const char *qir_intern_cstr(qir_context *ctx, const char *s) {
  return qir_intern(ctx, s, strlen(s));
}

qir_loc qir_loc_make(qir_context *ctx, const char *file, unsigned line,
                     unsigned col) {
  qir_loc l = {file ? qir_intern_cstr(ctx, file) : NULL, line, col};
  return l;
}

/* ---- The op registry ---------------------------------------------------- */

static const char *const builtin_op_names[QIR_NUM_OPS] = {
#define QIR_OP(ID, name, minops, maxops, nres, traits, verify, infer, fold,   \
               summary)                                                       \
  name,
#include "qir/ops.def"
#undef QIR_OP
};

static bool op_def_eq(const void *item, const void *key) {
  const qir_op_def *d = item;
  const string_key *k = key;
  return strncmp(d->name, k->s, k->len) == 0 && d->name[k->len] == '\0';
}

const qir_op_def *qir_lookup_op(const qir_context *ctx, const char *name,
                                size_t len) {
  string_key k = {name, len};
  return qir_htab_find(&ctx->op_names, qir_hash_bytes(name, len), op_def_eq,
                       &k);
}

static bool is_builtin_def(const qir_context *ctx, const qir_op_def *def) {
  return def->id < QIR_NUM_OPS && !ctx->builtin_ops[def->id] &&
         strcmp(def->name, builtin_op_names[def->id]) == 0;
}

bool qir_register_op(qir_context *ctx, qir_op_def *def) {
  size_t len = strlen(def->name);
  if (qir_lookup_op(ctx, def->name, len))
    return false;
  if (is_builtin_def(ctx, def))
    ctx->builtin_ops[def->id] = def;
  else
    def->id = ctx->next_op_id++;
  qir_grow(&ctx->ops, &ctx->cap_ops, ctx->num_ops + 1, sizeof *ctx->ops);
  ctx->ops[ctx->num_ops++] = def;
  qir_htab_insert(&ctx->op_names, qir_hash_bytes(def->name, len), def);
  return true;
}

const qir_op_def *qir_builtin_op(const qir_context *ctx, unsigned id) {
  return id < QIR_NUM_OPS ? ctx->builtin_ops[id] : NULL;
}

void qir_foreach_op_def(const qir_context *ctx,
                        void (*fn)(const qir_op_def *def, void *user),
                        void *user) {
  for (unsigned i = 0; i < ctx->num_ops; i++)
    fn(ctx->ops[i], user);
}

/* ---- The pass registry (storage only; see ir/pass/) --------------------- */

static bool pass_def_eq(const void *item, const void *key) {
  return strcmp(((const qir_pass_def *)item)->name, key) == 0;
}

const qir_pass_def *qir_lookup_pass(const qir_context *ctx, const char *name) {
  return qir_htab_find(&ctx->pass_names, qir_hash_bytes(name, strlen(name)),
                       pass_def_eq, name);
}

bool qir_register_pass(qir_context *ctx, const qir_pass_def *def) {
  if (qir_lookup_pass(ctx, def->name))
    return false;
  qir_grow(&ctx->passes, &ctx->cap_passes, ctx->num_passes + 1,
           sizeof *ctx->passes);
  ctx->passes[ctx->num_passes++] = def;
  qir_htab_insert(&ctx->pass_names,
                  qir_hash_bytes(def->name, strlen(def->name)), def);
  return true;
}

void qir_foreach_pass_def(const qir_context *ctx,
                          void (*fn)(const qir_pass_def *d, void *user),
                          void *user) {
  for (unsigned i = 0; i < ctx->num_passes; i++)
    fn(ctx->passes[i], user);
}
