/* driver/preprocess.c - preprocessing in the model (input_processors): the
 * deployed input (8-bit pixels, NHWC, BGR, ...) replaces the model input,
 * and ops at the start of the function convert it to what the model was
 * trained on, so that the NPU does the conversion:
 *
 *   x  (src_dtype, src_layout, src_format)
 *   -> cast to f32                       when src_dtype is U8
 *   -> transpose to NCHW                 when src_layout is NHWC
 *   -> conv2d 1x1: y[c] = x[p(c)] * (1 / std[c]) + (-mean[c] / std[c])
 *                                        when the channel order changes or
 *                                        mean/std are given
 *   -> transpose to NHWC                 when tensor_layout is NHWC
 *
 * p(c) is the source channel holding channel c of tensor_format (RGB <->
 * BGR reverses the order).  The weights and the bias are rounded to f32
 * once; each output element is one f32 multiplication and one f32
 * addition (the other products are exact zeros).  docs/qir-build.md
 * documents the same arithmetic. */
#include <stdlib.h>
#include <string.h>

#include "driver/build.h"

typedef struct prep {
  const char *tensor_format, *tensor_layout, *src_format, *src_layout;
  bool u8;
  unsigned nmean, nstd;
  double mean[4], std[4];
  const char *path; /* "input_processors[k]", for messages */
} prep;

static unsigned numbers(json_object *obj, const char *key, double *out) {
  json_object *arr;
  if (!json_object_object_get_ex(obj, key, &arr))
    return 0;
  size_t n = json_object_array_length(arr);
  for (size_t i = 0; i < n && i < 4; i++)
    out[i] = json_object_get_double(json_object_array_get_idx(arr, i));
  return (unsigned)n;
}

/* The position of `obj` in input_processors, for messages. */
static size_t processor_index(const build *b, json_object *obj) {
  const cfg_key *k;
  json_object *list = cfg_lookup(b->c, "input_processors", &k);
  for (size_t j = 0; list && j < json_object_array_length(list); j++)
    if (json_object_array_get_idx(list, j) == obj)
      return j;
  return 0;
}

static unsigned channels_of(const char *format) {
  return !strcmp(format, "GRAY") ? 1 : 3;
}

/* Reads the processor of input i into *p; false when it has none. */
static bool read_processor(const build *b, qir_func *f, unsigned i, prep *p) {
  json_object *obj = build_find_for_input(b, "input_processors", f, i);
  if (!obj)
    return false;
  size_t index = processor_index(b, obj);
  const cfg_key *k;
  cfg_lookup(b->c, "input_processors.0", &k);
  memset(p, 0, sizeof *p);
  p->tensor_format = cfg_field_string(obj, k, "tensor_format");
  p->tensor_layout = cfg_field_string(obj, k, "tensor_layout");
  p->src_format = cfg_field_string(obj, k, "src_format");
  p->src_layout = cfg_field_string(obj, k, "src_layout");
  p->u8 = !strcmp(cfg_field_string(obj, k, "src_dtype"), "U8");
  p->nmean = numbers(obj, "mean", p->mean);
  p->nstd = numbers(obj, "std", p->std);
  char path[64];
  snprintf(path, sizeof path, "input_processors[%zu]", index);
  p->path = qir_intern_cstr(b->ctx, path);
  return true;
}

/* ---- Checks -------------------------------------------------------------- */

static bool prep_error(build *b, const prep *p, const char *fmt,
                       const char *arg) {
  char msg[256];
  snprintf(msg, sizeof msg, fmt, arg);
  qir_emit_error(b->ctx, qir_loc_unknown(), "%s: %s", p->path, msg);
  return false;
}

/* Fills the defaults that depend on the input and checks the rest. */
static bool check_processor(build *b, prep *p, const qir_type *t) {
  char ty[128];
  qir_type_format(t, ty, sizeof ty);
  if (!qir_type_is_tensor(t) || t->rank != 4 || !qir_tensor_is_static(t) ||
      t->elem->kind != QIR_TYPE_SCALAR || t->elem->scalar != QIR_F32)
    return prep_error(b, p, "the input must be a static 4-D f32 tensor, not "
                            "%s", ty);
  bool nhwc = !strcmp(p->tensor_layout, "NHWC");
  int64_t c = t->dims[nhwc ? 3 : 1];
  if (!p->tensor_format)
    p->tensor_format = c == 1 ? "GRAY" : "RGB";
  if (!p->src_format)
    p->src_format = p->tensor_format;
  static const char *const yuv[] = {"NV12", "YUV420SP"};
  for (unsigned i = 0; i < 2; i++) {
    if (!strcmp(p->tensor_format, yuv[i]))
      return prep_error(b, p, "tensor_format %s: a model input is RGB, BGR "
                              "or GRAY", yuv[i]);
    if (!strcmp(p->src_format, yuv[i]))
      return prep_error(b, p, "src_format %s is not supported yet (RGB, BGR "
                              "and GRAY are)", yuv[i]);
  }
  if ((int64_t)channels_of(p->tensor_format) != c)
    return prep_error(b, p, "tensor_format %s does not match the number of "
                            "channels of the input", p->tensor_format);
  if (channels_of(p->src_format) != channels_of(p->tensor_format))
    return prep_error(b, p, "src_format %s has a different number of "
                            "channels than tensor_format", p->src_format);
  if ((p->nmean > 1 && p->nmean != c) || (p->nstd > 1 && p->nstd != c))
    return prep_error(b, p, "mean and std need one value or one per channel "
                            "(%s)", ty);
  for (unsigned i = 0; i < p->nstd; i++)
    if (p->std[i] == 0)
      return prep_error(b, p, "%s", "std must not be 0");
  return true;
}

/* ---- Building the conversion --------------------------------------------- */

static qir_value *transpose(qir_builder *bl, qir_value *v, const int64_t *perm) {
  qir_named_attr a = qir_named(bl->ctx, "perm", qir_attr_ints(bl->ctx, 4, perm));
  return qir_build_value(bl, QIR_OP_TRANSPOSE, 1, &v, 1, &a);
}

static qir_value *to_f32(qir_builder *bl, qir_value *v) {
  const qir_type *t = qir_tensor_with_elem(bl->ctx, v->type,
                                           qir_scalar_type(bl->ctx, QIR_F32));
  qir_op *op = qir_build_typed(bl, qir_builtin_op(bl->ctx, QIR_OP_CAST), 1, &v,
                               1, &t, 0, NULL);
  return qir_op_result(op, 0);
}

/* The 1x1 convolution that reorders channels and normalizes. */
static qir_value *normalize(qir_builder *bl, qir_value *v, const prep *p,
                            int64_t c) {
  bool swap = strcmp(p->src_format, p->tensor_format) != 0;
  double w[9] = {0}, bias[3];
  for (int64_t o = 0; o < c; o++) {
    double mean = p->nmean ? p->mean[p->nmean == 1 ? 0 : o] : 0;
    double std = p->nstd ? p->std[p->nstd == 1 ? 0 : o] : 1;
    w[o * c + (swap ? c - 1 - o : o)] = 1 / std;
    bias[o] = -mean / std;
  }
  int64_t wd[4] = {c, c, 1, 1}, bd[1] = {c};
  const qir_type *wt = qir_tensor_of(bl->ctx, QIR_F32, 4, wd);
  const qir_type *bt = qir_tensor_of(bl->ctx, QIR_F32, 1, bd);
  qir_value *ops[3] = {
      v, qir_build_constant(bl, qir_attr_dense_from_f64(bl->ctx, wt, w)),
      qir_build_constant(bl, qir_attr_dense_from_f64(bl->ctx, bt, bias))};
  return qir_build_value(bl, QIR_OP_CONV2D, 3, ops, 0, NULL);
}

static bool needs_conv(const prep *p) {
  return strcmp(p->src_format, p->tensor_format) != 0 || p->nmean ||
         p->nstd;
}

/* The deployed input's type: src dtype, src layout. */
static const qir_type *src_type(qir_context *ctx, const prep *p,
                                const qir_type *t) {
  bool model_nhwc = !strcmp(p->tensor_layout, "NHWC");
  int64_t n = t->dims[0], c = t->dims[model_nhwc ? 3 : 1];
  int64_t h = t->dims[model_nhwc ? 1 : 2], w = t->dims[model_nhwc ? 2 : 3];
  int64_t nhwc[4] = {n, h, w, c}, nchw[4] = {n, c, h, w};
  bool src_nhwc = !strcmp(p->src_layout, "NHWC");
  return qir_tensor_of(ctx, p->u8 ? QIR_U8 : QIR_F32, 4,
                       src_nhwc ? nhwc : nchw);
}

/* The ops from the deployed input x to the model's input. */
static qir_value *convert(qir_builder *bl, qir_value *x, const prep *p,
                          int64_t c) {
  static const int64_t to_nchw[4] = {0, 3, 1, 2}, to_nhwc[4] = {0, 2, 3, 1};
  qir_value *v = p->u8 ? to_f32(bl, x) : x;
  if (v && !strcmp(p->src_layout, "NHWC"))
    v = transpose(bl, v, to_nchw);
  if (v && needs_conv(p))
    v = normalize(bl, v, p, c);
  if (v && !strcmp(p->tensor_layout, "NHWC"))
    v = transpose(bl, v, to_nhwc);
  return v;
}

/* Replaces input 0 by a new last input, converted when `p` is given:
 * done for every input in order, the inputs keep their order. */
static bool rotate_input(build *b, qir_func *f, qir_builder *bl,
                         const prep *p) {
  qir_block *body = &f->body;
  qir_value *old = body->args[0];
  const qir_type *t = p ? src_type(b->ctx, p, old->type) : old->type;
  qir_value *x = qir_block_add_arg(body, t, NULL);
  qir_value *v = x;
  if (p) {
    bool nhwc = !strcmp(p->tensor_layout, "NHWC");
    v = convert(bl, x, p, old->type->dims[nhwc ? 3 : 1]);
    if (!v)
      return false;
    QIR_ASSERT(v->type == old->type);
  }
  qir_value_replace_all_uses(old, v);
  x->name = old->name;
  qir_block_erase_arg(body, 0);
  return true;
}

bool build_insert_preprocessing(build *b, qir_func *f) {
  unsigned n = f->body.num_args;
  prep *preps = qir_xcalloc(n ? n : 1, sizeof *preps);
  bool *has = qir_xcalloc(n ? n : 1, sizeof *has);
  bool ok = true;
  for (unsigned i = 0; i < n && ok; i++) {
    has[i] = read_processor(b, f, i, &preps[i]);
    ok = !has[i] || check_processor(b, &preps[i], f->body.args[i]->type);
  }
  qir_builder bl;
  qir_builder_init(&bl, b->ctx);
  if (f->body.first)
    qir_builder_set_before(&bl, f->body.first);
  else
    qir_builder_set_end(&bl, &f->body);
  for (unsigned i = 0; i < n && ok; i++)
    ok = rotate_input(b, f, &bl, has[i] ? &preps[i] : NULL);
  free(preps);
  free(has);
  return ok && qir_verify_func(f);
}

bool build_processor_source(const build *b, qir_func *f, unsigned i,
                            const char **channel_order, bool *nhwc) {
  prep p;
  if (!read_processor(b, f, i, &p))
    return false;
  const qir_type *t = f->body.args[i]->type;
  *nhwc = !strcmp(p.src_layout, "NHWC");
  int64_t c = qir_type_is_tensor(t) && t->rank == 4 ? t->dims[*nhwc ? 3 : 1]
                                                     : 3;
  *channel_order = p.src_format     ? p.src_format
                   : p.tensor_format ? p.tensor_format
                   : c == 1          ? "GRAY"
                                     : "RGB";
  return true;
}
