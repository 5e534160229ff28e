/* driver/preprocess.c - preprocessing in the model (input_processors): the
 * deployed input (8-bit pixels, NHWC, BGR, NV12, ...) replaces the model
 * input, and ops at the start of the function convert it to what the model
 * was trained on, so that the NPU does the conversion:
 *
 *   x  (src_dtype, src_layout, src_format)
 *   -> cast to f32                       when src_dtype is U8
 *   -> NV12: split the Y and UV planes, upsample UV (nearest), concat to
 *      YUV NCHW                          when src_format is NV12/YUV420SP
 *      other formats: transpose to NCHW  when src_layout is NHWC
 *   -> a color conversion, when src_format and tensor_format differ in
 *      color space:
 *        YUV -> RGB/BGR: conv2d 1x1 (BT.601, csc_mode), clip to [0, 255]
 *        RGB/BGR -> centered YUV444: conv2d 1x1 (BT.601, csc_mode, minus
 *        128), round, clip to [-128, 127]
 *   -> conv2d 1x1: y[c] = x[p(c)] * (1 / std[c]) + (-(mean[c] + o) / std[c])
 *                                        when the channel order changes,
 *                                        mean/std are given, or o != 0
 *                                        (o = 128 centers YUV444 without
 *                                        a color conversion)
 *   -> transpose to NHWC                 when tensor_layout is NHWC
 *
 * p(c) is the source channel holding channel c of tensor_format (RGB <->
 * BGR reverses the order).  The weights and the bias are rounded to f32
 * once; each output element of the normalization is one f32
 * multiplication and one f32 addition (the other products are exact
 * zeros).  docs/qir-build.md documents the same arithmetic. */
#include <stdlib.h>
#include <string.h>

#include "driver/build.h"

typedef struct prep {
  const char *tensor_format, *tensor_layout, *src_format, *src_layout;
  bool u8;
  bool limited; /* csc_mode BT601_LIMITED (else BT601_FULL) */
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

static bool is_nv12(const char *format) {
  return !strcmp(format, "NV12") || !strcmp(format, "YUV420SP");
}

static bool is_yuv(const char *format) {
  return is_nv12(format) || !strcmp(format, "YUV444");
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
  p->limited = !strcmp(cfg_field_string(obj, k, "csc_mode"), "BT601_LIMITED");
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

/* The formats a source and a model input may have together. */
static bool check_formats(build *b, prep *p, int64_t c) {
  if (is_nv12(p->tensor_format))
    return prep_error(b, p, "tensor_format %s: a model input is RGB, BGR, "
                            "GRAY or YUV444", p->tensor_format);
  if (is_yuv(p->src_format) && channels_of(p->tensor_format) != 3)
    return prep_error(b, p, "src_format %s converts to RGB, BGR or YUV444, "
                            "not GRAY", p->src_format);
  if ((int64_t)channels_of(p->tensor_format) != c)
    return prep_error(b, p, "tensor_format %s does not match the number of "
                            "channels of the input", p->tensor_format);
  if (channels_of(p->src_format) != channels_of(p->tensor_format))
    return prep_error(b, p, "src_format %s has a different number of "
                            "channels than tensor_format", p->src_format);
  return true;
}

/* NV12 subsamples the chroma by 2 in both directions. */
static bool check_nv12_size(build *b, const prep *p, const qir_type *t) {
  bool nhwc = !strcmp(p->tensor_layout, "NHWC");
  int64_t h = t->dims[nhwc ? 1 : 2], w = t->dims[nhwc ? 2 : 3];
  if (h % 2 == 0 && w % 2 == 0)
    return true;
  char msg[128];
  snprintf(msg, sizeof msg, "%s needs an even height and width, not "
           "%lldx%lld", p->src_format, (long long)h, (long long)w);
  return prep_error(b, p, "src_format %s", msg);
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
  if (!check_formats(b, p, c))
    return false;
  if (is_nv12(p->src_format) && !check_nv12_size(b, p, t))
    return false;
  if ((p->nmean > 1 && p->nmean != c) || (p->nstd > 1 && p->nstd != c))
    return prep_error(b, p, "mean and std need one value or one per channel "
                            "(%s)", ty);
  for (unsigned i = 0; i < p->nstd; i++)
    if (p->std[i] == 0)
      return prep_error(b, p, "%s", "std must not be 0");
  return true;
}

/* ---- Color spaces -------------------------------------------------------- */

/* BT.601: Kr = 0.299, Kb = 0.114.  Full range: Y, U, V in 0..255 with
 * U, V centered on 128.  Limited ("video") range: Y in 16..235 and U, V
 * in 16..240, i.e. Y scaled by 219/255 and U, V by 224/255. */
enum { CH_R, CH_G, CH_B };
static const double KR = 0.299, KB = 0.114;

/* rgb[CH_*][k] = the weight of (Y, U, V)[k] (offsets already removed). */
static void yuv_to_rgb_matrix(bool limited, double m[3][3]) {
  double kg = 1 - KR - KB;
  double sy = limited ? 255.0 / 219 : 1, sc = limited ? 255.0 / 224 : 1;
  double r[3] = {sy, 0, 2 * (1 - KR) * sc};
  double g[3] = {sy, -2 * KB * (1 - KB) / kg * sc,
                 -2 * KR * (1 - KR) / kg * sc};
  double bl[3] = {sy, 2 * (1 - KB) * sc, 0};
  memcpy(m[CH_R], r, sizeof r);
  memcpy(m[CH_G], g, sizeof g);
  memcpy(m[CH_B], bl, sizeof bl);
}

/* yuv[k] = sum of m[k][CH_*] * rgb[CH_*] + offset[k]. */
static void rgb_to_yuv_matrix(bool limited, double m[3][3], double off[3]) {
  double kg = 1 - KR - KB;
  double sy = limited ? 219.0 / 255 : 1, sc = limited ? 224.0 / 255 : 1;
  double y[3] = {KR * sy, kg * sy, KB * sy};
  double u[3] = {-KR / (2 * (1 - KB)) * sc, -kg / (2 * (1 - KB)) * sc,
                 0.5 * sc};
  double v[3] = {0.5 * sc, -kg / (2 * (1 - KR)) * sc,
                 -KB / (2 * (1 - KR)) * sc};
  memcpy(m[0], y, sizeof y);
  memcpy(m[1], u, sizeof u);
  memcpy(m[2], v, sizeof v);
  off[0] = limited ? 16 : 0;
  off[1] = off[2] = 128;
}

/* The RGB channel at position c of an RGB or BGR order. */
static int rgb_channel(const char *format, int c) {
  return !strcmp(format, "BGR") ? 2 - c : c;
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

static qir_value *clip(qir_builder *bl, qir_value *v, double lo, double hi) {
  qir_context *ctx = bl->ctx;
  qir_named_attr a[2] = {qir_named(ctx, "min", qir_attr_float(ctx, lo)),
                         qir_named(ctx, "max", qir_attr_float(ctx, hi))};
  return qir_build_value(bl, QIR_OP_CLIP, 1, &v, 2, a);
}

/* conv2d 1x1 of NCHW v with c output channels: y[o] = sum of w[o][i] *
 * v[i] + bias[o] (w row-major, c x c). */
static qir_value *conv_1x1(qir_builder *bl, qir_value *v, int64_t c,
                           const double *w, const double *bias) {
  int64_t wd[4] = {c, c, 1, 1}, bd[1] = {c};
  const qir_type *wt = qir_tensor_of(bl->ctx, QIR_F32, 4, wd);
  const qir_type *bt = qir_tensor_of(bl->ctx, QIR_F32, 1, bd);
  qir_value *ops[3] = {
      v, qir_build_constant(bl, qir_attr_dense_from_f64(bl->ctx, wt, w)),
      qir_build_constant(bl, qir_attr_dense_from_f64(bl->ctx, bt, bias))};
  return qir_build_value(bl, QIR_OP_CONV2D, 3, ops, 0, NULL);
}

/* The 1x1 convolution that reorders channels (swap), subtracts `offset`
 * and normalizes. */
static qir_value *normalize(qir_builder *bl, qir_value *v, const prep *p,
                            int64_t c, bool swap, double offset) {
  double w[9] = {0}, bias[3];
  for (int64_t o = 0; o < c; o++) {
    double mean = p->nmean ? p->mean[p->nmean == 1 ? 0 : o] : 0;
    double std = p->nstd ? p->std[p->nstd == 1 ? 0 : o] : 1;
    w[o * c + (swap ? c - 1 - o : o)] = 1 / std;
    bias[o] = -(mean + offset) / std;
  }
  return conv_1x1(bl, v, c, w, bias);
}

/* YUV (NCHW f32, 0..255) to the RGB or BGR of tensor_format, clipped to
 * [0, 255]: rgb = M * (yuv - (16 or 0, 128, 128)). */
static qir_value *yuv_to_rgb(qir_builder *bl, qir_value *v, const prep *p) {
  double m[3][3], w[9], bias[3];
  double off[3] = {p->limited ? 16 : 0, 128, 128};
  yuv_to_rgb_matrix(p->limited, m);
  for (int o = 0; o < 3; o++) {
    const double *row = m[rgb_channel(p->tensor_format, o)];
    bias[o] = 0;
    for (int k = 0; k < 3; k++) {
      w[o * 3 + k] = row[k];
      bias[o] -= row[k] * off[k];
    }
  }
  v = conv_1x1(bl, v, 3, w, bias);
  return v ? clip(bl, v, 0, 255) : NULL;
}

/* RGB or BGR (NCHW f32, 0..255) to centered YUV444: clip(round(yuv - 128),
 * -128, 127), the same as clip(round(yuv), 0, 255) - 128. */
static qir_value *rgb_to_centered_yuv(qir_builder *bl, qir_value *v,
                                      const prep *p) {
  double m[3][3], off[3], w[9], bias[3];
  rgb_to_yuv_matrix(p->limited, m, off);
  for (int o = 0; o < 3; o++) {
    for (int k = 0; k < 3; k++)
      w[o * 3 + k] = m[o][rgb_channel(p->src_format, k)];
    bias[o] = off[o] - 128;
  }
  v = conv_1x1(bl, v, 3, w, bias);
  v = v ? qir_build_value(bl, QIR_OP_ROUND, 1, &v, 0, NULL) : NULL;
  return v ? clip(bl, v, -128, 127) : NULL;
}

/* The model input's N, H, W. */
static void model_nhw(const prep *p, const qir_type *t, int64_t *n,
                      int64_t *h, int64_t *w) {
  bool nhwc = !strcmp(p->tensor_layout, "NHWC");
  *n = t->dims[0];
  *h = t->dims[nhwc ? 1 : 2];
  *w = t->dims[nhwc ? 2 : 3];
}

/* The deployed input's type: src dtype, src layout; NV12 is N x (H * 3 / 2)
 * x W x 1: H rows of Y, then H / 2 rows of W / 2 interleaved (U, V) pairs. */
static const qir_type *src_type(qir_context *ctx, const prep *p,
                                const qir_type *t) {
  bool model_nhwc = !strcmp(p->tensor_layout, "NHWC");
  int64_t n, h, w, c = t->dims[model_nhwc ? 3 : 1];
  model_nhw(p, t, &n, &h, &w);
  int64_t nhwc[4] = {n, h, w, c}, nchw[4] = {n, c, h, w};
  int64_t nv12[4] = {n, h / 2 * 3, w, 1};
  bool src_nhwc = !strcmp(p->src_layout, "NHWC");
  return qir_tensor_of(ctx, p->u8 ? QIR_U8 : QIR_F32, 4,
                       is_nv12(p->src_format) ? nv12
                       : src_nhwc             ? nhwc
                                              : nchw);
}

static qir_value *slice_rows(qir_builder *bl, qir_value *v, int64_t start,
                             int64_t end) {
  int64_t axis = 1;
  qir_named_attr a[3] = {
      qir_named(bl->ctx, "starts", qir_attr_ints(bl->ctx, 1, &start)),
      qir_named(bl->ctx, "ends", qir_attr_ints(bl->ctx, 1, &end)),
      qir_named(bl->ctx, "axes", qir_attr_ints(bl->ctx, 1, &axis))};
  return qir_build_value(bl, QIR_OP_SLICE, 1, &v, 3, a);
}

static qir_value *reshape(qir_builder *bl, qir_value *v, const int64_t *dims) {
  qir_named_attr a =
      qir_named(bl->ctx, "shape", qir_attr_ints(bl->ctx, 4, dims));
  return qir_build_value(bl, QIR_OP_RESHAPE, 1, &v, 1, &a);
}

/* Nearest upsampling by 2 of H and W: out[y][x] = in[y / 2][x / 2]. */
static qir_value *upsample2(qir_builder *bl, qir_value *v) {
  const qir_type *t = v->type;
  int64_t sizes[4] = {t->dims[0], t->dims[1], t->dims[2] * 2, t->dims[3] * 2};
  qir_context *ctx = bl->ctx;
  qir_named_attr a[4] = {
      qir_named(ctx, "sizes", qir_attr_ints(ctx, 4, sizes)),
      qir_named(ctx, "mode", qir_attr_cstr(ctx, "nearest")),
      qir_named(ctx, "coordinate_transformation_mode",
                qir_attr_cstr(ctx, "asymmetric")),
      qir_named(ctx, "nearest_mode", qir_attr_cstr(ctx, "floor"))};
  return qir_build_value(bl, QIR_OP_RESIZE, 1, &v, 4, a);
}

/* NV12 (N x 3H/2 x W x 1, f32) to YUV NCHW (N x 3 x H x W). */
static qir_value *nv12_to_yuv(qir_builder *bl, qir_value *v, int64_t n,
                              int64_t h, int64_t w) {
  static const int64_t to_nchw[4] = {0, 3, 1, 2};
  int64_t y_dims[4] = {n, 1, h, w}, uv_dims[4] = {n, h / 2, w / 2, 2};
  qir_value *y = slice_rows(bl, v, 0, h);
  qir_value *uv = y ? slice_rows(bl, v, h, h / 2 * 3) : NULL;
  y = y ? reshape(bl, y, y_dims) : NULL;
  uv = uv ? reshape(bl, uv, uv_dims) : NULL;
  uv = uv ? transpose(bl, uv, to_nchw) : NULL;
  uv = uv ? upsample2(bl, uv) : NULL;
  if (!y || !uv)
    return NULL;
  qir_value *parts[2] = {y, uv};
  qir_named_attr a = qir_named(bl->ctx, "axis", qir_attr_int(bl->ctx, 1));
  return qir_build_value(bl, QIR_OP_CONCAT, 2, parts, 1, &a);
}

/* The deployed input x as f32 NCHW in the source's channels. */
static qir_value *source_nchw(qir_builder *bl, qir_value *x, const prep *p,
                              const qir_type *model) {
  static const int64_t to_nchw[4] = {0, 3, 1, 2};
  qir_value *v = p->u8 ? to_f32(bl, x) : x;
  if (v && is_nv12(p->src_format)) {
    int64_t n, h, w;
    model_nhw(p, model, &n, &h, &w);
    return nv12_to_yuv(bl, v, n, h, w);
  }
  if (v && !strcmp(p->src_layout, "NHWC"))
    v = transpose(bl, v, to_nchw);
  return v;
}

/* From the source's channels (f32 NCHW) to tensor_format's, normalized. */
static qir_value *to_tensor_format(qir_builder *bl, qir_value *v,
                                   const prep *p, int64_t c) {
  bool yuv_in = is_yuv(p->src_format);
  bool yuv_out = !strcmp(p->tensor_format, "YUV444");
  bool normalizes = p->nmean || p->nstd;
  if (yuv_in && !yuv_out) {
    v = yuv_to_rgb(bl, v, p);
    return v && normalizes ? normalize(bl, v, p, c, false, 0) : v;
  }
  if (!yuv_in && yuv_out) {
    v = rgb_to_centered_yuv(bl, v, p);
    return v && normalizes ? normalize(bl, v, p, c, false, 0) : v;
  }
  bool swap = strcmp(p->src_format, p->tensor_format) != 0 && !yuv_in;
  double offset = yuv_in ? 128 : 0; /* YUV444 models take centered YUV */
  if (swap || offset != 0 || normalizes)
    v = normalize(bl, v, p, c, swap, offset);
  return v;
}

/* The ops from the deployed input x to the model's input. */
static qir_value *convert(qir_builder *bl, qir_value *x, const prep *p,
                          const qir_type *model) {
  static const int64_t to_nhwc[4] = {0, 2, 3, 1};
  bool nhwc = !strcmp(p->tensor_layout, "NHWC");
  qir_value *v = source_nchw(bl, x, p, model);
  if (v)
    v = to_tensor_format(bl, v, p, model->dims[nhwc ? 3 : 1]);
  if (v && nhwc)
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
    v = convert(bl, x, p, old->type);
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
  /* NV12 is N x (H * 3 / 2) x W x 1, channels last like NHWC. */
  *nhwc = !strcmp(p.src_layout, "NHWC") ||
          (p.src_format && is_nv12(p.src_format));
  int64_t c = qir_type_is_tensor(t) && t->rank == 4 ? t->dims[*nhwc ? 3 : 1]
                                                     : 3;
  *channel_order = p.src_format     ? p.src_format
                   : p.tensor_format ? p.tensor_format
                   : c == 1          ? "GRAY"
                                     : "RGB";
  return true;
}
