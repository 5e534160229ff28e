/* ir/pass/opt-main.c - the qir-opt driver. */
#include "ir/pass/pass.h"
#include "qir/opt.h"

int qir_opt_main(int argc, char **argv) {
  (void)argc; (void)argv;
  return 1;
}
