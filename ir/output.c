/* ir/output.c - output files (stub). */
#include "ir/internal.h"
#include <stdlib.h>

bool qir_output_open(qir_context *ctx, qir_output *o, const char *path, bool binary) { return false; }
bool qir_output_commit(qir_context *ctx, qir_output *o) { return false; }
void qir_output_abort(qir_output *o) {  }
char * qir_read_file(qir_context *ctx, const char *path, size_t *len) { return NULL; }
