/* frontends/qir/lexer-gen.c - compiles the scanner that flex generates
 * from lexer.l into the build folder (see frontends/qir/Makefile.inc). */
#if defined(__GNUC__)
#pragma GCC diagnostic ignored "-Wsign-compare"
#pragma GCC diagnostic ignored "-Wunused-function"
#pragma GCC diagnostic ignored "-Wmissing-prototypes"
#endif
#include "frontends/qir/qir-lexer.c"
