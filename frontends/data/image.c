/* frontends/data/image.c - PNG (libpng) and JPEG (libjpeg) decoding from
 * memory into 8-bit interleaved pixels.
 *
 * Both libraries report fatal errors through a callback that must not
 * return; each decode owns a jmp_buf for that, so nothing here has global
 * state and a corrupt file is an error through the context, never an exit.
 * The dimensions are checked against the limits before any pixel buffer is
 * allocated. */
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jerror.h>
#include <jpeglib.h>
#include <png.h>

#include "frontends/data/data.h"

void qir_data_limits_init(qir_data_limits *l) {
  l->max_samples = (size_t)1 << 20;
  l->max_entries = (size_t)1 << 22;
  l->max_file_bytes = (uint64_t)1 << 30;
  l->max_image_side = 16384;
  l->max_image_pixels = (uint64_t)1 << 28;
}

void qir_image_free(qir_image *img) {
  free(img->pixels);
  img->pixels = NULL;
}

static bool image_fail(qir_context *ctx, const char *name, const char *what,
                       const char *why) {
  qir_emit_error(ctx, qir_loc_unknown(), "'%s': %s%s", name, what, why);
  return false;
}

/* Checks the size against the limits (before the decoder allocates). */
static bool image_check(qir_context *ctx, const char *name,
                        const qir_data_limits *lim, const qir_image *out) {
  uint64_t w = out->width, h = out->height;
  if (!w || !h)
    return image_fail(ctx, name, "image has no pixels", "");
  if (w > lim->max_image_side || h > lim->max_image_side) {
    qir_emit_error(ctx, qir_loc_unknown(),
                   "'%s': image of %llux%llu exceeds the limit of %u pixels "
                   "per side",
                   name, (unsigned long long)w, (unsigned long long)h,
                   lim->max_image_side);
    return false;
  }
  if (w * h > lim->max_image_pixels) {
    qir_emit_error(ctx, qir_loc_unknown(),
                   "'%s': image of %llux%llu exceeds the limit of %llu pixels",
                   name, (unsigned long long)w, (unsigned long long)h,
                   (unsigned long long)lim->max_image_pixels);
    return false;
  }
  return true;
}

static bool image_alloc(qir_context *ctx, const char *name, qir_image *out) {
  out->pixels = malloc((size_t)out->width * out->height * out->channels);
  if (!out->pixels)
    return image_fail(ctx, name, "out of memory for the image", "");
  return true;
}

/* ---- PNG ----------------------------------------------------------------- */

typedef struct png_state {
  jmp_buf jmp;
  char message[200];
  const uint8_t *data;
  size_t size, pos;
} png_state;

static void png_on_error(png_structp png, png_const_charp msg) {
  png_state *st = png_get_error_ptr(png);
  snprintf(st->message, sizeof st->message, "%s", msg);
  longjmp(st->jmp, 1);
}

static void png_on_warning(png_structp png, png_const_charp msg) {
  (void)png, (void)msg; /* ancillary-chunk complaints do not matter here */
}

static void png_on_read(png_structp png, png_bytep buf, size_t n) {
  png_state *st = png_get_io_ptr(png);
  if (n > st->size - st->pos)
    png_error(png, "unexpected end of data");
  memcpy(buf, st->data + st->pos, n);
  st->pos += n;
}

/* Asks libpng for 8-bit gray, gray+alpha, RGB or RGBA. */
static void png_set_8bit_output(png_structp png, png_infop info) {
  png_set_expand(png); /* palette to RGB, low-bit gray to 8, tRNS to alpha */
  if (png_get_bit_depth(png, info) == 16)
    png_set_scale_16(png);
  png_set_interlace_handling(png);
  png_read_update_info(png, info);
}

static bool decode_png(qir_context *ctx, const char *name, const void *data,
                       size_t size, const qir_data_limits *lim,
                       qir_image *out) {
  png_state st = {.data = data, .size = size};
  png_structp png = png_create_read_struct(PNG_LIBPNG_VER_STRING, &st,
                                           png_on_error, png_on_warning);
  png_infop info = png ? png_create_info_struct(png) : NULL;
  png_bytep *volatile rows = NULL;
  if (!info) {
    png_destroy_read_struct(&png, NULL, NULL);
    return image_fail(ctx, name, "out of memory for the PNG decoder", "");
  }
  if (setjmp(st.jmp)) {
    png_destroy_read_struct(&png, &info, NULL);
    free(rows);
    qir_image_free(out);
    return image_fail(ctx, name, "corrupt PNG image: ", st.message);
  }
  png_set_read_fn(png, &st, png_on_read);
  png_set_chunk_malloc_max(png, 8u << 20); /* caps ancillary chunks */
  png_read_info(png, info);
  out->width = png_get_image_width(png, info);
  out->height = png_get_image_height(png, info);
  if (!image_check(ctx, name, lim, out)) {
    png_destroy_read_struct(&png, &info, NULL);
    return false;
  }
  png_set_8bit_output(png, info);
  out->channels = png_get_channels(png, info);
  if (png_get_rowbytes(png, info) != (size_t)out->width * out->channels)
    png_error(png, "unexpected row size after conversion to 8 bits");
  if (!image_alloc(ctx, name, out)) {
    png_destroy_read_struct(&png, &info, NULL);
    return false;
  }
  rows = malloc(out->height * sizeof *rows);
  if (!rows)
    png_error(png, "out of memory");
  for (unsigned y = 0; y < out->height; y++)
    rows[y] = out->pixels + (size_t)y * out->width * out->channels;
  png_read_image(png, rows);
  png_read_end(png, NULL);
  free(rows);
  png_destroy_read_struct(&png, &info, NULL);
  return true;
}

/* ---- JPEG ---------------------------------------------------------------- */

/* A progressive JPEG can hold any number of scans, each a pass over the
 * whole image: a small file could keep the decoder busy for hours.  Real
 * encoders write about ten. */
enum { MAX_JPEG_SCANS = 1000 };

typedef struct jpeg_state {
  struct jpeg_error_mgr mgr; /* first: libjpeg hands back this pointer */
  struct jpeg_progress_mgr progress;
  jmp_buf jmp;
  bool truncated, too_many_scans;
} jpeg_state;

static void jpeg_on_error(j_common_ptr cinfo) {
  jpeg_state *st = (jpeg_state *)cinfo->err;
  longjmp(st->jmp, 1);
}

static void jpeg_on_progress(j_common_ptr cinfo) {
  jpeg_state *st = (jpeg_state *)cinfo->err;
  if (((j_decompress_ptr)cinfo)->input_scan_number > MAX_JPEG_SCANS) {
    st->too_many_scans = true;
    longjmp(st->jmp, 1);
  }
}

/* libjpeg goes on after a truncated file (it pads with gray): note it, so
 * the decode fails instead of calibrating on made-up pixels. */
static void jpeg_on_message(j_common_ptr cinfo, int level) {
  jpeg_state *st = (jpeg_state *)cinfo->err;
  if (level < 0 && cinfo->err->msg_code == JWRN_JPEG_EOF)
    st->truncated = true;
}

static bool decode_jpeg(qir_context *ctx, const char *name, const void *data,
                        size_t size, const qir_data_limits *lim,
                        qir_image *out) {
  struct jpeg_decompress_struct cinfo;
  jpeg_state st;
  memset(&st, 0, sizeof st);
  cinfo.err = jpeg_std_error(&st.mgr);
  st.mgr.error_exit = jpeg_on_error;
  st.mgr.emit_message = jpeg_on_message;
  st.progress.progress_monitor = jpeg_on_progress;
  if (setjmp(st.jmp)) {
    char msg[JMSG_LENGTH_MAX];
    if (st.too_many_scans)
      snprintf(msg, sizeof msg, "more than %d progressive scans",
               MAX_JPEG_SCANS);
    else
      st.mgr.format_message((j_common_ptr)&cinfo, msg);
    jpeg_destroy_decompress(&cinfo);
    qir_image_free(out);
    return image_fail(ctx, name, "corrupt JPEG image: ", msg);
  }
  jpeg_create_decompress(&cinfo);
  cinfo.progress = &st.progress;
  /* Bounds the coefficient buffers of progressive images by the pixel
   * limit (libjpeg fails instead of needing more). */
  cinfo.mem->max_memory_to_use = (long)(lim->max_image_pixels * 8 + (64 << 20));
  jpeg_mem_src(&cinfo, data, (unsigned long)size);
  jpeg_read_header(&cinfo, TRUE);
  if (cinfo.jpeg_color_space == JCS_CMYK ||
      cinfo.jpeg_color_space == JCS_YCCK) {
    jpeg_destroy_decompress(&cinfo);
    return image_fail(ctx, name, "CMYK JPEG images are not supported", "");
  }
  cinfo.out_color_space =
      cinfo.num_components == 1 ? JCS_GRAYSCALE : JCS_RGB;
  out->width = cinfo.image_width;
  out->height = cinfo.image_height;
  out->channels = cinfo.num_components == 1 ? 1 : 3;
  if (!image_check(ctx, name, lim, out) || !image_alloc(ctx, name, out)) {
    jpeg_destroy_decompress(&cinfo);
    return false;
  }
  jpeg_start_decompress(&cinfo);
  while (cinfo.output_scanline < cinfo.output_height) {
    JSAMPROW row = out->pixels + (size_t)cinfo.output_scanline *
                                     out->width * out->channels;
    jpeg_read_scanlines(&cinfo, &row, 1);
  }
  jpeg_finish_decompress(&cinfo);
  jpeg_destroy_decompress(&cinfo);
  if (st.truncated) {
    qir_image_free(out);
    return image_fail(ctx, name, "truncated JPEG image", "");
  }
  return true;
}

bool qir_image_decode_limits(qir_context *ctx, const char *name,
                             const void *data, size_t size,
                             const qir_data_limits *limits, qir_image *out) {
  qir_data_limits defaults;
  if (!limits) {
    qir_data_limits_init(&defaults);
    limits = &defaults;
  }
  memset(out, 0, sizeof *out);
  const uint8_t *b = data;
  if (size >= 8 && !png_sig_cmp(b, 0, 8))
    return decode_png(ctx, name, data, size, limits, out);
  if (size >= 3 && b[0] == 0xff && b[1] == 0xd8 && b[2] == 0xff)
    return decode_jpeg(ctx, name, data, size, limits, out);
  return image_fail(ctx, name, "not a PNG or JPEG image", "");
}

bool qir_image_decode(qir_context *ctx, const char *name, const void *data,
                      size_t size, qir_image *out) {
  return qir_image_decode_limits(ctx, name, data, size, NULL, out);
}
