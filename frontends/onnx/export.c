/* frontends/onnx/export.c - writes function @main of a qir module as an
 * ONNX model (opset QIR_ONNX_EXPORT_OPSET): constants become initializers,
 * attributes that ONNX takes as inputs (Reshape shape, Slice starts, Pad
 * pads, Clip bounds, ...) become initializers again, and ops without an
 * ONNX operator of their own are expanded (gelu, silu, rsqrt, mish).  The
 * protobuf structs live in the context's arena; tensor data points into
 * the dense attributes. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "frontends/onnx/export-internal.h"

static void *push(void *arr, size_t *n, size_t *cap, void *item) {
  void **a = arr;
  if (*n == *cap) {
    *cap = *cap ? 2 * *cap : 64;
    a = qir_xrealloc(a, *cap * sizeof *a);
  }
  a[(*n)++] = item;
  return a;
}

static char *dupstr(exporter *ex, const char *s) {
  return (char *)qir_intern_cstr(ex->ctx, s);
}

/* ---- Value names -------------------------------------------------------- */

static size_t map_slot(const name_map *m, const void *v) {
  size_t mask = m->cap - 1;
  size_t i = ((uintptr_t)v >> 4) * 0x9E3779B97F4A7C15ULL & mask;
  while (m->keys[i] && m->keys[i] != v)
    i = (i + 1) & mask;
  return i;
}

void onnx_ex_map_put(name_map *m, const void *v, const char *name) {
  if (2 * (m->len + 1) > m->cap) {
    name_map old = *m;
    m->cap = old.cap ? 2 * old.cap : 256;
    m->keys = qir_xcalloc(m->cap, sizeof *m->keys);
    m->vals = qir_xcalloc(m->cap, sizeof *m->vals);
    for (size_t i = 0; i < old.cap; i++)
      if (old.keys[i]) {
        size_t s = map_slot(m, old.keys[i]);
        m->keys[s] = old.keys[i];
        m->vals[s] = old.vals[i];
      }
    free(old.keys);
    free(old.vals);
  }
  size_t s = map_slot(m, v);
  if (!m->keys[s])
    m->len++;
  m->keys[s] = v;
  m->vals[s] = name;
}

const char *onnx_ex_map_get(const name_map *m, const void *v) {
  if (!m->cap)
    return NULL;
  size_t s = map_slot(m, v);
  return m->keys[s] ? m->vals[s] : NULL;
}

static void map_free(name_map *m) {
  free(m->keys);
  free(m->vals);
}

static void map_put(exporter *ex, const qir_value *v, const char *name) {
  onnx_ex_map_put(&ex->names, v, name);
}

static const char *map_get(exporter *ex, const qir_value *v) {
  return onnx_ex_map_get(&ex->names, v);
}

const char *onnx_ex_tmp(exporter *ex) {
  char buf[32];
  snprintf(buf, sizeof buf, QIR_ONNX_ANON_PREFIX "%u", ex->tmp_counter++);
  return dupstr(ex, buf);
}

/* The original ONNX name of a result when the importer recorded one. */
static const char *recorded_name(const qir_value *v) {
  qir_op *op = qir_value_def(v);
  if (!op)
    return NULL;
  if (op->num_results == 1)
    return qir_op_get_string(op, "onnx.name");
  const qir_attr *a = qir_op_get_attr(op, "onnx.names");
  if (a && a->kind == QIR_ATTR_ARRAY && v->index < a->u.array.n &&
      a->u.array.elems[v->index]->kind == QIR_ATTR_STRING &&
      a->u.array.elems[v->index]->u.str.len)
    return a->u.array.elems[v->index]->u.str.data;
  return NULL;
}

const char *onnx_ex_value_name(exporter *ex, const qir_value *v) {
  const char *n = map_get(ex, v);
  if (n)
    return n;
  n = recorded_name(v);
  if (!n)
    n = v->name ? v->name : onnx_ex_tmp(ex);
  map_put(ex, v, n);
  return n;
}

/* ---- Nodes and attributes ------------------------------------------------ */

Onnx__NodeProto *onnx_ex_node(exporter *ex, const char *type, unsigned nin,
                                 const char *const *in, unsigned nout,
                                 const char *const *out) {
  Onnx__NodeProto *n = NEW(ex, Onnx__NodeProto, ONNX__NODE_PROTO__INIT);
  n->op_type = dupstr(ex, type);
  n->n_input = nin;
  n->input = qir_arena_alloc(ex->ctx, (nin + 1) * sizeof(char *));
  for (unsigned i = 0; i < nin; i++)
    n->input[i] = (char *)(in[i] ? in[i] : "");
  n->n_output = nout;
  n->output = qir_arena_alloc(ex->ctx, (nout + 1) * sizeof(char *));
  for (unsigned i = 0; i < nout; i++)
    n->output[i] = (char *)out[i];
  n->name = (char *)out[0];
  ex->nodes = push(ex->nodes, &ex->nnodes, &ex->nodes_cap, n);
  return n;
}

static Onnx__AttributeProto *add_attr(exporter *ex, Onnx__NodeProto *n,
                                      const char *name,
                                      Onnx__AttributeProto__AttributeType t) {
  Onnx__AttributeProto *a =
      NEW(ex, Onnx__AttributeProto, ONNX__ATTRIBUTE_PROTO__INIT);
  a->name = dupstr(ex, name);
  a->has_type = 1;
  a->type = t;
  Onnx__AttributeProto **arr =
      qir_arena_alloc(ex->ctx, (n->n_attribute + 1) * sizeof *arr);
  if (n->n_attribute)
    memcpy(arr, n->attribute, n->n_attribute * sizeof *arr);
  arr[n->n_attribute++] = a;
  n->attribute = arr;
  return a;
}

void onnx_ex_attr_int(exporter *ex, Onnx__NodeProto *n, const char *name,
                     int64_t v) {
  Onnx__AttributeProto *a =
      add_attr(ex, n, name, ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__INT);
  a->has_i = 1;
  a->i = v;
}

static void attr_float(exporter *ex, Onnx__NodeProto *n, const char *name,
                       double v) {
  Onnx__AttributeProto *a =
      add_attr(ex, n, name, ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__FLOAT);
  a->has_f = 1;
  a->f = (float)v;
}

void onnx_ex_attr_string(exporter *ex, Onnx__NodeProto *n, const char *name,
                        const char *s) {
  Onnx__AttributeProto *a =
      add_attr(ex, n, name, ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__STRING);
  a->has_s = 1;
  a->s.data = (uint8_t *)dupstr(ex, s);
  a->s.len = strlen(s);
}

void onnx_ex_attr_ints(exporter *ex, Onnx__NodeProto *n, const char *name,
                      unsigned count, const int64_t *v) {
  Onnx__AttributeProto *a =
      add_attr(ex, n, name, ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__INTS);
  a->n_ints = count;
  /* count + 1 slots (never 0 bytes), only count read from v */
  a->ints = qir_arena_alloc(ex->ctx, (count + 1) * sizeof *v);
  if (count)
    memcpy(a->ints, v, count * sizeof *v);
}

/* Copies an int/float attribute of the op when present. */
static void copy_int(exporter *ex, Onnx__NodeProto *n, const qir_op *op,
                     const char *qname, const char *oname) {
  const qir_attr *a = qir_op_get_attr(op, qname);
  if (a && a->kind == QIR_ATTR_INT)
    onnx_ex_attr_int(ex, n, oname, a->u.i);
  else if (a && a->kind == QIR_ATTR_BOOL)
    onnx_ex_attr_int(ex, n, oname, a->u.b);
}

static void copy_float(exporter *ex, Onnx__NodeProto *n, const qir_op *op,
                       const char *qname, const char *oname) {
  const qir_attr *a = qir_op_get_attr(op, qname);
  if (a && (a->kind == QIR_ATTR_FLOAT || a->kind == QIR_ATTR_INT))
    attr_float(ex, n, oname,
               a->kind == QIR_ATTR_FLOAT ? a->u.f : (double)a->u.i);
}

static void copy_ints(exporter *ex, Onnx__NodeProto *n, const qir_op *op,
                      const char *qname, const char *oname) {
  int64_t v[2 * QIR_MAX_RANK];
  int c = qir_op_get_ints(op, qname, v, 2 * QIR_MAX_RANK);
  if (c > 0)
    onnx_ex_attr_ints(ex, n, oname, (unsigned)c, v);
}

static void copy_string(exporter *ex, Onnx__NodeProto *n, const qir_op *op,
                        const char *qname, const char *oname) {
  const char *s = qir_op_get_string(op, qname);
  if (s)
    onnx_ex_attr_string(ex, n, oname, s);
}

/* ---- Initializers --------------------------------------------------------- */

static Onnx__TensorProto *dense_to_tensor(exporter *ex, const qir_attr *d,
                                          const char *name) {
  const qir_type *t = d->u.dense.type;
  /* Quantized constants are stored as their integers (the scale and zero
   * point go to the DequantizeLinear that uses them). */
  int32_t et = onnx_elem_type_from_scalar(t->scalar);
  if (et == ONNX__TENSOR_PROTO__DATA_TYPE__UNDEFINED) {
    char buf[128];
    qir_type_format(t, buf, sizeof buf);
    qir_emit_error(ex->ctx, qir_loc_unknown(),
                   "cannot export constant '%s' of type %s to ONNX", name, buf);
    ex->failed = true;
    return NULL;
  }
  Onnx__TensorProto *tp = NEW(ex, Onnx__TensorProto, ONNX__TENSOR_PROTO__INIT);
  tp->name = (char *)name;
  tp->has_data_type = 1;
  tp->data_type = et;
  tp->n_dims = t->rank;
  tp->dims = qir_arena_dup(ex->ctx, t->dims, (t->rank + 1) * sizeof(int64_t));
  int64_t n = qir_tensor_num_elements(t);
  size_t esz = qir_scalar_size(t->scalar);
  size_t nbytes = (size_t)n * esz;
  tp->has_raw_data = 1;
  tp->raw_data.len = nbytes;
  if (d->u.dense.splat && n > 1) {
    unsigned char *buf = qir_arena_alloc(ex->ctx, nbytes);
    for (int64_t i = 0; i < n; i++)
      memcpy(buf + (size_t)i * esz, d->u.dense.data, esz);
    tp->raw_data.data = buf;
  } else {
    tp->raw_data.data = (uint8_t *)d->u.dense.data;
  }
  return tp;
}

const char *onnx_ex_init(exporter *ex, const qir_attr *d, const char *name) {
  Onnx__TensorProto *tp = dense_to_tensor(ex, d, name);
  if (tp)
    ex->inits = push(ex->inits, &ex->ninits, &ex->inits_cap, tp);
  return name;
}

const char *onnx_ex_init_i64s(exporter *ex, unsigned n, const int64_t *v) {
  int64_t dims[1] = {n};
  const qir_type *t = qir_tensor_of(ex->ctx, QIR_I64, 1, dims);
  return onnx_ex_init(ex, qir_attr_dense_from_i64(ex->ctx, t, v), onnx_ex_tmp(ex));
}

const char *onnx_ex_init_scalar(exporter *ex, qir_scalar s, double v) {
  const qir_type *t = qir_tensor_of(ex->ctx, s, 0, NULL);
  return onnx_ex_init(ex, qir_attr_dense_from_f64(ex->ctx, t, &v), onnx_ex_tmp(ex));
}

/* ---- Per-op export ---------------------------------------------------------- */

static Onnx__NodeProto *simple(op_ctx *c, const char *type) {
  return onnx_ex_node(c->ex, type, c->op->num_operands, c->in, c->op->num_results,
                  c->out);
}

static const char *unary_to(op_ctx *c, const char *type, const char *x,
                            const char *out) {
  const char *o = out ? out : onnx_ex_tmp(c->ex);
  onnx_ex_node(c->ex, type, 1, &x, 1, &o);
  return o;
}

static const char *binary_to(op_ctx *c, const char *type, const char *a,
                             const char *b, const char *out) {
  const char *o = out ? out : onnx_ex_tmp(c->ex);
  const char *in[2] = {a, b};
  onnx_ex_node(c->ex, type, 2, in, 1, &o);
  return o;
}

/* The element type of operand 0 in ONNX: f32 for a quantized operand,
 * which the float node sees dequantized. */
static qir_scalar elem0(const op_ctx *c) {
  const qir_type *t = qir_op_operand(c->op, 0)->type;
  return qir_tensor_is_quant(t) ? QIR_F32 : t->scalar;
}

static const char *simple_type(unsigned id) {
  switch (id) {
  case QIR_OP_ADD: return "Add";
  case QIR_OP_SUB: return "Sub";
  case QIR_OP_MUL: return "Mul";
  case QIR_OP_DIV: return "Div";
  case QIR_OP_POW: return "Pow";
  case QIR_OP_MAX: return "Max";
  case QIR_OP_MIN: return "Min";
  case QIR_OP_PRELU: return "PRelu";
  case QIR_OP_EQUAL: return "Equal";
  case QIR_OP_LESS: return "Less";
  case QIR_OP_LESS_EQUAL: return "LessOrEqual";
  case QIR_OP_GREATER: return "Greater";
  case QIR_OP_GREATER_EQUAL: return "GreaterOrEqual";
  case QIR_OP_AND: return "And";
  case QIR_OP_OR: return "Or";
  case QIR_OP_XOR: return "Xor";
  case QIR_OP_WHERE: return "Where";
  case QIR_OP_NEG: return "Neg";
  case QIR_OP_ABS: return "Abs";
  case QIR_OP_SQRT: return "Sqrt";
  case QIR_OP_RECIPROCAL: return "Reciprocal";
  case QIR_OP_EXP: return "Exp";
  case QIR_OP_LOG: return "Log";
  case QIR_OP_ERF: return "Erf";
  case QIR_OP_SIN: return "Sin";
  case QIR_OP_COS: return "Cos";
  case QIR_OP_FLOOR: return "Floor";
  case QIR_OP_CEIL: return "Ceil";
  case QIR_OP_ROUND: return "Round";
  case QIR_OP_SIGN: return "Sign";
  case QIR_OP_NOT: return "Not";
  case QIR_OP_RELU: return "Relu";
  case QIR_OP_SIGMOID: return "Sigmoid";
  case QIR_OP_TANH: return "Tanh";
  case QIR_OP_HARD_SWISH: return "HardSwish";
  case QIR_OP_SOFTPLUS: return "Softplus";
  case QIR_OP_MATMUL: return "MatMul";
  case QIR_OP_IDENTITY: return "Identity";
  case QIR_OP_GLOBAL_AVG_POOL: return "GlobalAveragePool";
  case QIR_OP_GLOBAL_MAX_POOL: return "GlobalMaxPool";
  case QIR_OP_RANGE: return "Range";
  default: return NULL;
  }
}

static void export_window(op_ctx *c, Onnx__NodeProto *n, bool kernel_attr) {
  if (kernel_attr)
    copy_ints(c->ex, n, c->op, "kernel", "kernel_shape");
  copy_ints(c->ex, n, c->op, "strides", "strides");
  copy_ints(c->ex, n, c->op, "pads", "pads");
  copy_ints(c->ex, n, c->op, "dilations", "dilations");
}

/* The fused activation `act` of a conv2d as ONNX nodes x -> out. */
void onnx_ex_activation(op_ctx *c, const char *act, const char *x,
                              const char *out) {
  exporter *ex = c->ex;
  qir_op *op = c->op;
  Onnx__NodeProto *n;
  if (strcmp(act, "relu") == 0 || strcmp(act, "sigmoid") == 0 ||
      strcmp(act, "hard_swish") == 0) {
    unary_to(c, act[0] == 'r' ? "Relu" : act[0] == 's' ? "Sigmoid"
                                                       : "HardSwish",
             x, out);
  } else if (strcmp(act, "relu6") == 0 || strcmp(act, "clip") == 0) {
    bool six = act[4] == '6';
    double lo = six ? 0.0 : qir_op_get_float(op, "act_min", -INFINITY);
    double hi = six ? 6.0 : qir_op_get_float(op, "act_max", INFINITY);
    const char *in[3] = {x, isinf(lo) ? "" : onnx_ex_init_scalar(ex, QIR_F32, lo),
                         isinf(hi) ? "" : onnx_ex_init_scalar(ex, QIR_F32, hi)};
    onnx_ex_node(ex, "Clip", 3, in, 1, &out);
  } else if (strcmp(act, "leaky_relu") == 0) {
    n = onnx_ex_node(ex, "LeakyRelu", 1, &x, 1, &out);
    attr_float(ex, n, "alpha", qir_op_get_float(op, "act_alpha", 0.01));
  } else if (strcmp(act, "hard_sigmoid") == 0) {
    n = onnx_ex_node(ex, "HardSigmoid", 1, &x, 1, &out);
    attr_float(ex, n, "alpha", qir_op_get_float(op, "act_alpha", 0.2));
    attr_float(ex, n, "beta", qir_op_get_float(op, "act_beta", 0.5));
  } else { /* the conv2d verifier accepts no other activation */
    qir_die("onnx_ex_activation: unknown activation '%s'", act);
  }
}

/* Conv / ConvTranspose; a fused `sum` operand becomes an Add and a fused
 * activation its own node after the convolution. */
static bool export_conv(op_ctx *c, bool transpose) {
  const char *act = qir_op_get_string(c->op, "activation");
  /* the fused sum is the last operand, after the bias when there is one */
  unsigned nin = c->op->num_operands;
  bool sum = qir_op_get_bool(c->op, "sum_in", false) && nin >= 3;
  const char *sum_in = sum ? c->in[nin - 1] : NULL;
  nin -= sum ? 1 : 0;
  const char *y = c->out[0];
  bool stage = onnx_ex_has_stage(c->op, act);
  if (stage || sum)
    c->out[0] = onnx_ex_tmp(c->ex);
  Onnx__NodeProto *n = onnx_ex_node(c->ex, transpose ? "ConvTranspose" : "Conv",
                                    nin < 3 ? nin : 3, c->in, 1, c->out);
  const qir_type *w = qir_op_operand(c->op, 1)->type;
  if (w->rank == 4)
    onnx_ex_attr_ints(c->ex, n, "kernel_shape", 2, w->dims + 2);
  export_window(c, n, false);
  copy_int(c->ex, n, c->op, "group", "group");
  if (transpose)
    copy_ints(c->ex, n, c->op, "output_padding", "output_padding");
  const char *r = c->out[0];
  if (sum)
    r = binary_to(c, "Add", r, sum_in, stage ? NULL : y);
  if (stage)
    onnx_ex_stage_activation(c, act, r, y);
  c->out[0] = y;
  return true;
}

static bool export_reduce(op_ctx *c, const char *type) {
  int64_t axes[QIR_MAX_RANK];
  int na = qir_op_get_ints(c->op, "axes", axes, QIR_MAX_RANK);
  Onnx__NodeProto *n;
  if (strcmp(type, "ReduceSum") == 0 && na > 0) {
    c->in[1] = onnx_ex_init_i64s(c->ex, (unsigned)na, axes);
    n = onnx_ex_node(c->ex, type, 2, c->in, 1, c->out);
  } else {
    n = simple(c, type);
    if (na > 0)
      onnx_ex_attr_ints(c->ex, n, "axes", (unsigned)na, axes);
  }
  onnx_ex_attr_int(c->ex, n, "keepdims", qir_op_get_int(c->op, "keepdims", 1));
  return true;
}

/* Input from an int-array attribute, as an int64 initializer. */
static const char *ints_input(op_ctx *c, const char *name) {
  int64_t v[2 * QIR_MAX_RANK];
  int n = qir_op_get_ints(c->op, name, v, 2 * QIR_MAX_RANK);
  if (n < 0)
    n = 0;
  return onnx_ex_init_i64s(c->ex, (unsigned)n, v);
}

static bool export_slice(op_ctx *c) {
  c->in[1] = ints_input(c, "starts");
  c->in[2] = ints_input(c, "ends");
  unsigned nin = 3;
  if (qir_op_get_attr(c->op, "axes"))
    c->in[nin++] = ints_input(c, "axes");
  if (qir_op_get_attr(c->op, "steps")) {
    if (nin == 3) {
      unsigned r = qir_op_operand(c->op, 0)->type->rank;
      int64_t axes[QIR_MAX_RANK];
      for (unsigned i = 0; i < r; i++)
        axes[i] = i;
      int64_t tmp[QIR_MAX_RANK];
      int ns = qir_op_get_ints(c->op, "starts", tmp, QIR_MAX_RANK);
      c->in[nin++] = onnx_ex_init_i64s(c->ex, (unsigned)(ns > 0 ? ns : 0), axes);
    }
    c->in[nin++] = ints_input(c, "steps");
  }
  onnx_ex_node(c->ex, "Slice", nin, c->in, 1, c->out);
  return true;
}

static bool export_reshape(op_ctx *c) {
  int64_t shape[QIR_MAX_RANK];
  int n = qir_op_get_ints(c->op, "shape", shape, QIR_MAX_RANK);
  c->in[1] = onnx_ex_init_i64s(c->ex, (unsigned)(n > 0 ? n : 0), shape);
  Onnx__NodeProto *node = onnx_ex_node(c->ex, "Reshape", 2, c->in, 1, c->out);
  for (int i = 0; i < n; i++)
    if (shape[i] == 0) {
      onnx_ex_attr_int(c->ex, node, "allowzero", 1);
      break;
    }
  return true;
}

static bool export_split(op_ctx *c) {
  c->in[1] = ints_input(c, "sizes");
  Onnx__NodeProto *n =
      onnx_ex_node(c->ex, "Split", 2, c->in, c->op->num_results, c->out);
  copy_int(c->ex, n, c->op, "axis", "axis");
  return true;
}

static bool export_pad(op_ctx *c) {
  c->in[1] = ints_input(c, "pads");
  double v = qir_op_get_float(c->op, "value", 0.0);
  unsigned nin = 2;
  if (v != 0.0)
    c->in[nin++] = onnx_ex_init_scalar(c->ex, elem0(c), v);
  Onnx__NodeProto *n = onnx_ex_node(c->ex, "Pad", nin, c->in, 1, c->out);
  copy_string(c->ex, n, c->op, "mode", "mode");
  return true;
}

static bool export_clip(op_ctx *c) {
  unsigned nin = 1;
  const qir_attr *lo = qir_op_get_attr(c->op, "min");
  const qir_attr *hi = qir_op_get_attr(c->op, "max");
  if (lo || hi)
    c->in[nin++] = lo ? onnx_ex_init_scalar(c->ex, elem0(c),
                                    qir_op_get_float(c->op, "min", 0))
                      : "";
  if (hi)
    c->in[nin++] = onnx_ex_init_scalar(c->ex, elem0(c),
                               qir_op_get_float(c->op, "max", 0));
  onnx_ex_node(c->ex, "Clip", nin, c->in, 1, c->out);
  return true;
}

/* Resize by `sizes`, or by `scales` when the op keeps them (ONNX takes
 * one or the other). */
static bool export_resize(op_ctx *c) {
  double scales[QIR_MAX_RANK];
  const qir_attr *sa = qir_op_get_attr(c->op, "scales");
  int ns = sa ? qir_attr_get_floats(sa, scales, QIR_MAX_RANK) : -1;
  c->in[1] = "";
  if (ns > 0) {
    int64_t n = ns;
    const qir_type *t = qir_tensor_of(c->ex->ctx, QIR_F32, 1, &n);
    c->in[2] = onnx_ex_init(c->ex, qir_attr_dense_from_f64(c->ex->ctx, t, scales),
                        onnx_ex_tmp(c->ex));
  } else {
    c->in[2] = "";
    c->in[3] = ints_input(c, "sizes");
  }
  Onnx__NodeProto *n = onnx_ex_node(c->ex, "Resize", ns > 0 ? 3 : 4, c->in, 1,
                                c->out);
  copy_string(c->ex, n, c->op, "mode", "mode");
  copy_string(c->ex, n, c->op, "coordinate_transformation_mode",
              "coordinate_transformation_mode");
  copy_string(c->ex, n, c->op, "nearest_mode", "nearest_mode");
  copy_float(c->ex, n, c->op, "cubic_coeff_a", "cubic_coeff_a");
  return true;
}

/* Quantized values are their storage integers in ONNX.  Ops quantized by
 * qir compute its integer semantics exactly (export-qexact.c); ops whose
 * parameters came from a QDQ model (`q.fixed`) are written back in the QDQ
 * form they came in (docs/ONNX.md, "Quantized modules"). */

static bool from_qdq_model(const qir_op *op) {
  return op && qir_op_get_bool(op, "q.fixed", false);
}

/* The scale and zero-point initializers of quantized element type q (per
 * tensor: scalars; per axis: 1-D), made once per type.  The zero point's
 * name is the scale's with "_zp" appended. */
static const char *zp_name(exporter *ex, const char *scale) {
  char buf[64];
  snprintf(buf, sizeof buf, "%s_zp", scale);
  return dupstr(ex, buf);
}

static void qparam_inits(exporter *ex, const qir_type *q, const char **names) {
  const char *s = onnx_ex_map_get(&ex->qparams, q);
  if (s) {
    names[0] = s;
    names[1] = zp_name(ex, s);
    return;
  }
  int64_t n = q->nparams;
  unsigned rank = q->axis < 0 ? 0 : 1;
  double *scales = qir_xcalloc(q->nparams, sizeof *scales);
  int64_t *zps = qir_xcalloc(q->nparams, sizeof *zps);
  for (unsigned i = 0; i < q->nparams; i++) {
    scales[i] = q->scales[i];
    zps[i] = q->zero_points ? q->zero_points[i] : 0;
  }
  const qir_type *st = qir_tensor_of(ex->ctx, QIR_F32, rank, &n);
  const qir_type *zt = qir_tensor_of(ex->ctx, q->scalar, rank, &n);
  names[0] = onnx_ex_init(ex, qir_attr_dense_from_f64(ex->ctx, st, scales),
                      onnx_ex_tmp(ex));
  names[1] = onnx_ex_init(ex, qir_attr_dense_from_i64(ex->ctx, zt, zps),
                      zp_name(ex, names[0]));
  free(scales);
  free(zps);
  onnx_ex_map_put(&ex->qparams, q, names[0]);
}

/* QuantizeLinear / DequantizeLinear `x` -> `out` with the scale and zero
 * point of the quantized side `qt` (the axis attribute when per axis).
 * 16-bit storage needs the
 * com.microsoft operators (the default domain has it from opset 21 only);
 * a narrow range (4-bit) is a QuantizeLinear followed by a Clip to
 * qmin..qmax, the form the importer reads back. */
static bool quant_node(exporter *ex, qir_op *at, bool quantize,
                       const qir_type *qt, const char *x, const char *out) {
  const qir_type *q = qt->elem;
  if (q->scalar == QIR_I32 && quantize) {
    qir_op_emit_error(at, "quantizing to i32 has no ONNX form");
    ex->failed = true;
    return false;
  }
  bool narrow = q->qmin != qir_scalar_min(q->scalar) ||
                q->qmax != qir_scalar_max(q->scalar);
  const char *in[3] = {x, NULL, NULL};
  qparam_inits(ex, q, in + 1);
  const char *qout = quantize && narrow ? onnx_ex_tmp(ex) : out;
  Onnx__NodeProto *node = onnx_ex_node(
      ex, quantize ? "QuantizeLinear" : "DequantizeLinear", 3, in, 1, &qout);
  if (q->axis >= 0)
    onnx_ex_attr_int(ex, node, "axis", q->axis);
  if (q->scalar == QIR_I16 || q->scalar == QIR_U16) {
    node->domain = dupstr(ex, QIR_ONNX_MS_DOMAIN);
    ex->uses_ms_domain = true;
  }
  if (quantize && narrow) {
    const char *cin[3] = {qout, onnx_ex_init_scalar(ex, q->scalar, (double)q->qmin),
                          onnx_ex_init_scalar(ex, q->scalar, (double)q->qmax)};
    onnx_ex_node(ex, "Clip", 3, cin, 1, &out);
  }
  return !ex->failed;
}

/* The float form of a quantized value in the QDQ form: its
 * DequantizeLinear output, made once per value. */
static const char *qdq_dequantized_name(exporter *ex, qir_op *at,
                                        qir_value *v) {
  const char *n = onnx_ex_map_get(&ex->qdq_names, v);
  if (n)
    return n;
  n = onnx_ex_tmp(ex);
  quant_node(ex, at, false, v->type, onnx_ex_value_name(ex, v), n);
  onnx_ex_map_put(&ex->qdq_names, v, n);
  return n;
}

/* A quantize to i32 storage (bias-like values) has no export. */
static bool check_storage(exporter *ex, qir_op *at, const qir_type *t) {
  if (t->elem->scalar != QIR_I32)
    return true;
  qir_op_emit_error(at, "quantizing to i32 has no ONNX form");
  ex->failed = true;
  return false;
}

/* The float form of a quantized value, made once per value. */
static const char *dequantized_name(exporter *ex, qir_value *v) {
  const char *n = onnx_ex_map_get(&ex->float_names, v);
  if (n)
    return n;
  n = onnx_ex_tmp(ex);
  onnx_ex_dequantize(ex, v->type, onnx_ex_value_name(ex, v), QIR_F32, n);
  onnx_ex_map_put(&ex->float_names, v, n);
  return n;
}

/* quantize (of a float, or requantizing a quantized operand), dequantize
 * and requantize. */
static bool export_quant(op_ctx *c) {
  exporter *ex = c->ex;
  qir_value *x = qir_op_operand(c->op, 0);
  const qir_type *rt = qir_op_result(c->op, 0)->type;
  bool dq = qir_op_is(c->op, QIR_OP_DEQUANTIZE);
  if (from_qdq_model(dq ? qir_value_def(x) : c->op)) {
    if (dq)
      return quant_node(ex, c->op, false, x->type, c->in[0], c->out[0]);
    const char *f = qir_tensor_is_quant(x->type)
                        ? qdq_dequantized_name(ex, c->op, x)
                        : c->in[0];
    return quant_node(ex, c->op, true, rt, f, c->out[0]);
  }
  if (dq) {
    onnx_ex_dequantize(ex, x->type, c->in[0], rt->scalar, c->out[0]);
    return true;
  }
  if (!check_storage(ex, c->op, rt))
    return false;
  if (qir_tensor_is_quant(x->type))
    return onnx_ex_requantize(ex, c->op, x->type, rt, c->in[0], c->out[0]);
  onnx_ex_quantize(ex, rt, c->in[0], c->out[0]);
  return true;
}

/* gelu: 0.5 * x * (1 + erf(x / sqrt(2))), or the tanh form. */
static bool export_gelu(op_ctx *c) {
  exporter *ex = c->ex;
  qir_scalar s = elem0(c);
  const char *x = c->in[0];
  const char *approx = qir_op_get_string(c->op, "approximate");
  const char *inner;
  if (approx && strcmp(approx, "tanh") == 0) {
    const char *x3 = binary_to(c, "Mul", x,
                               binary_to(c, "Mul", x, x, NULL), NULL);
    const char *p = binary_to(c, "Add", x,
                              binary_to(c, "Mul", x3,
                                        onnx_ex_init_scalar(ex, s, 0.044715), NULL),
                              NULL);
    inner = unary_to(c, "Tanh",
                     binary_to(c, "Mul", p,
                               onnx_ex_init_scalar(ex, s, sqrt(2.0 / M_PI)), NULL),
                     NULL);
  } else {
    inner = unary_to(c, "Erf",
                     binary_to(c, "Div", x, onnx_ex_init_scalar(ex, s, sqrt(2.0)),
                               NULL),
                     NULL);
  }
  const char *one_p = binary_to(c, "Add", inner, onnx_ex_init_scalar(ex, s, 1.0), NULL);
  const char *half_x = binary_to(c, "Mul", x, onnx_ex_init_scalar(ex, s, 0.5), NULL);
  binary_to(c, "Mul", half_x, one_p, c->out[0]);
  return true;
}

static bool export_expansion(op_ctx *c) {
  const char *x = c->in[0];
  switch (c->op->def->id) {
  case QIR_OP_RSQRT:
    unary_to(c, "Reciprocal", unary_to(c, "Sqrt", x, NULL), c->out[0]);
    return true;
  case QIR_OP_SILU:
    binary_to(c, "Mul", x, unary_to(c, "Sigmoid", x, NULL), c->out[0]);
    return true;
  case QIR_OP_MISH:
    binary_to(c, "Mul", x,
              unary_to(c, "Tanh", unary_to(c, "Softplus", x, NULL), NULL),
              c->out[0]);
    return true;
  default:
    return export_gelu(c);
  }
}

static bool export_with_attrs(op_ctx *c) {
  exporter *ex = c->ex;
  qir_op *op = c->op;
  Onnx__NodeProto *n;
  switch (op->def->id) {
  case QIR_OP_MOD:
    n = simple(c, "Mod");
    copy_int(ex, n, op, "fmod", "fmod");
    return true;
  case QIR_OP_CAST: {
    n = simple(c, "Cast");
    onnx_ex_attr_int(ex, n, "to",
             onnx_elem_type_from_scalar(qir_op_result(op, 0)->type->scalar));
    return true;
  }
  case QIR_OP_HARD_SIGMOID:
  case QIR_OP_LEAKY_RELU:
  case QIR_OP_ELU:
  case QIR_OP_SELU: {
    static const char *const types[] = {"HardSigmoid", "LeakyRelu", "Elu",
                                        "Selu"};
    unsigned k = op->def->id == QIR_OP_HARD_SIGMOID ? 0
                 : op->def->id == QIR_OP_LEAKY_RELU ? 1
                 : op->def->id == QIR_OP_ELU        ? 2
                                                    : 3;
    n = simple(c, types[k]);
    copy_float(ex, n, op, "alpha", "alpha");
    copy_float(ex, n, op, "beta", "beta");
    copy_float(ex, n, op, "gamma", "gamma");
    return true;
  }
  case QIR_OP_GEMM:
    n = simple(c, "Gemm");
    copy_float(ex, n, op, "alpha", "alpha");
    copy_float(ex, n, op, "beta", "beta");
    copy_int(ex, n, op, "trans_a", "transA");
    copy_int(ex, n, op, "trans_b", "transB");
    return true;
  case QIR_OP_BATCH_NORM:
  case QIR_OP_INSTANCE_NORM:
    n = simple(c, op->def->id == QIR_OP_BATCH_NORM ? "BatchNormalization"
                                                   : "InstanceNormalization");
    copy_float(ex, n, op, "epsilon", "epsilon");
    return true;
  case QIR_OP_LAYER_NORM:
    n = simple(c, "LayerNormalization");
    copy_int(ex, n, op, "axis", "axis");
    copy_float(ex, n, op, "epsilon", "epsilon");
    return true;
  case QIR_OP_MAX_POOL2D:
  case QIR_OP_AVG_POOL2D:
    n = simple(c, op->def->id == QIR_OP_MAX_POOL2D ? "MaxPool" : "AveragePool");
    export_window(c, n, true);
    copy_int(ex, n, op, "ceil_mode", "ceil_mode");
    copy_int(ex, n, op, "count_include_pad", "count_include_pad");
    return true;
  case QIR_OP_SOFTMAX:
  case QIR_OP_LOG_SOFTMAX:
    n = simple(c, op->def->id == QIR_OP_SOFTMAX ? "Softmax" : "LogSoftmax");
    copy_int(ex, n, op, "axis", "axis");
    return true;
  case QIR_OP_ARGMAX:
  case QIR_OP_ARGMIN:
    n = simple(c, op->def->id == QIR_OP_ARGMAX ? "ArgMax" : "ArgMin");
    copy_int(ex, n, op, "axis", "axis");
    copy_int(ex, n, op, "keepdims", "keepdims");
    copy_int(ex, n, op, "select_last_index", "select_last_index");
    return true;
  case QIR_OP_CONCAT:
  case QIR_OP_GATHER:
    n = simple(c, op->def->id == QIR_OP_CONCAT ? "Concat" : "Gather");
    onnx_ex_attr_int(ex, n, "axis", qir_op_get_int(op, "axis", 0));
    return true;
  case QIR_OP_GATHER_ELEMENTS:
  case QIR_OP_SCATTER_ELEMENTS:
    n = simple(c, op->def->id == QIR_OP_GATHER_ELEMENTS ? "GatherElements"
                                                        : "ScatterElements");
    copy_int(ex, n, op, "axis", "axis");
    copy_string(ex, n, op, "reduction", "reduction");
    return true;
  case QIR_OP_GATHER_ND:
    n = simple(c, "GatherND");
    copy_int(ex, n, op, "batch_dims", "batch_dims");
    return true;
  case QIR_OP_SCATTER_ND:
    n = simple(c, "ScatterND");
    copy_string(ex, n, op, "reduction", "reduction");
    return true;
  case QIR_OP_CUMSUM:
    c->in[1] = onnx_ex_init_scalar(ex, QIR_I64, (double)qir_op_get_int(op, "axis", 0));
    n = onnx_ex_node(ex, "CumSum", 2, c->in, 1, c->out);
    copy_int(ex, n, op, "exclusive", "exclusive");
    copy_int(ex, n, op, "reverse", "reverse");
    return true;
  case QIR_OP_TOP_K: {
    int64_t k = qir_op_get_int(op, "k", 0);
    c->in[1] = onnx_ex_init_i64s(ex, 1, &k);
    n = onnx_ex_node(ex, "TopK", 2, c->in, 2, c->out);
    copy_int(ex, n, op, "axis", "axis");
    copy_int(ex, n, op, "largest", "largest");
    copy_int(ex, n, op, "sorted", "sorted");
    return true;
  }
  case QIR_OP_TRANSPOSE:
    n = simple(c, "Transpose");
    copy_ints(ex, n, op, "perm", "perm");
    return true;
  case QIR_OP_DEPTH_TO_SPACE:
  case QIR_OP_SPACE_TO_DEPTH:
    n = simple(c, op->def->id == QIR_OP_DEPTH_TO_SPACE ? "DepthToSpace"
                                                       : "SpaceToDepth");
    copy_int(ex, n, op, "blocksize", "blocksize");
    if (op->def->id == QIR_OP_DEPTH_TO_SPACE)
      copy_string(ex, n, op, "mode", "mode");
    return true;
  case QIR_OP_SHAPE:
    n = simple(c, "Shape");
    copy_int(ex, n, op, "start", "start");
    copy_int(ex, n, op, "end", "end");
    return true;
  case QIR_OP_EXPAND:
  case QIR_OP_TILE:
    c->in[1] = ints_input(c, op->def->id == QIR_OP_EXPAND ? "shape"
                                                          : "repeats");
    onnx_ex_node(ex, op->def->id == QIR_OP_EXPAND ? "Expand" : "Tile", 2, c->in,
             1, c->out);
    return true;
  default:
    return false;
  }
}

/* Exports an op whose operands and results have ONNX types. */
bool onnx_ex_plain_op(op_ctx *c) {
  exporter *ex = c->ex;
  qir_op *op = c->op;
  unsigned id = op->def->id;
  const char *type = simple_type(id);
  if (ex->quantized_module && op->num_results == 1 &&
      onnx_ex_exact_activation(ex, id, (float)qir_op_get_float(op, "alpha", 0.2),
                               (float)qir_op_get_float(op, "beta", 0.5),
                               c->in[0], c->out[0]))
    return true;
  if (type && op->num_results == 1) {
    simple(c, type);
    return true;
  }
  switch (id) {
  case QIR_OP_CONSTANT: {
    const qir_attr *d = qir_op_get_attr(op, "value");
    if (!d || d->kind != QIR_ATTR_DENSE)
      return false;
    onnx_ex_init(ex, d, c->out[0]);
    return !ex->failed;
  }
  case QIR_OP_CONV2D: return export_conv(c, false);
  case QIR_OP_CONV_TRANSPOSE2D: return export_conv(c, true);
  case QIR_OP_REDUCE_MEAN: return export_reduce(c, "ReduceMean");
  case QIR_OP_REDUCE_SUM: return export_reduce(c, "ReduceSum");
  case QIR_OP_REDUCE_MAX: return export_reduce(c, "ReduceMax");
  case QIR_OP_REDUCE_MIN: return export_reduce(c, "ReduceMin");
  case QIR_OP_REDUCE_PROD: return export_reduce(c, "ReduceProd");
  case QIR_OP_REDUCE_L2: return export_reduce(c, "ReduceL2");
  case QIR_OP_SLICE: return export_slice(c);
  case QIR_OP_RESHAPE: return export_reshape(c);
  case QIR_OP_SPLIT: return export_split(c);
  case QIR_OP_PAD: return export_pad(c);
  case QIR_OP_CLIP: return export_clip(c);
  case QIR_OP_RESIZE: return export_resize(c);
  case QIR_OP_RSQRT:
  case QIR_OP_SILU:
  case QIR_OP_MISH:
  case QIR_OP_GELU: return export_expansion(c);
  case QIR_OP_QUANTIZE:
  case QIR_OP_DEQUANTIZE:
  case QIR_OP_REQUANTIZE:
    return export_quant(c);
  case QIR_OP_CONSTANT_OF_SHAPE: {
    Onnx__NodeProto *n = simple(c, "ConstantOfShape");
    const qir_attr *v = qir_op_get_attr(op, "value");
    if (v && v->kind == QIR_ATTR_DENSE) {
      Onnx__AttributeProto *a = add_attr(
          ex, n, "value", ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__TENSOR);
      a->t = dense_to_tensor(ex, v, "value");
    }
    return !ex->failed;
  }
  default:
    return export_with_attrs(c);
  }
}

static bool has_quant_types(qir_op *op) {
  for (unsigned i = 0; i < op->num_operands; i++)
    if (qir_tensor_is_quant(qir_op_operand(op, i)->type))
      return true;
  for (unsigned i = 0; i < op->num_results; i++)
    if (qir_tensor_is_quant(qir_op_result(op, i)->type))
      return true;
  return false;
}

/* An op on quantized types.  Quantized by qir: the exact integer
 * emulation when qir has an integer kernel for it, else the float round
 * trip qir-run does (each quantized operand dequantized, the float node,
 * each quantized result quantized).  From a QDQ model: DequantizeLinear,
 * the float node, QuantizeLinear. */
static bool export_quantized_op(op_ctx *c) {
  exporter *ex = c->ex;
  qir_op *op = c->op;
  bool qdq = from_qdq_model(op);
  if (!qdq) {
    qx_result r = onnx_ex_integer_op(c);
    if (r != QX_OTHER)
      return r == QX_DONE && !ex->failed;
  }
  for (unsigned i = 0; i < op->num_operands; i++) {
    qir_value *v = qir_op_operand(op, i);
    if (qir_tensor_is_quant(v->type))
      c->in[i] = qdq ? qdq_dequantized_name(ex, op, v)
                     : dequantized_name(ex, v);
  }
  const char **qout = qir_arena_alloc(ex->ctx, (op->num_results + 1) *
                                                   sizeof *qout);
  for (unsigned i = 0; i < op->num_results; i++) {
    qout[i] = c->out[i];
    const qir_type *t = qir_op_result(op, i)->type;
    if (qir_tensor_is_quant(t)) {
      if (!check_storage(ex, op, t))
        return false;
      c->out[i] = onnx_ex_tmp(ex);
    }
  }
  if (!onnx_ex_plain_op(c))
    return false;
  for (unsigned i = 0; i < op->num_results; i++) {
    if (qout[i] == c->out[i])
      continue;
    const qir_type *t = qir_op_result(op, i)->type;
    if (!qdq)
      onnx_ex_quantize(ex, t, c->out[i], qout[i]);
    else if (!quant_node(ex, op, true, t, c->out[i], qout[i]))
      return false;
  }
  return !ex->failed;
}

static bool export_op(exporter *ex, qir_op *op) {
  unsigned nin = op->num_operands > OP_CTX_MIN_INPUTS ? op->num_operands
                                                      : OP_CTX_MIN_INPUTS;
  op_ctx c = {.ex = ex, .op = op};
  c.in = qir_arena_alloc(ex->ctx, (nin + 1) * sizeof *c.in);
  c.out = qir_arena_alloc(ex->ctx, (op->num_results + 1) * sizeof *c.out);
  for (unsigned i = 0; i < op->num_operands; i++)
    c.in[i] = onnx_ex_value_name(ex, qir_op_operand(op, i));
  for (unsigned i = 0; i < op->num_results; i++)
    c.out[i] = onnx_ex_value_name(ex, qir_op_result(op, i));
  switch (op->def->id) {
  case QIR_OP_CONSTANT:
  case QIR_OP_QUANTIZE:
  case QIR_OP_DEQUANTIZE:
  case QIR_OP_REQUANTIZE:
    return onnx_ex_plain_op(&c);
  default:
    return has_quant_types(op) ? export_quantized_op(&c) : onnx_ex_plain_op(&c);
  }
}

/* ---- Graph inputs and outputs ------------------------------------------- */

static Onnx__ValueInfoProto *value_info(exporter *ex, const char *name,
                                        const qir_type *t) {
  Onnx__ValueInfoProto *vi =
      NEW(ex, Onnx__ValueInfoProto, ONNX__VALUE_INFO_PROTO__INIT);
  vi->name = (char *)name;
  Onnx__TypeProto *tp = NEW(ex, Onnx__TypeProto, ONNX__TYPE_PROTO__INIT);
  Onnx__TypeProto__Tensor *tt =
      NEW(ex, Onnx__TypeProto__Tensor, ONNX__TYPE_PROTO__TENSOR__INIT);
  Onnx__TensorShapeProto *sp =
      NEW(ex, Onnx__TensorShapeProto, ONNX__TENSOR_SHAPE_PROTO__INIT);
  int32_t et = onnx_elem_type_from_scalar(t->scalar);
  if (!qir_type_is_tensor(t) || et == ONNX__TENSOR_PROTO__DATA_TYPE__UNDEFINED) {
    char buf[128];
    qir_type_format(t, buf, sizeof buf);
    qir_emit_error(ex->ctx, qir_loc_unknown(),
                   "cannot export '%s' of type %s to ONNX", name, buf);
    ex->failed = true;
  }
  tt->has_elem_type = 1;
  tt->elem_type = et;
  sp->n_dim = t->rank;
  sp->dim = qir_arena_alloc(ex->ctx, (t->rank + 1) * sizeof *sp->dim);
  for (unsigned i = 0; i < t->rank; i++) {
    Onnx__TensorShapeProto__Dimension *d =
        NEW(ex, Onnx__TensorShapeProto__Dimension,
            ONNX__TENSOR_SHAPE_PROTO__DIMENSION__INIT);
    if (t->dims[i] == QIR_DYN) {
      char buf[32];
      snprintf(buf, sizeof buf, "%s_d%u", name, i);
      d->value_case = ONNX__TENSOR_SHAPE_PROTO__DIMENSION__VALUE_DIM_PARAM;
      d->dim_param = dupstr(ex, buf);
    } else {
      d->value_case = ONNX__TENSOR_SHAPE_PROTO__DIMENSION__VALUE_DIM_VALUE;
      d->dim_value = t->dims[i];
    }
    sp->dim[i] = d;
  }
  tt->shape = sp;
  tp->value_case = ONNX__TYPE_PROTO__VALUE_TENSOR_TYPE;
  tp->tensor_type = tt;
  vi->type = tp;
  return vi;
}

static const char *array_string(const qir_attr *a, unsigned i) {
  if (!a || a->kind != QIR_ATTR_ARRAY || i >= a->u.array.n ||
      a->u.array.elems[i]->kind != QIR_ATTR_STRING)
    return NULL;
  return a->u.array.elems[i]->u.str.data;
}

static void export_inputs(exporter *ex, qir_func *f, Onnx__GraphProto *g) {
  const qir_attr *names = qir_func_get_attr(f, "onnx.inputs");
  unsigned n = f->body.num_args;
  g->n_input = n;
  g->input = qir_arena_alloc(ex->ctx, (n + 1) * sizeof *g->input);
  for (unsigned i = 0; i < n; i++) {
    qir_value *v = f->body.args[i];
    const char *name = array_string(names, i);
    if (!name)
      name = v->name ? v->name : onnx_ex_tmp(ex);
    map_put(ex, v, name);
    g->input[i] = value_info(ex, name, v->type);
  }
}

/* The ONNX name graph output i should have. */
static const char *wanted_output_name(const qir_func *f, qir_value *v,
                                      unsigned i) {
  const char *want = array_string(qir_func_get_attr(f, "onnx.outputs"), i);
  if (!want)
    want = recorded_name(v);
  return want ? want : v->name;
}

/* Constants returned as graph outputs get other initializer names, so that
 * the Identity that makes the output can carry the output's name. */
static void rename_returned_constants(exporter *ex, qir_func *f) {
  qir_op *ret = qir_block_terminator(&f->body);
  for (unsigned i = 0; ret && i < ret->num_operands; i++) {
    qir_value *v = qir_op_operand(ret, i);
    if (qir_value_def(v) && qir_op_is(qir_value_def(v), QIR_OP_CONSTANT) &&
        !map_get(ex, v))
      map_put(ex, v, onnx_ex_tmp(ex));
  }
}

/* Graph outputs keep their recorded names; an Identity node gives a value
 * its output name when needed (an input, a constant, a repeated value). */
static void export_outputs(exporter *ex, qir_func *f, Onnx__GraphProto *g) {
  qir_op *ret = qir_block_terminator(&f->body);
  unsigned n = ret ? ret->num_operands : 0;
  g->n_output = n;
  g->output = qir_arena_alloc(ex->ctx, (n + 1) * sizeof *g->output);
  const char **used = qir_xcalloc(n + 1, sizeof *used);
  for (unsigned i = 0; i < n; i++) {
    qir_value *v = qir_op_operand(ret, i);
    const char *have = onnx_ex_value_name(ex, v);
    const char *want = wanted_output_name(f, v, i);
    bool is_node_output = qir_value_def(v) &&
                          !qir_op_is(qir_value_def(v), QIR_OP_CONSTANT);
    for (unsigned j = 0; j < i && want; j++)
      if (strcmp(used[j], want) == 0)
        want = NULL;
    if (want && strcmp(want, have) == 0 && !is_node_output)
      want = NULL;
    if (!want)
      want = onnx_ex_tmp(ex);
    if (strcmp(want, have) != 0)
      onnx_ex_node(ex, "Identity", 1, &have, 1, &want);
    used[i] = want;
    g->output[i] = value_info(ex, want, v->type);
  }
  free(used);
}

static Onnx__ModelProto *build_model(exporter *ex, qir_module *m) {
  qir_func *f = qir_module_lookup(m, "main");
  if (!f)
    f = m->first;
  if (!f) {
    qir_emit_error(ex->ctx, qir_loc_unknown(), "the module has no function");
    return NULL;
  }
  Onnx__GraphProto *g = NEW(ex, Onnx__GraphProto, ONNX__GRAPH_PROTO__INIT);
  g->name = dupstr(ex, m->name ? m->name : f->name);
  qir_foreach_op(op, &f->body)
    ex->quantized_module |= has_quant_types(op);
  export_inputs(ex, f, g);
  rename_returned_constants(ex, f);
  qir_foreach_op(op, &f->body) {
    if (qir_op_is(op, QIR_OP_RETURN))
      continue;
    if (!export_op(ex, op)) {
      if (!ex->failed)
        qir_op_emit_error(op, "has no ONNX form");
      ex->failed = true;
    }
  }
  export_outputs(ex, f, g);
  if (ex->failed)
    return NULL;
  g->n_node = ex->nnodes;
  g->node = ex->nodes;
  g->n_initializer = ex->ninits;
  g->initializer = ex->inits;
  Onnx__ModelProto *model = NEW(ex, Onnx__ModelProto, ONNX__MODEL_PROTO__INIT);
  model->has_ir_version = 1;
  model->ir_version = 8;
  model->producer_name = dupstr(ex, "qir");
  model->producer_version = dupstr(ex, QIR_VERSION_STRING);
  Onnx__OperatorSetIdProto *os =
      NEW(ex, Onnx__OperatorSetIdProto, ONNX__OPERATOR_SET_ID_PROTO__INIT);
  os->domain = dupstr(ex, "");
  os->has_version = 1;
  os->version = QIR_ONNX_EXPORT_OPSET;
  model->n_opset_import = 1;
  model->opset_import =
      qir_arena_alloc(ex->ctx, 2 * sizeof *model->opset_import);
  model->opset_import[0] = os;
  if (ex->uses_ms_domain) {
    Onnx__OperatorSetIdProto *ms =
        NEW(ex, Onnx__OperatorSetIdProto, ONNX__OPERATOR_SET_ID_PROTO__INIT);
    ms->domain = dupstr(ex, QIR_ONNX_MS_DOMAIN);
    ms->has_version = 1;
    ms->version = 1;
    model->opset_import[model->n_opset_import++] = ms;
  }
  model->graph = g;
  return model;
}

void *qir_onnx_export_buffer(qir_context *ctx, qir_module *m, size_t *len) {
  exporter ex = {.ctx = ctx};
  *len = 0;
  Onnx__ModelProto *model = build_model(&ex, m);
  void *buf = NULL;
  if (model) {
    size_t n = onnx__model_proto__get_packed_size(model);
    buf = qir_xmalloc(n ? n : 1);
    *len = onnx__model_proto__pack(model, buf);
  }
  free(ex.nodes);
  free(ex.inits);
  map_free(&ex.names);
  map_free(&ex.float_names);
  map_free(&ex.qdq_names);
  map_free(&ex.qparams);
  return buf;
}

bool qir_onnx_export_file(qir_context *ctx, qir_module *m, const char *path) {
  size_t len;
  void *buf = qir_onnx_export_buffer(ctx, m, &len);
  if (!buf)
    return false;
  qir_output o;
  bool ok = qir_output_open(ctx, &o, path, true);
  if (ok) {
    if (fwrite(buf, 1, len, o.fp) == len) {
      ok = qir_output_commit(ctx, &o);
    } else {
      qir_emit_error(ctx, qir_loc_unknown(), "cannot write '%s'", path);
      qir_output_abort(&o);
      ok = false;
    }
  }
  free(buf);
  return ok;
}
