/* qir/ir.h - values, uses, ops, op definitions, blocks, functions, modules.
 *
 * Structure: a module holds functions; a function has one body block (a
 * dataflow graph needs no CFG) whose arguments are the function's inputs and
 * whose last op is `return`.  An op has an op definition, operands (uses of
 * values), results (values), an attribute dictionary and a location.
 *
 * Read the structs directly; change the IR only through the functions here,
 * which keep the use-lists right.  Use-lists are intrusive: each qir_use
 * knows the next use of its value and the link that points at it, so
 * removing a use is O(1) and replace-all-uses is O(uses). */
#ifndef QIR_IR_H
#define QIR_IR_H

#include "qir/attrs.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct qir_value qir_value;
typedef struct qir_use qir_use;
typedef struct qir_op qir_op;
typedef struct qir_op_def qir_op_def;
typedef struct qir_block qir_block;
typedef struct qir_func qir_func;
typedef struct qir_module qir_module;

struct qir_use {
  qir_value *value; /* the value used (never NULL while linked) */
  qir_op *owner;    /* the op whose operand this is */
  unsigned index;   /* operand number in owner */
  qir_use *next;    /* next use of the same value */
  qir_use **prevp;  /* the link that points at this use */
};

typedef enum qir_value_kind { QIR_VALUE_RESULT, QIR_VALUE_ARG } qir_value_kind;

struct qir_value {
  const qir_type *type;
  qir_use *uses;    /* first use, NULL when unused */
  const char *name; /* interned; NULL = anonymous (printed %0, %1, ...) */
  qir_value_kind kind;
  unsigned index;   /* result number, or argument number */
  union {
    qir_op *op;       /* RESULT: the defining op */
    qir_block *block; /* ARG: the block */
  } owner;
  intptr_t aux; /* scratch for the pass that runs; meaningless across passes */
};

static inline bool qir_value_has_uses(const qir_value *v) { return v->uses; }
static inline bool qir_value_has_one_use(const qir_value *v) {
  return v->uses && !v->uses->next;
}
unsigned qir_value_num_uses(const qir_value *v);
/* The defining op, NULL for a block argument. */
static inline qir_op *qir_value_def(const qir_value *v) {
  return v->kind == QIR_VALUE_RESULT ? v->owner.op : NULL;
}
/* Makes every use of `from` use `to` instead.  Types are the caller's
 * business (the verifier checks them). */
void qir_value_replace_all_uses(qir_value *from, qir_value *to);
/* Sets the value's name (interned; NULL makes it anonymous). */
void qir_value_set_name(qir_context *ctx, qir_value *v, const char *name);
/* Retypes a value in place (shape inference); uses see the new type. */
static inline void qir_value_set_type(qir_value *v, const qir_type *t) {
  v->type = t;
}

/* ---- Op definitions --------------------------------------------------- */

enum qir_op_trait {
  QIR_TRAIT_PURE = 1u << 0,         /* no side effects: DCE/CSE may act */
  QIR_TRAIT_ELEMENTWISE = 1u << 1,  /* per-element, numpy broadcasting */
  QIR_TRAIT_COMMUTATIVE = 1u << 2,  /* f(a, b) == f(b, a) */
  QIR_TRAIT_QUANTIZABLE = 1u << 3,  /* has integer (quantized) semantics */
  QIR_TRAIT_TERMINATOR = 1u << 4,   /* must be last in its block */
  QIR_TRAIT_CONSTANT = 1u << 5,     /* a constant: result from `value` attr */
  QIR_TRAIT_SAME_TYPE = 1u << 6,    /* result type equals operand 0's */
  QIR_TRAIT_ACTIVATION = 1u << 7,   /* unary activation, fusable into conv */
  QIR_TRAIT_SHAPE = 1u << 8,        /* computes on shapes (int64 tensors) */
  QIR_TRAIT_FIXED_RANGE = 1u << 9,  /* output range fixed (sigmoid, softmax) */
  QIR_TRAIT_SAME_SCALE = 1u << 10   /* quantized operands share one scale */
};

/* Checks the op's own rules (attributes present and well formed, operand
 * types and ranks).  Reports each problem with qir_op_emit_error and
 * returns false if there was any. */
typedef bool (*qir_verify_fn)(qir_op *op);
/* Computes the result types from the operand types and attributes into
 * out[0..num_results).  Dynamic dimensions propagate as QIR_DYN.  Returns
 * false (after qir_op_emit_error) when the operands are inconsistent. */
typedef bool (*qir_infer_fn)(qir_op *op, const qir_type **out);
/* Constant folding: operands[i] is the dense attribute of operand i when it
 * is a constant, else NULL.  On success stores one dense attribute per
 * result into out and returns true; returns false when it cannot fold
 * (never an error). */
typedef bool (*qir_fold_fn)(qir_op *op, const qir_attr *const *operands,
                            const qir_attr **out);

struct qir_op_def {
  const char *name;    /* "conv2d", "npu.conv" (dialect prefix with a dot) */
  unsigned id;         /* QIR_OP_<ID> for built-in ops, else >= QIR_NUM_OPS */
  int min_operands;    /* */
  int max_operands;    /* -1: variadic */
  int num_results;     /* -1: variadic (given by the parser or builder) */
  unsigned traits;     /* enum qir_op_trait */
  const char *summary; /* one line, shown in --help and docs */
  qir_verify_fn verify;
  qir_infer_fn infer;
  qir_fold_fn fold;
  const void *impl;    /* reserved for the owner (interpreter kernels) */
};

/* Built-in op ids, from ir/ops.def. */
enum qir_op_id {
#define QIR_OP(ID, name, minops, maxops, nres, traits, verify, infer, fold,   \
               summary)                                                       \
  QIR_OP_##ID,
#include "qir/ops.def"
#undef QIR_OP
  QIR_NUM_OPS
};

/* Registers an op definition (plugins: for ops of their own dialect).  The
 * definition must outlive the context.  Returns false when the name is
 * taken.  Assigns def->id for non-built-in ops. */
bool qir_register_op(qir_context *ctx, qir_op_def *def);
const qir_op_def *qir_lookup_op(const qir_context *ctx, const char *name,
                                size_t len);
const qir_op_def *qir_builtin_op(const qir_context *ctx, unsigned id);
/* Calls fn for every registered op, in registration order. */
void qir_foreach_op_def(const qir_context *ctx,
                        void (*fn)(const qir_op_def *def, void *user),
                        void *user);

/* ---- Ops --------------------------------------------------------------- */

struct qir_op {
  const qir_op_def *def;
  qir_context *ctx;
  qir_block *block;    /* NULL when detached */
  qir_op *prev, *next; /* in the block */
  unsigned num_operands;
  qir_use *operands;   /* array of num_operands */
  unsigned num_results;
  qir_value *results;  /* array of num_results */
  unsigned num_attrs;
  qir_named_attr *attrs; /* in insertion order (printed in that order) */
  qir_loc loc;
  intptr_t aux; /* scratch for the pass that runs */
};

static inline bool qir_op_is(const qir_op *op, unsigned id) {
  return op->def->id == id;
}
static inline bool qir_op_has_trait(const qir_op *op, unsigned trait) {
  return (op->def->traits & trait) != 0;
}
static inline qir_value *qir_op_operand(const qir_op *op, unsigned i) {
  return op->operands[i].value;
}
static inline qir_value *qir_op_result(qir_op *op, unsigned i) {
  return &op->results[i];
}

/* Creates a detached op.  result_types has num_results entries (the def's
 * count unless it is variadic).  Operands may be NULL only transiently (the
 * parser fills forward references); the verifier rejects a NULL operand. */
qir_op *qir_op_create(qir_context *ctx, const qir_op_def *def, qir_loc loc,
                      unsigned num_operands, qir_value *const *operands,
                      unsigned num_results, const qir_type *const *result_types,
                      unsigned num_attrs, const qir_named_attr *attrs);
void qir_op_set_operand(qir_op *op, unsigned i, qir_value *v);
/* Replaces all operands (the count may change). */
void qir_op_set_operands(qir_op *op, unsigned n, qir_value *const *values);
/* Drops the uses of the op's operands (before erasing a group of ops that
 * use each other). */
void qir_op_drop_operands(qir_op *op);

const qir_attr *qir_op_get_attr(const qir_op *op, const char *name);
/* Sets (or adds) an attribute; NULL removes it. */
void qir_op_set_attr(qir_op *op, const char *name, const qir_attr *a);
int64_t qir_op_get_int(const qir_op *op, const char *name, int64_t dflt);
double qir_op_get_float(const qir_op *op, const char *name, double dflt);
bool qir_op_get_bool(const qir_op *op, const char *name, bool dflt);
/* NULL when absent or not a string. */
const char *qir_op_get_string(const qir_op *op, const char *name);
/* Count read (see qir_attr_get_ints), 0 when absent, -1 when malformed. */
int qir_op_get_ints(const qir_op *op, const char *name, int64_t *out,
                    unsigned max);
/* The affine step after a conv2d's fused activation (docs/Ops.md):
 * y = activation(x) * post_mul + post_add, the product and the sum each
 * rounded to f32.  False when the op has neither attribute; an absent one
 * reads as the identity (1, and -0.0, which leaves every value as it is). */
bool qir_op_post_affine(const qir_op *op, float *mul, float *add);
/* The affine on one value, as the interpreter and the NPU emulator run it. */
static inline float qir_post_affine_f32(float y, float mul, float add) {
  float t = y * mul;
  return t + add;
}

/* Placement in a block. */
void qir_block_append(qir_block *b, qir_op *op);
void qir_op_insert_before(qir_op *pos, qir_op *op);
void qir_op_insert_after(qir_op *pos, qir_op *op);
void qir_op_unlink(qir_op *op); /* out of its block, still alive */
void qir_op_move_before(qir_op *pos, qir_op *op);
/* Unlinks, drops its operands' uses and frees the op.  Its results must be
 * unused (internal error otherwise). */
void qir_op_erase(qir_op *op);
/* Replaces every use of op's results with values[i], then erases op. */
void qir_op_replace(qir_op *op, qir_value *const *values);

/* Emits an error at the op's location, prefixed `'name' op `. */
void qir_op_emit_error(const qir_op *op, const char *fmt, ...)
    QIR_PRINTF(2, 3);
void qir_op_emit_warning(const qir_op *op, const char *fmt, ...)
    QIR_PRINTF(2, 3);
void qir_op_emit_remark(const qir_op *op, const char *fmt, ...)
    QIR_PRINTF(2, 3);

/* ---- Blocks, functions, modules ---------------------------------------- */

struct qir_block {
  qir_func *func;
  qir_op *first, *last;
  unsigned num_ops;
  unsigned num_args;
  qir_value **args; /* each separately allocated: stable addresses */
};

/* Adds an argument (the function's input) with a name (may be NULL). */
qir_value *qir_block_add_arg(qir_block *b, const qir_type *t,
                             const char *name);
/* Removes argument i, which must be unused. */
void qir_block_erase_arg(qir_block *b, unsigned i);
/* The terminator (`return`), NULL when missing. */
qir_op *qir_block_terminator(const qir_block *b);

#define qir_foreach_op(op, block)                                             \
  for (qir_op *op = (block)->first; op; op = op->next)
/* Safe against erasing `op` inside the loop. */
#define qir_foreach_op_safe(op, tmp, block)                                   \
  for (qir_op *op = (block)->first, *tmp = op ? op->next : NULL; op;          \
       op = tmp, tmp = op ? op->next : NULL)

struct qir_func {
  qir_module *module;
  const char *name; /* interned, without '@' */
  qir_block body;
  unsigned num_results;
  const qir_type **result_types;
  unsigned num_attrs;
  qir_named_attr *attrs;
  qir_loc loc;
  qir_func *prev, *next;
};

/* Creates a function with arguments (names may be NULL) and result types,
 * appended to the module.  Returns NULL (with an error) when the name is
 * taken. */
qir_func *qir_func_create(qir_module *m, const char *name, qir_loc loc,
                          unsigned num_args, const qir_type *const *arg_types,
                          const char *const *arg_names, unsigned num_results,
                          const qir_type *const *result_types);
void qir_func_set_result_types(qir_func *f, unsigned n,
                               const qir_type *const *types);
void qir_func_set_attr(qir_func *f, const char *name, const qir_attr *a);
const qir_attr *qir_func_get_attr(const qir_func *f, const char *name);
void qir_func_erase(qir_func *f);

struct qir_module {
  qir_context *ctx;
  qir_func *first, *last;
  unsigned num_funcs;
  unsigned num_attrs;
  qir_named_attr *attrs;
  const char *name; /* optional, interned */
  qir_loc loc;
  struct qir_func_index *func_index; /* private: qir_module_lookup's cache */
};

qir_module *qir_module_create(qir_context *ctx);
void qir_module_destroy(qir_module *m);
qir_func *qir_module_lookup(const qir_module *m, const char *name);
void qir_module_set_attr(qir_module *m, const char *name, const qir_attr *a);
const qir_attr *qir_module_get_attr(const qir_module *m, const char *name);
/* Total number of ops in all functions. */
size_t qir_module_num_ops(const qir_module *m);

#define qir_foreach_func(f, module)                                           \
  for (qir_func *f = (module)->first; f; f = f->next)

/* ---- Verifier ----------------------------------------------------------- */

/* Checks the whole module and reports every problem it finds (it keeps
 * going after the first): operand and result counts, NULL operands, uses
 * before definitions, types (results agree with each op's inference),
 * terminators and return types, each op's own verifier.  Returns true when
 * the module is valid. */
bool qir_verify_module(qir_module *m);
bool qir_verify_func(qir_func *f);
bool qir_verify_op(qir_op *op);

#ifdef __cplusplus
}
#endif
#endif
