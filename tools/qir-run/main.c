/* qir-run: runs a qir function on input tensors with the reference
 * interpreter.  All the logic is in the library (backends/cpu/run-main.c). */
#include "qir/interp.h"

int main(int argc, char **argv) { return qir_run_main(argc, argv); }
