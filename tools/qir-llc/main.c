/* qir-llc: compiles a quantized qir module for an NPU target.  All the
 * logic is in the library (backends/npu/llc-main.c). */
#include "qir/npu.h"

int main(int argc, char **argv) { return qir_llc_main(argc, argv); }
