/* tests/unit/interp_main.c - runs the interpreter unit tests. */
#include "interp_test.h"

QIR_UNIT_MAIN(interp_quant_suite, interp_npy_suite, interp_kernels_suite,
              interp_api_suite)
