/* driver/config-read.c - reading a build configuration: JSON with json-c,
 * YAML with libyaml, both into one json-c tree.  YAML plain scalars take
 * the types of the YAML 1.2 core schema (null, booleans, integers,
 * floats, else strings); anchors and aliases are refused so that a small
 * file cannot expand into a huge tree. */
#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <yaml.h>

#include "driver/build-internal.h"

/* Deeper configurations are certainly wrong; the limit keeps recursion
 * bounded on hostile input. */
#define CFG_MAX_DEPTH 64

static void add_origin(qir_build_config *c, cfg_origin o) {
  if (c->num_origins == c->cap_origins) {
    c->cap_origins = c->cap_origins ? 2 * c->cap_origins : 32;
    c->origins =
        qir_xrealloc(c->origins, c->cap_origins * sizeof *c->origins);
  }
  c->origins[c->num_origins++] = o;
}

void cfg_set_origin(qir_build_config *c, const json_object *node,
                    const char *file, unsigned line, unsigned col) {
  if (node) {
    cfg_origin o = {node, NULL, file, line, col};
    add_origin(c, o);
  }
}

void cfg_set_key_origin(qir_build_config *c, const json_object *obj,
                        const char *key, const char *file, unsigned line,
                        unsigned col) {
  cfg_origin o = {obj, qir_intern_cstr(c->ctx, key), file, line, col};
  add_origin(c, o);
}

/* Latest first: an override may reuse the address of a freed node. */
static const cfg_origin *find_origin(const qir_build_config *c,
                                     const json_object *node,
                                     const char *key) {
  for (size_t i = c->num_origins; node && i-- > 0;) {
    const cfg_origin *o = &c->origins[i];
    if (o->node == node && (key ? o->key && !strcmp(o->key, key) : !o->key))
      return o;
  }
  return NULL;
}

qir_loc cfg_loc(const qir_build_config *c, const json_object *node) {
  const cfg_origin *o = find_origin(c, node, NULL);
  qir_loc l = {o ? o->file : c->name, o ? o->line : 0, o ? o->col : 0};
  return l;
}

qir_loc cfg_key_loc(const qir_build_config *c, const json_object *obj,
                    const char *key) {
  const cfg_origin *o = find_origin(c, obj, key);
  if (!o)
    return cfg_loc(c, obj);
  qir_loc l = {o->file, o->line, o->col};
  return l;
}

/* ---- JSON ---------------------------------------------------------------- */

static void offset_to_line_col(const char *text, size_t off, unsigned *line,
                               unsigned *col) {
  *line = 1;
  *col = 1;
  for (size_t i = 0; i < off; i++) {
    if (text[i] == '\n') {
      ++*line;
      *col = 1;
    } else {
      ++*col;
    }
  }
}

static bool json_error_at(qir_build_config *c, const char *text, size_t off,
                          const char *what) {
  unsigned line, col;
  offset_to_line_col(text, off, &line, &col);
  qir_emit_error(c->ctx, qir_loc_make(c->ctx, c->name, line, col),
                 "JSON syntax error: %s", what);
  return false;
}

static bool only_space(const char *s, size_t n) {
  for (size_t i = 0; i < n; i++)
    if (!strchr(" \t\r\n", s[i]))
      return false;
  return true;
}

bool cfg_read_json(qir_build_config *c, const char *text, size_t len) {
  if (len > INT_MAX) {
    qir_emit_error(c->ctx, cfg_loc(c, NULL), "the file is too large");
    return false;
  }
  if (memchr(text, '\0', len))
    return json_error_at(c, text, (size_t)((const char *)memchr(text, '\0',
                                                                len) - text),
                         "NUL character in the text");
  qir_diag_register_source(c->ctx, c->name, text, len);
  json_tokener *tok = json_tokener_new_ex(CFG_MAX_DEPTH);
  json_tokener_set_flags(tok, JSON_TOKENER_STRICT);
  json_object *root = json_tokener_parse_ex(tok, text, (int)len);
  enum json_tokener_error err = json_tokener_get_error(tok);
  size_t off = json_tokener_get_parse_end(tok);
  json_tokener_free(tok);
  if (!root && err == json_tokener_continue)
    return json_error_at(c, text, len, "unexpected end of the text");
  if (!root && err != json_tokener_success)
    return json_error_at(c, text, off, json_tokener_error_desc(err));
  /* Strict mode reports most text after the value itself. */
  if (off < len && !only_space(text + off, len - off)) {
    json_object_put(root);
    return json_error_at(c, text, off, "text after the JSON value");
  }
  c->root = root;
  return true;
}

/* ---- YAML ---------------------------------------------------------------- */

typedef struct yaml_reader {
  qir_build_config *c;
  yaml_parser_t parser;
  const char *file; /* interned */
  bool failed;
} yaml_reader;

static void yaml_error_at(yaml_reader *r, yaml_mark_t m, const char *fmt,
                          const char *arg) {
  if (r->failed)
    return;
  r->failed = true;
  qir_emit_error(r->c->ctx,
                 qir_loc_make(r->c->ctx, r->file, (unsigned)m.line + 1,
                              (unsigned)m.column + 1),
                 fmt, arg);
}

static bool next_event(yaml_reader *r, yaml_event_t *ev) {
  if (yaml_parser_parse(&r->parser, ev))
    return true;
  yaml_mark_t m = r->parser.problem_mark;
  if (r->parser.error == YAML_READER_ERROR)
    m = r->parser.mark; /* reader errors set only the offset */
  yaml_error_at(r, m, "YAML syntax error: %s",
                r->parser.problem ? r->parser.problem : "malformed text");
  return false;
}

static bool all_in(const char *s, const char *set) {
  if (!*s)
    return false;
  for (; *s; s++)
    if (!strchr(set, *s))
      return false;
  return true;
}

static bool match_any(const char *s, const char *const *words) {
  for (; *words; words++)
    if (strcmp(s, *words) == 0)
      return true;
  return false;
}

/* Integers of the core schema: [-+]?[0-9]+, 0o[0-7]+, 0x[0-9a-fA-F]+. */
static json_object *scalar_int(const char *s) {
  const char *d = s + (*s == '-' || *s == '+');
  int base = 10;
  if (s[0] == '0' && s[1] == 'x' && all_in(s + 2, "0123456789abcdefABCDEF"))
    base = 16, d = s + 2;
  else if (s[0] == '0' && s[1] == 'o' && all_in(s + 2, "01234567"))
    base = 8, d = s + 2;
  else if (!all_in(d, "0123456789"))
    return NULL;
  errno = 0;
  long long v = strtoll(base == 10 ? s : d, NULL, base);
  if (errno == ERANGE)
    return json_object_new_double(strtod(s, NULL));
  return json_object_new_int64(v);
}

/* Floats of the core schema, including .inf and .nan. */
static json_object *scalar_float(const char *s) {
  static const char *const inf[] = {".inf", ".Inf", ".INF", "+.inf",
                                    "+.Inf", "+.INF", NULL};
  static const char *const ninf[] = {"-.inf", "-.Inf", "-.INF", NULL};
  static const char *const nan_[] = {".nan", ".NaN", ".NAN", NULL};
  if (match_any(s, inf))
    return json_object_new_double(INFINITY);
  if (match_any(s, ninf))
    return json_object_new_double(-INFINITY);
  if (match_any(s, nan_))
    return json_object_new_double(NAN);
  const char *p = s + (*s == '-' || *s == '+');
  bool digits = false;
  while (*p >= '0' && *p <= '9')
    p++, digits = true;
  if (*p == '.')
    for (p++; *p >= '0' && *p <= '9'; p++)
      digits = true;
  if (!digits)
    return NULL;
  if (*p == 'e' || *p == 'E') {
    p++;
    p += *p == '-' || *p == '+';
    if (!all_in(p, "0123456789"))
      return NULL;
    p += strlen(p);
  }
  return *p ? NULL : json_object_new_double_s(strtod(s, NULL), s);
}

static json_object *plain_scalar(const char *s) {
  static const char *const nulls[] = {"", "~", "null", "Null", "NULL", NULL};
  static const char *const trues[] = {"true", "True", "TRUE", NULL};
  static const char *const falses[] = {"false", "False", "FALSE", NULL};
  if (match_any(s, nulls))
    return NULL;
  if (match_any(s, trues))
    return json_object_new_boolean(1);
  if (match_any(s, falses))
    return json_object_new_boolean(0);
  json_object *v = scalar_int(s);
  if (!v)
    v = scalar_float(s);
  return v ? v : json_object_new_string(s);
}

static json_object *read_scalar(yaml_reader *r, const yaml_event_t *ev) {
  const char *s = (const char *)ev->data.scalar.value;
  size_t n = ev->data.scalar.length;
  if (strlen(s) != n) {
    yaml_error_at(r, ev->start_mark, "%s", "NUL character in a scalar");
    return NULL;
  }
  const char *tag = (const char *)ev->data.scalar.tag;
  bool is_str = tag && strcmp(tag, YAML_STR_TAG) == 0;
  if (ev->data.scalar.style != YAML_PLAIN_SCALAR_STYLE || is_str)
    return json_object_new_string_len(s, (int)n);
  return plain_scalar(s);
}

static json_object *read_node(yaml_reader *r, yaml_event_t *ev,
                              unsigned depth);

static bool read_mapping(yaml_reader *r, json_object *obj, unsigned depth) {
  for (;;) {
    yaml_event_t kev;
    if (!next_event(r, &kev))
      return false;
    if (kev.type == YAML_MAPPING_END_EVENT) {
      yaml_event_delete(&kev);
      return true;
    }
    if (kev.type != YAML_SCALAR_EVENT) {
      yaml_error_at(r, kev.start_mark, "%s", "a key must be a plain string");
      yaml_event_delete(&kev);
      return false;
    }
    char *key = qir_xstrdup((const char *)kev.data.scalar.value);
    yaml_mark_t kmark = kev.start_mark;
    yaml_event_delete(&kev);
    if (json_object_object_get_ex(obj, key, NULL)) {
      yaml_error_at(r, kmark, "duplicate key '%s'", key);
      free(key);
      return false;
    }
    yaml_event_t vev;
    if (!next_event(r, &vev)) {
      free(key);
      return false;
    }
    json_object *v = read_node(r, &vev, depth + 1);
    if (r->failed) {
      free(key);
      return false;
    }
    json_object_object_add(obj, key, v);
    cfg_set_key_origin(r->c, obj, key, r->file, (unsigned)kmark.line + 1,
                       (unsigned)kmark.column + 1);
    free(key);
  }
}

static bool read_sequence(yaml_reader *r, json_object *arr, unsigned depth) {
  for (;;) {
    yaml_event_t ev;
    if (!next_event(r, &ev))
      return false;
    if (ev.type == YAML_SEQUENCE_END_EVENT) {
      yaml_event_delete(&ev);
      return true;
    }
    json_object *v = read_node(r, &ev, depth + 1);
    if (r->failed)
      return false;
    json_object_array_add(arr, v);
  }
}

/* Reads the node that starts with `ev` (consumed and deleted here). */
static json_object *read_node(yaml_reader *r, yaml_event_t *ev,
                              unsigned depth) {
  yaml_mark_t m = ev->start_mark;
  json_object *node = NULL;
  bool ok = true;
  if (depth > CFG_MAX_DEPTH) {
    yaml_error_at(r, m, "%s", "the configuration is nested too deeply");
    ok = false;
  } else if (ev->type == YAML_ALIAS_EVENT ||
             (ev->type == YAML_SCALAR_EVENT && ev->data.scalar.anchor) ||
             (ev->type == YAML_MAPPING_START_EVENT &&
              ev->data.mapping_start.anchor) ||
             (ev->type == YAML_SEQUENCE_START_EVENT &&
              ev->data.sequence_start.anchor)) {
    yaml_error_at(r, m, "%s", "YAML anchors and aliases are not supported");
    ok = false;
  } else if (ev->type == YAML_SCALAR_EVENT) {
    node = read_scalar(r, ev);
  } else if (ev->type == YAML_MAPPING_START_EVENT) {
    node = json_object_new_object();
    ok = read_mapping(r, node, depth);
  } else if (ev->type == YAML_SEQUENCE_START_EVENT) {
    node = json_object_new_array();
    ok = read_sequence(r, node, depth);
  } else {
    yaml_error_at(r, m, "%s", "unexpected YAML event");
    ok = false;
  }
  yaml_event_delete(ev);
  if (!ok || r->failed) {
    json_object_put(node);
    return NULL;
  }
  cfg_set_origin(r->c, node, r->file, (unsigned)m.line + 1,
                 (unsigned)m.column + 1);
  return node;
}

/* Skips events up to the first node; false at the end of the stream (an
 * empty document). */
static bool skip_to_node(yaml_reader *r, yaml_event_t *ev) {
  for (;;) {
    if (!next_event(r, ev))
      return false;
    if (ev->type != YAML_STREAM_START_EVENT &&
        ev->type != YAML_DOCUMENT_START_EVENT)
      break;
    yaml_event_delete(ev);
  }
  if (ev->type == YAML_STREAM_END_EVENT) {
    yaml_event_delete(ev);
    return false;
  }
  return true;
}

/* Reads the single document of the stream into *out (NULL when empty). */
static bool read_document(yaml_reader *r, json_object **out) {
  yaml_event_t ev;
  *out = NULL;
  if (!skip_to_node(r, &ev))
    return !r->failed;
  *out = read_node(r, &ev, 0);
  if (r->failed)
    return false;
  if (!next_event(r, &ev))
    return false;
  yaml_event_type_t t = ev.type;
  yaml_mark_t m = ev.start_mark;
  yaml_event_delete(&ev);
  if (t == YAML_DOCUMENT_END_EVENT && next_event(r, &ev)) {
    t = ev.type;
    m = ev.start_mark;
    yaml_event_delete(&ev);
  }
  if (r->failed)
    return false;
  if (t != YAML_STREAM_END_EVENT) {
    yaml_error_at(r, m, "%s", "more than one YAML document");
    return false;
  }
  return true;
}

static bool read_yaml_text(qir_build_config *c, const char *text, size_t len,
                           const char *file, json_object **out) {
  yaml_reader r = {c, {0}, qir_intern_cstr(c->ctx, file), false};
  if (!yaml_parser_initialize(&r.parser))
    qir_die("out of memory initializing libyaml");
  yaml_parser_set_input_string(&r.parser, (const unsigned char *)text, len);
  yaml_parser_set_encoding(&r.parser, YAML_UTF8_ENCODING);
  bool ok = read_document(&r, out);
  yaml_parser_delete(&r.parser);
  if (!ok) {
    json_object_put(*out);
    *out = NULL;
  }
  return ok;
}

bool cfg_read_yaml(qir_build_config *c, const char *text, size_t len,
                   const char *file) {
  qir_diag_register_source(c->ctx, file, text, len);
  json_object *root;
  if (!read_yaml_text(c, text, len, file, &root))
    return false;
  c->root = root;
  return true;
}

bool cfg_read_yaml_value(qir_build_config *c, const char *text,
                         json_object **out) {
  return read_yaml_text(c, text, strlen(text), "<command line>", out);
}
