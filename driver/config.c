/* driver/config.c - the public configuration API: parse (JSON or YAML),
 * command-line overrides, the merged configuration as JSON. */
#include <stdlib.h>
#include <string.h>

#include "driver/build-internal.h"

#define CMDLINE "<command line>"

static bool ends_with(const char *s, const char *suffix) {
  size_t n = strlen(s), m = strlen(suffix);
  return n >= m && strcmp(s + n - m, suffix) == 0;
}

/* By the name's extension, else by the first significant character. */
static bool looks_like_json(const char *name, const char *text, size_t len) {
  if (ends_with(name, ".json"))
    return true;
  if (ends_with(name, ".yaml") || ends_with(name, ".yml"))
    return false;
  for (size_t i = 0; i < len; i++)
    if (!strchr(" \t\r\n", text[i]))
      return text[i] == '{';
  return false;
}

static qir_build_config *config_new(qir_context *ctx, const char *name) {
  qir_build_config *c = qir_xcalloc(1, sizeof *c);
  c->ctx = ctx;
  c->name = qir_intern_cstr(ctx, name);
  c->base_dir = NULL;
  char *dir = build_abs_dir_of(name);
  c->base_dir = qir_intern_cstr(ctx, dir);
  free(dir);
  return c;
}

qir_build_config *qir_build_config_parse(qir_context *ctx, const char *name,
                                         const char *text, size_t len) {
  qir_build_config *c = config_new(ctx, name);
  bool ok = looks_like_json(name, text, len)
                ? cfg_read_json(c, text, len)
                : cfg_read_yaml(c, text, len, name);
  if (ok && !c->root)
    c->root = json_object_new_object(); /* an empty YAML file */
  if (!ok || !cfg_check(c)) {
    qir_build_config_free(c);
    return NULL;
  }
  return c;
}

qir_build_config *qir_build_config_load(qir_context *ctx, const char *path) {
  size_t len;
  char *text = qir_read_file(ctx, path, &len);
  if (!text)
    return NULL;
  qir_build_config *c = qir_build_config_parse(ctx, path, text, len);
  free(text);
  return c;
}

void qir_build_config_free(qir_build_config *c) {
  if (!c)
    return;
  json_object_put(c->root);
  free(c->origins);
  free(c);
}

/* ---- Overrides ----------------------------------------------------------- */

static void mark_cmdline(qir_build_config *c, json_object *v) {
  cfg_set_origin(c, v, qir_intern_cstr(c->ctx, CMDLINE), 0, 0);
  if (json_object_is_type(v, json_type_object)) {
    json_object_object_foreach(v, key, child) {
      (void)key;
      mark_cmdline(c, child);
    }
  } else if (json_object_is_type(v, json_type_array)) {
    for (size_t i = 0; i < json_object_array_length(v); i++)
      mark_cmdline(c, json_object_array_get_idx(v, i));
  }
}

static bool override_error(qir_build_config *c, const char *key,
                           const char *msg) {
  qir_emit_error(c->ctx, qir_loc_make(c->ctx, CMDLINE, 0, 0), "--%s: %s",
                 key, msg);
  return false;
}

static bool is_index(const char *s) {
  if (!*s)
    return false;
  for (; *s; s++)
    if (*s < '0' || *s > '9')
      return false;
  return true;
}

/* Splits "a.b[0].c" into components (at most `max`). */
static unsigned split_path(char *path, char **comps, unsigned max) {
  unsigned n = 0;
  for (char *tok = strtok(path, ".[]"); tok && n < max;
       tok = strtok(NULL, ".[]"))
    comps[n++] = tok;
  return n;
}

/* The container that holds the last component of the path, created on
 * the way when missing; *k receives the schema of the last component. */
static json_object *override_parent(qir_build_config *c, const char *key,
                                    char **comps, unsigned n,
                                    const cfg_key **k) {
  json_object *v = c->root;
  const cfg_key *s = cfg_schema();
  for (unsigned i = 0; i < n; i++) {
    /* Keys inside pass-through objects (layer_configs) take any value. */
    static const cfg_key any = {"*", CFG_MAP, NULL, NULL, NULL, NULL,
                                false, false, 0};
    const cfg_key *next;
    if (s->type == CFG_ARRAY && is_index(comps[i]))
      next = s->elem;
    else if (s->type == CFG_MAP)
      next = &any;
    else if (!(next = cfg_field(s, comps[i]))) {
      override_error(c, key, "unknown key");
      return NULL;
    }
    if (i == n - 1) {
      *k = next;
      return v;
    }
    if (next->type != CFG_OBJECT && next->type != CFG_ARRAY &&
        next->type != CFG_MAP && next->type != CFG_SHAPES) {
      override_error(c, key, "unknown key");
      return NULL;
    }
    json_object *child = NULL;
    if (s->type == CFG_ARRAY) {
      size_t idx = strtoul(comps[i], NULL, 10);
      size_t len = json_object_array_length(v);
      if (idx > len) {
        override_error(c, key, "index past the end of the array");
        return NULL;
      }
      child = idx < len ? json_object_array_get_idx(v, idx) : NULL;
      if (!child) {
        child = json_object_new_object();
        json_object_array_put_idx(v, idx, child);
      }
    } else if (!json_object_object_get_ex(v, comps[i], &child)) {
      child = next->type == CFG_ARRAY ? json_object_new_array()
                                      : json_object_new_object();
      json_object_object_add(v, comps[i], child);
    }
    if (!json_object_is_type(child, next->type == CFG_ARRAY
                                        ? json_type_array
                                        : json_type_object)) {
      override_error(c, key, "cannot set a key inside a value that is not "
                             "an object or an array");
      return NULL;
    }
    v = child;
    s = next;
  }
  return NULL;
}

static bool override_value(qir_build_config *c, const cfg_key *k,
                           const char *text, json_object **out) {
  bool verbatim = k->type == CFG_STRING ||
                  (k->type == CFG_SHAPES && text[0] != '{');
  if (verbatim) {
    *out = json_object_new_string(text);
    return true;
  }
  return cfg_read_yaml_value(c, text, out);
}

static bool put_value(qir_build_config *c, const char *key,
                      json_object *parent, const char *last, json_object *v) {
  if (!json_object_is_type(parent, json_type_array)) {
    json_object_object_add(parent, last, v);
    return true;
  }
  size_t idx = strtoul(last, NULL, 10);
  if (idx > json_object_array_length(parent)) {
    json_object_put(v);
    return override_error(c, key, "index past the end of the array");
  }
  json_object_array_put_idx(parent, idx, v);
  return true;
}

bool qir_build_config_override(qir_build_config *c, const char *assignment) {
  const char *eq = strchr(assignment, '=');
  char key[256];
  size_t klen = eq ? (size_t)(eq - assignment) : strlen(assignment);
  snprintf(key, sizeof key, "%.*s", (int)(klen < 255 ? klen : 255),
           assignment);
  if (!eq)
    return override_error(c, key, "expected --KEY=VALUE");
  char path[256];
  snprintf(path, sizeof path, "%s", key);
  char *comps[16];
  unsigned n = split_path(path, comps, 16);
  if (!n)
    return override_error(c, key, "empty key");
  const cfg_key *k = NULL;
  json_object *parent = override_parent(c, key, comps, n, &k);
  if (!parent)
    return false;
  json_object *v = NULL;
  if (!override_value(c, k, eq + 1, &v))
    return false;
  mark_cmdline(c, v);
  if (!put_value(c, key, parent, comps[n - 1], v))
    return false;
  return cfg_check(c);
}

/* ---- The merged configuration -------------------------------------------- */

static json_object *default_value(const qir_build_config *c,
                                  const cfg_key *k) {
  switch (k->type) {
  case CFG_STRING:
    return json_object_new_string(cfg_default_string(c, k));
  case CFG_INT:
    return json_object_new_int64(atoll(k->dflt));
  case CFG_BOOL:
    return json_object_new_boolean(strcmp(k->dflt, "true") == 0);
  default:
    return NULL;
  }
}

/* A copy of `v` with the schema's defaults filled in, keys in schema
 * order. */
static json_object *merged(const qir_build_config *c, json_object *v,
                           const cfg_key *k) {
  if (k->type == CFG_ARRAY) {
    json_object *a = json_object_new_array();
    for (size_t i = 0; i < json_object_array_length(v); i++)
      json_object_array_add(a, merged(c, json_object_array_get_idx(v, i),
                                      k->elem));
    return a;
  }
  if (k->type != CFG_OBJECT) {
    json_object *copy = NULL;
    json_object_deep_copy(v, &copy, NULL);
    return copy;
  }
  json_object *o = json_object_new_object();
  for (const cfg_key *f = k->fields; f->name; f++) {
    json_object *child;
    if (v && json_object_object_get_ex(v, f->name, &child))
      json_object_object_add(o, f->name, merged(c, child, f));
    else if (f->type == CFG_OBJECT)
      json_object_object_add(o, f->name, merged(c, NULL, f));
    else if (f->dflt)
      json_object_object_add(o, f->name, default_value(c, f));
  }
  return o;
}

char *qir_build_config_to_json(const qir_build_config *c, size_t *len) {
  json_object *m = merged(c, c->root, cfg_schema());
  const char *s = json_object_to_json_string_ext(
      m, JSON_C_TO_STRING_PRETTY | JSON_C_TO_STRING_SPACED |
             JSON_C_TO_STRING_NOSLASHESCAPE);
  size_t n = strlen(s);
  char *out = qir_xmalloc(n + 2);
  memcpy(out, s, n);
  out[n++] = '\n';
  out[n] = 0;
  json_object_put(m);
  if (len)
    *len = n;
  return out;
}

const char *qir_build_config_get(const qir_build_config *c,
                                 const char *key_path) {
  const cfg_key *k;
  json_object *v = cfg_lookup(c, key_path, &k);
  if (!k)
    return NULL;
  if (!v) {
    if (k->type == CFG_STRING)
      return cfg_default_string(c, k);
    if (k->type == CFG_INT || k->type == CFG_BOOL)
      return k->dflt;
    return NULL;
  }
  if (json_object_is_type(v, json_type_object) ||
      json_object_is_type(v, json_type_array))
    return NULL;
  return qir_intern_cstr(c->ctx, json_object_get_string(v));
}
