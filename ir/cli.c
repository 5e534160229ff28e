/* ir/cli.c - command-line pieces shared by the tools (see cli.h). */
#include <stdio.h>
#include <string.h>

#include "ir/cli.h"

bool qir_cli_opt_value(int argc, char **argv, int *i, const char *name,
                       const char **value) {
  const char *a = argv[*i];
  if (a[0] != '-')
    return false;
  a += a[1] == '-' ? 2 : 1;
  size_t n = strlen(name);
  if (strncmp(a, name, n))
    return false;
  if (a[n] == '=') {
    *value = a + n + 1;
    return true;
  }
  if (a[n] || *i + 1 >= argc)
    return false;
  *value = argv[++*i];
  return true;
}

bool qir_cli_opt_flag(const char *arg, const char *name) {
  if (arg[0] != '-')
    return false;
  arg += arg[1] == '-' ? 2 : 1;
  return !strcmp(arg, name);
}

void qir_cli_print_diag(qir_context *ctx, const qir_diag *d, const char *tool) {
  if (d->loc.file) {
    qir_diag_print(ctx, d, stderr);
    return;
  }
  const char *sev = d->severity == QIR_SEV_ERROR     ? "error"
                    : d->severity == QIR_SEV_WARNING ? "warning"
                    : d->severity == QIR_SEV_NOTE    ? "note"
                                                     : "remark";
  fprintf(stderr, "%s: %s: %s\n", tool, sev, d->message);
}
