/* ir/ir.c - values and use-lists, ops, blocks, functions and modules.
 *
 * An op is one allocation: the op, then its results, then its first operand
 * array, then its first attribute array.  When set_operands or set_attr
 * needs more room than that, the array moves to its own heap block. */
#include <stdlib.h>
#include <string.h>

#include "ir/internal.h"

/* ---- Use-lists ----------------------------------------------------------- */

static void use_link(qir_use *u, qir_value *v) {
  u->value = v;
  if (!v) {
    u->next = NULL;
    u->prevp = NULL;
    return;
  }
  u->next = v->uses;
  if (v->uses)
    v->uses->prevp = &u->next;
  v->uses = u;
  u->prevp = &v->uses;
}

static void use_unlink(qir_use *u) {
  if (!u->value)
    return;
  *u->prevp = u->next;
  if (u->next)
    u->next->prevp = u->prevp;
  u->value = NULL;
  u->next = NULL;
  u->prevp = NULL;
}

unsigned qir_value_num_uses(const qir_value *v) {
  unsigned n = 0;
  for (const qir_use *u = v->uses; u; u = u->next)
    n++;
  return n;
}

void qir_value_replace_all_uses(qir_value *from, qir_value *to) {
  if (from == to || !from->uses)
    return;
  if (!to) {
    while (from->uses)
      use_unlink(from->uses);
    return;
  }
  /* Retarget every use, then splice the whole list in front of to's. */
  qir_use *last = NULL;
  for (qir_use *u = from->uses; u; u = u->next) {
    u->value = to;
    last = u;
  }
  last->next = to->uses;
  if (to->uses)
    to->uses->prevp = &last->next;
  to->uses = from->uses;
  to->uses->prevp = &to->uses;
  from->uses = NULL;
}

void qir_value_set_name(qir_context *ctx, qir_value *v, const char *name) {
  v->name = name ? qir_intern_cstr(ctx, name) : NULL;
}

/* ---- Op allocation ------------------------------------------------------- */

typedef struct op_impl {
  qir_op op;
  unsigned inline_operands; /* size of the operand array inside the op */
  unsigned inline_attrs;    /* size of the attribute array inside the op */
} op_impl;

/* Bytes of the op's own allocation. */
static size_t op_alloc_size(unsigned num_results, unsigned num_operands,
                            unsigned num_attrs) {
  return sizeof(op_impl) + (size_t)num_results * sizeof(qir_value) +
         (size_t)num_operands * sizeof(qir_use) +
         (size_t)num_attrs * sizeof(qir_named_attr);
}

static qir_use *inline_operands(qir_op *op) {
  return (qir_use *)(op->results + op->num_results);
}

static qir_named_attr *inline_attrs(qir_op *op) {
  return (qir_named_attr *)(inline_operands(op) +
                            ((op_impl *)op)->inline_operands);
}

static void set_operand_array(qir_op *op, unsigned n,
                              qir_value *const *values) {
  op->num_operands = n;
  for (unsigned i = 0; i < n; i++) {
    qir_use *u = &op->operands[i];
    u->owner = op;
    u->index = i;
    use_link(u, values ? values[i] : NULL);
  }
}

static void init_results(qir_op *op, const qir_type *const *types) {
  for (unsigned i = 0; i < op->num_results; i++) {
    qir_value *v = &op->results[i];
    v->type = types ? types[i] : NULL;
    v->kind = QIR_VALUE_RESULT;
    v->index = i;
    v->owner.op = op;
  }
}

static void init_attrs(qir_op *op, unsigned n, const qir_named_attr *attrs) {
  op->num_attrs = n;
  for (unsigned i = 0; i < n; i++) {
    op->attrs[i].name = qir_intern_cstr(op->ctx, attrs[i].name);
    op->attrs[i].attr = attrs[i].attr;
  }
}

qir_op *qir_op_create(qir_context *ctx, const qir_op_def *def, qir_loc loc,
                      unsigned num_operands, qir_value *const *operands,
                      unsigned num_results, const qir_type *const *result_types,
                      unsigned num_attrs, const qir_named_attr *attrs) {
  QIR_ASSERT(def);
  op_impl *impl = qir_block_alloc(
      ctx, op_alloc_size(num_results, num_operands, num_attrs));
  impl->inline_operands = num_operands;
  impl->inline_attrs = num_attrs;
  qir_op *op = &impl->op;
  op->def = def;
  op->ctx = ctx;
  op->loc = loc;
  op->num_results = num_results;
  op->results = (qir_value *)(impl + 1);
  init_results(op, result_types);
  op->operands = inline_operands(op);
  set_operand_array(op, num_operands, operands);
  op->attrs = inline_attrs(op);
  init_attrs(op, num_attrs, attrs);
  return op;
}

void qir_op_set_operand(qir_op *op, unsigned i, qir_value *v) {
  QIR_ASSERT(i < op->num_operands);
  qir_use *u = &op->operands[i];
  if (u->value == v)
    return;
  use_unlink(u);
  use_link(u, v);
}

void qir_op_drop_operands(qir_op *op) {
  for (unsigned i = 0; i < op->num_operands; i++)
    use_unlink(&op->operands[i]);
}

void qir_op_set_operands(qir_op *op, unsigned n, qir_value *const *values) {
  /* Unlink first: the new values may include the old ones, and the array
   * may move (use links point into it). */
  qir_op_drop_operands(op);
  qir_use *inl = inline_operands(op);
  unsigned cap = ((op_impl *)op)->inline_operands;
  if (op->operands != inl)
    free(op->operands);
  op->operands = n <= cap ? inl : qir_xcalloc(n, sizeof(qir_use));
  set_operand_array(op, n, values);
}

/* Frees the op's memory; its uses must already be gone. */
static void op_free(qir_op *op) {
  if (op->operands != inline_operands(op))
    free(op->operands);
  if (op->attrs != inline_attrs(op))
    free(op->attrs);
  op_impl *impl = (op_impl *)op;
  qir_block_free(op->ctx, impl,
                 op_alloc_size(op->num_results, impl->inline_operands,
                               impl->inline_attrs));
}

/* ---- Attributes ----------------------------------------------------------- */

const qir_attr *qir_named_attrs_get(const qir_named_attr *attrs, unsigned n,
                                    const char *name) {
  for (unsigned i = 0; i < n; i++)
    if (attrs[i].name == name || strcmp(attrs[i].name, name) == 0)
      return attrs[i].attr;
  return NULL;
}

static int named_attrs_index(const qir_named_attr *attrs, unsigned n,
                             const char *name) {
  for (unsigned i = 0; i < n; i++)
    if (attrs[i].name == name)
      return (int)i;
  return -1;
}

/* Sets, adds or (a == NULL) removes attribute `name` of a heap-allocated
 * list. */
static void named_attrs_set(qir_context *ctx, qir_named_attr **attrs,
                            unsigned *n, const char *name, const qir_attr *a) {
  name = qir_intern_cstr(ctx, name);
  int i = named_attrs_index(*attrs, *n, name);
  if (i >= 0 && a) {
    (*attrs)[i].attr = a;
  } else if (i >= 0) {
    memmove(&(*attrs)[i], &(*attrs)[i + 1],
            (*n - (unsigned)i - 1) * sizeof **attrs);
    (*n)--;
  } else if (a) {
    *attrs = qir_xrealloc(*attrs, (*n + 1) * sizeof **attrs);
    (*attrs)[*n].name = name;
    (*attrs)[*n].attr = a;
    (*n)++;
  }
}

const qir_attr *qir_op_get_attr(const qir_op *op, const char *name) {
  return qir_named_attrs_get(op->attrs, op->num_attrs, name);
}

void qir_op_set_attr(qir_op *op, const char *name, const qir_attr *a) {
  qir_named_attr *inl = inline_attrs(op);
  bool adding = a && !qir_op_get_attr(op, name);
  if (op->attrs == inl && adding) {
    if (op->num_attrs < ((op_impl *)op)->inline_attrs) {
      inl[op->num_attrs].name = qir_intern_cstr(op->ctx, name);
      inl[op->num_attrs++].attr = a;
      return;
    }
    /* The inline array is full: move the list to the heap. */
    qir_named_attr *heap = qir_xmalloc(op->num_attrs * sizeof *heap);
    memcpy(heap, inl, op->num_attrs * sizeof *heap);
    op->attrs = heap;
  }
  named_attrs_set(op->ctx, &op->attrs, &op->num_attrs, name, a);
}

int64_t qir_op_get_int(const qir_op *op, const char *name, int64_t dflt) {
  const qir_attr *a = qir_op_get_attr(op, name);
  return a && a->kind == QIR_ATTR_INT ? a->u.i : dflt;
}

double qir_op_get_float(const qir_op *op, const char *name, double dflt) {
  const qir_attr *a = qir_op_get_attr(op, name);
  if (a && a->kind == QIR_ATTR_FLOAT)
    return a->u.f;
  if (a && a->kind == QIR_ATTR_INT)
    return (double)a->u.i;
  return dflt;
}

bool qir_op_post_affine(const qir_op *op, float *mul, float *add) {
  *mul = 1.0f;
  *add = -0.0f;
  if (!qir_op_is(op, QIR_OP_CONV2D)) /* the only op that verifies them */
    return false;
  *mul = (float)qir_op_get_float(op, "post_mul", 1.0);
  *add = (float)qir_op_get_float(op, "post_add", -0.0);
  return qir_op_get_attr(op, "post_mul") || qir_op_get_attr(op, "post_add");
}

bool qir_op_get_bool(const qir_op *op, const char *name, bool dflt) {
  const qir_attr *a = qir_op_get_attr(op, name);
  return a && a->kind == QIR_ATTR_BOOL ? a->u.b : dflt;
}

const char *qir_op_get_string(const qir_op *op, const char *name) {
  const qir_attr *a = qir_op_get_attr(op, name);
  return a && a->kind == QIR_ATTR_STRING ? a->u.str.data : NULL;
}

int qir_op_get_ints(const qir_op *op, const char *name, int64_t *out,
                    unsigned max) {
  const qir_attr *a = qir_op_get_attr(op, name);
  return a ? qir_attr_get_ints(a, out, max) : 0;
}

/* ---- Placement ------------------------------------------------------------ */

static void link_between(qir_block *b, qir_op *prev, qir_op *op,
                         qir_op *next) {
  if (op->block)
    qir_die("op '%s' is already in a block", op->def->name);
  op->block = b;
  op->prev = prev;
  op->next = next;
  if (prev)
    prev->next = op;
  else
    b->first = op;
  if (next)
    next->prev = op;
  else
    b->last = op;
  b->num_ops++;
}

void qir_block_append(qir_block *b, qir_op *op) {
  link_between(b, b->last, op, NULL);
}

void qir_op_insert_before(qir_op *pos, qir_op *op) {
  QIR_ASSERT(pos->block);
  link_between(pos->block, pos->prev, op, pos);
}

void qir_op_insert_after(qir_op *pos, qir_op *op) {
  QIR_ASSERT(pos->block);
  link_between(pos->block, pos, op, pos->next);
}

void qir_op_unlink(qir_op *op) {
  qir_block *b = op->block;
  if (!b)
    return;
  if (op->prev)
    op->prev->next = op->next;
  else
    b->first = op->next;
  if (op->next)
    op->next->prev = op->prev;
  else
    b->last = op->prev;
  b->num_ops--;
  op->block = NULL;
  op->prev = op->next = NULL;
}

void qir_op_move_before(qir_op *pos, qir_op *op) {
  if (pos == op)
    return;
  qir_op_unlink(op);
  qir_op_insert_before(pos, op);
}

void qir_op_erase(qir_op *op) {
  for (unsigned i = 0; i < op->num_results; i++)
    if (op->results[i].uses)
      qir_die("erasing op '%s' whose result %u is still used", op->def->name,
              i);
  qir_op_unlink(op);
  qir_op_drop_operands(op);
  op_free(op);
}

void qir_op_replace(qir_op *op, qir_value *const *values) {
  for (unsigned i = 0; i < op->num_results; i++)
    qir_value_replace_all_uses(&op->results[i], values[i]);
  qir_op_erase(op);
}

/* ---- Op diagnostics ------------------------------------------------------- */

static void op_emitv(const qir_op *op, qir_severity sev, const char *fmt,
                     va_list ap) {
  char small[512];
  char *msg = small;
  va_list ap2;
  va_copy(ap2, ap);
  int n = vsnprintf(small, sizeof small, fmt, ap2);
  va_end(ap2);
  if (n >= (int)sizeof small) {
    msg = qir_xmalloc((size_t)n + 1);
    vsnprintf(msg, (size_t)n + 1, fmt, ap);
  } else if (n < 0) {
    small[0] = '\0';
  }
  qir_emit(op->ctx, sev, op->loc, "'%s' op %s", op->def->name, msg);
  if (msg != small)
    free(msg);
}

#define DEFINE_OP_EMIT(fn, sev)                                               \
  void fn(const qir_op *op, const char *fmt, ...) {                           \
    va_list ap;                                                               \
    va_start(ap, fmt);                                                        \
    op_emitv(op, sev, fmt, ap);                                               \
    va_end(ap);                                                               \
  }
DEFINE_OP_EMIT(qir_op_emit_error, QIR_SEV_ERROR)
DEFINE_OP_EMIT(qir_op_emit_warning, QIR_SEV_WARNING)
DEFINE_OP_EMIT(qir_op_emit_remark, QIR_SEV_REMARK)
#undef DEFINE_OP_EMIT

/* ---- Blocks ------------------------------------------------------------- */

static qir_context *block_ctx(const qir_block *b) {
  return b->func->module->ctx;
}

qir_value *qir_block_add_arg(qir_block *b, const qir_type *t,
                             const char *name) {
  qir_value *v = qir_xcalloc(1, sizeof *v);
  v->type = t;
  v->kind = QIR_VALUE_ARG;
  v->index = b->num_args;
  v->owner.block = b;
  v->name = name ? qir_intern_cstr(block_ctx(b), name) : NULL;
  b->args = qir_xrealloc(b->args, (b->num_args + 1) * sizeof *b->args);
  b->args[b->num_args++] = v;
  return v;
}

void qir_block_erase_arg(qir_block *b, unsigned i) {
  QIR_ASSERT(i < b->num_args);
  if (b->args[i]->uses)
    qir_die("erasing block argument %u that is still used", i);
  free(b->args[i]);
  memmove(&b->args[i], &b->args[i + 1],
          (b->num_args - i - 1) * sizeof *b->args);
  b->num_args--;
  for (unsigned k = i; k < b->num_args; k++)
    b->args[k]->index = k;
}

qir_op *qir_block_terminator(const qir_block *b) {
  qir_op *last = b->last;
  return last && qir_op_has_trait(last, QIR_TRAIT_TERMINATOR) ? last : NULL;
}

/* Frees every op and argument of a block without touching use-lists: the
 * whole body goes at once, so uses between its ops need no unlinking. */
static void block_free_contents(qir_block *b) {
  for (qir_op *op = b->first, *next; op; op = next) {
    next = op->next;
    op_free(op);
  }
  for (unsigned i = 0; i < b->num_args; i++)
    free(b->args[i]);
  free(b->args);
  b->first = b->last = NULL;
  b->num_ops = b->num_args = 0;
  b->args = NULL;
}

/* ---- Functions ---------------------------------------------------------- */

/* qir_module_lookup's index of functions by interned name, built on the
 * first lookup in a module with many functions (partitioning a long chain
 * makes tens of thousands) and kept up to date as functions are added;
 * erasing one marks it stale, to be rebuilt by the next lookup. */
struct qir_func_index {
  qir_htab tab;
  bool stale;
};

enum { FUNC_INDEX_MIN = 16 }; /* below this many functions, a scan is fine */

static uint64_t func_name_hash(const char *interned) {
  return qir_hash_bytes(&interned, sizeof interned);
}

static bool func_has_name(const void *item, const void *key) {
  return ((const qir_func *)item)->name == key;
}

static void func_index_add(qir_module *m, qir_func *f) {
  if (m->func_index && !m->func_index->stale)
    qir_htab_insert(&m->func_index->tab, func_name_hash(f->name), f);
}

static void func_index_free(qir_module *m) {
  if (!m->func_index)
    return;
  qir_htab_free(&m->func_index->tab);
  free(m->func_index);
  m->func_index = NULL;
}

static struct qir_func_index *func_index_get(qir_module *m) {
  if (m->func_index && !m->func_index->stale)
    return m->func_index;
  func_index_free(m);
  m->func_index = qir_xcalloc(1, sizeof *m->func_index);
  for (qir_func *f = m->first; f; f = f->next)
    qir_htab_insert(&m->func_index->tab, func_name_hash(f->name), f);
  return m->func_index;
}

static const qir_type **copy_types(unsigned n, const qir_type *const *types) {
  if (!n)
    return NULL;
  const qir_type **out = qir_xmalloc(n * sizeof *out);
  memcpy(out, types, n * sizeof *out);
  return out;
}

qir_func *qir_func_create(qir_module *m, const char *name, qir_loc loc,
                          unsigned num_args, const qir_type *const *arg_types,
                          const char *const *arg_names, unsigned num_results,
                          const qir_type *const *result_types) {
  if (qir_module_lookup(m, name)) {
    qir_emit_error(m->ctx, loc, "redefinition of function '@%s'", name);
    return NULL;
  }
  qir_func *f = qir_xcalloc(1, sizeof *f);
  f->module = m;
  f->name = qir_intern_cstr(m->ctx, name);
  f->loc = loc;
  f->body.func = f;
  for (unsigned i = 0; i < num_args; i++)
    qir_block_add_arg(&f->body, arg_types[i], arg_names ? arg_names[i] : NULL);
  f->num_results = num_results;
  f->result_types = copy_types(num_results, result_types);
  f->prev = m->last;
  if (m->last)
    m->last->next = f;
  else
    m->first = f;
  m->last = f;
  m->num_funcs++;
  func_index_add(m, f);
  return f;
}

void qir_func_set_result_types(qir_func *f, unsigned n,
                               const qir_type *const *types) {
  const qir_type **copy = copy_types(n, types);
  free(f->result_types);
  f->result_types = copy;
  f->num_results = n;
}

void qir_func_set_attr(qir_func *f, const char *name, const qir_attr *a) {
  named_attrs_set(f->module->ctx, &f->attrs, &f->num_attrs, name, a);
}

const qir_attr *qir_func_get_attr(const qir_func *f, const char *name) {
  return qir_named_attrs_get(f->attrs, f->num_attrs, name);
}

static void func_free(qir_func *f) {
  block_free_contents(&f->body);
  free(f->result_types);
  free(f->attrs);
  free(f);
}

void qir_func_erase(qir_func *f) {
  qir_module *m = f->module;
  if (f->prev)
    f->prev->next = f->next;
  else
    m->first = f->next;
  if (f->next)
    f->next->prev = f->prev;
  else
    m->last = f->prev;
  m->num_funcs--;
  if (m->func_index)
    m->func_index->stale = true;
  /* Values of this body may still be used by ops elsewhere only through a
   * bug; uses inside the body die with it. */
  func_free(f);
}

/* ---- Modules ------------------------------------------------------------ */

qir_module *qir_module_create(qir_context *ctx) {
  qir_module *m = qir_xcalloc(1, sizeof *m);
  m->ctx = ctx;
  return m;
}

void qir_module_destroy(qir_module *m) {
  if (!m)
    return;
  for (qir_func *f = m->first, *next; f; f = next) {
    next = f->next;
    func_free(f);
  }
  func_index_free(m);
  free(m->attrs);
  free(m);
}

qir_func *qir_module_lookup(const qir_module *m, const char *name) {
  const char *s = qir_intern_find(m->ctx, name, strlen(name));
  if (!s)
    return NULL;
  if (m->num_funcs >= FUNC_INDEX_MIN) {
    /* The index is a cache: building it does not change the module. */
    struct qir_func_index *ix = func_index_get((qir_module *)m);
    return (qir_func *)qir_htab_find(&ix->tab, func_name_hash(s),
                                     func_has_name, s);
  }
  for (qir_func *f = m->first; f; f = f->next)
    if (f->name == s)
      return f;
  return NULL;
}

void qir_module_set_attr(qir_module *m, const char *name, const qir_attr *a) {
  named_attrs_set(m->ctx, &m->attrs, &m->num_attrs, name, a);
}

const qir_attr *qir_module_get_attr(const qir_module *m, const char *name) {
  return qir_named_attrs_get(m->attrs, m->num_attrs, name);
}

size_t qir_module_num_ops(const qir_module *m) {
  size_t n = 0;
  for (qir_func *f = m->first; f; f = f->next)
    n += f->body.num_ops;
  return n;
}
