/* fuzz/fuzz.h - what every libFuzzer target of qir shares.
 *
 * Each target defines LLVMFuzzerTestOneInput for one input format.  A
 * target must never crash, leak, hang or trip a sanitizer whatever the
 * bytes; bad input may only produce diagnostics, which are swallowed here
 * so that fuzzing is not slowed by printing. */
#ifndef QIR_FUZZ_H
#define QIR_FUZZ_H

#include <stddef.h>
#include <stdint.h>

#include "qir/qir.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* A context whose diagnostics go nowhere. */
qir_context *fuzz_context(void);

#endif
