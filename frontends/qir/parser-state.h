/* frontends/qir/parser-state.h - the state the .qir scanner and parser
 * share (private to frontends/qir). */
#ifndef QIR_FRONTENDS_QIR_PARSER_STATE_H
#define QIR_FRONTENDS_QIR_PARSER_STATE_H

#include "frontends/qir/text.h"

/* A growable array of fixed-size items; the parser keeps one per kind of
 * list so that lists cost no allocation per op. */
typedef struct qir_vec {
  void *data;
  size_t len, cap, item;
} qir_vec;

void qir_vec_init(qir_vec *v, size_t item_size);
void qir_vec_free(qir_vec *v);
/* Appends one zeroed item and returns it. */
void *qir_vec_push(qir_vec *v);
#define QIR_VEC_AT(v, type, i) (((type *)(v)->data)[i])

/* A named result on the left of '=' or an argument of a function. */
typedef struct qir_text_name {
  qir_slice name; /* with the '%' */
  qir_pos pos;
  int64_t k; /* the number of a %N name, else -1 */
} qir_text_name;

/* One element of a dense literal, converted once the type is known. */
typedef enum { QIR_ELEM_INT, QIR_ELEM_FLOAT, QIR_ELEM_BOOL } qir_elem_kind;
typedef struct qir_text_elem {
  qir_slice text;
  qir_pos pos;
  qir_elem_kind kind;
} qir_text_elem;

/* A `dense_resource<name>` reference waiting for the resources section. */
typedef struct qir_text_resref {
  qir_attr *placeholder; /* kind DENSE, data NULL until resolved */
  qir_slice name;
  qir_pos pos;
  const qir_attr *resolved;
} qir_text_resref;

/* An entry of the resources section. */
typedef struct qir_text_resource {
  qir_slice name;
  qir_slice hex; /* the string token, quotes included */
  qir_pos pos;
  const qir_attr *attr; /* decoded for the last type asked */
} qir_text_resource;

/* What holds attributes that may contain placeholders. */
typedef enum { QIR_HOLDER_OP, QIR_HOLDER_FUNC, QIR_HOLDER_MODULE } qir_holder_kind;
typedef struct qir_text_holder {
  qir_holder_kind kind;
  void *p;
} qir_text_holder;

/* The per-function table of value names (open addressing). */
typedef struct qir_symtab_entry {
  const char *s;
  uint32_t n, hash;
  union {
    qir_value *v;  /* values */
    size_t index;  /* resources */
  };
  qir_pos pos;
} qir_symtab_entry;
typedef struct qir_symtab {
  qir_symtab_entry *slots;
  size_t cap, len;
} qir_symtab;

/* The entry of name s (e->s NULL when absent, with room to add it). */
qir_symtab_entry *qir_symtab_slot(qir_symtab *t, const char *s, size_t n);
void qir_symtab_insert(qir_symtab *t, qir_symtab_entry *slot, const char *s,
                       size_t n, qir_pos pos);

typedef struct qir_numbered_value {
  qir_value *v;
  qir_pos pos;
} qir_numbered_value;

/* Largest number kept in the direct table; larger ones use the hash. */
#define QIR_TEXT_MAX_DIRECT_NUMBER (1u << 24)

/* A cache of tensor types by their text, so repeated types cost a hash. */
#define QIR_TEXT_TYPE_CACHE 256
typedef struct qir_type_cache_entry {
  const char *text; /* "tensor<8x8x" in the source */
  size_t len;
  const qir_type *elem, *type;
} qir_type_cache_entry;

typedef struct qir_parser {
  qir_context *ctx;
  const char *file; /* interned */
  void *scanner;
  /* Scanner position. */
  unsigned line;
  const char *line_start;
  qir_slice tok; /* the last token, for syntax errors */
  unsigned depth; /* nesting of brackets */
  bool failed;

  qir_module *module;
  qir_func *func;
  int64_t func_ops; /* ops of func so far (QIR_MAX_OPS) */
  qir_symtab values;
  /* Values named by canonical numbers (%0, %17): index = the number. */
  qir_vec numbered; /* qir_numbered_value */
  bool numbers_hashed; /* some canonical numbers went to `values` */
  qir_symtab resource_index; /* resource name -> index + 1 (in v) */
  bool dict_has_placeholder; /* the current attributes use a resource */
  bool warned_elided;

  /* The op being parsed: its explicit loc(...), the quantized type's
   * range. */
  qir_loc op_loc;
  bool has_loc;
  bool has_range;
  int64_t qmin, qmax;

  qir_vec names;     /* qir_text_name: results of the current op, args */
  qir_vec arg_types; /* const qir_type * */
  qir_vec operands;  /* qir_value * */
  qir_vec types;     /* const qir_type *: result types */
  qir_vec attrs;     /* qir_named_attr: dictionaries (nest via start) */
  qir_vec attr_pos;  /* qir_pos of each entry of attrs */
  qir_vec elems;     /* const qir_attr *: array elements */
  qir_vec dense;     /* qir_text_elem */
  qir_vec scales;    /* double: quantization parameters */
  qir_vec zps;       /* int64_t */
  qir_vec resrefs;   /* qir_text_resref */
  qir_vec resources; /* qir_text_resource */
  qir_vec holders;   /* qir_text_holder */
  qir_vec scratch;   /* char: unescaped strings, dense bytes */
  qir_type_cache_entry type_cache[QIR_TEXT_TYPE_CACHE];
  qir_type_cache_entry last_type; /* the last "tensor<...>" token */
  /* Op definitions and interned identifiers by their text (direct
   * mapped; a miss asks the context). */
  struct {
    const char *text;
    size_t len;
    const void *value;
  } op_cache[64], ident_cache[64];
  const qir_type *scalar_types[QIR_NUM_SCALARS];
} qir_parser;

/* Reports an error at `pos` and marks the parse failed. */
void qir_text_error(qir_parser *p, qir_pos pos, const char *fmt, ...)
    QIR_PRINTF(3, 4);
qir_loc qir_text_loc(qir_parser *p, qir_pos pos);

/* Number tokens (parse.c). */
bool qir_text_parse_int(qir_parser *p, qir_slice t, qir_pos pos,
                        int64_t *out);
bool qir_text_parse_double(qir_parser *p, qir_slice t, qir_pos pos,
                           double *out);
/* Copies a number token into buf, NUL-terminated (error when too long). */
bool qir_text_number_cstr(qir_parser *p, qir_slice t, qir_pos pos, char *buf,
                          size_t size);

/* The scanner (lexer.l). */
int qir_text_scanner_init(qir_parser *p, char *buf, size_t len);
void qir_text_scanner_free(qir_parser *p);

#endif
