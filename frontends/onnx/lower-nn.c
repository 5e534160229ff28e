/* frontends/onnx/lower-nn.c - convolutions, matrix products,
 * normalizations, pooling, softmax and reductions. */
#include <string.h>

#include "frontends/onnx/onnx-internal.h"

static const qir_attr *ints2(onnx_importer *imp, int64_t a, int64_t b) {
  int64_t v[2] = {a, b};
  return qir_attr_ints(imp->ctx, 2, v);
}

/* ---- Shared window attributes (Conv, ConvTranspose, pools) -------------- */

typedef struct window {
  unsigned nsp;       /* spatial dims in the ONNX node: 1 or 2 */
  int64_t kernel[2], strides[2], dilations[2];
  int64_t pads[4];    /* ONNX order: begins, then ends */
  const char *auto_pad;
} window;

static bool read_pair(onnx_importer *imp, const onnx_node *node,
                      const char *name, unsigned nsp, int64_t *out,
                      int64_t dflt) {
  int64_t v[4];
  int n = onnx_attr_ints(imp, node, name, v, 4);
  if (n == -2)
    return false;
  for (unsigned i = 0; i < nsp; i++)
    out[i] = n < 0 ? dflt : v[i];
  if (n >= 0 && (unsigned)n != nsp)
    return onnx_error(imp, "attribute '%s' has %d values; expected %u", name,
                      n, nsp);
  for (unsigned i = 0; i < nsp; i++)
    if (out[i] < 1 || out[i] > ONNX_MAX_TENSOR_ELEMENTS)
      return onnx_error(imp, "attribute '%s' must be positive", name);
  return true;
}

/* Reads kernel_shape (or `kernel` when given), strides, dilations, pads and
 * auto_pad. */
static bool read_window(onnx_importer *imp, const onnx_node *node,
                        unsigned nsp, const int64_t *kernel, window *w) {
  memset(w, 0, sizeof *w);
  w->nsp = nsp;
  if (kernel) {
    memcpy(w->kernel, kernel, nsp * sizeof *kernel);
    int64_t ks[2];
    if (onnx_find_attr(node, "kernel_shape") &&
        (!read_pair(imp, node, "kernel_shape", nsp, ks, 1) ||
         memcmp(ks, kernel, nsp * sizeof *ks) != 0))
      return onnx_error(imp, "kernel_shape does not match the weights");
  } else {
    if (!onnx_find_attr(node, "kernel_shape"))
      return onnx_error(imp, "attribute 'kernel_shape' is missing");
    if (!read_pair(imp, node, "kernel_shape", nsp, w->kernel, 1))
      return false;
  }
  if (!read_pair(imp, node, "strides", nsp, w->strides, 1) ||
      !read_pair(imp, node, "dilations", nsp, w->dilations, 1))
    return false;
  int64_t pads[4];
  int n = onnx_attr_ints(imp, node, "pads", pads, 4);
  if (n == -2)
    return false;
  if (n >= 0 && (unsigned)n != 2 * nsp)
    return onnx_error(imp, "attribute 'pads' has %d values; expected %u", n,
                      2 * nsp);
  for (int i = 0; i < n; i++) {
    if (pads[i] < 0)
      return onnx_error(imp, "negative pads are not supported");
    if (pads[i] > ONNX_MAX_TENSOR_ELEMENTS)
      return onnx_error(imp, "absurd pad %lld", (long long)pads[i]);
    w->pads[i] = pads[i];
  }
  w->auto_pad = onnx_attr_string(imp, node, "auto_pad");
  if (w->auto_pad && (!*w->auto_pad || strcmp(w->auto_pad, "NOTSET") == 0))
    w->auto_pad = NULL;
  if (w->auto_pad && strcmp(w->auto_pad, "VALID") != 0 &&
      strcmp(w->auto_pad, "SAME_UPPER") != 0 &&
      strcmp(w->auto_pad, "SAME_LOWER") != 0)
    return onnx_error(imp, "unknown auto_pad '%s'", w->auto_pad);
  return true;
}

/* Resolves auto_pad SAME_* / VALID into explicit pads for input spatial
 * sizes `in`. */
static bool resolve_auto_pad(onnx_importer *imp, window *w,
                             const int64_t *in) {
  if (!w->auto_pad)
    return true;
  memset(w->pads, 0, sizeof w->pads);
  if (strcmp(w->auto_pad, "VALID") == 0)
    return true;
  for (unsigned i = 0; i < w->nsp; i++) {
    if (in[i] == QIR_DYN)
      return onnx_error(imp, "auto_pad needs static spatial dims");
    int64_t out = (in[i] + w->strides[i] - 1) / w->strides[i];
    int64_t eff = (w->kernel[i] - 1) * w->dilations[i] + 1;
    int64_t total = (out - 1) * w->strides[i] + eff - in[i];
    if (total < 0)
      total = 0;
    bool upper = strcmp(w->auto_pad, "SAME_UPPER") == 0;
    w->pads[i] = upper ? total / 2 : total - total / 2;
    w->pads[w->nsp + i] = total - w->pads[i];
  }
  return true;
}

/* qir's 2-D attributes from a window; 1-D windows get a unit H dim. */
static unsigned window_attrs(onnx_importer *imp, const window *w,
                             bool with_kernel, bool with_dilations,
                             qir_named_attr *attrs) {
  unsigned n = 0;
  bool one = w->nsp == 1;
  int64_t k[2] = {one ? 1 : w->kernel[0], one ? w->kernel[0] : w->kernel[1]};
  int64_t s[2] = {one ? 1 : w->strides[0], one ? w->strides[0] : w->strides[1]};
  int64_t d[2] = {one ? 1 : w->dilations[0],
                  one ? w->dilations[0] : w->dilations[1]};
  int64_t p[4];
  if (one) {
    p[0] = 0, p[1] = w->pads[0], p[2] = 0, p[3] = w->pads[1];
  } else {
    memcpy(p, w->pads, sizeof p);
  }
  if (with_kernel)
    attrs[n++] = onnx_named(imp, "kernel", ints2(imp, k[0], k[1]));
  if (s[0] != 1 || s[1] != 1)
    attrs[n++] = onnx_named(imp, "strides", ints2(imp, s[0], s[1]));
  if (p[0] || p[1] || p[2] || p[3])
    attrs[n++] = onnx_named(imp, "pads", qir_attr_ints(imp->ctx, 4, p));
  if (with_dilations && (d[0] != 1 || d[1] != 1))
    attrs[n++] = onnx_named(imp, "dilations", ints2(imp, d[0], d[1]));
  return n;
}

/* 1-D ops run as 2-D ones: [N, C, L] -> [N, C, 1, L] and back. */
static qir_value *to_2d(onnx_importer *imp, qir_value *x) {
  const qir_type *t = x->type;
  int64_t dims[4] = {t->dims[0], t->dims[1], 1, t->dims[2]};
  return onnx_emit_reshape(imp, x, 4, dims);
}

static qir_value *from_2d(onnx_importer *imp, qir_value *y) {
  if (!y)
    return NULL;
  const qir_type *t = y->type;
  int64_t dims[3] = {t->dims[0], t->dims[1], t->dims[3]};
  return onnx_emit_reshape(imp, y, 3, dims);
}

static bool check_spatial(onnx_importer *imp, qir_value *x, unsigned *nsp) {
  if (x->type->rank != 3 && x->type->rank != 4)
    return onnx_error(imp, "only 1-D and 2-D spatial inputs are supported "
                           "(input has rank %u)",
                      x->type->rank);
  *nsp = x->type->rank - 2;
  if (*nsp == 1 && !onnx_static_shape(imp, x, "the 1-D input"))
    return false;
  return true;
}

/* ---- Conv and ConvTranspose --------------------------------------------- */

static bool lower_conv_like(onnx_importer *imp, const onnx_node *node,
                            qir_value *const *in, unsigned nin,
                            qir_value **out, bool transpose) {
  if (nin < 2 || !in[0] || !in[1])
    return onnx_error(imp, "expected the input and the weights");
  qir_value *x = in[0], *w = in[1];
  unsigned nsp;
  if (!check_spatial(imp, x, &nsp))
    return false;
  if (w->type->rank != nsp + 2)
    return onnx_error(imp, "the weights have rank %u; expected %u",
                      w->type->rank, nsp + 2);
  window win;
  if (!read_window(imp, node, nsp, w->type->dims + 2, &win))
    return false;
  const int64_t *sp = x->type->dims + 2;
  int64_t group = onnx_attr_int(node, "group", 1);
  qir_named_attr attrs[8];
  unsigned n = 0;
  if (transpose) {
    int64_t opad[2] = {0, 0}, oshape[2];
    int c = onnx_attr_ints(imp, node, "output_padding", opad, 2);
    int oc = onnx_attr_ints(imp, node, "output_shape", oshape, 2);
    if (c == -2 || oc == -2)
      return false;
    bool upper = win.auto_pad && strcmp(win.auto_pad, "SAME_UPPER") == 0;
    if (win.auto_pad && strcmp(win.auto_pad, "VALID") != 0 && oc < 0) {
      for (unsigned i = 0; i < nsp; i++)
        oshape[i] = sp[i] * win.strides[i];
      oc = (int)nsp;
    }
    if (oc >= 0) {
      if ((unsigned)oc != nsp)
        return onnx_error(imp, "output_shape must have %u values", nsp);
      for (unsigned i = 0; i < nsp; i++) {
        if (sp[i] == QIR_DYN)
          return onnx_error(imp, "output_shape needs static spatial dims");
        int64_t total = win.strides[i] * (sp[i] - 1) + opad[i] +
                        (win.kernel[i] - 1) * win.dilations[i] + 1 - oshape[i];
        if (total < 0)
          return onnx_error(imp, "output_shape is larger than the "
                                 "transposed convolution gives");
        win.pads[i] = upper ? total / 2 : total - total / 2;
        win.pads[nsp + i] = total - win.pads[i];
      }
    } else if (win.auto_pad) {
      memset(win.pads, 0, sizeof win.pads);
    }
    n = window_attrs(imp, &win, false, true, attrs);
    int64_t op2[2] = {nsp == 1 ? 0 : opad[0], nsp == 1 ? opad[0] : opad[1]};
    if (op2[0] || op2[1])
      attrs[n++] = onnx_named(imp, "output_padding", ints2(imp, op2[0],
                                                           op2[1]));
  } else {
    if (!resolve_auto_pad(imp, &win, sp))
      return false;
    n = window_attrs(imp, &win, false, true, attrs);
  }
  if (group != 1)
    attrs[n++] = onnx_named(imp, "group", qir_attr_int(imp->ctx, group));
  qir_value *ops[3] = {x, w, nin > 2 ? in[2] : NULL};
  unsigned nops = ops[2] ? 3 : 2;
  if (nsp == 1) {
    ops[0] = to_2d(imp, x);
    ops[1] = to_2d(imp, w);
    if (!ops[0] || !ops[1])
      return false;
  }
  qir_value *y = onnx_emit(imp, transpose ? QIR_OP_CONV_TRANSPOSE2D
                                          : QIR_OP_CONV2D,
                           nops, ops, n, attrs);
  out[0] = nsp == 1 ? from_2d(imp, y) : y;
  return out[0] != NULL;
}

bool onnx_lower_conv(onnx_importer *imp, const onnx_node *node,
                     qir_value *const *in, unsigned nin, qir_value **out) {
  return lower_conv_like(imp, node, in, nin, out, false);
}

bool onnx_lower_conv_transpose(onnx_importer *imp, const onnx_node *node,
                               qir_value *const *in, unsigned nin,
                               qir_value **out) {
  return lower_conv_like(imp, node, in, nin, out, true);
}

/* ---- Matrix products ---------------------------------------------------- */

bool onnx_lower_matmul(onnx_importer *imp, const onnx_node *node,
                       qir_value *const *in, unsigned nin, qir_value **out) {
  if (nin != 2 || !in[0] || !in[1])
    return onnx_error(imp, "expected 2 inputs");
  out[0] = onnx_emit_binary(imp, QIR_OP_MATMUL, in[0], in[1]);
  return out[0] != NULL;
}

bool onnx_lower_gemm(onnx_importer *imp, const onnx_node *node,
                     qir_value *const *in, unsigned nin, qir_value **out) {
  if (nin < 2 || !in[0] || !in[1])
    return onnx_error(imp, "expected at least 2 inputs");
  qir_named_attr attrs[4];
  unsigned n = 0;
  double alpha = onnx_attr_float(node, "alpha", 1.0);
  double beta = onnx_attr_float(node, "beta", 1.0);
  int64_t ta = onnx_attr_int(node, "transA", 0);
  int64_t tb = onnx_attr_int(node, "transB", 0);
  if (alpha != 1.0)
    attrs[n++] = onnx_named(imp, "alpha", qir_attr_float(imp->ctx, alpha));
  if (beta != 1.0)
    attrs[n++] = onnx_named(imp, "beta", qir_attr_float(imp->ctx, beta));
  if (ta)
    attrs[n++] = onnx_named(imp, "trans_a", qir_attr_int(imp->ctx, 1));
  if (tb)
    attrs[n++] = onnx_named(imp, "trans_b", qir_attr_int(imp->ctx, 1));
  qir_value *ops[3] = {in[0], in[1], nin > 2 ? in[2] : NULL};
  out[0] = onnx_emit(imp, QIR_OP_GEMM, ops[2] ? 3 : 2, ops, n, attrs);
  return out[0] != NULL;
}

/* ---- Normalizations ----------------------------------------------------- */

static unsigned epsilon_attr(onnx_importer *imp, const onnx_node *node,
                             qir_named_attr *attrs) {
  const onnx_attr *a = onnx_find_attr(node, "epsilon");
  if (!a || !a->has_f)
    return 0;
  attrs[0] = onnx_named(imp, "epsilon", qir_attr_float(imp->ctx, a->f));
  return 1;
}

bool onnx_lower_batch_norm(onnx_importer *imp, const onnx_node *node,
                           qir_value *const *in, unsigned nin,
                           qir_value **out) {
  if (nin != 5)
    return onnx_error(imp, "expected 5 inputs");
  for (unsigned i = 0; i < 5; i++)
    if (!in[i])
      return onnx_error(imp, "input %u is empty", i);
  if (onnx_attr_int(node, "training_mode", 0) != 0 ||
      onnx_attr_int(node, "spatial", 1) != 1)
    return onnx_error(imp, "only inference with spatial = 1 is supported");
  qir_named_attr attrs[1];
  unsigned n = epsilon_attr(imp, node, attrs);
  out[0] = onnx_emit(imp, QIR_OP_BATCH_NORM, 5, in, n, attrs);
  return out[0] != NULL;
}

bool onnx_lower_instance_norm(onnx_importer *imp, const onnx_node *node,
                              qir_value *const *in, unsigned nin,
                              qir_value **out) {
  if (nin != 3 || !in[0] || !in[1] || !in[2])
    return onnx_error(imp, "expected 3 inputs");
  qir_named_attr attrs[1];
  unsigned n = epsilon_attr(imp, node, attrs);
  out[0] = onnx_emit(imp, QIR_OP_INSTANCE_NORM, 3, in, n, attrs);
  return out[0] != NULL;
}

/* LayerNormalization's optional outputs Mean and InvStdDev: over the dims
 * from axis on, kept as 1s. */
static bool layer_norm_stats(onnx_importer *imp, const onnx_node *node,
                             qir_value *x, unsigned axis, qir_value **out) {
  int64_t axes[QIR_MAX_RANK];
  unsigned na = 0;
  for (unsigned i = axis; i < x->type->rank; i++)
    axes[na++] = i;
  qir_named_attr a[2] = {
      onnx_named(imp, "axes", qir_attr_ints(imp->ctx, na, axes)),
      onnx_named(imp, "keepdims", qir_attr_int(imp->ctx, 1))};
  qir_value *mean = onnx_emit(imp, QIR_OP_REDUCE_MEAN, 1, &x, 2, a);
  qir_value *d = mean ? onnx_emit_binary(imp, QIR_OP_SUB, x, mean) : NULL;
  qir_value *sq = d ? onnx_emit_binary(imp, QIR_OP_MUL, d, d) : NULL;
  qir_value *var = sq ? onnx_emit(imp, QIR_OP_REDUCE_MEAN, 1, &sq, 2, a)
                      : NULL;
  qir_value *eps = onnx_const_scalar(
      imp, x->type->scalar, onnx_attr_float(node, "epsilon", 1e-5));
  qir_value *ve = var ? onnx_emit_binary(imp, QIR_OP_ADD, var, eps) : NULL;
  out[1] = mean;
  out[2] = ve ? onnx_emit_unary(imp, QIR_OP_RSQRT, ve) : NULL;
  return out[1] && out[2];
}

bool onnx_lower_layer_norm(onnx_importer *imp, const onnx_node *node,
                           qir_value *const *in, unsigned nin,
                           qir_value **out) {
  if (nin < 2 || !in[0] || !in[1])
    return onnx_error(imp, "expected the input and the scale");
  int64_t axis;
  if (!onnx_norm_axis(imp, onnx_attr_int(node, "axis", -1), in[0]->type->rank,
                      &axis))
    return false;
  qir_named_attr attrs[2];
  attrs[0] = onnx_named(imp, "axis", qir_attr_int(imp->ctx, axis));
  unsigned n = 1 + epsilon_attr(imp, node, attrs + 1);
  qir_value *ops[3] = {in[0], in[1], nin > 2 ? in[2] : NULL};
  out[0] = onnx_emit(imp, QIR_OP_LAYER_NORM, ops[2] ? 3 : 2, ops, n, attrs);
  if (out[0] && node->n_output > 1)
    return layer_norm_stats(imp, node, in[0], (unsigned)axis, out);
  return out[0] != NULL;
}

/* ---- Pooling ------------------------------------------------------------ */

static bool lower_pool(onnx_importer *imp, const onnx_node *node,
                       qir_value *const *in, unsigned nin, qir_value **out,
                       bool is_max) {
  if (nin < 1 || !in[0])
    return onnx_error(imp, "expected 1 input");
  unsigned nsp;
  if (!check_spatial(imp, in[0], &nsp))
    return false;
  window win;
  if (!read_window(imp, node, nsp, NULL, &win) ||
      !resolve_auto_pad(imp, &win, in[0]->type->dims + 2))
    return false;
  qir_named_attr attrs[8];
  unsigned n = window_attrs(imp, &win, true, is_max, attrs);
  if (!is_max && onnx_find_attr(node, "dilations"))
    for (unsigned i = 0; i < nsp; i++)
      if (win.dilations[i] != 1)
        return onnx_error(imp, "AveragePool with dilations is not "
                               "supported");
  if (onnx_attr_int(node, "ceil_mode", 0))
    attrs[n++] = onnx_named(imp, "ceil_mode", qir_attr_int(imp->ctx, 1));
  if (!is_max && onnx_attr_int(node, "count_include_pad", 0))
    attrs[n++] = onnx_named(imp, "count_include_pad",
                            qir_attr_int(imp->ctx, 1));
  if (is_max && onnx_attr_int(node, "storage_order", 0))
    return onnx_error(imp, "storage_order = 1 is not supported");
  qir_value *x = nsp == 1 ? to_2d(imp, in[0]) : in[0];
  if (!x)
    return false;
  qir_value *y = onnx_emit(imp, is_max ? QIR_OP_MAX_POOL2D
                                       : QIR_OP_AVG_POOL2D,
                           1, &x, n, attrs);
  out[0] = nsp == 1 ? from_2d(imp, y) : y;
  return out[0] != NULL;
}

bool onnx_lower_max_pool(onnx_importer *imp, const onnx_node *node,
                         qir_value *const *in, unsigned nin, qir_value **out) {
  return lower_pool(imp, node, in, nin, out, true);
}

bool onnx_lower_average_pool(onnx_importer *imp, const onnx_node *node,
                             qir_value *const *in, unsigned nin,
                             qir_value **out) {
  return lower_pool(imp, node, in, nin, out, false);
}

bool onnx_lower_global_average_pool(onnx_importer *imp, const onnx_node *node,
                                    qir_value *const *in, unsigned nin,
                                    qir_value **out) {
  if (nin < 1 || !in[0])
    return onnx_error(imp, "expected 1 input");
  return (out[0] = onnx_emit_unary(imp, QIR_OP_GLOBAL_AVG_POOL, in[0])) !=
         NULL;
}

bool onnx_lower_global_max_pool(onnx_importer *imp, const onnx_node *node,
                                qir_value *const *in, unsigned nin,
                                qir_value **out) {
  if (nin < 1 || !in[0])
    return onnx_error(imp, "expected 1 input");
  return (out[0] = onnx_emit_unary(imp, QIR_OP_GLOBAL_MAX_POOL, in[0])) !=
         NULL;
}

/* ---- Softmax ------------------------------------------------------------ */

/* Before opset 13 Softmax flattens the input to 2-D at `axis` and
 * normalizes each row; that equals qir's softmax on the last axis only when
 * axis is the last one, so other axes go through a reshape. */
static bool lower_softmax_like(onnx_importer *imp, const onnx_node *node,
                               qir_value *const *in, unsigned nin,
                               qir_value **out, unsigned op_id) {
  if (nin < 1 || !in[0])
    return onnx_error(imp, "expected 1 input");
  qir_value *x = in[0];
  unsigned rank = x->type->rank;
  int64_t axis;
  bool old = imp->opset < 13;
  if (!onnx_norm_axis(imp, onnx_attr_int(node, "axis", old ? 1 : -1),
                      rank ? rank : 1, &axis))
    return false;
  qir_named_attr a;
  if (!old || axis + 1 >= (int64_t)rank) {
    a = onnx_named(imp, "axis", qir_attr_int(imp->ctx, axis));
    return (out[0] = onnx_emit(imp, op_id, 1, &x, 1, &a)) != NULL;
  }
  if (!onnx_static_shape(imp, x, "the input"))
    return false;
  int64_t rows = 1, cols = 1;
  for (unsigned i = 0; i < rank; i++)
    *(i < axis ? &rows : &cols) *= x->type->dims[i];
  int64_t flat[2] = {rows, cols};
  qir_value *f = onnx_emit_reshape(imp, x, 2, flat);
  a = onnx_named(imp, "axis", qir_attr_int(imp->ctx, 1));
  qir_value *s = f ? onnx_emit(imp, op_id, 1, &f, 1, &a) : NULL;
  out[0] = s ? onnx_emit_reshape(imp, s, rank, x->type->dims) : NULL;
  return out[0] != NULL;
}

bool onnx_lower_softmax(onnx_importer *imp, const onnx_node *node,
                        qir_value *const *in, unsigned nin, qir_value **out) {
  return lower_softmax_like(imp, node, in, nin, out, QIR_OP_SOFTMAX);
}

bool onnx_lower_log_softmax(onnx_importer *imp, const onnx_node *node,
                            qir_value *const *in, unsigned nin,
                            qir_value **out) {
  return lower_softmax_like(imp, node, in, nin, out, QIR_OP_LOG_SOFTMAX);
}

/* ---- Reductions --------------------------------------------------------- */

/* Axes are an attribute up to opset 12 (ReduceSum) or 17 (the others),
 * then an optional constant input. */
static qir_value *reduce_value(onnx_importer *imp, const onnx_node *node,
                               qir_value *const *in, unsigned nin,
                               qir_value *x, unsigned op_id,
                               int64_t input_opset);

static bool lower_reduce(onnx_importer *imp, const onnx_node *node,
                         qir_value *const *in, unsigned nin, qir_value **out,
                         unsigned op_id, int64_t input_opset) {
  if (nin < 1 || !in[0])
    return onnx_error(imp, "expected the input");
  out[0] = reduce_value(imp, node, in, nin, in[0], op_id, input_opset);
  return out[0] != NULL;
}

/* Reduces x (in[0] or a function of it) over the node's axes. */
static qir_value *reduce_value(onnx_importer *imp, const onnx_node *node,
                               qir_value *const *in, unsigned nin,
                               qir_value *x, unsigned op_id,
                               int64_t input_opset) {
  unsigned rank = x->type->rank;
  int64_t axes[QIR_MAX_RANK];
  int n;
  if (imp->opset >= input_opset) {
    n = nin > 1 && in[1] ? onnx_const_ints(imp, in[1], "axes", axes,
                                           QIR_MAX_RANK)
                         : 0;
    if (n < 0)
      return NULL;
  } else {
    n = onnx_attr_ints(imp, node, "axes", axes, QIR_MAX_RANK);
    if (n == -2)
      return NULL;
    if (n < 0)
      n = 0;
    if (nin > 1) {
      onnx_error(imp, "axes is an attribute before opset %lld",
                 (long long)input_opset);
      return NULL;
    }
  }
  if (n == 0 && onnx_attr_int(node, "noop_with_empty_axes", 0))
    return x;
  for (int i = 0; i < n; i++)
    if (!onnx_norm_axis(imp, axes[i], rank, &axes[i]))
      return NULL;
  qir_named_attr attrs[2];
  unsigned na = 0;
  if (n > 0)
    attrs[na++] = onnx_named(imp, "axes",
                             qir_attr_ints(imp->ctx, (unsigned)n, axes));
  attrs[na++] = onnx_named(imp, "keepdims",
                           qir_attr_int(imp->ctx,
                                        onnx_attr_int(node, "keepdims", 1)));
  return onnx_emit(imp, op_id, 1, &x, na, attrs);
}

#define REDUCE(fn, id, input_opset)                                           \
  bool fn(onnx_importer *imp, const onnx_node *node, qir_value *const *in,   \
          unsigned nin, qir_value **out) {                                    \
    return lower_reduce(imp, node, in, nin, out, id, input_opset);            \
  }
REDUCE(onnx_lower_reduce_mean, QIR_OP_REDUCE_MEAN, 18)
REDUCE(onnx_lower_reduce_sum, QIR_OP_REDUCE_SUM, 13)
REDUCE(onnx_lower_reduce_max, QIR_OP_REDUCE_MAX, 18)
REDUCE(onnx_lower_reduce_min, QIR_OP_REDUCE_MIN, 18)
REDUCE(onnx_lower_reduce_prod, QIR_OP_REDUCE_PROD, 18)
REDUCE(onnx_lower_reduce_l2, QIR_OP_REDUCE_L2, 18)
#undef REDUCE

/* Reductions qir composes: ReduceSumSquare = sum(x * x), ReduceL1 =
 * sum(|x|), ReduceLogSum = log(sum(x)), ReduceLogSumExp = log(sum(exp(x))).
 * Their axes are an input from opset 18. */
static bool lower_composed_reduce(onnx_importer *imp, const onnx_node *node,
                                  qir_value *const *in, unsigned nin,
                                  qir_value **out, int pre, bool log_after) {
  if (nin < 1 || !in[0])
    return onnx_error(imp, "expected the input");
  qir_value *x = in[0];
  if (pre == QIR_OP_MUL)
    x = onnx_emit_binary(imp, QIR_OP_MUL, x, x);
  else if (pre >= 0)
    x = onnx_emit_unary(imp, (unsigned)pre, x);
  qir_value *r = x ? reduce_value(imp, node, in, nin, x, QIR_OP_REDUCE_SUM, 18)
                   : NULL;
  out[0] = r && log_after ? onnx_emit_unary(imp, QIR_OP_LOG, r) : r;
  return out[0] != NULL;
}

bool onnx_lower_reduce_sum_square(onnx_importer *imp, const onnx_node *node,
                                  qir_value *const *in, unsigned nin,
                                  qir_value **out) {
  return lower_composed_reduce(imp, node, in, nin, out, QIR_OP_MUL, false);
}

bool onnx_lower_reduce_l1(onnx_importer *imp, const onnx_node *node,
                          qir_value *const *in, unsigned nin,
                          qir_value **out) {
  return lower_composed_reduce(imp, node, in, nin, out, QIR_OP_ABS, false);
}

bool onnx_lower_reduce_log_sum(onnx_importer *imp, const onnx_node *node,
                               qir_value *const *in, unsigned nin,
                               qir_value **out) {
  return lower_composed_reduce(imp, node, in, nin, out, -1, true);
}

bool onnx_lower_reduce_log_sum_exp(onnx_importer *imp, const onnx_node *node,
                                   qir_value *const *in, unsigned nin,
                                   qir_value **out) {
  return lower_composed_reduce(imp, node, in, nin, out, QIR_OP_EXP, true);
}

static bool lower_arg_reduce(onnx_importer *imp, const onnx_node *node,
                             qir_value *const *in, unsigned nin,
                             qir_value **out, unsigned op_id) {
  if (nin < 1 || !in[0])
    return onnx_error(imp, "expected 1 input");
  int64_t axis;
  if (!onnx_norm_axis(imp, onnx_attr_int(node, "axis", 0), in[0]->type->rank,
                      &axis))
    return false;
  qir_named_attr attrs[3];
  unsigned n = 0;
  attrs[n++] = onnx_named(imp, "axis", qir_attr_int(imp->ctx, axis));
  attrs[n++] = onnx_named(imp, "keepdims",
                          qir_attr_int(imp->ctx,
                                       onnx_attr_int(node, "keepdims", 1)));
  if (onnx_attr_int(node, "select_last_index", 0))
    attrs[n++] = onnx_named(imp, "select_last_index",
                            qir_attr_int(imp->ctx, 1));
  return (out[0] = onnx_emit(imp, op_id, 1, in, n, attrs)) != NULL;
}

bool onnx_lower_argmax(onnx_importer *imp, const onnx_node *node,
                       qir_value *const *in, unsigned nin, qir_value **out) {
  return lower_arg_reduce(imp, node, in, nin, out, QIR_OP_ARGMAX);
}

bool onnx_lower_argmin(onnx_importer *imp, const onnx_node *node,
                       qir_value *const *in, unsigned nin, qir_value **out) {
  return lower_arg_reduce(imp, node, in, nin, out, QIR_OP_ARGMIN);
}
