/* passes/constant-patch.c - applies a patch config to a module: the
 * const_processors, op_processors and input_shapes of vendor toolchain
 * configs (docs/Optimization.md has the format):
 *
 *   {"const_processors": [{"name": "shape", "data": [-1, 96, 48]}],
 *    "op_processors": [{"name": "pool6", "attrs": {"ceil_mode": 1}}],
 *    "input_shapes": {"x": [1, 3, 640, 640]}}
 *
 * Every change is logged as a remark; an unknown name, a value of the
 * wrong type or a shape that cannot be is an error.  After input shapes
 * change, result types are inferred again (as shape-infer does). */
#include <json-c/json.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "passes/passes.h"

typedef struct patcher {
  qir_pass *pass;
  qir_context *ctx;
  qir_module *m;
  const char *path; /* the config, for messages */
  qir_loc loc;      /* the config file as a location */
} patcher;

static bool fail(patcher *p, const char *fmt, ...) QIR_PRINTF(2, 3);
static bool fail(patcher *p, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  char msg[512];
  vsnprintf(msg, sizeof msg, fmt, ap);
  va_end(ap);
  qir_emit_error(p->ctx, p->loc, "constant-patch: %s", msg);
  return false;
}

static void logged(patcher *p, const char *stat, const char *fmt, ...)
    QIR_PRINTF(3, 4);
static void logged(patcher *p, const char *stat, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  char msg[512];
  vsnprintf(msg, sizeof msg, fmt, ap);
  va_end(ap);
  qir_emit_remark(p->ctx, p->loc, "constant-patch: %s", msg);
  qir_pass_stat(p->pass, stat, 1);
}

/* ---- Finding things by name ---------------------------------------------- */

/* The op whose first result is named `name`, or whose onnx.name is. */
static qir_op *find_op(qir_module *m, const char *name) {
  qir_foreach_func(f, m) {
    qir_foreach_op(op, &f->body) {
      if (op->num_results && op->results[0].name &&
          !strcmp(op->results[0].name, name))
        return op;
      const char *onnx = qir_op_get_string(op, "onnx.name");
      if (onnx && !strcmp(onnx, name))
        return op;
    }
  }
  return NULL;
}

static qir_value *find_input(qir_module *m, const char *name) {
  qir_foreach_func(f, m) {
    for (unsigned i = 0; i < f->body.num_args; i++) {
      qir_value *a = f->body.args[i];
      if (a->name && !strcmp(a->name, name))
        return a;
    }
  }
  return NULL;
}

static bool is_number(json_object *j) {
  return json_object_is_type(j, json_type_int) ||
         json_object_is_type(j, json_type_double);
}

/* ---- const_processors ---------------------------------------------------- */

/* The entry's "data" as doubles (one per element of type t). */
static bool read_const_data(patcher *p, const char *name, json_object *data,
                            const qir_type *t, double *out, int64_t n) {
  if (!json_object_is_type(data, json_type_array))
    return fail(p, "the data of constant '%s' must be an array of numbers",
                name);
  int64_t len = (int64_t)json_object_array_length(data);
  if (len != n)
    return fail(p, "constant '%s' has %lld elements but the data has %lld",
                name, (long long)n, (long long)len);
  bool is_float = qir_scalar_is_float(t->scalar);
  for (int64_t i = 0; i < n; i++) {
    json_object *e = json_object_array_get_idx(data, (size_t)i);
    if (!is_number(e) ||
        (!is_float && !json_object_is_type(e, json_type_int)))
      return fail(p, "element %lld of the data of constant '%s' is not %s",
                  (long long)i, name, is_float ? "a number" : "an integer");
    out[i] = json_object_get_double(e);
  }
  return true;
}

static bool patch_const(patcher *p, json_object *entry) {
  json_object *jn, *jd;
  if (!json_object_object_get_ex(entry, "name", &jn) ||
      !json_object_is_type(jn, json_type_string) ||
      !json_object_object_get_ex(entry, "data", &jd))
    return fail(p, "each of const_processors needs a \"name\" and \"data\"");
  const char *name = json_object_get_string(jn);
  qir_op *op = find_op(p->m, name);
  if (!op || !qir_op_is(op, QIR_OP_CONSTANT))
    return fail(p, "no constant named '%s'", name);
  const qir_type *t = op->results[0].type;
  if (qir_tensor_is_quant(t))
    return fail(p, "constant '%s' is quantized; patch its float source",
                name);
  int64_t n = qir_tensor_num_elements(t);
  double *v = qir_xcalloc((size_t)(n > 0 ? n : 1), sizeof *v);
  bool ok = read_const_data(p, name, jd, t, v, n);
  if (ok) {
    qir_op_set_attr(op, "value", qir_attr_dense_from_f64(p->ctx, t, v));
    logged(p, "constants replaced", "set the data of constant %s (%lld elements)",
           name, (long long)n);
  }
  free(v);
  return ok;
}

/* ---- op_processors ------------------------------------------------------- */

static const char *kind_name(qir_attr_kind k) {
  switch (k) {
  case QIR_ATTR_INT: return "an integer";
  case QIR_ATTR_FLOAT: return "a float";
  case QIR_ATTR_BOOL: return "a bool";
  case QIR_ATTR_STRING: return "a string";
  case QIR_ATTR_ARRAY: return "an array";
  default: return "not settable from a config";
  }
}

/* An array attribute from a JSON array of numbers (ints when all are). */
static const qir_attr *array_attr(patcher *p, json_object *j) {
  size_t n = json_object_array_length(j);
  if (n > 64)
    return NULL;
  bool all_int = true;
  for (size_t i = 0; i < n; i++) {
    json_object *e = json_object_array_get_idx(j, i);
    if (!is_number(e))
      return NULL;
    all_int &= json_object_is_type(e, json_type_int);
  }
  int64_t iv[64];
  double fv[64];
  for (size_t i = 0; i < n; i++) {
    json_object *e = json_object_array_get_idx(j, i);
    iv[i] = json_object_get_int64(e);
    fv[i] = json_object_get_double(e);
  }
  return all_int ? qir_attr_ints(p->ctx, (unsigned)n, iv)
                 : qir_attr_floats(p->ctx, (unsigned)n, fv);
}

/* The attribute for a JSON value; NULL for a value no attribute holds. */
static const qir_attr *json_attr(patcher *p, json_object *j) {
  switch (json_object_get_type(j)) {
  case json_type_int: return qir_attr_int(p->ctx, json_object_get_int64(j));
  case json_type_double:
    return qir_attr_float(p->ctx, json_object_get_double(j));
  case json_type_boolean:
    return qir_attr_bool(p->ctx, json_object_get_boolean(j));
  case json_type_string:
    return qir_attr_cstr(p->ctx, json_object_get_string(j));
  case json_type_array: return array_attr(p, j);
  default: return NULL;
  }
}

/* The new value must keep the kind of the attribute it replaces; an
 * integer may stand for a float. */
static const qir_attr *converted(patcher *p, const qir_attr *old,
                                 const qir_attr *v) {
  if (!old || old->kind == v->kind)
    return v;
  if (old->kind == QIR_ATTR_FLOAT && v->kind == QIR_ATTR_INT)
    return qir_attr_float(p->ctx, (double)v->u.i);
  return NULL;
}

static bool set_op_attr(patcher *p, qir_op *op, const char *opname,
                        const char *key, json_object *jv) {
  const qir_attr *v = json_attr(p, jv);
  if (!v)
    return fail(p, "the value of attribute %s of %s is not a number, bool, "
                   "string or array of numbers", key, opname);
  const qir_attr *old = qir_op_get_attr(op, key);
  const qir_attr *nv = converted(p, old, v);
  if (!nv)
    return fail(p, "attribute %s of %s is %s, not %s", key, opname,
                kind_name(old->kind), kind_name(v->kind));
  qir_op_set_attr(op, key, nv);
  logged(p, "attributes set", "set attr %s of %s to %s", key, opname,
         json_object_to_json_string_ext(jv, JSON_C_TO_STRING_PLAIN));
  return true;
}

static bool patch_op(patcher *p, json_object *entry) {
  json_object *jn, *ja;
  if (!json_object_object_get_ex(entry, "name", &jn) ||
      !json_object_is_type(jn, json_type_string) ||
      !json_object_object_get_ex(entry, "attrs", &ja) ||
      !json_object_is_type(ja, json_type_object))
    return fail(p, "each of op_processors needs a \"name\" and an \"attrs\" "
                   "object");
  const char *name = json_object_get_string(jn);
  qir_op *op = find_op(p->m, name);
  if (!op)
    return fail(p, "no op named '%s'", name);
  json_object_object_foreach(ja, key, jv) {
    if (!set_op_attr(p, op, name, key, jv))
      return false;
  }
  /* The op's own rules; its result types follow in reinfer(). */
  if (op->def->verify && !op->def->verify(op))
    return fail(p, "the patched op %s is not valid", name);
  return true;
}

/* ---- input_shapes --------------------------------------------------------- */

static bool read_shape(patcher *p, const char *name, json_object *j,
                       int64_t *dims, unsigned *rank) {
  if (!json_object_is_type(j, json_type_array) ||
      json_object_array_length(j) > QIR_MAX_RANK)
    return fail(p, "the shape of input '%s' must be an array of at most %d "
                   "dims", name, QIR_MAX_RANK);
  *rank = (unsigned)json_object_array_length(j);
  for (unsigned i = 0; i < *rank; i++) {
    json_object *e = json_object_array_get_idx(j, i);
    int64_t d = json_object_get_int64(e);
    if (!json_object_is_type(e, json_type_int) || d < -1)
      return fail(p, "dim %u of the shape of input '%s' must be a size or "
                     "-1 (dynamic)", i, name);
    dims[i] = d < 0 ? QIR_DYN : d;
  }
  return true;
}

static bool patch_input(patcher *p, const char *name, json_object *j) {
  qir_value *arg = find_input(p->m, name);
  if (!arg)
    return fail(p, "no input named '%s'", name);
  int64_t dims[QIR_MAX_RANK];
  unsigned rank = 0;
  if (!read_shape(p, name, j, dims, &rank))
    return false;
  const qir_type *t = arg->type;
  if (!qir_type_is_tensor(t) || t->rank != rank)
    return fail(p, "input '%s' has rank %u, the new shape has rank %u", name,
                qir_type_is_tensor(t) ? t->rank : 0, rank);
  const qir_type *nt = qir_tensor_with_dims(p->ctx, t, rank, dims);
  if (!nt || (qir_tensor_is_static(nt) && qir_tensor_num_elements(nt) < 0))
    return fail(p, "the new shape of input '%s' is too large", name);
  char before[128], after[128];
  qir_type_format(t, before, sizeof before);
  qir_type_format(nt, after, sizeof after);
  qir_value_set_type(arg, nt);
  logged(p, "input shapes changed", "set the type of input %s from %s to %s",
         name, before, after);
  return true;
}

/* Infers every result type again (input shapes and attributes such as
 * ceil_mode change them); an op that cannot take its new operands or
 * attributes has said why. */
static bool reinfer(patcher *p) {
  qir_foreach_func(f, p->m) {
    if (!qir_pass_run_shape_infer(p->pass, f))
      return fail(p, "the patched module does not fit @%s (see above)",
                  f->name);
  }
  return true;
}

/* ---- Driver ----------------------------------------------------------------- */

static bool apply_list(patcher *p, json_object *root, const char *key,
                       bool (*fn)(patcher *, json_object *)) {
  json_object *list;
  if (!json_object_object_get_ex(root, key, &list))
    return true;
  if (!json_object_is_type(list, json_type_array))
    return fail(p, "\"%s\" must be an array", key);
  for (size_t i = 0; i < json_object_array_length(list); i++) {
    json_object *e = json_object_array_get_idx(list, i);
    if (!json_object_is_type(e, json_type_object))
      return fail(p, "each of %s must be an object", key);
    if (!fn(p, e))
      return false;
  }
  return true;
}

static bool apply_input_shapes(patcher *p, json_object *root) {
  json_object *shapes;
  if (!json_object_object_get_ex(root, "input_shapes", &shapes))
    return true;
  if (!json_object_is_type(shapes, json_type_object))
    return fail(p, "\"input_shapes\" must be an object of name: shape");
  json_object_object_foreach(shapes, name, shape) {
    if (!patch_input(p, name, shape))
      return false;
  }
  return true;
}

static bool check_keys(patcher *p, json_object *root) {
  json_object_object_foreach(root, key, v) {
    (void)v;
    if (strcmp(key, "const_processors") && strcmp(key, "op_processors") &&
        strcmp(key, "input_shapes"))
      return fail(p, "unknown key \"%s\" (expected const_processors, "
                     "op_processors or input_shapes)", key);
  }
  return true;
}

static json_object *parse_config(patcher *p) {
  size_t len;
  char *text = qir_read_file(p->ctx, p->path, &len);
  if (!text)
    return NULL;
  json_tokener *tok = json_tokener_new();
  json_object *root = json_tokener_parse_ex(tok, text, (int)len);
  enum json_tokener_error err = json_tokener_get_error(tok);
  if (!root || err != json_tokener_success) {
    fail(p, "'%s' is not valid JSON: %s", p->path,
         json_tokener_error_desc(err == json_tokener_success
                                     ? json_tokener_error_parse_eof
                                     : err));
    json_object_put(root);
    root = NULL;
  } else if (!json_object_is_type(root, json_type_object)) {
    fail(p, "'%s' must hold a JSON object", p->path);
    json_object_put(root);
    root = NULL;
  }
  json_tokener_free(tok);
  free(text);
  return root;
}

bool qir_pass_run_constant_patch(qir_pass *pass, void *unit_ir) {
  patcher p = {pass, qir_pass_context(pass), unit_ir,
               qir_pass_opt_string(pass, "config"), qir_loc_unknown()};
  if (!p.path || !*p.path)
    return fail(&p, "no config given (constant-patch{config=patch.json})");
  p.loc = qir_loc_make(p.ctx, p.path, 0, 0);
  json_object *root = parse_config(&p);
  if (!root)
    return false;
  bool ok = check_keys(&p, root) &&
            apply_list(&p, root, "const_processors", patch_const) &&
            apply_list(&p, root, "op_processors", patch_op) &&
            apply_input_shapes(&p, root) && reinfer(&p);
  json_object_put(root);
  return ok;
}
