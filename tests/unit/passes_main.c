/* tests/unit/passes_main.c - the test_passes runner. */
#include "unit.h"

Suite *passes_dce_cse_suite(void);
Suite *passes_canonicalize_suite(void);
Suite *passes_fold_shape_suite(void);
Suite *passes_fuse_suite(void);

QIR_UNIT_MAIN(passes_dce_cse_suite, passes_canonicalize_suite,
              passes_fold_shape_suite, passes_fuse_suite)
