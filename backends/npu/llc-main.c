/* backends/npu/llc-main.c - the qir-llc command line (tools/qir-llc/main.c
 * calls qir_llc_main). */
#include <string.h>

#include "backends/npu/npu.h"

int qir_llc_main(int argc, char **argv) {
  for (int i = 1; i < argc; i++)
    if (!strcmp(argv[i], "--print-targets") || !strcmp(argv[i], "-print-targets")) {
      qir_target_print_all(stdout);
      return 0;
    }
  fputs("qir-llc: error: compilation is not supported yet\n", stderr);
  return 1;
}
