/* ir/cli.h - command-line pieces shared by the tools' library mains
 * (qir-run, qir-llc): option matching and diagnostics without a location
 * printed with the tool's name. */
#ifndef QIR_IR_CLI_H
#define QIR_IR_CLI_H

#include <stdbool.h>

#include "qir/context.h"

/* Matches `--name=value`, `-name=value`, `--name value` or `-name value`
 * at argv[*i]; the separate form advances *i past the value. */
bool qir_cli_opt_value(int argc, char **argv, int *i, const char *name,
                       const char **value);
/* Matches `-name` or `--name`. */
bool qir_cli_opt_flag(const char *arg, const char *name);
/* Prints d: with its location and caret when it has one, else as
 * `tool: severity: message`. */
void qir_cli_print_diag(qir_context *ctx, const qir_diag *d, const char *tool);

#endif
