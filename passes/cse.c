/* passes/cse.c - common subexpression elimination over pure ops.
 *
 * Two ops are the same expression when they have the same definition, the
 * same operand values (in either order for a commutative op with two
 * operands), equal attribute dictionaries (by name, in any order) and the
 * same result types.  Constants are ops like any other, so constants with
 * equal values merge.  Ops are visited in block order; a later duplicate is
 * replaced by the first occurrence, which dominates it. */
#include <stdlib.h>

#include "passes/passes.h"

typedef struct expr_table {
  qir_op **slots; /* open addressing, linear probing; NULL = empty */
  uint64_t *hashes;
  size_t mask;
  size_t count;
} expr_table;

static uint64_t mix(uint64_t h, uint64_t v) {
  h ^= v + 0x9e3779b97f4a7c15ull + (h << 6) + (h >> 2);
  return h;
}

static uint64_t hash_ptr(const void *p) {
  uint64_t x = (uint64_t)(uintptr_t)p;
  x ^= x >> 33;
  x *= 0xff51afd7ed558ccdull;
  x ^= x >> 33;
  return x;
}

static bool is_commutative_pair(const qir_op *op) {
  return op->num_operands == 2 && qir_op_has_trait(op, QIR_TRAIT_COMMUTATIVE);
}

static uint64_t hash_operands(const qir_op *op) {
  if (is_commutative_pair(op)) /* order-independent */
    return hash_ptr(qir_op_operand(op, 0)) + hash_ptr(qir_op_operand(op, 1));
  uint64_t h = op->num_operands;
  for (unsigned i = 0; i < op->num_operands; i++)
    h = mix(h, hash_ptr(qir_op_operand(op, i)));
  return h;
}

/* Attribute order does not matter: the per-attribute hashes are summed. */
static uint64_t hash_attrs(const qir_op *op) {
  uint64_t h = op->num_attrs;
  for (unsigned i = 0; i < op->num_attrs; i++)
    h += mix(hash_ptr(op->attrs[i].name), qir_attr_hash(op->attrs[i].attr));
  return h;
}

static uint64_t hash_op(const qir_op *op) {
  uint64_t h = hash_ptr(op->def);
  h = mix(h, hash_operands(op));
  h = mix(h, hash_attrs(op));
  for (unsigned i = 0; i < op->num_results; i++)
    h = mix(h, hash_ptr(op->results[i].type));
  return h;
}

static bool same_operands(const qir_op *a, const qir_op *b) {
  if (a->num_operands != b->num_operands)
    return false;
  bool in_order = true;
  for (unsigned i = 0; i < a->num_operands && in_order; i++)
    in_order = qir_op_operand(a, i) == qir_op_operand(b, i);
  if (in_order)
    return true;
  return is_commutative_pair(a) &&
         qir_op_operand(a, 0) == qir_op_operand(b, 1) &&
         qir_op_operand(a, 1) == qir_op_operand(b, 0);
}

/* Names are interned, so they compare by pointer. */
static const qir_attr *find_attr(const qir_op *op, const char *name) {
  for (unsigned i = 0; i < op->num_attrs; i++)
    if (op->attrs[i].name == name)
      return op->attrs[i].attr;
  return NULL;
}

static bool same_attrs(const qir_op *a, const qir_op *b) {
  if (a->num_attrs != b->num_attrs)
    return false;
  for (unsigned i = 0; i < a->num_attrs; i++) {
    const qir_attr *other = find_attr(b, a->attrs[i].name);
    if (!other || !qir_attr_equal(a->attrs[i].attr, other))
      return false;
  }
  return true;
}

static bool same_expr(const qir_op *a, const qir_op *b) {
  if (a->def != b->def || a->num_results != b->num_results)
    return false;
  for (unsigned i = 0; i < a->num_results; i++)
    if (a->results[i].type != b->results[i].type)
      return false;
  return same_operands(a, b) && same_attrs(a, b);
}

static void table_init(expr_table *t, size_t expected) {
  size_t cap = 16;
  while (cap < expected * 2)
    cap *= 2;
  t->slots = qir_xcalloc(cap, sizeof *t->slots);
  t->hashes = qir_xcalloc(cap, sizeof *t->hashes);
  t->mask = cap - 1;
  t->count = 0;
}

static void table_free(expr_table *t) {
  free(t->slots);
  free(t->hashes);
}

static void table_insert_hashed(expr_table *t, qir_op *op, uint64_t h) {
  size_t i = (size_t)h & t->mask;
  while (t->slots[i])
    i = (i + 1) & t->mask;
  t->slots[i] = op;
  t->hashes[i] = h;
  t->count++;
}

/* Doubles the table (it is sized from the block's op count up front, so
 * this only happens when that count was low). */
static void table_grow(expr_table *t) {
  expr_table old = *t;
  table_init(t, (old.mask + 1));
  for (size_t i = 0; i <= old.mask; i++)
    if (old.slots[i])
      table_insert_hashed(t, old.slots[i], old.hashes[i]);
  table_free(&old);
}

/* Returns the earlier op equal to `op`, or inserts `op` and returns NULL. */
static qir_op *table_find_or_insert(expr_table *t, qir_op *op) {
  if ((t->count + 1) * 2 > t->mask + 1)
    table_grow(t);
  uint64_t h = hash_op(op);
  size_t i = (size_t)h & t->mask;
  while (t->slots[i]) {
    if (t->hashes[i] == h && same_expr(t->slots[i], op))
      return t->slots[i];
    i = (i + 1) & t->mask;
  }
  table_insert_hashed(t, op, h);
  return NULL;
}

static bool is_candidate(const qir_op *op) {
  return op->num_results > 0 && qir_op_is_removable(op);
}

bool qir_pass_run_cse(qir_pass *pass, void *unit_ir) {
  qir_func *f = unit_ir;
  expr_table table;
  table_init(&table, f->body.num_ops);
  long merged = 0;
  qir_foreach_op_safe(op, next, &f->body) {
    if (!is_candidate(op))
      continue;
    qir_op *first = table_find_or_insert(&table, op);
    if (!first)
      continue;
    qir_value *small[4];
    qir_value **values =
        op->num_results > 4 ? qir_xcalloc(op->num_results, sizeof *values)
                            : small;
    for (unsigned i = 0; i < op->num_results; i++)
      values[i] = qir_op_result(first, i);
    qir_passes_replace_op(NULL, op, values, false);
    if (values != small)
      free(values);
    merged++;
  }
  table_free(&table);
  qir_pass_stat(pass, "ops merged", merged);
  return true;
}
