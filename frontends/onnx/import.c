/* frontends/onnx/import.c - the ONNX importer: reads a ModelProto, checks
 * it, and lowers its graph node by node into function @main.  The
 * per-operator lowering lives in lower-*.c (listed in ops.inc). */
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "frontends/onnx/onnx-internal.h"

/* ---- The operator table ------------------------------------------------- */

typedef struct onnx_op_entry {
  const char *name;
  onnx_lower_fn lower;
  unsigned max_inputs;
} onnx_op_entry;

static const onnx_op_entry op_table[] = {
#define ONNX_OP(name, fn, max_inputs) {name, fn, max_inputs},
#include "frontends/onnx/ops.inc"
#undef ONNX_OP
};

static const onnx_op_entry *find_op(const char *type) {
  for (size_t i = 0; i < sizeof op_table / sizeof op_table[0]; i++)
    if (strcmp(op_table[i].name, type) == 0)
      return &op_table[i];
  return NULL;
}

void qir_onnx_import_options_init(qir_onnx_import_options *o) {
  memset(o, 0, sizeof *o);
  o->fold_constants = true;
}

/* ---- Diagnostics -------------------------------------------------------- */

static const char *node_label(const onnx_node *n, unsigned index, char *buf,
                              size_t size) {
  if (n->name && *n->name)
    return n->name;
  snprintf(buf, size, "#%u", index);
  return buf;
}

const char *onnx_node_label(onnx_importer *imp, char *buf, size_t size) {
  return imp->node ? node_label(imp->node, imp->node_index, buf, size) : "";
}

bool onnx_error(onnx_importer *imp, const char *fmt, ...) {
  char msg[1024];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(msg, sizeof msg, fmt, ap);
  va_end(ap);
  if (imp->node) {
    char buf[32];
    qir_emit_error(imp->ctx, qir_loc_unknown(), "ONNX node '%s' (%s): %s",
                   node_label(imp->node, imp->node_index, buf, sizeof buf),
                   onnx_str(imp->node->op_type), msg);
  } else {
    qir_emit_error(imp->ctx, qir_loc_unknown(), "%s", msg);
  }
  return false;
}

/* ---- Attributes of nodes ------------------------------------------------ */

const onnx_attr *onnx_find_attr(const onnx_node *n, const char *name) {
  for (size_t i = 0; i < n->n_attribute; i++)
    if (strcmp(onnx_str(n->attribute[i]->name), name) == 0)
      return n->attribute[i];
  return NULL;
}

int64_t onnx_attr_int(const onnx_node *n, const char *name, int64_t dflt) {
  const onnx_attr *a = onnx_find_attr(n, name);
  return a && a->has_i ? a->i : dflt;
}

double onnx_attr_float(const onnx_node *n, const char *name, double dflt) {
  const onnx_attr *a = onnx_find_attr(n, name);
  return a && a->has_f ? a->f : dflt;
}

const char *onnx_attr_string(onnx_importer *imp, const onnx_node *n,
                             const char *name) {
  const onnx_attr *a = onnx_find_attr(n, name);
  if (!a || !a->has_s)
    return NULL;
  return qir_intern(imp->ctx, (const char *)a->s.data, a->s.len);
}

int onnx_attr_ints(onnx_importer *imp, const onnx_node *n, const char *name,
                   int64_t *out, unsigned max) {
  const onnx_attr *a = onnx_find_attr(n, name);
  if (!a)
    return -1;
  if (a->n_ints > max) {
    onnx_error(imp, "attribute '%s' has %zu values; at most %u are allowed",
               name, a->n_ints, max);
    return -2;
  }
  if (a->n_ints) /* an empty list has no array (ints is NULL) */
    memcpy(out, a->ints, a->n_ints * sizeof *out);
  return (int)a->n_ints;
}

int onnx_attr_floats(onnx_importer *imp, const onnx_node *n, const char *name,
                     double *out, unsigned max) {
  const onnx_attr *a = onnx_find_attr(n, name);
  if (!a)
    return -1;
  if (a->n_floats > max) {
    onnx_error(imp, "attribute '%s' has %zu values; at most %u are allowed",
               name, a->n_floats, max);
    return -2;
  }
  for (size_t i = 0; i < a->n_floats; i++)
    out[i] = a->floats[i];
  return (int)a->n_floats;
}

/* ---- The tensor-name table ---------------------------------------------- */

static uint64_t hash_ptr(const void *p) {
  uint64_t h = (uint64_t)(uintptr_t)p;
  h ^= h >> 33;
  h *= 0xff51afd7ed558ccdULL;
  h ^= h >> 33;
  return h;
}

static onnx_binding *binding_slot(onnx_importer *imp, const char *name) {
  size_t mask = imp->names_cap - 1;
  for (size_t i = hash_ptr(name) & mask;; i = (i + 1) & mask)
    if (!imp->names[i].name || imp->names[i].name == name)
      return &imp->names[i];
}

static onnx_binding *binding_add(onnx_importer *imp, const char *name) {
  if (2 * (imp->names_len + 1) > imp->names_cap) {
    onnx_binding *old = imp->names;
    size_t old_cap = imp->names_cap;
    imp->names_cap = old_cap ? 2 * old_cap : 64;
    imp->names = qir_xcalloc(imp->names_cap, sizeof *imp->names);
    for (size_t i = 0; i < old_cap; i++)
      if (old[i].name)
        *binding_slot(imp, old[i].name) = old[i];
    free(old);
  }
  onnx_binding *b = binding_slot(imp, name);
  if (!b->name) {
    b->name = name;
    imp->names_len++;
  }
  return b;
}

static onnx_binding *binding_find(onnx_importer *imp, const char *name) {
  if (!imp->names_cap)
    return NULL;
  onnx_binding *b = binding_slot(imp, name);
  return b->name ? b : NULL;
}

/* ---- Value names -------------------------------------------------------- */

/* The taken value names: a set of interned pointers (open addressing). */
static bool name_taken(onnx_importer *imp, const char *name) {
  if (!imp->taken_cap)
    return false;
  size_t mask = imp->taken_cap - 1;
  for (size_t i = hash_ptr(name) & mask; imp->taken[i]; i = (i + 1) & mask)
    if (imp->taken[i] == name)
      return true;
  return false;
}

static void taken_insert(const char **set, size_t cap, const char *name) {
  size_t mask = cap - 1;
  size_t i = hash_ptr(name) & mask;
  while (set[i])
    i = (i + 1) & mask;
  set[i] = name;
}

static void take_name(onnx_importer *imp, const char *name) {
  if (2 * (imp->taken_len + 1) > imp->taken_cap) {
    size_t cap = imp->taken_cap ? 2 * imp->taken_cap : 64;
    const char **set = qir_xcalloc(cap, sizeof *set);
    for (size_t i = 0; i < imp->taken_cap; i++)
      if (imp->taken[i])
        taken_insert(set, cap, imp->taken[i]);
    free(imp->taken);
    imp->taken = set;
    imp->taken_cap = cap;
  }
  taken_insert(imp->taken, imp->taken_cap, name);
  imp->taken_len++;
}

static bool valid_name_char(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
         (c >= '0' && c <= '9') || c == '_' || c == '.' || c == '$' ||
         c == '-';
}

/* A unique qir value name for ONNX tensor name `orig`: invalid characters
 * become '_', an all-digit name (anonymous in .qir) gets a '_' in front, and
 * a taken name gets a numeric suffix. */
static const char *unique_value_name(onnx_importer *imp, const char *orig) {
  size_t len = strlen(orig);
  char *buf = qir_xmalloc(len + 32);
  bool digits = true;
  size_t j = 0;
  for (size_t i = 0; i < len; i++) {
    char c = valid_name_char(orig[i]) ? orig[i] : '_';
    digits = digits && c >= '0' && c <= '9';
    buf[j++] = c;
  }
  if (j == 0 || digits) {
    memmove(buf + 1, buf, j);
    buf[0] = '_';
    j++;
  }
  buf[j] = 0;
  const char *name = qir_intern(imp->ctx, buf, j);
  for (unsigned k = 1; name_taken(imp, name); k++) {
    snprintf(buf + j, 32, "_%u", k);
    name = qir_intern_cstr(imp->ctx, buf);
  }
  free(buf);
  take_name(imp, name);
  return name;
}

/* Records the original ONNX name of result `v` on its op when the value's
 * name had to change. */
static void record_onnx_name(onnx_importer *imp, qir_value *v,
                             const char *orig) {
  qir_op *op = qir_value_def(v);
  if (!op || strcmp(v->name, orig) == 0)
    return;
  if (op->num_results == 1) {
    qir_op_set_attr(op, "onnx.name", qir_attr_cstr(imp->ctx, orig));
    return;
  }
  const qir_attr *old = qir_op_get_attr(op, "onnx.names");
  const qir_attr **elems = qir_xcalloc(op->num_results, sizeof *elems);
  for (unsigned i = 0; i < op->num_results; i++) {
    if (old && old->kind == QIR_ATTR_ARRAY && i < old->u.array.n)
      elems[i] = old->u.array.elems[i];
    else
      elems[i] = qir_attr_cstr(imp->ctx, op->results[i].name
                                             ? op->results[i].name
                                             : "");
  }
  elems[v->index] = qir_attr_cstr(imp->ctx, orig);
  qir_op_set_attr(op, "onnx.names",
                  qir_attr_array(imp->ctx, op->num_results, elems));
  free(elems);
}

/* Names that the exporter invented for anonymous values. */
static bool is_anonymous(const char *name) {
  return strncmp(name, QIR_ONNX_ANON_PREFIX, strlen(QIR_ONNX_ANON_PREFIX)) ==
         0;
}

/* Makes ONNX tensor `name` refer to `v`, naming v after it when v has no
 * name yet. */
static bool bind_value(onnx_importer *imp, const char *name, qir_value *v) {
  const char *iname = qir_intern_cstr(imp->ctx, name);
  onnx_binding *b = binding_find(imp, iname);
  if (b && (b->value || b->init))
    return onnx_error(imp, "tensor '%s' is defined more than once", name);
  if (!v->name && v->kind == QIR_VALUE_RESULT && !is_anonymous(name)) {
    qir_value_set_name(imp->ctx, v, unique_value_name(imp, name));
    record_onnx_name(imp, v, name);
  }
  b = binding_add(imp, iname);
  b->value = v;
  return true;
}

/* The value of ONNX tensor `name`, materializing an initializer as a
 * constant on first use; NULL (no error) when unknown. */
static qir_value *lookup_value(onnx_importer *imp, const char *name,
                               bool *failed) {
  onnx_binding *b = binding_find(imp, qir_intern_cstr(imp->ctx, name));
  if (!b)
    return NULL;
  if (!b->value && b->init) {
    const qir_attr *dense = onnx_tensor_to_dense(imp, b->init);
    if (!dense) {
      *failed = true;
      return NULL;
    }
    qir_value *v = onnx_const(imp, dense);
    b->init = NULL;
    if (!is_anonymous(name)) {
      qir_value_set_name(imp->ctx, v, unique_value_name(imp, name));
      record_onnx_name(imp, v, name);
    }
    b->value = v;
  }
  return b->value;
}

/* ---- Building ops ------------------------------------------------------- */

qir_named_attr onnx_named(onnx_importer *imp, const char *name,
                          const qir_attr *a) {
  return qir_named(imp->ctx, name, a);
}

static void note_node(onnx_importer *imp) {
  if (!imp->node)
    return;
  char buf[32];
  qir_emit_note(imp->ctx, qir_loc_unknown(),
                "while importing ONNX node '%s' (%s)",
                node_label(imp->node, imp->node_index, buf, sizeof buf),
                onnx_str(imp->node->op_type));
}

/* Folds `op` when all its operands are constants (or it only reads
 * shapes); replaces it by constants in res[]. */
static bool try_fold(onnx_importer *imp, qir_op *op, qir_value **res) {
  const qir_op_def *def = op->def;
  if (!def->fold || (def->traits & QIR_TRAIT_CONSTANT))
    return false;
  /* Without general folding, integer (shape) computations still fold. */
  bool integer = true;
  for (unsigned i = 0; i < op->num_results; i++)
    integer = integer && !qir_scalar_is_float(op->results[i].type->scalar);
  if (!imp->fold && !integer && !(def->traits & QIR_TRAIT_SHAPE))
    return false;
  bool all_const = true;
  const qir_attr *stack_ops[8];
  const qir_attr **ops = op->num_operands <= 8
                             ? stack_ops
                             : qir_xcalloc(op->num_operands, sizeof *ops);
  for (unsigned i = 0; i < op->num_operands; i++) {
    ops[i] = qir_value_constant(qir_op_operand(op, i));
    all_const = all_const && ops[i];
  }
  bool folded = false;
  const qir_attr *outs[16];
  if ((all_const || (def->traits & QIR_TRAIT_SHAPE)) && op->num_results <= 16)
    folded = def->fold(op, ops, outs);
  if (ops != stack_ops)
    free(ops);
  if (!folded)
    return false;
  unsigned n = op->num_results;
  qir_op_erase(op);
  for (unsigned i = 0; i < n; i++)
    res[i] = onnx_const(imp, outs[i]);
  return true;
}

bool onnx_emit_multi(onnx_importer *imp, unsigned op_id, unsigned nops,
                     qir_value *const *ops, unsigned nattrs,
                     const qir_named_attr *attrs, unsigned nres,
                     const qir_type *const *types, qir_value **res) {
  const qir_op_def *def = qir_builtin_op(imp->ctx, op_id);
  QIR_ASSERT(def);
  qir_op *op = types ? qir_build_typed(&imp->b, def, nops, ops, nres, types,
                                       nattrs, attrs)
                     : qir_build(&imp->b, def, nops, ops, nattrs, attrs);
  if (!op) {
    note_node(imp);
    return false;
  }
  QIR_ASSERT(op->num_results == nres);
  if (try_fold(imp, op, res))
    return true;
  for (unsigned i = 0; i < nres; i++)
    res[i] = qir_op_result(op, i);
  return true;
}

qir_value *onnx_emit(onnx_importer *imp, unsigned op_id, unsigned nops,
                     qir_value *const *ops, unsigned nattrs,
                     const qir_named_attr *attrs) {
  qir_value *v = NULL;
  if (!onnx_emit_multi(imp, op_id, nops, ops, nattrs, attrs, 1, NULL, &v))
    return NULL;
  return v;
}

qir_value *onnx_emit_unary(onnx_importer *imp, unsigned op_id, qir_value *x) {
  return onnx_emit(imp, op_id, 1, &x, 0, NULL);
}

qir_value *onnx_emit_binary(onnx_importer *imp, unsigned op_id, qir_value *a,
                            qir_value *b) {
  qir_value *ops[2] = {a, b};
  return onnx_emit(imp, op_id, 2, ops, 0, NULL);
}

qir_value *onnx_emit_reshape(onnx_importer *imp, qir_value *x, unsigned rank,
                             const int64_t *dims) {
  if (x->type->rank == rank &&
      memcmp(x->type->dims, dims, rank * sizeof *dims) == 0)
    return x;
  qir_named_attr a = onnx_named(imp, "shape", qir_attr_ints(imp->ctx, rank,
                                                           dims));
  return onnx_emit(imp, QIR_OP_RESHAPE, 1, &x, 1, &a);
}

qir_value *onnx_emit_cast(onnx_importer *imp, qir_value *x, qir_scalar s) {
  if (x->type->scalar == s && !qir_tensor_is_quant(x->type))
    return x;
  const qir_type *t = qir_tensor_with_elem(imp->ctx, x->type,
                                           qir_scalar_type(imp->ctx, s));
  qir_value *v = NULL;
  if (!onnx_emit_multi(imp, QIR_OP_CAST, 1, &x, 0, NULL, 1, &t, &v))
    return NULL;
  return v;
}

qir_value *onnx_const(onnx_importer *imp, const qir_attr *dense) {
  return qir_build_constant(&imp->b, dense);
}

qir_value *onnx_const_i64s(onnx_importer *imp, unsigned n, const int64_t *v) {
  int64_t dims[1] = {n};
  const qir_type *t = qir_tensor_of(imp->ctx, QIR_I64, 1, dims);
  return onnx_const(imp, qir_attr_dense_from_i64(imp->ctx, t, v));
}

qir_value *onnx_const_scalar(onnx_importer *imp, qir_scalar s, double v) {
  const qir_type *t = qir_tensor_of(imp->ctx, s, 0, NULL);
  return onnx_const(imp, qir_attr_dense_from_f64(imp->ctx, t, &v));
}

static const qir_attr *constant_of(onnx_importer *imp, qir_value *v,
                                   const char *what) {
  const qir_attr *a = v ? qir_value_constant(v) : NULL;
  if (!a)
    onnx_error(imp,
               "input '%s' must be a constant; qir takes it as an attribute "
               "(fix the input shapes with --input-shapes so that shape "
               "computations fold)",
               what);
  return a;
}

int onnx_const_ints(onnx_importer *imp, qir_value *v, const char *what,
                    int64_t *out, unsigned max) {
  const qir_attr *a = constant_of(imp, v, what);
  if (!a)
    return -1;
  int64_t n = qir_dense_num_elements(a);
  if (qir_scalar_is_float(a->u.dense.type->scalar) || n > max) {
    onnx_error(imp, "input '%s' must hold at most %u integers", what, max);
    return -1;
  }
  for (int64_t i = 0; i < n; i++)
    out[i] = qir_dense_get_i64(a, i);
  return (int)n;
}

int onnx_const_floats(onnx_importer *imp, qir_value *v, const char *what,
                      double *out, unsigned max) {
  const qir_attr *a = constant_of(imp, v, what);
  if (!a)
    return -1;
  int64_t n = qir_dense_num_elements(a);
  if (n > max) {
    onnx_error(imp, "input '%s' must hold at most %u values", what, max);
    return -1;
  }
  for (int64_t i = 0; i < n; i++)
    out[i] = qir_dense_get_f64(a, i);
  return (int)n;
}

bool onnx_check_dims(onnx_importer *imp, const char *what, int n,
                     const int64_t *v) {
  for (int i = 0; i < n; i++)
    if (v[i] < 0 || v[i] > ONNX_MAX_TENSOR_ELEMENTS)
      return onnx_error(imp, "%s has an absurd value %lld", what,
                        (long long)v[i]);
  return true;
}

bool onnx_norm_axis(onnx_importer *imp, int64_t axis, unsigned rank,
                    int64_t *out) {
  if (axis < -(int64_t)rank || axis >= (int64_t)rank)
    return onnx_error(imp, "axis %lld is out of range for rank %u",
                      (long long)axis, rank);
  *out = axis < 0 ? axis + rank : axis;
  return true;
}

bool onnx_static_shape(onnx_importer *imp, qir_value *v, const char *what) {
  if (qir_tensor_is_static(v->type))
    return true;
  char buf[256];
  qir_type_format(v->type, buf, sizeof buf);
  return onnx_error(imp, "%s has a dynamic shape (%s); fix the input shapes "
                         "with --input-shapes",
                    what, buf);
}

/* ---- Checking the model ------------------------------------------------- */

static bool is_default_domain(const char *d) {
  return !d || !*d || strcmp(d, "ai.onnx") == 0;
}

static bool check_opset(onnx_importer *imp, const Onnx__ModelProto *m) {
  imp->opset = -1;
  for (size_t i = 0; i < m->n_opset_import; i++)
    if (is_default_domain(m->opset_import[i]->domain))
      imp->opset = m->opset_import[i]->version;
  if (imp->opset < 0) {
    qir_emit_error(imp->ctx, qir_loc_unknown(),
                   "'%s' does not import the default ONNX operator set",
                   imp->model_name);
    return false;
  }
  if (imp->opset < QIR_ONNX_MIN_OPSET || imp->opset > QIR_ONNX_MAX_OPSET) {
    qir_emit_error(imp->ctx, qir_loc_unknown(),
                   "'%s' uses ONNX opset %lld; qir supports opsets %d to %d",
                   imp->model_name, (long long)imp->opset, QIR_ONNX_MIN_OPSET,
                   QIR_ONNX_MAX_OPSET);
    return false;
  }
  return true;
}

/* A growing string for the lists in messages. */
typedef struct strbuf {
  char *s;
  size_t len, cap;
} strbuf;

static void sb_add(strbuf *b, const char *s) {
  size_t n = strlen(s);
  if (b->len + n + 1 > b->cap) {
    b->cap = 2 * (b->len + n + 1);
    b->s = qir_xrealloc(b->s, b->cap);
  }
  memcpy(b->s + b->len, s, n + 1);
  b->len += n;
}

static int cmp_str(const void *a, const void *b) {
  return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* Lists the distinct values of key(node) that pass `bad`, each with the
 * names of its nodes: "A (nodes: a1, a2), B (nodes: b1)". */
static char *list_nodes(const Onnx__GraphProto *g,
                        const char *(*key)(const onnx_node *),
                        bool (*bad)(const onnx_node *)) {
  const char **keys = qir_xcalloc(g->n_node + 1, sizeof *keys);
  size_t nkeys = 0;
  for (size_t i = 0; i < g->n_node; i++) {
    if (!bad(g->node[i]))
      continue;
    const char *k = key(g->node[i]);
    bool seen = false;
    for (size_t j = 0; j < nkeys && !seen; j++)
      seen = strcmp(keys[j], k) == 0;
    if (!seen)
      keys[nkeys++] = k;
  }
  if (!nkeys) {
    free(keys);
    return NULL;
  }
  qsort(keys, nkeys, sizeof *keys, cmp_str);
  strbuf sb = {0};
  for (size_t j = 0; j < nkeys; j++) {
    sb_add(&sb, j ? ", " : "");
    sb_add(&sb, keys[j]);
    sb_add(&sb, " (nodes: ");
    unsigned count = 0;
    for (size_t i = 0; i < g->n_node; i++) {
      if (!bad(g->node[i]) || strcmp(key(g->node[i]), keys[j]) != 0)
        continue;
      char buf[32];
      sb_add(&sb, count++ ? ", " : "");
      sb_add(&sb, node_label(g->node[i], (unsigned)i, buf, sizeof buf));
    }
    sb_add(&sb, ")");
  }
  free(keys);
  return sb.s;
}

static const char *node_domain(const onnx_node *n) {
  return onnx_str(n->domain);
}
static const char *node_type(const onnx_node *n) {
  return onnx_str(n->op_type);
}
/* ONNX Runtime's QuantizeLinear/DequantizeLinear of the com.microsoft
 * domain, which 16-bit QDQ models use, read as the default ones. */
static bool is_ms_qdq(const onnx_node *n) {
  return n->domain && strcmp(n->domain, QIR_ONNX_MS_DOMAIN) == 0 &&
         (strcmp(onnx_str(n->op_type), "QuantizeLinear") == 0 ||
          strcmp(onnx_str(n->op_type), "DequantizeLinear") == 0);
}
static bool has_custom_domain(const onnx_node *n) {
  return !is_default_domain(n->domain) && !is_ms_qdq(n);
}
static bool is_unsupported(const onnx_node *n) {
  return is_default_domain(n->domain) && !find_op(onnx_str(n->op_type));
}

static bool check_nodes(onnx_importer *imp, const Onnx__GraphProto *g) {
  bool ok = true;
  char *custom = list_nodes(g, node_domain, has_custom_domain);
  if (custom) {
    qir_emit_error(imp->ctx, qir_loc_unknown(),
                   "unsupported ONNX operator domains: %s", custom);
    free(custom);
    ok = false;
  }
  char *ops = list_nodes(g, node_type, is_unsupported);
  if (ops) {
    qir_emit_error(imp->ctx, qir_loc_unknown(),
                   "unsupported ONNX operators: %s", ops);
    free(ops);
    ok = false;
  }
  return ok;
}

/* ---- Graph inputs and --input-shapes ------------------------------------ */

typedef struct input_shape {
  char *name;
  unsigned rank;
  int64_t dims[QIR_MAX_RANK];
  bool used;
} input_shape;

static bool parse_dims(const char *s, size_t len, input_shape *is) {
  is->rank = 0;
  size_t i = 0;
  while (i < len) {
    if (is->rank == QIR_MAX_RANK || s[i] < '0' || s[i] > '9')
      return false;
    int64_t v = 0;
    while (i < len && s[i] >= '0' && s[i] <= '9') {
      v = v * 10 + (s[i++] - '0');
      if (v > ONNX_MAX_TENSOR_ELEMENTS)
        return false;
    }
    is->dims[is->rank++] = v;
    if (i < len && s[i++] != 'x')
      return false;
    if (i == len && s[len - 1] == 'x')
      return false;
  }
  return true;
}

/* Parses `x:1x3x64x64;y:1x16` (names may contain ':', the last one
 * separates the dims). */
static input_shape *parse_input_shapes(onnx_importer *imp, const char *spec,
                                       size_t *count) {
  *count = 0;
  if (!spec || !*spec)
    return NULL;
  size_t cap = 1;
  for (const char *p = spec; *p; p++)
    cap += *p == ';';
  input_shape *v = qir_xcalloc(cap, sizeof *v);
  const char *p = spec;
  while (*p) {
    const char *end = strchr(p, ';');
    size_t len = end ? (size_t)(end - p) : strlen(p);
    const char *colon = NULL;
    for (const char *q = p; q < p + len; q++)
      if (*q == ':')
        colon = q;
    input_shape *is = &v[*count];
    if (len == 0) {
      p += end ? 1 : 0;
      continue;
    }
    if (!colon || colon == p ||
        !parse_dims(colon + 1, (size_t)(p + len - colon - 1), is)) {
      qir_emit_error(imp->ctx, qir_loc_unknown(),
                     "invalid --input-shapes entry '%.*s'; expected "
                     "name:DIMxDIMx... such as x:1x3x224x224",
                     (int)len, p);
      for (size_t i = 0; i < *count; i++)
        free(v[i].name);
      free(v);
      *count = 0;
      return (input_shape *)-1;
    }
    is->name = qir_xmalloc((size_t)(colon - p) + 1);
    memcpy(is->name, p, (size_t)(colon - p));
    is->name[colon - p] = 0;
    (*count)++;
    p += len + (end ? 1 : 0);
  }
  return v;
}

static void format_dims(char *buf, size_t size, unsigned rank,
                        const int64_t *dims) {
  size_t n = 0;
  buf[0] = 0;
  for (unsigned i = 0; i < rank && n < size; i++) {
    int64_t d = dims[i];
    if (d == QIR_DYN)
      n += (size_t)snprintf(buf + n, size - n, "%s?", i ? "x" : "");
    else
      n += (size_t)snprintf(buf + n, size - n, "%s%lld", i ? "x" : "",
                            (long long)d);
  }
}

/* The type of graph input `vi`, with its --input-shapes entry applied. */
static const qir_type *input_type(onnx_importer *imp,
                                  const Onnx__ValueInfoProto *vi,
                                  input_shape *is) {
  const char *name = onnx_str(vi->name);
  const Onnx__TypeProto__Tensor *tt =
      vi->type && vi->type->value_case == ONNX__TYPE_PROTO__VALUE_TENSOR_TYPE
          ? vi->type->tensor_type
          : NULL;
  qir_scalar s;
  if (!tt || !tt->has_elem_type || !onnx_scalar_from_elem_type(tt->elem_type,
                                                               &s)) {
    qir_emit_error(imp->ctx, qir_loc_unknown(),
                   "input '%s' is not a tensor of a type qir supports (%s)",
                   name, tt ? onnx_elem_type_name(tt->elem_type) : "no type");
    return NULL;
  }
  int64_t dims[QIR_MAX_RANK];
  unsigned rank = 0;
  bool has_shape = tt->shape != NULL;
  if (has_shape) {
    if (tt->shape->n_dim > QIR_MAX_RANK) {
      qir_emit_error(imp->ctx, qir_loc_unknown(),
                     "input '%s' has rank %zu; qir supports at most %d", name,
                     tt->shape->n_dim, QIR_MAX_RANK);
      return NULL;
    }
    rank = (unsigned)tt->shape->n_dim;
    for (unsigned i = 0; i < rank; i++) {
      const Onnx__TensorShapeProto__Dimension *d = tt->shape->dim[i];
      bool known = d->value_case ==
                       ONNX__TENSOR_SHAPE_PROTO__DIMENSION__VALUE_DIM_VALUE &&
                   d->dim_value > 0;
      if (known && d->dim_value > ONNX_MAX_TENSOR_ELEMENTS) {
        qir_emit_error(imp->ctx, qir_loc_unknown(),
                       "input '%s' has an absurd dimension %lld", name,
                       (long long)d->dim_value);
        return NULL;
      }
      dims[i] = known ? d->dim_value : QIR_DYN;
    }
  }
  const qir_type *model_t = qir_tensor_of(imp->ctx, s, rank, dims);
  char mbuf[256];
  qir_type_format(model_t, mbuf, sizeof mbuf);
  if (is) {
    is->used = true;
    bool ok = !has_shape || is->rank == rank;
    for (unsigned i = 0; ok && i < rank; i++)
      ok = dims[i] == QIR_DYN || dims[i] == is->dims[i];
    if (!ok) {
      char gbuf[256];
      format_dims(gbuf, sizeof gbuf, is->rank, is->dims);
      qir_emit_error(imp->ctx, qir_loc_unknown(),
                     "--input-shapes gives input '%s' the shape %s, which "
                     "contradicts the model (%s)",
                     name, gbuf, mbuf);
      return NULL;
    }
    return qir_tensor_of(imp->ctx, s, is->rank, is->dims);
  }
  if (!has_shape || !qir_tensor_is_static(model_t)) {
    char sbuf[256];
    format_dims(sbuf, sizeof sbuf, rank, dims);
    if (!has_shape)
      qir_emit_error(imp->ctx, qir_loc_unknown(),
                     "input '%s' has no shape; give it with "
                     "--input-shapes='%s:...'",
                     name, name);
    else
      qir_emit_error(imp->ctx, qir_loc_unknown(),
                     "input '%s' has a dynamic dimension (%s); fix it with "
                     "--input-shapes='%s:%s', each ? replaced by a size",
                     name, mbuf, name, sbuf);
    return NULL;
  }
  return model_t;
}

static bool is_initializer(const Onnx__GraphProto *g, const char *name) {
  for (size_t i = 0; i < g->n_initializer; i++)
    if (strcmp(onnx_str(g->initializer[i]->name), name) == 0)
      return true;
  return false;
}

/* Creates @main with the graph inputs that are not initializers. */
static bool create_main(onnx_importer *imp, qir_module *m,
                        const Onnx__GraphProto *g, const char *shapes_spec) {
  size_t nshapes;
  input_shape *shapes = parse_input_shapes(imp, shapes_spec, &nshapes);
  if (shapes == (input_shape *)-1)
    return false;
  size_t n = g->n_input;
  const qir_type **types = qir_xcalloc(n + 1, sizeof *types);
  const char **names = qir_xcalloc(n + 1, sizeof *names);
  const char **orig = qir_xcalloc(n + 1, sizeof *orig);
  unsigned nargs = 0;
  bool ok = true;
  for (size_t i = 0; i < n; i++) {
    const char *name = onnx_str(g->input[i]->name);
    if (is_initializer(g, name))
      continue;
    input_shape *is = NULL;
    for (size_t j = 0; j < nshapes; j++)
      if (strcmp(shapes[j].name, name) == 0)
        is = &shapes[j];
    const qir_type *t = input_type(imp, g->input[i], is);
    ok = ok && t;
    types[nargs] = t;
    orig[nargs] = name;
    names[nargs++] = unique_value_name(imp, name);
  }
  for (size_t j = 0; j < nshapes; j++) {
    if (!shapes[j].used) {
      qir_emit_error(imp->ctx, qir_loc_unknown(),
                     "--input-shapes names '%s', which is not an input of the "
                     "model",
                     shapes[j].name);
      ok = false;
    }
    free(shapes[j].name);
  }
  free(shapes);
  if (ok) {
    imp->func = qir_func_create(m, "main", qir_loc_unknown(), nargs, types,
                                names, 0, NULL);
    ok = imp->func != NULL;
  }
  bool renamed = false;
  for (unsigned i = 0; ok && i < nargs; i++) {
    renamed = renamed || strcmp(names[i], orig[i]) != 0;
    onnx_binding *b = binding_add(imp, qir_intern_cstr(imp->ctx, orig[i]));
    b->value = imp->func->body.args[i];
  }
  if (ok && renamed) {
    const qir_attr **elems = qir_xcalloc(nargs, sizeof *elems);
    for (unsigned i = 0; i < nargs; i++)
      elems[i] = qir_attr_cstr(imp->ctx, orig[i]);
    qir_func_set_attr(imp->func, "onnx.inputs",
                      qir_attr_array(imp->ctx, nargs, elems));
    free(elems);
  }
  free(types);
  free(names);
  free(orig);
  return ok;
}

static bool register_initializers(onnx_importer *imp,
                                  const Onnx__GraphProto *g) {
  for (size_t i = 0; i < g->n_initializer; i++) {
    const char *name = qir_intern_cstr(imp->ctx,
                                       onnx_str(g->initializer[i]->name));
    onnx_binding *b = binding_add(imp, name);
    if (b->value || b->init) {
      qir_emit_error(imp->ctx, qir_loc_unknown(),
                     "initializer '%s' is defined more than once", name);
      return false;
    }
    b->init = g->initializer[i];
  }
  return true;
}

/* ---- Lowering the nodes ------------------------------------------------- */

static bool lower_node(onnx_importer *imp, const onnx_node *node) {
  const onnx_op_entry *e = find_op(onnx_str(node->op_type));
  QIR_ASSERT(e);
  if (node->n_input > e->max_inputs)
    return onnx_error(imp, "the node has %zu inputs; %s takes at most %u",
                      node->n_input, e->name, e->max_inputs);
  if (node->n_output == 0 || node->n_output > 64)
    return onnx_error(imp, "the node has %zu outputs", node->n_output);
  qir_value *in[1024] = {0};
  for (size_t i = 0; i < node->n_input; i++) {
    const char *name = onnx_str(node->input[i]);
    if (!*name)
      continue;
    bool failed = false;
    in[i] = lookup_value(imp, name, &failed);
    if (failed)
      return false;
    if (!in[i])
      return onnx_error(imp,
                        "input '%s' is not defined by an earlier node, a graph "
                        "input or an initializer",
                        name);
  }
  qir_value *out[64] = {0};
  if (!e->lower(imp, node, in, (unsigned)node->n_input, out))
    return false;
  for (size_t i = 0; i < node->n_output; i++) {
    const char *name = onnx_str(node->output[i]);
    if (!*name)
      continue;
    if (!out[i])
      return onnx_error(imp, "output %zu ('%s') is not supported", i, name);
    if (!qir_tensor_is_static(out[i]->type)) {
      char buf[256];
      qir_type_format(out[i]->type, buf, sizeof buf);
      return onnx_error(imp,
                        "the shape of output '%s' must be a constant but is "
                        "%s (fix the input shapes with --input-shapes so that "
                        "shape computations fold)",
                        name, buf);
    }
    if (!bind_value(imp, name, out[i]))
      return false;
  }
  return true;
}

static bool lower_outputs(onnx_importer *imp, const Onnx__GraphProto *g) {
  size_t n = g->n_output;
  qir_value **vals = qir_xcalloc(n + 1, sizeof *vals);
  const qir_type **types = qir_xcalloc(n + 1, sizeof *types);
  const qir_attr **names = qir_xcalloc(n + 1, sizeof *names);
  bool ok = true, renamed = false;
  imp->node = NULL;
  for (size_t i = 0; i < n && ok; i++) {
    const char *name = onnx_str(g->output[i]->name);
    bool failed = false;
    vals[i] = lookup_value(imp, name, &failed);
    if (!vals[i] && !failed)
      qir_emit_error(imp->ctx, qir_loc_unknown(),
                     "graph output '%s' is not defined by any node, input or "
                     "initializer",
                     name);
    ok = vals[i] != NULL;
    if (ok && !vals[i]->name && vals[i]->kind == QIR_VALUE_RESULT &&
        !is_anonymous(name)) {
      qir_value_set_name(imp->ctx, vals[i], unique_value_name(imp, name));
      record_onnx_name(imp, vals[i], name);
    }
    if (ok) {
      types[i] = vals[i]->type;
      names[i] = qir_attr_cstr(imp->ctx, name);
      renamed = renamed || (!is_anonymous(name) &&
                            (!vals[i]->name ||
                             strcmp(vals[i]->name, name) != 0));
    }
  }
  if (ok) {
    qir_build_typed(&imp->b, qir_builtin_op(imp->ctx, QIR_OP_RETURN),
                    (unsigned)n, vals, 0, NULL, 0, NULL);
    qir_func_set_result_types(imp->func, (unsigned)n, types);
    if (renamed)
      qir_func_set_attr(imp->func, "onnx.outputs",
                        qir_attr_array(imp->ctx, (unsigned)n, names));
  }
  free(vals);
  free(types);
  free(names);
  return ok;
}

/* Removes pure ops whose results are unused: the constants of folded
 * shape sub-graphs and dead ONNX nodes. */
static void erase_dead_ops(qir_func *f) {
  for (qir_op *op = f->body.last, *prev; op; op = prev) {
    prev = op->prev;
    if (!qir_op_has_trait(op, QIR_TRAIT_PURE))
      continue;
    bool used = false;
    for (unsigned i = 0; i < op->num_results && !used; i++)
      used = qir_value_has_uses(qir_op_result(op, i));
    if (!used)
      qir_op_erase(op);
  }
}

/* Moves every constant right before its first user, in operand order, so
 * that the text does not depend on where the model put its Constant nodes
 * and initializers (an exported and re-imported model prints the same). */
static void place_constants(qir_func *f) {
  for (qir_op *op = f->body.first; op; op = op->next) {
    if (qir_op_is(op, QIR_OP_CONSTANT))
      continue;
    for (unsigned i = 0; i < op->num_operands; i++) {
      qir_op *def = qir_value_def(qir_op_operand(op, i));
      if (def && qir_op_is(def, QIR_OP_CONSTANT) && !def->aux) {
        def->aux = 1;
        qir_op_move_before(op, def);
      }
    }
  }
  qir_foreach_op(op, &f->body) op->aux = 0;
}

static bool import_graph(onnx_importer *imp, qir_module *m,
                         const Onnx__ModelProto *model,
                         const qir_onnx_import_options *o) {
  const Onnx__GraphProto *g = model->graph;
  if (!check_opset(imp, model) || !check_nodes(imp, g))
    return false;
  if (!register_initializers(imp, g) ||
      !create_main(imp, m, g, o ? o->input_shapes : NULL))
    return false;
  qir_builder_init(&imp->b, imp->ctx);
  qir_builder_set_end(&imp->b, &imp->func->body);
  for (size_t i = 0; i < g->n_node; i++) {
    imp->node = g->node[i];
    imp->node_index = (unsigned)i;
    if (!lower_node(imp, g->node[i]))
      return false;
  }
  imp->node = NULL;
  if (!lower_outputs(imp, g))
    return false;
  if (imp->saw_qdq && !(o && o->keep_qdq))
    qir_onnx_fold_qdq(imp->ctx, imp->func);
  erase_dead_ops(imp->func);
  place_constants(imp->func);
  return true;
}

static void set_module_info(qir_module *m, const Onnx__ModelProto *model) {
  qir_context *ctx = m->ctx;
  qir_module_set_attr(m, "producer", qir_attr_cstr(ctx, "onnx"));
  const char *gname = model->graph->name;
  if (gname && *gname) {
    size_t len = strlen(gname);
    char *buf = qir_xmalloc(len + 2);
    for (size_t i = 0; i <= len; i++)
      buf[i] = i < len && !valid_name_char(gname[i]) ? '_' : gname[i];
    m->name = qir_intern_cstr(ctx, buf);
    free(buf);
  }
}

qir_module *qir_onnx_import_buffer(qir_context *ctx, const char *name,
                                   const void *buf, size_t len,
                                   const char *base_dir,
                                   const qir_onnx_import_options *o) {
  qir_onnx_import_options dflt;
  if (!o) {
    qir_onnx_import_options_init(&dflt);
    o = &dflt;
  }
  if (len > ONNX_MAX_FILE_BYTES) {
    qir_emit_error(ctx, qir_loc_unknown(),
                   "'%s' is larger than 2 GiB; store the weights as external "
                   "data",
                   name);
    return NULL;
  }
  Onnx__ModelProto *model = onnx__model_proto__unpack(NULL, len, buf);
  if (!model || !model->graph) {
    qir_emit_error(ctx, qir_loc_unknown(),
                   "'%s' is not a valid ONNX model (truncated or corrupted "
                   "protobuf)",
                   name);
    if (model)
      onnx__model_proto__free_unpacked(model, NULL);
    return NULL;
  }
  onnx_importer imp = {.ctx = ctx, .model_name = name, .base_dir = base_dir,
                       .fold = o->fold_constants};
  qir_module *m = qir_module_create(ctx);
  bool ok = import_graph(&imp, m, model, o);
  if (ok) {
    set_module_info(m, model);
    ok = qir_verify_module(m);
  }
  free(imp.names);
  free(imp.taken);
  onnx__model_proto__free_unpacked(model, NULL);
  if (!ok) {
    qir_module_destroy(m);
    return NULL;
  }
  return m;
}

qir_module *qir_onnx_import_file(qir_context *ctx, const char *path,
                                 const qir_onnx_import_options *o) {
  size_t len = 0;
  char *buf = qir_read_file(ctx, path, &len);
  if (!buf)
    return NULL;
  char *dir = qir_xstrdup(path);
  char *slash = strrchr(dir, '/');
  if (slash)
    slash[slash == dir ? 1 : 0] = 0;
  else
    strcpy(dir, ".");
  qir_module *m = qir_onnx_import_buffer(ctx, path, buf, len, dir, o);
  free(dir);
  free(buf);
  return m;
}
