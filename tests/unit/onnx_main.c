/* tests/unit/onnx_main.c - the ONNX frontend unit test runner and its
 * helpers. */
#include <string.h>

#include "onnx_test.h"

static void *keep(test_model *m, void *p) {
  ck_assert_uint_lt(m->nallocs, 256);
  m->allocs[m->nallocs++] = p;
  return p;
}

static void *grow(test_model *m, void *arr, size_t n, size_t size) {
  void *p = calloc(n + 1, size);
  if (arr && n)
    memcpy(p, arr, n * size);
  return keep(m, p);
}

void test_model_init(test_model *m, int64_t opset) {
  memset(m, 0, sizeof *m);
  Onnx__ModelProto mi = ONNX__MODEL_PROTO__INIT;
  Onnx__GraphProto gi = ONNX__GRAPH_PROTO__INIT;
  Onnx__OperatorSetIdProto oi = ONNX__OPERATOR_SET_ID_PROTO__INIT;
  m->model = mi;
  m->graph = gi;
  m->opset = oi;
  m->opset.has_version = 1;
  m->opset.version = opset;
  m->opsets[0] = &m->opset;
  m->model.has_ir_version = 1;
  m->model.ir_version = 7;
  m->model.n_opset_import = 1;
  m->model.opset_import = m->opsets;
  m->model.graph = &m->graph;
  m->graph.name = "unit";
}

static Onnx__ValueInfoProto *value_info(test_model *m, const char *name,
                                        int rank, const int64_t *dims) {
  Onnx__ValueInfoProto *vi = keep(m, calloc(1, sizeof *vi));
  Onnx__ValueInfoProto vii = ONNX__VALUE_INFO_PROTO__INIT;
  *vi = vii;
  vi->name = (char *)name;
  if (rank < 0)
    return vi;
  Onnx__TypeProto *tp = keep(m, calloc(1, sizeof *tp));
  Onnx__TypeProto tpi = ONNX__TYPE_PROTO__INIT;
  *tp = tpi;
  Onnx__TypeProto__Tensor *tt = keep(m, calloc(1, sizeof *tt));
  Onnx__TypeProto__Tensor tti = ONNX__TYPE_PROTO__TENSOR__INIT;
  *tt = tti;
  Onnx__TensorShapeProto *sp = keep(m, calloc(1, sizeof *sp));
  Onnx__TensorShapeProto spi = ONNX__TENSOR_SHAPE_PROTO__INIT;
  *sp = spi;
  sp->n_dim = (size_t)rank;
  sp->dim = keep(m, calloc((size_t)rank + 1, sizeof *sp->dim));
  for (int i = 0; i < rank; i++) {
    Onnx__TensorShapeProto__Dimension *d = keep(m, calloc(1, sizeof *d));
    Onnx__TensorShapeProto__Dimension di =
        ONNX__TENSOR_SHAPE_PROTO__DIMENSION__INIT;
    *d = di;
    if (dims[i] >= 0) {
      d->value_case = ONNX__TENSOR_SHAPE_PROTO__DIMENSION__VALUE_DIM_VALUE;
      d->dim_value = dims[i];
    } else {
      d->value_case = ONNX__TENSOR_SHAPE_PROTO__DIMENSION__VALUE_DIM_PARAM;
      d->dim_param = "N";
    }
    sp->dim[i] = d;
  }
  tt->has_elem_type = 1;
  tt->elem_type = ONNX__TENSOR_PROTO__DATA_TYPE__FLOAT;
  tt->shape = sp;
  tp->value_case = ONNX__TYPE_PROTO__VALUE_TENSOR_TYPE;
  tp->tensor_type = tt;
  vi->type = tp;
  return vi;
}

void test_model_input(test_model *m, const char *name, unsigned rank,
                      const int64_t *dims) {
  Onnx__GraphProto *g = &m->graph;
  g->input = grow(m, g->input, g->n_input, sizeof *g->input);
  g->input[g->n_input++] = value_info(m, name, (int)rank, dims);
}

void test_model_output(test_model *m, const char *name) {
  Onnx__GraphProto *g = &m->graph;
  g->output = grow(m, g->output, g->n_output, sizeof *g->output);
  g->output[g->n_output++] = value_info(m, name, -1, NULL);
}

Onnx__NodeProto *test_model_node(test_model *m, const char *type,
                                 const char *name, const char *in0,
                                 const char *in1, const char *out) {
  Onnx__NodeProto *n = keep(m, calloc(1, sizeof *n));
  Onnx__NodeProto ni = ONNX__NODE_PROTO__INIT;
  *n = ni;
  n->op_type = (char *)type;
  n->name = (char *)name;
  n->input = keep(m, calloc(3, sizeof(char *)));
  if (in0)
    n->input[n->n_input++] = (char *)in0;
  if (in1)
    n->input[n->n_input++] = (char *)in1;
  n->output = keep(m, calloc(2, sizeof(char *)));
  n->output[n->n_output++] = (char *)out;
  Onnx__GraphProto *g = &m->graph;
  g->node = grow(m, g->node, g->n_node, sizeof *g->node);
  g->node[g->n_node++] = n;
  return n;
}

void test_model_int_attr(test_model *m, Onnx__NodeProto *n, const char *name,
                         int64_t v) {
  Onnx__AttributeProto *a = keep(m, calloc(1, sizeof *a));
  Onnx__AttributeProto ai = ONNX__ATTRIBUTE_PROTO__INIT;
  *a = ai;
  a->name = (char *)name;
  a->has_type = 1;
  a->type = ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__INT;
  a->has_i = 1;
  a->i = v;
  n->attribute = grow(m, n->attribute, n->n_attribute, sizeof *n->attribute);
  n->attribute[n->n_attribute++] = a;
}

void test_model_float_init(test_model *m, const char *name, unsigned n,
                           const float *v) {
  Onnx__TensorProto *t = keep(m, calloc(1, sizeof *t));
  Onnx__TensorProto ti = ONNX__TENSOR_PROTO__INIT;
  *t = ti;
  t->name = (char *)name;
  t->has_data_type = 1;
  t->data_type = ONNX__TENSOR_PROTO__DATA_TYPE__FLOAT;
  t->n_dims = 1;
  t->dims = keep(m, calloc(1, sizeof *t->dims));
  t->dims[0] = n;
  t->n_float_data = n;
  t->float_data = keep(m, calloc(n + 1, sizeof *t->float_data));
  memcpy(t->float_data, v, n * sizeof *v);
  Onnx__GraphProto *g = &m->graph;
  g->initializer = grow(m, g->initializer, g->n_initializer,
                        sizeof *g->initializer);
  g->initializer[g->n_initializer++] = t;
}

void *test_model_pack(test_model *m, size_t *len) {
  size_t n = onnx__model_proto__get_packed_size(&m->model);
  void *buf = malloc(n + 1);
  *len = onnx__model_proto__pack(&m->model, buf);
  return buf;
}

void test_model_free(test_model *m) {
  for (unsigned i = 0; i < m->nallocs; i++)
    free(m->allocs[i]);
  m->nallocs = 0;
}

static void log_handler(qir_context *ctx, const qir_diag *d, void *user) {
  (void)ctx;
  diag_log *log = user;
  int n = snprintf(log->text + log->len, sizeof log->text - log->len, "%s\n",
                   d->message);
  if (n > 0 && log->len + (size_t)n < sizeof log->text)
    log->len += (size_t)n;
}

void diag_log_install(qir_context *ctx, diag_log *log) {
  memset(log, 0, sizeof *log);
  qir_diag_set_handler(ctx, log_handler, log, NULL, NULL);
}

QIR_UNIT_MAIN(onnx_import_suite, onnx_export_suite, onnx_qdq_suite)
