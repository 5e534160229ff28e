/* qir-build: the whole flow from one configuration file.  All the work is
 * in the library (driver/). */
#include "qir/build.h"

int main(int argc, char **argv) { return qir_build_main(argc, argv); }
