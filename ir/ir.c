/* ir/ir.c - IR (stub). */
#include "ir/internal.h"
#include <stdlib.h>

unsigned qir_value_num_uses(const qir_value *v) { return 0; }
void qir_value_replace_all_uses(qir_value *from, qir_value *to) {  }
void qir_value_set_name(qir_context *ctx, qir_value *v, const char *name) {  }
qir_op * qir_op_create(qir_context *ctx, const qir_op_def *def, qir_loc loc, unsigned num_operands, qir_value *const *operands, unsigned num_results, const qir_type *const *result_types, unsigned num_attrs, const qir_named_attr *attrs) { return NULL; }
void qir_op_set_operand(qir_op *op, unsigned i, qir_value *v) {  }
void qir_op_set_operands(qir_op *op, unsigned n, qir_value *const *values) {  }
void qir_op_drop_operands(qir_op *op) {  }
const qir_attr * qir_op_get_attr(const qir_op *op, const char *name) { return NULL; }
void qir_op_set_attr(qir_op *op, const char *name, const qir_attr *a) {  }
int64_t qir_op_get_int(const qir_op *op, const char *name, int64_t dflt) { return 0; }
double qir_op_get_float(const qir_op *op, const char *name, double dflt) { return 0; }
bool qir_op_get_bool(const qir_op *op, const char *name, bool dflt) { return false; }
const char * qir_op_get_string(const qir_op *op, const char *name) { return NULL; }
int qir_op_get_ints(const qir_op *op, const char *name, int64_t *out, unsigned max) { return 0; }
void qir_block_append(qir_block *b, qir_op *op) {  }
void qir_op_insert_before(qir_op *pos, qir_op *op) {  }
void qir_op_insert_after(qir_op *pos, qir_op *op) {  }
void qir_op_unlink(qir_op *op) {  }
void qir_op_move_before(qir_op *pos, qir_op *op) {  }
void qir_op_erase(qir_op *op) {  }
void qir_op_replace(qir_op *op, qir_value *const *values) {  }
void qir_op_emit_error(const qir_op *op, const char *fmt, ...) {  }
void qir_op_emit_warning(const qir_op *op, const char *fmt, ...) {  }
void qir_op_emit_remark(const qir_op *op, const char *fmt, ...) {  }
qir_value * qir_block_add_arg(qir_block *b, const qir_type *t, const char *name) { return NULL; }
void qir_block_erase_arg(qir_block *b, unsigned i) {  }
qir_op * qir_block_terminator(const qir_block *b) { return NULL; }
qir_func * qir_func_create(qir_module *m, const char *name, qir_loc loc, unsigned num_args, const qir_type *const *arg_types, const char *const *arg_names, unsigned num_results, const qir_type *const *result_types) { return NULL; }
void qir_func_set_result_types(qir_func *f, unsigned n, const qir_type *const *types) {  }
void qir_func_set_attr(qir_func *f, const char *name, const qir_attr *a) {  }
const qir_attr * qir_func_get_attr(const qir_func *f, const char *name) { return NULL; }
void qir_func_erase(qir_func *f) {  }
qir_module * qir_module_create(qir_context *ctx) { return NULL; }
void qir_module_destroy(qir_module *m) {  }
qir_func * qir_module_lookup(const qir_module *m, const char *name) { return NULL; }
void qir_module_set_attr(qir_module *m, const char *name, const qir_attr *a) {  }
const qir_attr * qir_module_get_attr(const qir_module *m, const char *name) { return NULL; }
size_t qir_module_num_ops(const qir_module *m) { return 0; }
