/* qir-translate: converts between ONNX and the .qir text format.  All the
 * work is in the library (frontends/onnx/translate-main.c). */
#include "qir/onnx.h"

int main(int argc, char **argv) { return qir_translate_main(argc, argv); }
