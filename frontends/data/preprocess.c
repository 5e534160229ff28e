/* frontends/data/preprocess.c - from decoded pixels to an input tensor.
 *
 * The order (docs/Calibration-data.md): channel conversion, bilinear
 * resize with half-pixel centers, (v - mean[c]) / std[c], layout, element
 * type.  Everything is computed in double, in the order the documentation
 * writes the formulas, so a NumPy reference gives the same bits. */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "frontends/data/data.h"
#include "qir/quant.h"

static bool plan_fail(qir_context *ctx, const char *input, const qir_type *t,
                      const char *what) {
  char ty[256];
  qir_type_format(t, ty, sizeof ty);
  qir_emit_error(ctx, qir_loc_unknown(), "input '%s' of type %s %s", input,
                 ty, what);
  return false;
}

/* The channel order a configuration asks for (NULL or "" is RGB). */
static const char *config_order(const qir_input_config *cfg) {
  return cfg->channel_order && *cfg->channel_order ? cfg->channel_order
                                                   : "RGB";
}

static bool plan_channel_order(qir_context *ctx, const qir_input_config *cfg,
                               const char *input, data_image_plan *plan) {
  const char *order = config_order(cfg);
  plan->bgr = !strcasecmp(order, "BGR");
  plan->channels = !strcasecmp(order, "GRAY") ? 1 : 3;
  if (plan->bgr || plan->channels == 1 || !strcasecmp(order, "RGB"))
    return true;
  qir_emit_error(ctx, qir_loc_unknown(),
                 "input '%s': unknown channel order '%s' (expected RGB, BGR "
                 "or GRAY)",
                 input, order);
  return false;
}

/* Copies mean and std per channel (a single value serves all channels). */
static bool plan_norm(qir_context *ctx, const qir_input_config *cfg,
                      const char *input, data_image_plan *plan) {
  unsigned nc = plan->channels;
  if (cfg->num_mean > 1 && cfg->num_mean != nc) {
    qir_emit_error(ctx, qir_loc_unknown(),
                   "input '%s': %u mean values for %u channels", input,
                   cfg->num_mean, nc);
    return false;
  }
  if (cfg->num_std > 1 && cfg->num_std != nc) {
    qir_emit_error(ctx, qir_loc_unknown(),
                   "input '%s': %u std values for %u channels", input,
                   cfg->num_std, nc);
    return false;
  }
  for (unsigned c = 0; c < nc; c++) {
    plan->mean[c] = cfg->num_mean ? cfg->mean[cfg->num_mean > 1 ? c : 0] : 0;
    plan->std[c] = cfg->num_std ? cfg->std[cfg->num_std > 1 ? c : 0] : 1;
    if (plan->std[c] == 0 || !isfinite(plan->std[c]) ||
        !isfinite(plan->mean[c])) {
      qir_emit_error(ctx, qir_loc_unknown(),
                     "input '%s': mean and std must be finite and std not 0",
                     input);
      return false;
    }
  }
  return true;
}

/* The element types an image can fill: floats, integers, and quantized
 * types per tensor or per channel. */
static bool plan_elem(qir_context *ctx, const qir_type *type,
                      const char *input, const data_image_plan *plan) {
  const qir_type *e = type->elem;
  if (e->kind == QIR_TYPE_QUANT && e->axis >= 0 &&
      e->axis != (plan->nhwc ? 3 : 1))
    return plan_fail(ctx, input, type,
                     "cannot take images: quantized on an axis other than "
                     "the channels");
  if (type->scalar == QIR_I1)
    return plan_fail(ctx, input, type, "cannot take images: i1 elements");
  return true;
}

/* A static H x W must be non-empty and within the image limits. */
static bool plan_size(qir_context *ctx, const qir_type *type,
                      const char *input, const qir_data_limits *lim,
                      const data_image_plan *plan) {
  int64_t h = plan->height, w = plan->width;
  if (!h || !w)
    return plan_fail(ctx, input, type, "cannot take images: no pixels");
  if ((h != QIR_DYN && h > lim->max_image_side) ||
      (w != QIR_DYN && w > lim->max_image_side) ||
      (h != QIR_DYN && w != QIR_DYN &&
       (uint64_t)h * (uint64_t)w > lim->max_image_pixels))
    return plan_fail(ctx, input, type,
                     "cannot take images: larger than the image limits");
  return true;
}

bool data_image_plan_make(qir_context *ctx, const qir_input_config *cfg,
                          const qir_type *type, const char *input,
                          const qir_data_limits *limits,
                          data_image_plan *plan) {
  memset(plan, 0, sizeof *plan);
  plan->type = type;
  plan->input = input;
  plan->nhwc = cfg->nhwc;
  plan->no_resize = cfg->no_resize;
  if (!plan_channel_order(ctx, cfg, input, plan) ||
      !plan_norm(ctx, cfg, input, plan))
    return false;
  if (!qir_type_is_tensor(type) || type->rank != 4)
    return plan_fail(ctx, input, type,
                     plan->nhwc ? "cannot take images (expected NHWC, rank 4)"
                                : "cannot take images (expected NCHW, rank 4)");
  if (type->dims[0] != 1 && type->dims[0] != QIR_DYN)
    return plan_fail(ctx, input, type,
                     "cannot take images: an image fills a batch of 1");
  int64_t c = type->dims[plan->nhwc ? 3 : 1];
  if (c != QIR_DYN && c != plan->channels) {
    char why[128];
    snprintf(why, sizeof why,
             "has %lld channels (%s) but channel order %s gives %u",
             (long long)c, plan->nhwc ? "NHWC" : "NCHW", config_order(cfg),
             plan->channels);
    return plan_fail(ctx, input, type, why);
  }
  plan->height = type->dims[plan->nhwc ? 1 : 2];
  plan->width = type->dims[plan->nhwc ? 2 : 3];
  return plan_size(ctx, type, input, limits, plan) &&
         plan_elem(ctx, type, input, plan);
}

/* ---- Resize ------------------------------------------------------------- */

/* Source taps of one output coordinate: half-pixel centers, clamped at the
 * borders (docs/Calibration-data.md, "Resize"). */
typedef struct resize_tap {
  int64_t i0, i1;
  double w;
} resize_tap;

static resize_tap *resize_taps(int64_t in, int64_t out) {
  resize_tap *t = qir_xmalloc((size_t)out * sizeof *t);
  double scale = (double)in / (double)out;
  for (int64_t o = 0; o < out; o++) {
    double s = ((double)o + 0.5) * scale - 0.5;
    if (s < 0)
      s = 0;
    int64_t i0 = (int64_t)floor(s);
    if (i0 > in - 1)
      i0 = in - 1;
    t[o].i0 = i0;
    t[o].i1 = i0 + 1 < in ? i0 + 1 : in - 1;
    t[o].w = s - (double)i0;
  }
  return t;
}

/* Channel c of the pixel at p (of `sc` interleaved source channels) after
 * conversion to the plan's channel order.  Alpha is ignored. */
static double pixel_channel(const data_image_plan *plan, const uint8_t *p,
                            unsigned sc, unsigned c) {
  if (sc < 3)
    return p[0];
  if (plan->channels == 1)
    return 0.299 * p[0] + 0.587 * p[1] + 0.114 * p[2];
  return p[plan->bgr ? 2 - c : c];
}

/* ---- Storing ------------------------------------------------------------- */

static void store_value(const qir_tensor *t, int64_t i, unsigned c,
                        double v) {
  const qir_type *e = t->elem;
  if (e->kind == QIR_TYPE_QUANT) {
    int64_t q = qir_quantize_f64(v, qir_quant_scale(e, c), qir_quant_zp(e, c),
                                 e->qmin, e->qmax);
    qir_store_int(t->scalar, t->data, i, q);
    return;
  }
  switch (t->scalar) {
  case QIR_F64: ((double *)t->data)[i] = v; return;
  case QIR_F32: ((float *)t->data)[i] = (float)v; return;
  case QIR_F16: ((uint16_t *)t->data)[i] = qir_f32_to_f16((float)v); return;
  case QIR_BF16: ((uint16_t *)t->data)[i] = qir_f32_to_bf16((float)v); return;
  default: break;
  }
  double lo = (double)qir_scalar_min(t->scalar);
  double hi = (double)qir_scalar_max(t->scalar);
  double r = nearbyint(v); /* half to even (the default rounding mode) */
  qir_store_int(t->scalar, t->data, i,
                (int64_t)(r < lo ? lo : r > hi ? hi : r));
}

static bool tensor_for_image(qir_context *ctx, const char *name,
                             const data_image_plan *plan, int64_t h, int64_t w,
                             qir_tensor *out) {
  qir_tensor_init_from_type(out, plan->type);
  int64_t c = plan->channels;
  out->dims[0] = 1;
  out->dims[1] = plan->nhwc ? h : c;
  out->dims[2] = plan->nhwc ? w : h;
  out->dims[3] = plan->nhwc ? c : w;
  if (!qir_tensor_alloc(out)) {
    qir_emit_error(ctx, qir_loc_unknown(), "'%s': input '%s' is too large",
                   name, plan->input);
    return false;
  }
  return true;
}

bool data_image_to_tensor(qir_context *ctx, const char *name,
                          const qir_image *img, const data_image_plan *plan,
                          qir_tensor *out) {
  int64_t h = plan->height == QIR_DYN ? img->height : plan->height;
  int64_t w = plan->width == QIR_DYN ? img->width : plan->width;
  if (plan->no_resize && (h != img->height || w != img->width)) {
    qir_emit_error(ctx, qir_loc_unknown(),
                   "'%s': image of %ux%u, but input '%s' takes %lldx%lld "
                   "and resizing is off",
                   name, img->width, img->height, plan->input, (long long)w,
                   (long long)h);
    return false;
  }
  if (!tensor_for_image(ctx, name, plan, h, w, out))
    return false;
  resize_tap *ty = resize_taps(img->height, h), *tx = resize_taps(img->width, w);
  unsigned sc = img->channels, nc = plan->channels;
  size_t stride = (size_t)img->width * sc;
  for (int64_t y = 0; y < h; y++) {
    const uint8_t *r0 = img->pixels + (size_t)ty[y].i0 * stride;
    const uint8_t *r1 = img->pixels + (size_t)ty[y].i1 * stride;
    double wy = ty[y].w;
    for (int64_t x = 0; x < w; x++) {
      size_t a = (size_t)tx[x].i0 * sc, b = (size_t)tx[x].i1 * sc;
      double wx = tx[x].w;
      for (unsigned c = 0; c < nc; c++) {
        double top = pixel_channel(plan, r0 + a, sc, c) * (1 - wx) +
                     pixel_channel(plan, r0 + b, sc, c) * wx;
        double bot = pixel_channel(plan, r1 + a, sc, c) * (1 - wx) +
                     pixel_channel(plan, r1 + b, sc, c) * wx;
        double v = top * (1 - wy) + bot * wy;
        v = (v - plan->mean[c]) / plan->std[c];
        int64_t i = plan->nhwc ? (y * w + x) * nc + c : (c * h + y) * w + x;
        store_value(out, i, c, v);
      }
    }
  }
  free(ty);
  free(tx);
  return true;
}
