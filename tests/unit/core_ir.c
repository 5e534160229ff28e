/* tests/unit/core_ir.c - use-lists, ops, attributes on ops, placement, the
 * builder, block arguments, functions and modules. */
#include <signal.h>
#include <string.h>

#include "core_test.h"

/* A module with one function @f(%x, %y: tensor<4xf32>) -> tensor<4xf32>. */
typedef struct fixture {
  qir_context *ctx;
  qir_module *m;
  qir_func *f;
  const qir_type *t;
  qir_value *x, *y;
  qir_builder b;
} fixture;

static void setup(fixture *fx) {
  fx->ctx = qir_context_create();
  fx->m = qir_module_create(fx->ctx);
  int64_t d[] = {4};
  fx->t = qir_tensor_of(fx->ctx, QIR_F32, 1, d);
  const qir_type *args[] = {fx->t, fx->t};
  const char *names[] = {"x", NULL};
  fx->f = qir_func_create(fx->m, "f", qir_loc_unknown(), 2, args, names, 1,
                          &fx->t);
  ck_assert_ptr_nonnull(fx->f);
  fx->x = fx->f->body.args[0];
  fx->y = fx->f->body.args[1];
  qir_builder_init(&fx->b, fx->ctx);
  qir_builder_set_end(&fx->b, &fx->f->body);
}

static void teardown(fixture *fx) {
  qir_module_destroy(fx->m);
  qir_context_destroy(fx->ctx);
}

static qir_op *add_op(fixture *fx, unsigned id, qir_value *a, qir_value *b) {
  qir_value *ops[] = {a, b};
  unsigned n = b ? 2 : 1;
  return qir_build_typed(&fx->b, qir_builtin_op(fx->ctx, id), n, ops, 1,
                         &fx->t, 0, NULL);
}

static bool use_list_consistent(const qir_value *v) {
  qir_use *const *link = &v->uses;
  for (const qir_use *u = v->uses; u; u = u->next) {
    if (u->prevp != link || u->value != v ||
        &u->owner->operands[u->index] != u)
      return false;
    link = &u->next;
  }
  return true;
}

START_TEST(use_lists_add_and_remove) {
  fixture fx;
  setup(&fx);
  ck_assert(!qir_value_has_uses(fx.x));
  qir_op *a = add_op(&fx, QIR_OP_ADD, fx.x, fx.y);
  qir_op *b = add_op(&fx, QIR_OP_MUL, fx.x, fx.x);
  ck_assert_uint_eq(qir_value_num_uses(fx.x), 3);
  ck_assert(qir_value_has_one_use(fx.y));
  ck_assert(use_list_consistent(fx.x));
  ck_assert_ptr_eq(qir_op_operand(b, 1), fx.x);
  ck_assert_uint_eq(a->operands[1].index, 1);
  ck_assert_ptr_eq(a->operands[0].owner, a);
  /* Remove a use from the middle of the list. */
  qir_op_set_operand(b, 0, fx.y);
  ck_assert_uint_eq(qir_value_num_uses(fx.x), 2);
  ck_assert_uint_eq(qir_value_num_uses(fx.y), 2);
  ck_assert(use_list_consistent(fx.x));
  ck_assert(use_list_consistent(fx.y));
  qir_op_drop_operands(a);
  ck_assert_ptr_null(qir_op_operand(a, 0));
  ck_assert_uint_eq(qir_value_num_uses(fx.x), 1);
  ck_assert(use_list_consistent(fx.x));
  qir_op_set_operand(a, 0, fx.x);
  ck_assert_uint_eq(qir_value_num_uses(fx.x), 2);
  teardown(&fx);
}
END_TEST

START_TEST(replace_all_uses) {
  fixture fx;
  setup(&fx);
  qir_op *r = add_op(&fx, QIR_OP_RELU, fx.x, NULL);
  qir_value *rv = qir_op_result(r, 0);
  qir_op *a = add_op(&fx, QIR_OP_ADD, rv, rv);
  qir_op *b = add_op(&fx, QIR_OP_MUL, rv, fx.y);
  qir_op *c = add_op(&fx, QIR_OP_SUB, fx.y, fx.y);
  ck_assert_uint_eq(qir_value_num_uses(rv), 3);
  qir_value_replace_all_uses(rv, fx.y);
  ck_assert(!qir_value_has_uses(rv));
  ck_assert_uint_eq(qir_value_num_uses(fx.y), 6);
  ck_assert(use_list_consistent(fx.y));
  ck_assert_ptr_eq(qir_op_operand(a, 1), fx.y);
  ck_assert_ptr_eq(qir_op_operand(b, 0), fx.y);
  ck_assert_ptr_eq(qir_op_operand(c, 0), fx.y);
  /* Self-replacement and replacing an unused value do nothing. */
  qir_value_replace_all_uses(fx.y, fx.y);
  qir_value_replace_all_uses(rv, fx.x);
  ck_assert_uint_eq(qir_value_num_uses(fx.y), 6);
  ck_assert_ptr_eq(qir_value_def(rv), r);
  ck_assert_ptr_null(qir_value_def(fx.x));
  teardown(&fx);
}
END_TEST

START_TEST(set_operands_changes_count) {
  fixture fx;
  setup(&fx);
  qir_value *ops[] = {fx.x, fx.y, fx.x};
  qir_op *ret = qir_build_typed(&fx.b, qir_builtin_op(fx.ctx, QIR_OP_RETURN),
                                1, ops, 0, NULL, 0, NULL);
  ck_assert_uint_eq(ret->num_operands, 1);
  qir_op_set_operands(ret, 3, ops);
  ck_assert_uint_eq(ret->num_operands, 3);
  ck_assert_uint_eq(qir_value_num_uses(fx.x), 2);
  ck_assert_uint_eq(qir_value_num_uses(fx.y), 1);
  ck_assert(use_list_consistent(fx.x));
  ck_assert_uint_eq(ret->operands[2].index, 2);
  /* Grow again (realloc moves the array; links must follow). */
  qir_value *more[] = {fx.y, fx.y, fx.y, fx.x, fx.x};
  qir_op_set_operands(ret, 5, more);
  ck_assert_uint_eq(qir_value_num_uses(fx.x), 2);
  ck_assert_uint_eq(qir_value_num_uses(fx.y), 3);
  ck_assert(use_list_consistent(fx.x));
  ck_assert(use_list_consistent(fx.y));
  qir_op_set_operands(ret, 0, NULL);
  ck_assert(!qir_value_has_uses(fx.x));
  ck_assert(!qir_value_has_uses(fx.y));
  qir_op_set_operands(ret, 1, &fx.y);
  ck_assert(qir_value_has_one_use(fx.y));
  teardown(&fx);
}
END_TEST

START_TEST(op_create_erase_replace) {
  fixture fx;
  setup(&fx);
  qir_op *r1 = add_op(&fx, QIR_OP_RELU, fx.x, NULL);
  qir_op *r2 = add_op(&fx, QIR_OP_RELU, fx.x, NULL);
  qir_op *a = add_op(&fx, QIR_OP_ADD, qir_op_result(r1, 0),
                     qir_op_result(r2, 0));
  ck_assert_uint_eq(fx.f->body.num_ops, 3);
  ck_assert_ptr_eq(qir_op_result(r1, 0)->owner.op, r1);
  ck_assert_int_eq(qir_op_result(r1, 0)->kind, QIR_VALUE_RESULT);
  ck_assert_ptr_eq(qir_op_result(r1, 0)->type, fx.t);
  qir_value *rep = qir_op_result(r1, 0);
  qir_op_replace(r2, &rep);
  ck_assert_uint_eq(fx.f->body.num_ops, 2);
  ck_assert_ptr_eq(qir_op_operand(a, 1), qir_op_result(r1, 0));
  ck_assert_uint_eq(qir_value_num_uses(fx.x), 1);
  qir_op_erase(a);
  ck_assert_uint_eq(fx.f->body.num_ops, 1);
  ck_assert(!qir_value_has_uses(qir_op_result(r1, 0)));
  ck_assert_ptr_eq(fx.f->body.first, r1);
  ck_assert_ptr_eq(fx.f->body.last, r1);
  /* A detached op can be erased too. */
  qir_op *d = qir_op_create(fx.ctx, qir_builtin_op(fx.ctx, QIR_OP_RELU),
                            qir_loc_unknown(), 1, &fx.x, 1, &fx.t, 0, NULL);
  ck_assert_ptr_null(d->block);
  ck_assert_uint_eq(qir_value_num_uses(fx.x), 2);
  qir_op_erase(d);
  ck_assert_uint_eq(qir_value_num_uses(fx.x), 1);
  teardown(&fx);
}
END_TEST

START_TEST(erase_used_op_dies) {
  fixture fx;
  setup(&fx);
  qir_op *r = add_op(&fx, QIR_OP_RELU, fx.x, NULL);
  add_op(&fx, QIR_OP_RELU, qir_op_result(r, 0), NULL);
  qir_op_erase(r); /* internal error: aborts */
}
END_TEST

START_TEST(op_attributes) {
  fixture fx;
  setup(&fx);
  qir_named_attr attrs[] = {qir_named(fx.ctx, "axis", qir_attr_int(fx.ctx, 1)),
                            qir_named(fx.ctx, "mode",
                                      qir_attr_cstr(fx.ctx, "nearest"))};
  qir_op *op = qir_build_typed(&fx.b, qir_builtin_op(fx.ctx, QIR_OP_RELU), 1,
                               &fx.x, 1, &fx.t, 2, attrs);
  ck_assert_int_eq(qir_op_get_int(op, "axis", -5), 1);
  ck_assert_int_eq(qir_op_get_int(op, "nope", -5), -5);
  ck_assert_str_eq(qir_op_get_string(op, "mode"), "nearest");
  ck_assert_ptr_null(qir_op_get_string(op, "axis"));
  ck_assert(qir_op_get_float(op, "axis", 0.0) == 1.0);
  ck_assert(qir_op_get_float(op, "alpha", 0.25) == 0.25);
  ck_assert(qir_op_get_bool(op, "keep", true));
  /* Replace keeps the order; remove; add past the inline room. */
  qir_op_set_attr(op, "axis", qir_attr_int(fx.ctx, 2));
  ck_assert_str_eq(op->attrs[0].name, "axis");
  ck_assert_int_eq(qir_op_get_int(op, "axis", 0), 2);
  qir_op_set_attr(op, "axis", NULL);
  ck_assert_uint_eq(op->num_attrs, 1);
  ck_assert_ptr_null(qir_op_get_attr(op, "axis"));
  qir_op_set_attr(op, "keep", qir_attr_bool(fx.ctx, false));
  qir_op_set_attr(op, "alpha", qir_attr_float(fx.ctx, 0.5));
  int64_t s[] = {2, 2};
  qir_op_set_attr(op, "strides", qir_attr_ints(fx.ctx, 2, s));
  ck_assert_uint_eq(op->num_attrs, 4);
  ck_assert_str_eq(op->attrs[0].name, "mode");
  ck_assert_str_eq(op->attrs[3].name, "strides");
  ck_assert(!qir_op_get_bool(op, "keep", true));
  ck_assert(qir_op_get_float(op, "alpha", 0) == 0.5);
  int64_t out[4];
  ck_assert_int_eq(qir_op_get_ints(op, "strides", out, 4), 2);
  ck_assert_int_eq(qir_op_get_ints(op, "pads", out, 4), 0);
  ck_assert_int_eq(qir_op_get_ints(op, "mode", out, 4), -1);
  qir_op_set_attr(op, "absent", NULL);
  ck_assert_uint_eq(op->num_attrs, 4);
  teardown(&fx);
}
END_TEST

START_TEST(op_emit_prefix) {
  fixture fx;
  setup(&fx);
  diag_capture c;
  capture_begin(&c, fx.ctx);
  fx.b.loc = qir_loc_make(fx.ctx, "m.qir", 3, 8);
  qir_op *op = add_op(&fx, QIR_OP_CONV2D, fx.x, fx.y);
  qir_op_emit_error(op, "needs %d operands", 3);
  qir_op_emit_warning(op, "w");
  qir_op_emit_remark(op, "r");
  ck_assert_str_eq(capture_text(&c),
                   "m.qir:3:8: error: 'conv2d' op needs 3 operands\n"
                   "m.qir:3:8: warning: 'conv2d' op w\n"
                   "m.qir:3:8: remark: 'conv2d' op r\n");
  ck_assert_uint_eq(qir_diag_error_count(fx.ctx), 1);
  capture_end(&c);
  teardown(&fx);
}
END_TEST

static const char *op_names(const qir_block *b, char *buf) {
  buf[0] = '\0';
  qir_foreach_op(op, b) {
    strcat(buf, op->def->name);
    strcat(buf, op->next ? " " : "");
  }
  return buf;
}

START_TEST(placement_and_builder_points) {
  fixture fx;
  setup(&fx);
  char buf[256];
  qir_op *a = add_op(&fx, QIR_OP_ADD, fx.x, fx.y);
  qir_value *av = qir_op_result(a, 0);
  qir_op *ret = qir_build_typed(&fx.b, qir_builtin_op(fx.ctx, QIR_OP_RETURN),
                                1, &av, 0, NULL, 0, NULL);
  ck_assert_ptr_eq(qir_block_terminator(&fx.f->body), ret);
  qir_builder_set_before(&fx.b, ret);
  add_op(&fx, QIR_OP_SUB, fx.x, fx.y);
  add_op(&fx, QIR_OP_MUL, fx.x, fx.y);
  ck_assert_str_eq(op_names(&fx.f->body, buf), "add sub mul return");
  qir_builder_set_after(&fx.b, a);
  add_op(&fx, QIR_OP_RELU, fx.x, NULL);
  add_op(&fx, QIR_OP_SIGMOID, fx.x, NULL);
  ck_assert_str_eq(op_names(&fx.f->body, buf),
                   "add relu sigmoid sub mul return");
  qir_builder_set_after(&fx.b, ret);
  qir_op *tail = add_op(&fx, QIR_OP_TANH, fx.x, NULL);
  ck_assert_ptr_eq(fx.f->body.last, tail);
  ck_assert_ptr_null(qir_block_terminator(&fx.f->body));
  qir_op_move_before(a, tail);
  ck_assert_str_eq(op_names(&fx.f->body, buf),
                   "tanh add relu sigmoid sub mul return");
  qir_op_unlink(ret);
  ck_assert_ptr_null(ret->block);
  qir_op_insert_after(a, ret);
  ck_assert_str_eq(op_names(&fx.f->body, buf),
                   "tanh add return relu sigmoid sub mul");
  qir_op_insert_before(a, qir_op_create(fx.ctx,
                                        qir_builtin_op(fx.ctx, QIR_OP_EXP),
                                        qir_loc_unknown(), 1, &fx.x, 1,
                                        &fx.t, 0, NULL));
  ck_assert_str_eq(op_names(&fx.f->body, buf),
                   "tanh exp add return relu sigmoid sub mul");
  ck_assert_uint_eq(fx.f->body.num_ops, 8);
  unsigned n = 0;
  qir_foreach_op_safe(op, tmp, &fx.f->body) {
    if (op != a && op != ret && !qir_value_has_uses(&op->results[0])) {
      qir_op_erase(op);
      n++;
    }
  }
  ck_assert_uint_eq(n, 6);
  ck_assert_str_eq(op_names(&fx.f->body, buf), "add return");
  teardown(&fx);
}
END_TEST

static bool infer_first(qir_op *op, const qir_type **out) {
  if (op->num_operands < 1) {
    qir_op_emit_error(op, "needs an operand");
    return false;
  }
  out[0] = op->operands[0].value->type;
  return true;
}

START_TEST(builder_infers_types) {
  fixture fx;
  setup(&fx);
  static qir_op_def typed = {"t.same", 0, 0, 1, 1, QIR_TRAIT_PURE, "",
                             NULL, infer_first, NULL, NULL};
  static qir_op_def untyped = {"t.untyped", 0, 0, 1, 1, 0, "",
                               NULL, NULL, NULL, NULL};
  ck_assert(qir_register_op(fx.ctx, &typed));
  ck_assert(qir_register_op(fx.ctx, &untyped));
  qir_op *op = qir_build(&fx.b, &typed, 1, &fx.x, 0, NULL);
  ck_assert_ptr_nonnull(op);
  ck_assert_ptr_eq(op->results[0].type, fx.t);
  ck_assert_ptr_eq(op->block, &fx.f->body);
  diag_capture c;
  capture_begin(&c, fx.ctx);
  ck_assert_ptr_null(qir_build(&fx.b, &typed, 0, NULL, 0, NULL));
  ck_assert_ptr_null(qir_build(&fx.b, &untyped, 1, &fx.x, 0, NULL));
  ck_assert_str_eq(capture_text(&c),
                   "error: 't.same' op needs an operand\n"
                   "error: 't.untyped' op has no type inference; give result "
                   "types\n");
  capture_end(&c);
  ck_assert_uint_eq(fx.f->body.num_ops, 1);
  ck_assert(qir_value_has_one_use(fx.x));
  teardown(&fx);
}
END_TEST

START_TEST(build_constant_and_lookup) {
  fixture fx;
  setup(&fx);
  double v[] = {1, 2, 3, 4};
  const qir_attr *dense = qir_attr_dense_from_f64(fx.ctx, fx.t, v);
  qir_value *c = qir_build_constant(&fx.b, dense);
  ck_assert_ptr_eq(c->type, fx.t);
  ck_assert(qir_op_is(qir_value_def(c), QIR_OP_CONSTANT));
  ck_assert_ptr_eq(qir_value_constant(c), dense);
  ck_assert_ptr_null(qir_value_constant(fx.x));
  qir_op *r = add_op(&fx, QIR_OP_RELU, c, NULL);
  ck_assert_ptr_null(qir_value_constant(qir_op_result(r, 0)));
  teardown(&fx);
}
END_TEST

START_TEST(block_args_add_erase) {
  fixture fx;
  setup(&fx);
  qir_block *b = &fx.f->body;
  ck_assert_uint_eq(b->num_args, 2);
  ck_assert_str_eq(fx.x->name, "x");
  ck_assert_ptr_null(fx.y->name);
  ck_assert_int_eq(fx.y->kind, QIR_VALUE_ARG);
  ck_assert_ptr_eq(fx.y->owner.block, b);
  qir_value *z = qir_block_add_arg(b, fx.t, "z");
  ck_assert_uint_eq(z->index, 2);
  ck_assert_uint_eq(b->num_args, 3);
  add_op(&fx, QIR_OP_RELU, z, NULL);
  qir_block_erase_arg(b, 0);
  ck_assert_uint_eq(b->num_args, 2);
  ck_assert_ptr_eq(b->args[0], fx.y);
  ck_assert_uint_eq(fx.y->index, 0);
  ck_assert_ptr_eq(b->args[1], z); /* stable address */
  ck_assert_uint_eq(z->index, 1);
  qir_value_set_name(fx.ctx, z, "renamed");
  ck_assert_str_eq(z->name, "renamed");
  qir_value_set_name(fx.ctx, z, NULL);
  ck_assert_ptr_null(z->name);
  teardown(&fx);
}
END_TEST

START_TEST(erase_used_arg_dies) {
  fixture fx;
  setup(&fx);
  add_op(&fx, QIR_OP_RELU, fx.y, NULL);
  qir_block_erase_arg(&fx.f->body, 1); /* internal error: aborts */
}
END_TEST

START_TEST(move_before_itself_and_neighbours) {
  fixture fx;
  setup(&fx);
  char buf[128];
  qir_op *a = add_op(&fx, QIR_OP_RELU, fx.x, NULL);
  qir_op *b = add_op(&fx, QIR_OP_EXP, fx.x, NULL);
  qir_op *c = add_op(&fx, QIR_OP_TANH, fx.x, NULL);
  qir_op_move_before(b, b);
  ck_assert_str_eq(op_names(&fx.f->body, buf), "relu exp tanh");
  qir_op_move_before(a, c);
  ck_assert_str_eq(op_names(&fx.f->body, buf), "tanh relu exp");
  ck_assert_ptr_eq(fx.f->body.first, c);
  ck_assert_ptr_eq(fx.f->body.last, b);
  ck_assert_ptr_null(c->prev);
  ck_assert_ptr_eq(b->prev, a);
  ck_assert_uint_eq(fx.f->body.num_ops, 3);
  teardown(&fx);
}
END_TEST

START_TEST(functions_create_lookup_erase) {
  fixture fx;
  setup(&fx);
  diag_capture c;
  capture_begin(&c, fx.ctx);
  ck_assert_ptr_null(qir_func_create(fx.m, "f", qir_loc_make(fx.ctx, "a.qir",
                                                             9, 1),
                                     0, NULL, NULL, 0, NULL));
  ck_assert_str_eq(capture_text(&c), "a.qir:9:1: error: redefinition of "
                                     "function '@f'\n");
  capture_end(&c);
  qir_func *g = qir_func_create(fx.m, "g", qir_loc_unknown(), 0, NULL, NULL,
                                0, NULL);
  ck_assert_ptr_nonnull(g);
  ck_assert_uint_eq(fx.m->num_funcs, 2);
  ck_assert_ptr_eq(qir_module_lookup(fx.m, "g"), g);
  ck_assert_ptr_eq(qir_module_lookup(fx.m, "f"), fx.f);
  ck_assert_ptr_null(qir_module_lookup(fx.m, "h"));
  ck_assert_ptr_eq(fx.f->next, g);
  ck_assert_ptr_eq(fx.m->last, g);
  const qir_type *two[] = {fx.t, fx.t};
  qir_func_set_result_types(g, 2, two);
  ck_assert_uint_eq(g->num_results, 2);
  qir_func_set_attr(g, "k", qir_attr_int(fx.ctx, 1));
  ck_assert_int_eq(qir_func_get_attr(g, "k")->u.i, 1);
  qir_func_set_attr(g, "k", NULL);
  ck_assert_ptr_null(qir_func_get_attr(g, "k"));
  add_op(&fx, QIR_OP_ADD, fx.x, fx.y);
  qir_func_erase(fx.f);
  ck_assert_uint_eq(fx.m->num_funcs, 1);
  ck_assert_ptr_eq(fx.m->first, g);
  ck_assert_ptr_null(qir_module_lookup(fx.m, "f"));
  /* The name is free again. */
  ck_assert_ptr_nonnull(qir_func_create(fx.m, "f", qir_loc_unknown(), 0,
                                        NULL, NULL, 0, NULL));
  teardown(&fx);
}
END_TEST

START_TEST(module_attrs_count_and_destroy) {
  fixture fx;
  setup(&fx);
  qir_module_set_attr(fx.m, "producer", qir_attr_cstr(fx.ctx, "onnx"));
  ck_assert_str_eq(qir_module_get_attr(fx.m, "producer")->u.str.data, "onnx");
  ck_assert_ptr_null(qir_module_get_attr(fx.m, "other"));
  /* A chain of ops that use each other and the arguments; destroying the
   * module frees them all with their uses still linked. */
  qir_value *v = fx.x;
  for (int i = 0; i < 1000; i++)
    v = qir_op_result(add_op(&fx, QIR_OP_ADD, v, fx.y), 0);
  qir_build_typed(&fx.b, qir_builtin_op(fx.ctx, QIR_OP_RETURN), 1, &v, 0,
                  NULL, 0, NULL);
  qir_func *g = qir_func_create(fx.m, "g", qir_loc_unknown(), 1, &fx.t, NULL,
                                0, NULL);
  qir_builder_set_end(&fx.b, &g->body);
  add_op(&fx, QIR_OP_RELU, g->body.args[0], NULL);
  ck_assert_uint_eq(qir_module_num_ops(fx.m), 1002);
  ck_assert_uint_eq(qir_value_num_uses(fx.y), 1000);
  teardown(&fx); /* ASan checks nothing leaks or is touched after free */
}
END_TEST

Suite *core_ir_suite(void) {
  Suite *s = suite_create("core_ir");
  TCase *tc = tcase_create("ir");
  tcase_set_timeout(tc, 60); /* slow under sanitizers on a busy machine */
  tcase_add_test(tc, use_lists_add_and_remove);
  tcase_add_test(tc, replace_all_uses);
  tcase_add_test(tc, set_operands_changes_count);
  tcase_add_test(tc, op_create_erase_replace);
  tcase_add_test_raise_signal(tc, erase_used_op_dies, SIGABRT);
  tcase_add_test(tc, op_attributes);
  tcase_add_test(tc, op_emit_prefix);
  tcase_add_test(tc, placement_and_builder_points);
  tcase_add_test(tc, builder_infers_types);
  tcase_add_test(tc, build_constant_and_lookup);
  tcase_add_test(tc, block_args_add_erase);
  tcase_add_test_raise_signal(tc, erase_used_arg_dies, SIGABRT);
  tcase_add_test(tc, move_before_itself_and_neighbours);
  tcase_add_test(tc, functions_create_lookup_erase);
  tcase_add_test(tc, module_attrs_count_and_destroy);
  suite_add_tcase(s, tc);
  return s;
}
