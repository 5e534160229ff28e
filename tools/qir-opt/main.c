/* qir-opt: parses, verifies, transforms and prints .qir modules.  All the
 * logic is in the library (ir/pass/opt-main.c). */
#include "qir/opt.h"

int main(int argc, char **argv) { return qir_opt_main(argc, argv); }
