/* frontends/data/data.h - internals of the calibration data component:
 * image decoding, preprocessing, and the file sources (folders and
 * archives) behind qir_dataset. */
#ifndef QIR_FRONTENDS_DATA_H
#define QIR_FRONTENDS_DATA_H

#include "qir/dataset.h"

/* ---- Image preprocessing (preprocess.c) -------------------------------- */

/* Where an image goes in an input tensor: its element type, the size the
 * image is resized to, and the layout.  Filled by data_image_plan. */
typedef struct data_image_plan {
  const qir_type *type; /* the input's tensor type */
  const char *input;    /* the input's name, for messages */
  unsigned channels;    /* 1 (GRAY) or 3 (RGB, BGR) */
  bool bgr, nhwc, no_resize;
  int64_t height, width; /* QIR_DYN: the image's own size */
  double mean[4], std[4];
} data_image_plan;

/* Checks that an input can take images under `cfg` and fills `plan`;
 * emits an error naming the input otherwise. */
bool data_image_plan_make(qir_context *ctx, const qir_input_config *cfg,
                          const qir_type *type, const char *input,
                          const qir_data_limits *limits,
                          data_image_plan *plan);
/* Converts, resizes, normalizes and lays out a decoded image into a new
 * tensor of the plan's input type. */
bool data_image_to_tensor(qir_context *ctx, const char *name,
                          const qir_image *img, const data_image_plan *plan,
                          qir_tensor *out);

/* ---- File sources (source.c) ------------------------------------------- */

/* One data file of an input: a file under a folder or an archive member. */
typedef struct data_file {
  char *display;  /* the name used in messages: dir/a.png or x.tar:a.png */
  char *path;     /* folder: the file's path; archive: the member name */
  char *key;      /* the sample name: base name without the extension */
  qir_data_format format;
  size_t order;   /* archive: the entry's position in the archive */
} data_file;

typedef struct data_source {
  qir_context *ctx;
  const qir_data_limits *limits;
  char *root;
  bool is_archive;
  data_file *files;
  size_t num_files, cap_files, num_entries;
  struct archive *ar; /* archive being read sequentially, or NULL */
  size_t ar_next;     /* position of the entry the next header read gives */
} data_source;

/* Lists the data files under `path` (a folder, walked recursively, or an
 * archive); `format` QIR_DATA_AUTO picks each file's format by extension.
 * Hidden files and folders (a name starting with '.') and __MACOSX are
 * skipped. */
bool data_source_open(qir_context *ctx, data_source *s, const char *path,
                      qir_data_format format, const qir_data_limits *limits);
/* Reads a whole file into a malloc'd buffer. */
bool data_source_read(data_source *s, const data_file *f, void **buf,
                      size_t *len);
void data_source_close(data_source *s);

#endif
