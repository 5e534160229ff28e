/* qir/dataset.h - calibration and evaluation data: samples of a function's
 * inputs read from a folder or an archive, as .npy, raw .bin or images
 * (PNG/JPEG with preprocessing).  docs/Calibration-data.md describes the
 * formats, the preprocessing order, the errors and the limits.
 *
 * Typical use:
 *
 *   qir_input_config c;
 *   qir_input_config_init(&c);
 *   c.path = "calib/";
 *   qir_dataset *ds = qir_dataset_open(f, &c, 1, 0);
 *   for (size_t i = 0; ds && i < qir_dataset_size(ds); i++) {
 *     qir_tensor in[1];
 *     if (!qir_dataset_load(ds, i, in)) break;
 *     ...
 *     qir_tensor_free_data(&in[0]);
 *   }
 *   qir_dataset_close(ds);
 *
 * Nothing here has global state; every error goes through the function's
 * context.  A dataset may be loaded from one thread at a time. */
#ifndef QIR_DATASET_H
#define QIR_DATASET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "qir/interp.h" /* qir_tensor */

#ifdef __cplusplus
extern "C" {
#endif

typedef enum qir_data_format {
  QIR_DATA_AUTO,
  QIR_DATA_NPY,
  QIR_DATA_BIN,
  QIR_DATA_IMAGE
} qir_data_format;

typedef struct qir_input_config {
  const char *name;       /* function input name; NULL: the function's only input */
  const char *path;       /* a folder, or a .tar / .tar.gz / .tgz / .zip archive */
  qir_data_format format; /* AUTO: by file extension */
  /* Image preprocessing (format IMAGE): decode PNG/JPEG, convert to
   * channel_order, resize to the input's H x W (bilinear, half-pixel),
   * (pixel - mean[c]) / std[c] with pixels in 0..255, lay out NCHW or NHWC
   * as the input needs, convert to the input's element type. */
  const char *channel_order;  /* "RGB" (default, also for NULL or ""), "BGR",
                                 "GRAY"; any case */
  bool nhwc;                  /* the model input is NHWC (default false: NCHW) */
  unsigned num_mean, num_std; /* 0: mean 0 / std 1; 1: same for all channels;
                                 else per channel */
  double mean[4], std[4];
  bool no_resize; /* an image whose size is not the input's H x W is an
                     error instead of being resized */
} qir_input_config;

void qir_input_config_init(qir_input_config *c);

typedef struct qir_dataset qir_dataset;

/* Opens the samples for function f.  One config per function input (a
 * single config with name NULL for a one-input function).  With several
 * inputs, each input has its own folder and files with the same base name
 * form one sample.  limit > 0 keeps the first `limit` samples in name
 * order.  NULL after an error (diagnostic through f's context: missing
 * folder, no samples, an input with no config, a sample missing for one
 * input, unknown extension, ...). */
qir_dataset *qir_dataset_open(qir_func *f, const qir_input_config *configs,
                              unsigned n, size_t limit);
size_t qir_dataset_size(const qir_dataset *ds);
const char *qir_dataset_sample_name(const qir_dataset *ds, size_t i);
/* Loads sample i as one allocated tensor per function input, in input
 * order (free each with qir_tensor_free_data).  .npy must match the
 * input's shape and dtype; .bin is raw little-endian data of the input's
 * type and exact size.  Errors (wrong shape, truncated file, corrupt image)
 * name the file; false after an error. */
bool qir_dataset_load(qir_dataset *ds, size_t i, qir_tensor *inputs);
void qir_dataset_close(qir_dataset *ds);

/* Limits checked before anything is allocated; exceeding one is an error
 * that names the limit.  qir_data_limits_init sets the defaults below. */
typedef struct qir_data_limits {
  size_t max_samples;        /* samples in a dataset: 1048576 */
  size_t max_entries;        /* files or archive entries under one path:
                                4194304 */
  uint64_t max_file_bytes;   /* one file or archive member: 1 GiB */
  unsigned max_image_side;   /* image width or height: 16384 */
  uint64_t max_image_pixels; /* image width x height: 2^28 */
} qir_data_limits;
void qir_data_limits_init(qir_data_limits *l);
/* qir_dataset_open with explicit limits (NULL: the defaults). */
qir_dataset *qir_dataset_open_limits(qir_func *f,
                                     const qir_input_config *configs,
                                     unsigned n, size_t limit,
                                     const qir_data_limits *limits);

/* Decodes a PNG or JPEG from memory to 8-bit interleaved pixels (also the
 * fuzzing entry point).  `name` is used in messages. */
typedef struct qir_image {
  unsigned width, height, channels;
  uint8_t *pixels;
} qir_image;
bool qir_image_decode(qir_context *ctx, const char *name, const void *data,
                      size_t size, qir_image *out);
/* qir_image_decode with explicit limits (NULL: the defaults). */
bool qir_image_decode_limits(qir_context *ctx, const char *name,
                             const void *data, size_t size,
                             const qir_data_limits *limits, qir_image *out);
void qir_image_free(qir_image *img);

#ifdef __cplusplus
}
#endif
#endif
