/* tests/unit/interp_test.h - suites of the interpreter unit tests. */
#ifndef QIR_TESTS_UNIT_INTERP_TEST_H
#define QIR_TESTS_UNIT_INTERP_TEST_H

#include "unit.h"

Suite *interp_quant_suite(void);
Suite *interp_npy_suite(void);
Suite *interp_kernels_suite(void);
Suite *interp_api_suite(void);

#endif
