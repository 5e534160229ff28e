/* tests/unit/data_test.h - suites and helpers of the calibration data unit
 * tests. */
#ifndef QIR_TESTS_UNIT_DATA_TEST_H
#define QIR_TESTS_UNIT_DATA_TEST_H

#include <stdint.h>

#include "qir/dataset.h"
#include "unit.h"

Suite *data_image_suite(void);
Suite *data_dataset_suite(void);
Suite *data_progress_suite(void);

/* A context whose diagnostics go to `errors` (the last one is kept). */
typedef struct data_errors {
  char last[512];
  unsigned count;
} data_errors;
qir_context *data_ctx(data_errors *e);

/* A PNG of w x h pixels of the given color type and bit depth; `rows` are
 * the packed scanlines (without filter bytes), `plte` the palette (or
 * NULL).  Stored (uncompressed) deflate blocks; malloc'd. */
uint8_t *data_png(unsigned w, unsigned h, int color_type, int depth,
                  const uint8_t *rows, const uint8_t *plte, size_t plte_len,
                  size_t *len);
/* A fresh folder under TMPDIR (or /tmp); malloc'd path. */
char *data_tmpdir(void);
/* Writes dir/name (creating dir/sub folders on the way). */
void data_write(const char *dir, const char *name, const void *data,
                size_t len);
/* rm -rf */
void data_rmtree(const char *dir);

#endif
