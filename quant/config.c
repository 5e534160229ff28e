/* quant/config.c - mixed precision configs (pulsar2-style layer_configs
 * in JSON): reading, matching layers (layer > op type > subgraph), the
 * applied-config table, and writing a config back (auto mixed precision).
 * docs/Quantization.md, "Mixed precision", gives the format. */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <json-c/json.h>

#include "quant/quant.h"

static const char *const prec_names[] = {"default", "int8", "int16", "float"};

const char *qq_prec_name(qq_prec p) { return prec_names[p]; }

bool qq_prec_from_name(const char *s, qq_prec *out) {
  static const struct {
    const char *name;
    qq_prec p;
  } names[] = {{"int8", QQ_PREC_INT8},   {"s8", QQ_PREC_INT8},
               {"u8", QQ_PREC_INT8},     {"int16", QQ_PREC_INT16},
               {"s16", QQ_PREC_INT16},   {"u16", QQ_PREC_INT16},
               {"float", QQ_PREC_FLOAT}, {"fp32", QQ_PREC_FLOAT},
               {"float32", QQ_PREC_FLOAT}};
  for (unsigned i = 0; i < sizeof names / sizeof *names; i++)
    if (!strcasecmp(s, names[i].name)) {
      *out = names[i].p;
      return true;
    }
  return false;
}

/* ---- Reading ------------------------------------------------------------ */

typedef struct reader {
  qir_context *ctx;
  qir_loc loc;
  const char *path;
} reader;

/* A string or an array of strings into an arena array. */
static bool read_names(reader *r, unsigned idx, const char *key,
                       json_object *v, const char ***out, unsigned *n) {
  unsigned cnt = json_object_is_type(v, json_type_array)
                     ? (unsigned)json_object_array_length(v)
                     : 1;
  const char **names = qir_arena_alloc(r->ctx, (cnt ? cnt : 1) * sizeof *names);
  for (unsigned i = 0; i < cnt; i++) {
    json_object *e = json_object_is_type(v, json_type_array)
                         ? json_object_array_get_idx(v, i)
                         : v;
    if (!json_object_is_type(e, json_type_string)) {
      qir_emit_error(r->ctx, r->loc, "layer_configs[%u]: '%s' must be a "
                     "string or an array of strings", idx, key);
      return false;
    }
    names[i] = qir_intern_cstr(r->ctx, json_object_get_string(e));
  }
  *out = names;
  *n = cnt;
  return true;
}

static bool read_prec(reader *r, const char *where, json_object *v,
                      qq_prec *out) {
  const char *s = json_object_is_type(v, json_type_string)
                      ? json_object_get_string(v)
                      : "";
  if (qq_prec_from_name(s, out))
    return true;
  qir_emit_error(r->ctx, r->loc, "%s: unknown data type '%s' (expected "
                 "int8, int16 or float)", where, s);
  return false;
}

static bool read_rule(reader *r, unsigned idx, json_object *e, qq_rule *rule) {
  memset(rule, 0, sizeof *rule);
  rule->line_index = idx;
  char where[48];
  snprintf(where, sizeof where, "layer_configs[%u]", idx);
  if (!json_object_is_type(e, json_type_object)) {
    qir_emit_error(r->ctx, r->loc, "%s: expected an object", where);
    return false;
  }
  bool has_prec = false;
  json_object_object_foreach(e, key, val) {
    bool ok = true;
    if (!strcmp(key, "layer_name") || !strcmp(key, "layer_names")) {
      rule->kind = QQ_RULE_LAYER;
      ok = read_names(r, idx, key, val, &rule->names, &rule->num_names);
    } else if (!strcmp(key, "op_type") || !strcmp(key, "op_types")) {
      rule->kind = QQ_RULE_OP_TYPE;
      ok = read_names(r, idx, key, val, &rule->names, &rule->num_names);
    } else if (!strcmp(key, "start_tensor_names")) {
      ok = read_names(r, idx, key, val, &rule->starts, &rule->num_starts);
    } else if (!strcmp(key, "end_tensor_names")) {
      ok = read_names(r, idx, key, val, &rule->ends, &rule->num_ends);
    } else if (!strcmp(key, "data_type")) {
      ok = read_prec(r, where, val, &rule->prec);
      has_prec = true;
    } else {
      qir_emit_error(r->ctx, r->loc, "%s: unknown key '%s'", where, key);
      ok = false;
    }
    if (!ok)
      return false;
  }
  if (rule->kind == QQ_RULE_NONE && rule->num_starts && rule->num_ends)
    rule->kind = QQ_RULE_SUBGRAPH;
  if (rule->kind == QQ_RULE_NONE) {
    qir_emit_error(r->ctx, r->loc, "%s: needs layer_name, op_type, or both "
                   "start_tensor_names and end_tensor_names", where);
    return false;
  }
  if (!has_prec) {
    qir_emit_error(r->ctx, r->loc, "%s: needs a data_type", where);
    return false;
  }
  return true;
}

static bool read_root(reader *r, json_object *root, qq_config *c) {
  json_object *arr = NULL;
  if (!json_object_is_type(root, json_type_object) ||
      !json_object_object_get_ex(root, "layer_configs", &arr) ||
      !json_object_is_type(arr, json_type_array)) {
    qir_emit_error(r->ctx, r->loc, "expected an object with a "
                   "'layer_configs' array");
    return false;
  }
  json_object *out;
  if (json_object_object_get_ex(root, "output_data_type", &out) &&
      !read_prec(r, "output_data_type", out, &c->output_prec))
    return false;
  c->num_rules = (unsigned)json_object_array_length(arr);
  c->rules = qir_xcalloc(c->num_rules + 1, sizeof *c->rules);
  for (unsigned i = 0; i < c->num_rules; i++)
    if (!read_rule(r, i, json_object_array_get_idx(arr, i), &c->rules[i]))
      return false;
  return true;
}

bool qq_config_load(qir_context *ctx, const char *path, qq_config *c) {
  memset(c, 0, sizeof *c);
  size_t len;
  char *text = qir_read_file(ctx, path, &len);
  if (!text)
    return false;
  reader r = {ctx, qir_loc_make(ctx, path, 0, 0), path};
  enum json_tokener_error jerr;
  json_object *root = json_tokener_parse_verbose(text, &jerr);
  free(text);
  if (!root) {
    qir_emit_error(ctx, r.loc, "invalid JSON: %s",
                   json_tokener_error_desc(jerr));
    return false;
  }
  bool ok = read_root(&r, root, c);
  json_object_put(root);
  if (!ok)
    qq_config_free(c);
  return ok;
}

void qq_config_free(qq_config *c) {
  free(c->rules);
  c->rules = NULL;
  c->num_rules = 0;
}

/* ---- Matching ----------------------------------------------------------- */

/* The names an op answers to: each result's name and its onnx.name. */
static bool op_has_name(const qir_op *op, const char *name) {
  for (unsigned r = 0; r < op->num_results; r++)
    if (op->results[r].name && !strcmp(op->results[r].name, name))
      return true;
  const char *onnx = qir_op_get_string(op, "onnx.name");
  return onnx && !strcmp(onnx, name);
}

static bool value_has_name(const qir_value *v, const char *name) {
  if (v->name && !strcmp(v->name, name))
    return true;
  const qir_op *def = qir_value_def(v);
  const char *onnx = def && def->num_results == 1
                         ? qir_op_get_string(def, "onnx.name")
                         : NULL;
  return onnx && !strcmp(onnx, name);
}

static bool is_layer(const qir_op *op) {
  return !qir_op_is(op, QIR_OP_CONSTANT) && !qir_op_is(op, QIR_OP_RETURN);
}

static unsigned body_size(const qir_func *f) { return f->body.num_ops; }

static void set_prec(qq_prec *precs, const qq_rule **why, unsigned k,
                     const qq_rule *rule) {
  /* Higher kinds never lose to lower ones (layer > op type > subgraph);
   * among equals the later entry wins. */
  static const int rank[] = {0, 3, 2, 1};
  if (why[k] && rank[why[k]->kind] > rank[rule->kind])
    return;
  precs[k] = rule->prec;
  why[k] = rule;
}

static bool find_value(qir_func *f, const char *name) {
  for (unsigned i = 0; i < f->body.num_args; i++)
    if (value_has_name(f->body.args[i], name))
      return true;
  qir_foreach_op(op, &f->body) for (unsigned r = 0; r < op->num_results; r++)
      if (value_has_name(&op->results[r], name))
    return true;
  return false;
}

static bool names_exist(qir_func *f, const qq_rule *rule, const char **names,
                        unsigned n, const char *what) {
  for (unsigned i = 0; i < n; i++)
    if (!find_value(f, names[i])) {
      qir_emit_error(f->module->ctx, f->loc, "layer_configs[%u]: no tensor "
                     "named '%s' (%s)", rule->line_index, names[i], what);
      return false;
    }
  return true;
}

static bool uses_marked(const qir_op *op, const bool *fwd,
                        const qq_rule *rule) {
  for (unsigned i = 0; i < op->num_operands; i++) {
    const qir_value *v = qir_op_operand(op, i);
    for (unsigned s = 0; s < rule->num_starts; s++)
      if (value_has_name(v, rule->starts[s]))
        return true;
    const qir_op *d = qir_value_def(v);
    if (d && fwd[d->aux - 1])
      return true;
  }
  return false;
}

static bool result_is_end(const qir_op *op, const qq_rule *rule) {
  for (unsigned r = 0; r < op->num_results; r++)
    for (unsigned e = 0; e < rule->num_ends; e++)
      if (value_has_name(&op->results[r], rule->ends[e]))
        return true;
  return false;
}

static bool feeds_marked(const qir_op *op, const bool *bwd) {
  for (unsigned r = 0; r < op->num_results; r++)
    for (const qir_use *u = op->results[r].uses; u; u = u->next)
      if (u->owner->aux > 0 && bwd[u->owner->aux - 1])
        return true;
  return false;
}

/* The ops after the start tensors and up to the end tensors. */
static bool apply_subgraph(qir_func *f, qir_op **ops, unsigned n,
                           const qq_rule *rule, qq_prec *precs,
                           const qq_rule **why) {
  if (!names_exist(f, rule, rule->starts, rule->num_starts, "start") ||
      !names_exist(f, rule, rule->ends, rule->num_ends, "end"))
    return false;
  bool *fwd = qir_xcalloc(n + 1, 1), *bwd = qir_xcalloc(n + 1, 1);
  for (unsigned k = 0; k < n; k++)
    fwd[k] = is_layer(ops[k]) && uses_marked(ops[k], fwd, rule);
  for (unsigned k = n; k-- > 0;)
    bwd[k] = is_layer(ops[k]) && (result_is_end(ops[k], rule) ||
                                  feeds_marked(ops[k], bwd));
  unsigned hits = 0;
  for (unsigned k = 0; k < n; k++)
    if (fwd[k] && bwd[k]) {
      set_prec(precs, why, k, rule);
      hits++;
    }
  free(fwd);
  free(bwd);
  if (!hits)
    qir_emit_error(f->module->ctx, f->loc, "layer_configs[%u]: no op lies "
                   "between the start and end tensors", rule->line_index);
  return hits > 0;
}

static bool apply_names(qir_func *f, qir_op **ops, unsigned n,
                        const qq_rule *rule, qq_prec *precs,
                        const qq_rule **why) {
  bool by_type = rule->kind == QQ_RULE_OP_TYPE;
  for (unsigned i = 0; i < rule->num_names; i++) {
    unsigned hits = 0;
    for (unsigned k = 0; k < n; k++) {
      if (!is_layer(ops[k]))
        continue;
      bool m = by_type ? !strcasecmp(ops[k]->def->name, rule->names[i])
                       : op_has_name(ops[k], rule->names[i]);
      if (m) {
        set_prec(precs, why, k, rule);
        hits++;
      }
    }
    if (!hits) {
      qir_emit_error(f->module->ctx, f->loc, "layer_configs[%u]: no %s "
                     "'%s' in @%s", rule->line_index,
                     by_type ? "op of type" : "layer named", rule->names[i],
                     f->name);
      return false;
    }
  }
  return true;
}

bool qq_config_apply(const qq_config *c, qir_func *f, qq_prec *precs,
                     const qq_rule **why) {
  unsigned n = body_size(f), k = 0;
  qir_op **ops = qir_xcalloc(n + 1, sizeof *ops);
  qir_foreach_op(op, &f->body) {
    ops[k++] = op;
    op->aux = (intptr_t)k;
  }
  bool ok = true;
  for (unsigned i = 0; ok && i < c->num_rules; i++) {
    const qq_rule *rule = &c->rules[i];
    ok = rule->kind == QQ_RULE_SUBGRAPH
             ? apply_subgraph(f, ops, n, rule, precs, why)
             : apply_names(f, ops, n, rule, precs, why);
  }
  free(ops);
  return ok;
}

/* ---- The applied-config table -------------------------------------------- */

static const char *rule_text(const qq_rule *r, char *buf, size_t n) {
  static const char *const kinds[] = {"default", "layer_name", "op_type",
                                      "subgraph"};
  if (!r)
    return "default";
  snprintf(buf, n, "layer_configs[%u] (%s)", r->line_index, kinds[r->kind]);
  return buf;
}

void qq_config_print_table(FILE *out, qir_func *f, const qq_prec *precs,
                           const qq_rule **why) {
  int wname = 5;
  unsigned k = 0, applied = 0;
  qir_foreach_op(op, &f->body) {
    if (why[k] && (int)strlen(qq_layer_name(op)) > wname)
      wname = (int)strlen(qq_layer_name(op));
    k++;
  }
  fprintf(out, "Mixed precision config applied to @%s:\n", f->name);
  fprintf(out, "%-*s  %-16s  %-9s  %s\n", wname, "Layer", "Op", "Precision",
          "Rule");
  k = 0;
  char buf[64];
  qir_foreach_op(op, &f->body) {
    if (why[k]) {
      fprintf(out, "%-*s  %-16s  %-9s  %s\n", wname, qq_layer_name(op),
              op->def->name, qq_prec_name(precs[k]),
              rule_text(why[k], buf, sizeof buf));
      applied++;
    }
    k++;
  }
  fprintf(out, "%u layer(s) configured; the others use the default.\n",
          applied);
}

/* ---- Writing a config ------------------------------------------------------ */

/* The name a config can give op by (NULL: none): its result's, else its
 * onnx.name when no other op of f answers to that.  (Values without a name
 * of their own, such as %0, print their position, which a config cannot
 * name.) */
static const char *config_name(qir_func *f, const qir_op *op) {
  if (*qq_layer_name(op))
    return qq_layer_name(op);
  const char *onnx = qir_op_get_string(op, "onnx.name");
  if (!onnx)
    return NULL;
  qir_foreach_op(other, &f->body) {
    if (other != op && op_has_name(other, onnx))
      return NULL;
  }
  return onnx;
}

bool qq_config_write(qir_context *ctx, const char *path, qir_func *f,
                     const qq_prec *precs) {
  json_object *root = json_object_new_object(), *arr = json_object_new_array();
  unsigned k = 0, unnamed = 0;
  const char *first = NULL;
  qir_foreach_op(op, &f->body) {
    qq_prec prec = precs[k++];
    const char *name = prec != QQ_PREC_DEFAULT ? config_name(f, op) : NULL;
    if (name) {
      json_object *e = json_object_new_object();
      json_object_object_add(e, "layer_name", json_object_new_string(name));
      json_object_object_add(e, "data_type", json_object_new_string(qq_prec_name(prec)));
      json_object_array_add(arr, e);
    } else if (prec != QQ_PREC_DEFAULT && !unnamed++) {
      first = op->def->name;
    }
  }
  if (unnamed)
    qir_emit_warning(ctx, f->loc, "config-out: %u promoted layer(s) of @%s have no "
                     "name a config can give (the first: a %s); '%s' leaves them at "
                     "the default precision", unnamed, f->name, first, path);
  json_object_object_add(root, "layer_configs", arr);
  qir_output out;
  bool ok = qir_output_open(ctx, &out, path, false);
  if (ok) {
    fputs(json_object_to_json_string_ext(root, JSON_C_TO_STRING_PRETTY |
                                                   JSON_C_TO_STRING_NOSLASHESCAPE),
          out.fp);
    fputc('\n', out.fp);
    ok = qir_output_commit(ctx, &out);
  }
  json_object_put(root);
  return ok;
}
