/* tests/unit/npu_main.c - runs the NPU unit tests. */
#include "npu_test.h"

QIR_UNIT_MAIN(npu_target_suite, npu_artifact_suite, npu_emu_suite, npu_batch_suite,
              npu_bus_suite)
