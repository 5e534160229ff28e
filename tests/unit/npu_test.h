/* tests/unit/npu_test.h - shared declarations of the NPU unit tests. */
#ifndef QIR_TESTS_NPU_TEST_H
#define QIR_TESTS_NPU_TEST_H

#include "backends/npu/npu.h"
#include "unit.h"

Suite *npu_target_suite(void);
Suite *npu_artifact_suite(void);
Suite *npu_emu_suite(void);
Suite *npu_batch_suite(void);

/* CRC-32 (IEEE) of p[0..n), as the artifact header holds it. */
uint32_t npu_test_crc32(const uint8_t *p, size_t n);

/* Asserts that artifact r encodes to exactly b[0..n) (a round trip). */
void npu_test_encodes_to(const qir_artifact *r, const uint8_t *b, size_t n);

#endif
