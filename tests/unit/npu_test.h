/* tests/unit/npu_test.h - shared declarations of the NPU unit tests. */
#ifndef QIR_TESTS_NPU_TEST_H
#define QIR_TESTS_NPU_TEST_H

#include "backends/npu/npu.h"
#include "unit.h"

Suite *npu_target_suite(void);
Suite *npu_artifact_suite(void);
Suite *npu_emu_suite(void);

#endif
