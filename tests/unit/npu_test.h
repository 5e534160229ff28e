/* tests/unit/npu_test.h - shared declarations of the NPU unit tests. */
#ifndef QIR_TESTS_NPU_TEST_H
#define QIR_TESTS_NPU_TEST_H

#include "backends/npu/npu.h"
#include "unit.h"

Suite *npu_target_suite(void);
Suite *npu_artifact_suite(void);
Suite *npu_emu_suite(void);
Suite *npu_batch_suite(void);
Suite *npu_bus_suite(void);

/* CRC-32 (IEEE) of p[0..n), as the artifact header holds it. */
uint32_t npu_test_crc32(const uint8_t *p, size_t n);

/* Errors seen by npu_test_quiet, the diagnostic handler that counts
 * errors instead of printing them. */
extern unsigned npu_test_errors;
void npu_test_quiet(qir_context *ctx, const qir_diag *d, void *user);

/* The artifact of the .qir `text` for `target`, its inputs set to `batch`
 * frames first (0: as written); NULL when compiling fails.  The module is
 * freed: the artifact only refers to types owned by the context. */
qir_artifact *npu_test_compile(qir_context *ctx, const char *text,
                               const char *target, unsigned batch);

/* Asserts that every proper prefix of a's encoding is rejected with an
 * error (ctx's handler must be npu_test_quiet). */
void npu_test_rejects_truncations(qir_context *ctx, const qir_artifact *a);

/* Asserts that artifact r encodes to exactly b[0..n) (a round trip). */
void npu_test_encodes_to(const qir_artifact *r, const uint8_t *b, size_t n);

#endif
