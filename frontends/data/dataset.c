/* frontends/data/dataset.c - calibration datasets (qir/dataset.h). */
#include <stdlib.h>
#include <string.h>

#include "qir/dataset.h"

void qir_input_config_init(qir_input_config *c) {
  memset(c, 0, sizeof *c);
  c->format = QIR_DATA_AUTO;
  c->channel_order = "RGB";
}

qir_dataset *qir_dataset_open(qir_func *f, const qir_input_config *configs,
                              unsigned n, size_t limit) {
  (void)configs, (void)n, (void)limit;
  qir_emit_error(f->module->ctx, f->loc, "datasets are not supported yet");
  return NULL;
}

size_t qir_dataset_size(const qir_dataset *ds) {
  (void)ds;
  return 0;
}

const char *qir_dataset_sample_name(const qir_dataset *ds, size_t i) {
  (void)ds, (void)i;
  return NULL;
}

bool qir_dataset_load(qir_dataset *ds, size_t i, qir_tensor *inputs) {
  (void)ds, (void)i, (void)inputs;
  return false;
}

void qir_dataset_close(qir_dataset *ds) { (void)ds; }

bool qir_image_decode(qir_context *ctx, const char *name, const void *data,
                      size_t size, qir_image *out) {
  (void)data, (void)size;
  memset(out, 0, sizeof *out);
  qir_emit_error(ctx, qir_loc_unknown(), "'%s': images are not supported yet",
                 name);
  return false;
}

void qir_image_free(qir_image *img) {
  free(img->pixels);
  img->pixels = NULL;
}
