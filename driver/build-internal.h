/* driver/build-internal.h - qir-build's private types: the configuration
 * tree, its schema, the build's state shared by the steps. */
#ifndef QIR_DRIVER_BUILD_INTERNAL_H
#define QIR_DRIVER_BUILD_INTERNAL_H

#include <json-c/json.h>
#include <stdio.h>

#include "qir/build.h"
#include "qir/qir.h"

/* ---- The configuration tree ---------------------------------------------
 * Both JSON and YAML are read into json-c objects; YAML nodes and the
 * nodes of command-line overrides also get an origin so that errors can
 * point at them. */

typedef struct cfg_origin {
  const json_object *node;
  const char *key;  /* interned: the position of this key of `node` */
  const char *file; /* interned; "<command line>" for overrides */
  unsigned line, col;
} cfg_origin;

struct qir_build_config {
  qir_context *ctx;
  const char *name;     /* interned file name, as given */
  const char *base_dir; /* absolute folder of the file: relative paths */
  json_object *root;    /* the merged tree (file then overrides) */
  cfg_origin *origins;
  size_t num_origins, cap_origins;
  json_object *text_cache; /* strings returned by qir_build_config_get */
};

/* Reads `text` as JSON or YAML into c->root (origins recorded for YAML).
 * False after emitting the syntax error. */
bool cfg_read_json(qir_build_config *c, const char *text, size_t len);
bool cfg_read_yaml(qir_build_config *c, const char *text, size_t len,
                   const char *file);
/* Parses one YAML flow value (an override's value) into *out. */
bool cfg_read_yaml_value(qir_build_config *c, const char *text,
                         json_object **out);

void cfg_set_origin(qir_build_config *c, const json_object *node,
                    const char *file, unsigned line, unsigned col);
/* The position of key `key` in object `obj` (YAML). */
void cfg_set_key_origin(qir_build_config *c, const json_object *obj,
                        const char *key, const char *file, unsigned line,
                        unsigned col);
/* Where to point an error about `node`: its origin, else the file. */
qir_loc cfg_loc(const qir_build_config *c, const json_object *node);
/* Where to point an error about key `key` of `obj`: the key's position,
 * else the object's location. */
qir_loc cfg_key_loc(const qir_build_config *c, const json_object *obj,
                    const char *key);

/* ---- The schema -------------------------------------------------------- */

typedef enum cfg_type {
  CFG_STRING,
  CFG_INT,
  CFG_NUMBER,
  CFG_BOOL,
  CFG_OBJECT, /* fields: its keys */
  CFG_ARRAY,  /* elem: the schema of every element */
  CFG_SHAPES, /* "x:1x3x8x8;y:1x4" or {x: [1, 3, 8, 8], y: [1, 4]} */
  CFG_MAP     /* an object of any keys, passed through unchecked */
} cfg_type;

typedef struct cfg_key {
  const char *name;
  cfg_type type;
  const char *dflt;            /* default as JSON text; NULL: none */
  const char *const *choices;  /* strings: the allowed values */
  const struct cfg_key *fields; /* CFG_OBJECT: keys, ending with name NULL */
  const struct cfg_key *elem;   /* CFG_ARRAY: the element schema */
  bool is_path;                 /* resolved against the config's folder */
  bool required;
  long long min;                /* CFG_INT: smallest value */
} cfg_key;

/* The schema of the whole file (an object). */
const cfg_key *cfg_schema(void);
/* Checks the tree against the schema: unknown keys, wrong types, values
 * out of range; canonicalizes choices and resolves relative paths in
 * place.  Reports every problem; false if any. */
bool cfg_check(qir_build_config *c);
/* Reports required keys that are missing (the file and the overrides
 * together must give them). */
bool cfg_check_required(qir_build_config *c);

/* Looks up a dotted path ("quant.input_configs.0.mean"; [0] also works).
 * *key receives the schema entry (NULL: no such key); the result is the
 * node, or NULL when the configuration does not set it. */
json_object *cfg_lookup(const qir_build_config *c, const char *path,
                        const cfg_key **key);
/* The default of a string key (paths resolved against the config's
 * folder); NULL when it has none. */
const char *cfg_default_string(const qir_build_config *c, const cfg_key *k);
/* Typed getters of set-or-default values; the path must name a key of
 * that type in the schema (a bug otherwise). */
const char *cfg_string(const qir_build_config *c, const char *path);
long long cfg_int(const qir_build_config *c, const char *path);
bool cfg_bool(const qir_build_config *c, const char *path);
/* Same from an element of an array of objects (`elem` is the array's
 * element schema). */
const char *cfg_field_string(json_object *obj, const cfg_key *elem,
                             const char *name);
long long cfg_field_int(json_object *obj, const cfg_key *elem,
                        const char *name, long long fallback);
/* The schema entry of a child key of an object schema. */
const cfg_key *cfg_field(const cfg_key *obj, const char *name);
/* "an integer", "a string", ... */
const char *cfg_type_phrase(cfg_type t);

/* ---- Paths and output folders (driver/outdir.c) ------------------------ */

/* a/b joined (b as is when absolute); malloc'd. */
char *build_path_join(const char *dir, const char *name);
/* The absolute folder of `path` (the current folder for a bare name);
 * malloc'd. */
char *build_abs_dir_of(const char *path);

typedef struct build_outdir {
  char *final;  /* output_dir */
  char *tmp;    /* the temporary sibling being written */
} build_outdir;

/* Creates the temporary sibling of `output_dir`; refuses an existing
 * output_dir that qir-build did not write. */
bool build_outdir_begin(qir_context *ctx, build_outdir *od,
                        const char *output_dir);
/* Path of a file in the temporary folder (malloc'd). */
char *build_outdir_file(const build_outdir *od, const char *name);
/* Swaps the temporary folder into place and removes the old outputs. */
bool build_outdir_commit(qir_context *ctx, build_outdir *od);
/* Removes the temporary folder. */
void build_outdir_abort(build_outdir *od);
/* The file that marks a folder as written by qir-build. */
#define BUILD_MARKER "build.log"

#endif
