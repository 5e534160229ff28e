/* tests/unit/ops_main.c - the test_ops runner. */
#include "ops_util.h"

QIR_UNIT_MAIN(ops_infer_suite, ops_verify_suite, ops_fold_suite)
