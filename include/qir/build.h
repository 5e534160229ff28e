/* qir/build.h - qir-build: the whole flow (import, optimization,
 * calibration, quantization, compilation, checks and reports) driven by one
 * configuration file.  docs/qir-build.md is the reference of every key. */
#ifndef QIR_BUILD_H
#define QIR_BUILD_H

#include <stdbool.h>
#include <stddef.h>

#include "qir/context.h"

#ifdef __cplusplus
extern "C" {
#endif

/* A checked build configuration: the keys of the file merged with the
 * command-line overrides, every value of the expected type. */
typedef struct qir_build_config qir_build_config;

/* Parses and checks `len` bytes of a configuration named `name` (used in
 * messages and to resolve relative paths: they are relative to the folder
 * of `name`).  JSON (json-c) when `name` ends in .json or the text starts
 * with '{', YAML (libyaml) otherwise.  Unknown keys and values of the
 * wrong type are errors that name the key path (`build.json:
 * quant.calibration_size: expected an integer, got "ten"`; YAML errors
 * carry line:col).  Returns NULL after emitting the errors. */
qir_build_config *qir_build_config_parse(qir_context *ctx, const char *name,
                                         const char *text, size_t len);
/* Reads and parses the file at `path`. */
qir_build_config *qir_build_config_load(qir_context *ctx, const char *path);
void qir_build_config_free(qir_build_config *c);

/* Applies one command-line override `quant.calibration_method=KL` (the
 * dotted key path, array elements by index: `quant.input_configs.0.mean`).
 * The value is read as YAML flow text (`8`, `[0.5, 0.5]`, `{a: 1}`), or
 * taken verbatim where the key expects a string.  Relative paths are
 * relative to the current folder.  The result is checked like a file;
 * false (with an error naming `--KEY`) when it is not valid. */
bool qir_build_config_override(qir_build_config *c, const char *assignment);

/* The merged configuration as pretty-printed JSON, malloc'd (paths
 * resolved as the build uses them). */
char *qir_build_config_to_json(const qir_build_config *c, size_t *len);

/* Value of a scalar key as text (`"KL"` -> KL, 8 -> 8, true -> true), its
 * default when the configuration does not set it, NULL for unknown keys
 * and for arrays and objects.  The string lives as long as `c`. */
const char *qir_build_config_get(const qir_build_config *c,
                                 const char *key_path);

typedef struct qir_build_options {
  bool quiet;          /* no tables, progress bars or summary on stdout */
  bool no_progress;    /* no progress bars (also when stdout is no tty) */
} qir_build_options;

void qir_build_options_init(qir_build_options *o);

/* Runs the build the configuration describes.  The outputs are written to
 * a temporary sibling of output_dir that replaces output_dir only when
 * every step succeeded; on failure the step's error has been emitted,
 * output_dir is untouched and false is returned. */
bool qir_build_run(qir_context *ctx, const qir_build_config *c,
                   const qir_build_options *o);

/* The qir-build tool: `qir-build --config build.json [--KEY=VALUE...]`.
 * Returns the exit status. */
int qir_build_main(int argc, char **argv);

#ifdef __cplusplus
}
#endif
#endif
