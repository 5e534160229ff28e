/* frontends/qir/parser.y - the grammar of the .qir text format.
 *
 * docs/LangRef.md gives the same grammar in BNF.  The actions build the IR
 * through the public API as they go; the helpers they call live in
 * frontends/qir/parse.c.  Lists (operands, results, attributes, dense
 * elements) are collected on the parser's stacks, so a list costs no
 * allocation.  The first error aborts the parse (YYABORT). */

%code requires {
#include "frontends/qir/parser-state.h"
#include "frontends/qir/parse-actions.h"
}

%code provides {
int qir_text_scan(QIR_YYSTYPE *yylval, QIR_YYLTYPE *yylloc, void *yyscanner);
}

%code {
/* A location is the position of the first token of the rule, or of the
 * next token for an empty rule. */
#define YYLLOC_DEFAULT(Cur, Rhs, N)                                           \
  do {                                                                        \
    if (N)                                                                    \
      (Cur) = YYRHSLOC(Rhs, 1);                                               \
    else                                                                      \
      (Cur) = YYRHSLOC(Rhs, 0);                                               \
  } while (0)

static int qir_yylex(QIR_YYSTYPE *lval, QIR_YYLTYPE *lloc, qir_parser *p) {
  return qir_text_scan(lval, lloc, p->scanner);
}

/* Only "memory exhausted" reaches here (syntax errors go through
 * yyreport_syntax_error). */
static void qir_yyerror(const QIR_YYLTYPE *loc, qir_parser *p,
                        const char *msg) {
  qir_text_error(p, *loc, "%s (input nested too deeply)", msg);
}

#define FAIL_UNLESS(c)                                                        \
  do {                                                                        \
    if (!(c))                                                                 \
      YYABORT;                                                                \
  } while (0)
}

%define api.prefix {qir_yy}
%define api.pure full
%define api.token.prefix {TK_}
%define api.location.type {qir_pos}
%define parse.error custom
%define parse.lac full
%locations
%param {qir_parser *p}

%union {
  qir_slice s;
  const char *str;
  const qir_type *type;
  const qir_attr *attr;
  size_t n;
  bool b;
}

%token <s> VALUE "value name"
%token <s> VALUE_DEF "value name and '='"
%token <s> CALL_OPEN "op name and '('"
%token <s> KW_LOC_OPEN "'loc('"
%token <s> SYMBOL "symbol"
%token <s> QSYMBOL "quoted symbol"
%token <s> IDENT "identifier"
%token <s> INT "integer"
%token <s> FLOAT "float"
%token <s> STRING "string"
%token <s> SCALAR "scalar type"
%token <s> TENSOR_OPEN "'tensor<'"
%token <s> TENSOR_TYPE "tensor type"
%token <s> QUANT_OPEN "quantized type"
%token <s> ARROW "'->'"
%token <s> KW_MODULE "'module'"
%token <s> KW_FUNC "'func'"
%token <s> KW_ATTRIBUTES "'attributes'"
%token <s> KW_RESOURCES "'resources'"
%token <s> KW_DENSE "'dense'"
%token <s> KW_DENSE_RESOURCE "'dense_resource'"
%token <s> KW_TRUE "'true'"
%token <s> KW_FALSE "'false'"
%token <s> KW_LOC "'loc'"
%token LEX_ERROR "invalid token"

%type <s> any_ident number op_head
%type <str> symbol attr_name
%type <type> type tensor_type quant_type
%type <attr> attr_value array dense_attr
%type <b> op_results op_types loc_opt
%type <n> quant_body

%%

module:
    header_opt funcs resources_opt        { FAIL_UNLESS(qir_text_finish_module(p)); }
  ;

header_opt:
    %empty
  | KW_MODULE module_name_opt module_attrs_opt
  ;

module_name_opt:
    %empty
  | symbol                                { qir_text_set_module_name(p, $1); }
  ;

module_attrs_opt:
    %empty
  | KW_ATTRIBUTES attr_dict               { qir_text_set_module_attrs(p); }
  ;

funcs:
    %empty
  | funcs func
  ;

func:
    func_head '{' body '}'                { qir_text_end_func(p); }
  ;

func_head:
    KW_FUNC symbol '(' args_opt ')' func_results func_attrs_opt
                                          { FAIL_UNLESS(qir_text_begin_func(p, $2, @1)); }
  ;

args_opt:
    %empty
  | args
  ;

args:
    arg
  | args ',' arg
  ;

arg:
    VALUE ':' type                        { qir_text_push_arg(p, $1, @1, $3); }
  ;

func_results:
    %empty
  | ARROW type                            { qir_text_push_type(p, $2); }
  | ARROW '(' types_opt ')'
  ;

func_attrs_opt:
    %empty
  | KW_ATTRIBUTES attr_dict
  ;

body:
    %empty
  | body op
  ;

op:
    op_results op_head attr_dict_opt op_types loc_opt
        { FAIL_UNLESS(qir_text_build_op(p, $2, @2, $1 ? QIR_VEC_AT(&p->names, qir_text_name, 0).pos : @2, $4, $5)); }
  ;

/* The op name and its operands; `()` may be left out when there are none
 * (`constant {...}`).  "name(" usually comes as one token. */
op_head:
    IDENT
  | IDENT '(' ')'
  | IDENT '(' operands ')'
  | CALL_OPEN ')'                         { $$ = qir_text_call_name($1); }
  | CALL_OPEN operands ')'                { $$ = qir_text_call_name($1); }
  ;

op_results:
    %empty                                { $$ = false; }
  | VALUE_DEF                             { qir_text_push_name(p, qir_text_def_name($1), @1); $$ = true; }
  | result_names ',' VALUE_DEF            { qir_text_push_name(p, qir_text_def_name($3), @3); $$ = true; }
  | result_names '='                      { $$ = true; }
  ;

result_names:
    VALUE                                 { qir_text_push_name(p, $1, @1); }
  | result_names ',' VALUE                { qir_text_push_name(p, $3, @3); }
  ;

operands:
    VALUE                                 { FAIL_UNLESS(qir_text_push_operand(p, $1, @1)); }
  | operands ',' VALUE                    { FAIL_UNLESS(qir_text_push_operand(p, $3, @3)); }
  ;

op_types:
    %empty                                { $$ = false; }
  | ':' type                              { qir_text_push_type(p, $2); $$ = true; }
  | ':' '(' types_opt ')'                 { $$ = true; }
  ;

types_opt:
    %empty
  | types
  ;

types:
    type                                  { qir_text_push_type(p, $1); }
  | types ',' type                        { qir_text_push_type(p, $3); }
  ;

loc_opt:
    %empty                                { $$ = false; }
  | KW_LOC '(' STRING ':' INT ':' INT ')'
        { FAIL_UNLESS(qir_text_set_loc(p, $3, @3, $5, @5, $7, @7)); $$ = true; }
  | KW_LOC_OPEN STRING ':' INT ':' INT ')'
        { FAIL_UNLESS(qir_text_set_loc(p, $2, @2, $4, @4, $6, @6)); $$ = true; }
  ;

/* ---- Attributes --------------------------------------------------------- */

attr_dict_opt:
    %empty
  | attr_dict
  ;

attr_dict:
    '{' '}'
  | '{' named_attrs '}'
  ;

named_attrs:
    named_attr
  | named_attrs ',' named_attr
  ;

named_attr:
    attr_name '=' attr_value              { FAIL_UNLESS(qir_text_push_attr(p, $1, @1, $3)); }
  ;

attr_name:
    any_ident                             { $$ = qir_text_intern_ident(p, $1); }
  | STRING                                { FAIL_UNLESS($$ = qir_text_string_name(p, $1, @1)); }
  ;

attr_value:
    INT                                   { FAIL_UNLESS($$ = qir_text_int_attr(p, $1, @1)); }
  | FLOAT                                 { FAIL_UNLESS($$ = qir_text_float_attr(p, $1, @1)); }
  | KW_TRUE                               { $$ = qir_attr_bool(p->ctx, true); }
  | KW_FALSE                              { $$ = qir_attr_bool(p->ctx, false); }
  | STRING                                { FAIL_UNLESS($$ = qir_text_string_attr(p, $1, @1)); }
  | symbol                                { $$ = qir_attr_symbol(p->ctx, $1); }
  | SCALAR                                { $$ = qir_attr_type(p->ctx, qir_text_scalar_type(p, $1)); }
  | tensor_type                           { $$ = qir_attr_type(p->ctx, $1); }
  | quant_type                            { $$ = qir_attr_type(p->ctx, $1); }
  | array
  | dense_attr
  | IDENT
        { qir_text_error(p, @1, "expected an attribute value, found '%.*s'", (int)$1.n, $1.s);
          YYABORT; }
  ;

array:
    '[' <n>{ FAIL_UNLESS(qir_text_enter(p, @1)); $$ = p->elems.len; } array_elems_opt ']'
        { FAIL_UNLESS($$ = qir_text_make_array(p, $2, @1)); p->depth--; }
  ;

array_elems_opt:
    %empty
  | array_elems
  ;

array_elems:
    attr_value                            { qir_text_push_elem(p, $1); }
  | array_elems ',' attr_value            { qir_text_push_elem(p, $3); }
  ;

symbol:
    SYMBOL                                { $$ = qir_intern(p->ctx, $1.s + 1, $1.n - 1); }
  | QSYMBOL                               { FAIL_UNLESS($$ = qir_text_quoted_symbol(p, $1, @1)); }
  ;

any_ident:
    IDENT | SCALAR | KW_MODULE | KW_FUNC | KW_ATTRIBUTES | KW_RESOURCES
  | KW_DENSE | KW_DENSE_RESOURCE | KW_TRUE | KW_FALSE | KW_LOC
  ;

/* ---- Dense tensors and resources ---------------------------------------- */

dense_attr:
    KW_DENSE '<' dense_scalar '>' ':' type
        { FAIL_UNLESS($$ = qir_text_dense(p, QIR_TEXT_DENSE_SPLAT, @1, $6, @6)); }
  | KW_DENSE '<' dense_list '>' ':' type
        { FAIL_UNLESS($$ = qir_text_dense(p, QIR_TEXT_DENSE_LIST, @1, $6, @6)); }
  | KW_DENSE '<' STRING '>' ':' type
        { FAIL_UNLESS($$ = qir_text_dense_hex(p, $3, @3, $6, @6)); }
  | KW_DENSE_RESOURCE '<' any_ident '>' ':' type
        { FAIL_UNLESS($$ = qir_text_dense_resource(p, $3, @3, $6, @6)); }
  ;

dense_list:
    '[' { FAIL_UNLESS(qir_text_enter(p, @1)); } dense_items_opt ']' { p->depth--; }
  ;

dense_items_opt:
    %empty
  | dense_items
  ;

dense_items:
    dense_item
  | dense_items ',' dense_item
  ;

dense_item:
    dense_scalar
  | dense_list
  ;

dense_scalar:
    INT                                   { qir_text_push_dense(p, $1, @1, QIR_ELEM_INT); }
  | FLOAT                                 { qir_text_push_dense(p, $1, @1, QIR_ELEM_FLOAT); }
  | KW_TRUE                               { qir_text_push_dense(p, $1, @1, QIR_ELEM_BOOL); }
  | KW_FALSE                              { qir_text_push_dense(p, $1, @1, QIR_ELEM_BOOL); }
  ;

resources_opt:
    %empty
  | KW_RESOURCES '{' resource_list_opt '}'
  ;

resource_list_opt:
    %empty
  | resource_list
  | resource_list ','
  ;

resource_list:
    resource
  | resource_list ',' resource
  ;

resource:
    any_ident ':' STRING                  { FAIL_UNLESS(qir_text_add_resource(p, $1, @1, $3, @3)); }
  ;

/* ---- Types -------------------------------------------------------------- */

type:
    SCALAR                                { $$ = qir_text_scalar_type(p, $1); }
  | tensor_type
  | quant_type
  | IDENT
        { qir_text_error(p, @1, "unknown type '%.*s'", (int)$1.n, $1.s); YYABORT; }
  ;

tensor_type:
    TENSOR_TYPE                           { FAIL_UNLESS($$ = qir_text_simple_tensor_type(p, $1, @1)); }
  | TENSOR_OPEN quant_type '>'            { FAIL_UNLESS($$ = qir_text_tensor_type(p, $1, @1, $2)); }
  | TENSOR_OPEN IDENT
        { qir_text_error(p, @2, "unknown element type '%.*s'", (int)$2.n, $2.s); YYABORT; }
  | TENSOR_OPEN INT
        { qir_text_error(p, @2, "expected 'x' and an element type after dimension '%.*s'",
                         (int)$2.n, $2.s); YYABORT; }
  ;

quant_type:
    QUANT_OPEN quant_body quant_range_opt '>'
        { FAIL_UNLESS($$ = qir_text_quant_type(p, $1, @1, $2)); }
  ;

/* The axis (or (size_t)-1 per tensor). */
quant_body:
    number quant_zp_opt                   { FAIL_UNLESS(qir_text_push_scale(p, $1, @1)); $$ = (size_t)-1; }
  | IDENT '=' INT ',' '[' quant_list ']'
        { FAIL_UNLESS(qir_text_quant_axis(p, $1, @1, $3, @3, &$$)); }
  ;

quant_list:
    quant_entry
  | quant_list ',' quant_entry
  ;

quant_entry:
    number quant_zp_opt                   { FAIL_UNLESS(qir_text_push_scale(p, $1, @1)); }
  ;

quant_zp_opt:
    %empty                                { qir_text_push_zp(p, NULL, @$); }
  | ':' INT                               { FAIL_UNLESS(qir_text_push_zp(p, &$2, @2)); }
  ;

quant_range_opt:
    %empty
  | ',' IDENT '=' INT ':' INT
        { FAIL_UNLESS(qir_text_quant_range(p, $2, @2, $4, @4, $6, @6)); }
  ;

number:
    INT
  | FLOAT
  ;

%%

/* Syntax errors read "expected X, found Y" (Y is the offending token's
 * text) or, when many tokens would fit, "unexpected Y". */
static int yyreport_syntax_error(const yypcontext_t *ctx, qir_parser *p) {
  if (p->failed)
    return 0;
  yysymbol_kind_t expected[5];
  int n = yypcontext_expected_tokens(ctx, expected, 5);
  yysymbol_kind_t look = yypcontext_token(ctx);
  const char *names[5];
  for (int i = 0; i < n && i < 5; i++)
    names[i] = yysymbol_name(expected[i]);
  qir_text_syntax_error(p, *yypcontext_location(ctx), look == YYSYMBOL_YYEOF,
                        n, names);
  return 0;
}
