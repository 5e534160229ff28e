/* fuzz/image.c - the PNG and JPEG decoder of calibration images.  Limits
 * are smaller than the defaults (2^22 pixels) so that an image header
 * that asks for the default maximum does not slow the fuzzer down; the
 * checks are the same. */
#include "fuzz/fuzz.h"
#include "qir/dataset.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  qir_context *ctx = fuzz_context();
  qir_data_limits limits;
  qir_data_limits_init(&limits);
  limits.max_image_side = 4096;
  limits.max_image_pixels = (uint64_t)1 << 22;
  qir_image img;
  if (qir_image_decode_limits(ctx, "fuzz.img", data, size, &limits, &img))
    qir_image_free(&img);
  qir_context_destroy(ctx);
  return 0;
}
