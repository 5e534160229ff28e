/* tests/unit/pass_main.c - the test_pass runner. */
#include "pass_util.h"

Suite *pass_pipeline_suite(void);
Suite *pass_manager_suite(void);
Suite *pass_opt_suite(void);

QIR_UNIT_MAIN(pass_pipeline_suite, pass_manager_suite, pass_opt_suite)
