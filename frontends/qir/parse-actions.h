/* frontends/qir/parse-actions.h - what the grammar's actions call
 * (frontends/qir/parse.c).  Functions returning bool or a pointer report
 * their own errors and return false / NULL on failure. */
#ifndef QIR_FRONTENDS_QIR_PARSE_ACTIONS_H
#define QIR_FRONTENDS_QIR_PARSE_ACTIONS_H

#include "frontends/qir/parser-state.h"

/* Module and functions. */
void qir_text_set_module_name(qir_parser *p, const char *name);
void qir_text_set_module_attrs(qir_parser *p);
bool qir_text_begin_func(qir_parser *p, const char *name, qir_pos pos);
void qir_text_end_func(qir_parser *p);
bool qir_text_finish_module(qir_parser *p);
void qir_text_push_arg(qir_parser *p, qir_slice name, qir_pos pos,
                       const qir_type *t);

/* Ops.  The name part of a "%name =" token and of a "name(" token. */
qir_slice qir_text_def_name(qir_slice tok);
qir_slice qir_text_call_name(qir_slice tok);
void qir_text_push_name(qir_parser *p, qir_slice name, qir_pos pos);
bool qir_text_push_operand(qir_parser *p, qir_slice name, qir_pos pos);
void qir_text_push_type(qir_parser *p, const qir_type *t);
bool qir_text_set_loc(qir_parser *p, qir_slice file, qir_pos fpos,
                      qir_slice line, qir_pos lpos, qir_slice col,
                      qir_pos cpos);
bool qir_text_build_op(qir_parser *p, qir_slice name, qir_pos name_pos,
                       qir_pos op_pos, bool has_types, bool has_loc);

/* Attributes.  Identifiers interned through a small cache. */
const char *qir_text_intern_ident(qir_parser *p, qir_slice id);
bool qir_text_push_attr(qir_parser *p, const char *name, qir_pos pos,
                        const qir_attr *a);
const char *qir_text_string_name(qir_parser *p, qir_slice tok, qir_pos pos);
const char *qir_text_quoted_symbol(qir_parser *p, qir_slice tok, qir_pos pos);
const qir_attr *qir_text_int_attr(qir_parser *p, qir_slice tok, qir_pos pos);
const qir_attr *qir_text_float_attr(qir_parser *p, qir_slice tok,
                                    qir_pos pos);
const qir_attr *qir_text_string_attr(qir_parser *p, qir_slice tok,
                                     qir_pos pos);
bool qir_text_enter(qir_parser *p, qir_pos pos); /* one more bracket level */
void qir_text_push_elem(qir_parser *p, const qir_attr *a);
/* The array of the elements pushed since `start` (NULL, with an error at
 * pos, over QIR_MAX_ARRAY_LEN). */
const qir_attr *qir_text_make_array(qir_parser *p, size_t start,
                                    qir_pos pos);

/* Dense tensors and resources. */
typedef enum { QIR_TEXT_DENSE_SPLAT, QIR_TEXT_DENSE_LIST } qir_text_dense_kind;
void qir_text_push_dense(qir_parser *p, qir_slice tok, qir_pos pos,
                         qir_elem_kind kind);
const qir_attr *qir_text_dense(qir_parser *p, qir_text_dense_kind kind,
                               qir_pos pos, const qir_type *t,
                               qir_pos type_pos);
const qir_attr *qir_text_dense_hex(qir_parser *p, qir_slice tok, qir_pos pos,
                                   const qir_type *t, qir_pos type_pos);
const qir_attr *qir_text_dense_resource(qir_parser *p, qir_slice name,
                                        qir_pos pos, const qir_type *t,
                                        qir_pos type_pos);
bool qir_text_add_resource(qir_parser *p, qir_slice name, qir_pos pos,
                           qir_slice hex, qir_pos hex_pos);

/* Types. */
const qir_type *qir_text_scalar_type(qir_parser *p, qir_slice tok);
const qir_type *qir_text_tensor_type(qir_parser *p, qir_slice open,
                                     qir_pos pos, const qir_type *elem);
/* A whole "tensor<2x3xf32>" token. */
const qir_type *qir_text_simple_tensor_type(qir_parser *p, qir_slice tok,
                                            qir_pos pos);
bool qir_text_push_scale(qir_parser *p, qir_slice tok, qir_pos pos);
bool qir_text_push_zp(qir_parser *p, const qir_slice *tok, qir_pos pos);
bool qir_text_quant_axis(qir_parser *p, qir_slice kw, qir_pos kw_pos,
                         qir_slice axis, qir_pos axis_pos, size_t *out);
bool qir_text_quant_range(qir_parser *p, qir_slice kw, qir_pos kw_pos,
                          qir_slice lo, qir_pos lo_pos, qir_slice hi,
                          qir_pos hi_pos);
const qir_type *qir_text_quant_type(qir_parser *p, qir_slice open,
                                    qir_pos pos, size_t axis);

/* Errors. */
void qir_text_syntax_error(qir_parser *p, qir_pos pos, bool at_eof, int n,
                           const char *const *expected);

#endif
