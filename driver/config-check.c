/* driver/config-check.c - checking a configuration tree against the schema
 * (every error names the key path), and reading values with their
 * defaults. */
#include <ctype.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "driver/build-internal.h"
#include "ir/pass/pass.h"

const char *cfg_type_phrase(cfg_type t) {
  switch (t) {
  case CFG_STRING:
    return "a string";
  case CFG_INT:
    return "an integer";
  case CFG_NUMBER:
    return "a number";
  case CFG_BOOL:
    return "true or false";
  case CFG_OBJECT:
  case CFG_MAP:
    return "an object";
  case CFG_ARRAY:
    return "an array";
  case CFG_SHAPES:
    return "a string or an object";
  }
  return "a value";
}

const cfg_key *cfg_field(const cfg_key *obj, const char *name) {
  if (obj->type != CFG_OBJECT)
    return NULL;
  for (const cfg_key *k = obj->fields; k->name; k++)
    if (strcmp(k->name, name) == 0)
      return k;
  return NULL;
}

/* ---- Messages ------------------------------------------------------------ */

/* How a value appears in "got ...": scalars as JSON text (strings cut at
 * 40 characters), containers by kind. */
static void describe(json_object *v, char *buf, size_t size) {
  switch (json_object_get_type(v)) {
  case json_type_null:
    snprintf(buf, size, "null");
    break;
  case json_type_object:
    snprintf(buf, size, "an object");
    break;
  case json_type_array:
    snprintf(buf, size, "an array");
    break;
  case json_type_string: {
    const char *s = json_object_get_string(v);
    int n = (int)strlen(s);
    snprintf(buf, size, "\"%.*s%s\"", n > 40 ? 40 : n, s,
             n > 40 ? "..." : "");
    break;
  }
  default:
    snprintf(buf, size, "%s", json_object_to_json_string_ext(
                                  v, JSON_C_TO_STRING_PLAIN));
  }
}

typedef struct checker {
  qir_build_config *c;
  unsigned errors;
} checker;

static void check_error(checker *ck, json_object *node, const char *path,
                        const char *fmt, const char *arg) {
  char msg[256];
  snprintf(msg, sizeof msg, fmt, arg);
  qir_emit_error(ck->c->ctx, cfg_loc(ck->c, node), "%s: %s",
                 *path ? path : "the configuration", msg);
  ck->errors++;
}

static void type_error(checker *ck, json_object *node, const char *path,
                       const char *expected) {
  char got[64];
  describe(node, got, sizeof got);
  qir_emit_error(ck->c->ctx, cfg_loc(ck->c, node), "%s: expected %s, got %s",
                 *path ? path : "the configuration", expected, got);
  ck->errors++;
}

static void unknown_key(checker *ck, json_object *obj, const char *path,
                        const cfg_key *schema, const char *key) {
  const char *best = NULL;
  size_t best_d = 3; /* suggest only close spellings */
  for (const cfg_key *k = schema->fields; k->name; k++) {
    size_t d = qir_edit_distance(key, strlen(key), k->name, strlen(k->name));
    if (d < best_d)
      best = k->name, best_d = d;
  }
  char msg[200];
  if (best)
    snprintf(msg, sizeof msg, " (did you mean '%s'?)", best);
  else
    msg[0] = 0;
  qir_emit_error(ck->c->ctx, cfg_key_loc(ck->c, obj, key),
                 "%s: unknown key%s", path, msg);
  ck->errors++;
}

/* ---- Checking ------------------------------------------------------------ */

static void check_node(checker *ck, json_object *v, const cfg_key *k,
                       const char *path);

static void child_path(char *out, size_t size, const char *path,
                       const char *key) {
  snprintf(out, size, "%s%s%s", path, *path ? "." : "", key);
}

static void check_choice(checker *ck, json_object *v, const cfg_key *k,
                         const char *path) {
  const char *s = json_object_get_string(v);
  for (const char *const *c = k->choices; *c; c++)
    if (strcasecmp(s, *c) == 0) {
      if (strcmp(s, *c) != 0)
        json_object_set_string(v, *c);
      return;
    }
  char list[256] = "";
  for (const char *const *c = k->choices; *c; c++)
    snprintf(list + strlen(list), sizeof list - strlen(list), "%s%s",
             c == k->choices ? "" : ", ", *c);
  char what[300];
  snprintf(what, sizeof what, "one of %s", list);
  type_error(ck, v, path, what);
}

/* Relative paths of the file are relative to its folder, those of the
 * command line to the current folder; both become absolute. */
static void resolve_path(checker *ck, json_object *v) {
  const char *s = json_object_get_string(v);
  if (s[0] == '/' || !s[0])
    return;
  qir_loc l = cfg_loc(ck->c, v);
  bool from_cmdline = l.file && strcmp(l.file, "<command line>") == 0;
  char *dir = from_cmdline ? build_abs_dir_of("x") : NULL;
  char *full = build_path_join(from_cmdline ? dir : ck->c->base_dir, s);
  json_object_set_string(v, full);
  free(full);
  free(dir);
}

static void check_string(checker *ck, json_object *v, const cfg_key *k,
                         const char *path) {
  if (!json_object_is_type(v, json_type_string)) {
    type_error(ck, v, path, "a string");
    return;
  }
  if (k->choices)
    check_choice(ck, v, k, path);
  else if (k->is_path)
    resolve_path(ck, v);
}

static void check_int(checker *ck, json_object *v, const cfg_key *k,
                      const char *path) {
  if (!json_object_is_type(v, json_type_int)) {
    type_error(ck, v, path, "an integer");
    return;
  }
  if (json_object_get_int64(v) < k->min) {
    char what[64];
    snprintf(what, sizeof what, "an integer >= %lld", k->min);
    type_error(ck, v, path, what);
  }
}

static void check_number(checker *ck, json_object *v, const char *path) {
  if (!json_object_is_type(v, json_type_int) &&
      !json_object_is_type(v, json_type_double))
    type_error(ck, v, path, "a number");
  else if (!isfinite(json_object_get_double(v)))
    type_error(ck, v, path, "a finite number");
}

static void check_object(checker *ck, json_object *v, const cfg_key *k,
                         const char *path) {
  if (!json_object_is_type(v, json_type_object)) {
    type_error(ck, v, path, "an object");
    return;
  }
  json_object_object_foreach(v, key, child) {
    char sub[512];
    child_path(sub, sizeof sub, path, key);
    const cfg_key *f = cfg_field(k, key);
    if (!f)
      unknown_key(ck, v, sub, k, key);
    else
      check_node(ck, child, f, sub);
  }
}

static void check_array(checker *ck, json_object *v, const cfg_key *k,
                        const char *path) {
  if (!json_object_is_type(v, json_type_array)) {
    type_error(ck, v, path, "an array");
    return;
  }
  size_t n = json_object_array_length(v);
  for (size_t i = 0; i < n; i++) {
    char sub[512];
    snprintf(sub, sizeof sub, "%s[%zu]", path, i);
    check_node(ck, json_object_array_get_idx(v, i), k->elem, sub);
  }
}

/* {x: [1, 3, 8, 8]}: every dimension a positive integer. */
static void check_shapes(checker *ck, json_object *v, const char *path) {
  if (json_object_is_type(v, json_type_string))
    return; /* the importer checks the text form */
  if (!json_object_is_type(v, json_type_object)) {
    type_error(ck, v, path, "a string or an object");
    return;
  }
  static const cfg_key dim = {"[]", CFG_INT, NULL, NULL, NULL, NULL,
                              false, false, 1};
  static const cfg_key dims = {"", CFG_ARRAY, NULL, NULL, NULL, &dim,
                               false, false, 0};
  json_object_object_foreach(v, key, child) {
    char sub[512];
    child_path(sub, sizeof sub, path, key);
    check_node(ck, child, &dims, sub);
  }
}

static void check_node(checker *ck, json_object *v, const cfg_key *k,
                       const char *path) {
  switch (k->type) {
  case CFG_STRING:
    check_string(ck, v, k, path);
    break;
  case CFG_INT:
    check_int(ck, v, k, path);
    break;
  case CFG_NUMBER:
    check_number(ck, v, path);
    break;
  case CFG_BOOL:
    if (!json_object_is_type(v, json_type_boolean))
      type_error(ck, v, path, "true or false");
    break;
  case CFG_OBJECT:
    check_object(ck, v, k, path);
    break;
  case CFG_ARRAY:
    check_array(ck, v, k, path);
    break;
  case CFG_SHAPES:
    check_shapes(ck, v, path);
    break;
  case CFG_MAP:
    if (!json_object_is_type(v, json_type_object))
      type_error(ck, v, path, "an object");
    break;
  }
}

bool cfg_check(qir_build_config *c) {
  checker ck = {c, 0};
  if (!json_object_is_type(c->root, json_type_object)) {
    char got[64];
    describe(c->root, got, sizeof got);
    qir_emit_error(c->ctx, cfg_loc(c, c->root),
                   "expected an object of keys at the top level, got %s",
                   got);
    return false;
  }
  check_node(&ck, c->root, cfg_schema(), "");
  return ck.errors == 0;
}

/* Required keys of the objects that are present (an absent optional
 * object has no required keys to miss). */
static void check_required(checker *ck, json_object *v, const cfg_key *k,
                           const char *path) {
  if (k->type == CFG_ARRAY) {
    size_t n = json_object_array_length(v);
    for (size_t i = 0; i < n; i++) {
      char sub[512];
      snprintf(sub, sizeof sub, "%s[%zu]", path, i);
      check_required(ck, json_object_array_get_idx(v, i), k->elem, sub);
    }
    return;
  }
  if (k->type != CFG_OBJECT)
    return;
  for (const cfg_key *f = k->fields; f->name; f++) {
    json_object *child = NULL;
    char sub[512];
    child_path(sub, sizeof sub, path, f->name);
    if (json_object_object_get_ex(v, f->name, &child))
      check_required(ck, child, f, sub);
    else if (f->required)
      check_error(ck, v, sub, "%s", "a required key is missing");
  }
}

bool cfg_check_required(qir_build_config *c) {
  checker ck = {c, 0};
  check_required(&ck, c->root, cfg_schema(), "");
  return ck.errors == 0;
}

/* ---- Lookup -------------------------------------------------------------- */

/* Next component of a dotted path: "a.b[2].c" gives a, b, 2, c. */
static bool next_component(const char **p, char *out, size_t size) {
  const char *s = *p;
  while (*s == '.' || *s == '[' || *s == ']')
    s++;
  size_t n = strcspn(s, ".[]");
  if (!n || n >= size)
    return false;
  memcpy(out, s, n);
  out[n] = 0;
  *p = s + n;
  return true;
}

static bool parse_index(const char *s, size_t *i) {
  if (!*s)
    return false;
  for (const char *p = s; *p; p++)
    if (!isdigit((unsigned char)*p))
      return false;
  *i = strtoul(s, NULL, 10);
  return true;
}

json_object *cfg_lookup(const qir_build_config *c, const char *path,
                        const cfg_key **key) {
  const cfg_key *k = cfg_schema();
  json_object *v = c->root;
  char comp[128];
  const char *p = path;
  while (*p && next_component(&p, comp, sizeof comp)) {
    size_t idx;
    if (k->type == CFG_ARRAY && parse_index(comp, &idx)) {
      v = v && idx < json_object_array_length(v)
              ? json_object_array_get_idx(v, idx)
              : NULL;
      k = k->elem;
    } else if ((k = cfg_field(k, comp)) != NULL) {
      json_object *child = NULL;
      if (v)
        json_object_object_get_ex(v, comp, &child);
      v = child;
    } else {
      break;
    }
  }
  if (*p)
    k = NULL;
  *key = k;
  return k ? v : NULL;
}

static const cfg_key *typed_key(const qir_build_config *c, const char *path,
                                cfg_type t, json_object **v) {
  const cfg_key *k;
  *v = cfg_lookup(c, path, &k);
  if (!k || k->type != t)
    qir_die("no %s key '%s' in the build schema", cfg_type_phrase(t), path);
  return k;
}

const char *cfg_default_string(const qir_build_config *c, const cfg_key *k) {
  if (!k->dflt || !k->is_path || k->dflt[0] == '/')
    return k->dflt;
  char *full = build_path_join(c->base_dir, k->dflt);
  const char *s = qir_intern_cstr(c->ctx, full);
  free(full);
  return s;
}

const char *cfg_string(const qir_build_config *c, const char *path) {
  json_object *v;
  const cfg_key *k = typed_key(c, path, CFG_STRING, &v);
  return v ? json_object_get_string(v) : cfg_default_string(c, k);
}

long long cfg_int(const qir_build_config *c, const char *path) {
  json_object *v;
  const cfg_key *k = typed_key(c, path, CFG_INT, &v);
  return v ? json_object_get_int64(v) : (k->dflt ? atoll(k->dflt) : 0);
}

bool cfg_bool(const qir_build_config *c, const char *path) {
  json_object *v;
  const cfg_key *k = typed_key(c, path, CFG_BOOL, &v);
  return v ? json_object_get_boolean(v) : strcmp(k->dflt, "true") == 0;
}

const char *cfg_field_string(json_object *obj, const cfg_key *elem,
                             const char *name) {
  const cfg_key *k = cfg_field(elem, name);
  QIR_ASSERT(k && k->type == CFG_STRING);
  json_object *v;
  return json_object_object_get_ex(obj, name, &v) ? json_object_get_string(v)
                                                  : k->dflt;
}

long long cfg_field_int(json_object *obj, const cfg_key *elem,
                        const char *name, long long fallback) {
  const cfg_key *k = cfg_field(elem, name);
  QIR_ASSERT(k && k->type == CFG_INT);
  json_object *v;
  if (json_object_object_get_ex(obj, name, &v))
    return json_object_get_int64(v);
  return k->dflt ? atoll(k->dflt) : fallback;
}
