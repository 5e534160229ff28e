/* frontends/qir/parser-gen.c - compiles the parser that bison generates
 * from parser.y into the build folder (see frontends/qir/Makefile.inc). */
#include "frontends/qir/qir-parser.c"
