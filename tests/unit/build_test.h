/* tests/unit/build_test.h - shared helpers of the qir-build unit tests. */
#ifndef QIR_TESTS_UNIT_BUILD_TEST_H
#define QIR_TESTS_UNIT_BUILD_TEST_H

#include "qir/build.h"
#include "unit.h"

/* A context whose diagnostics are collected, first line of each (no
 * caret lines), in one string. */
typedef struct build_env {
  qir_context *ctx;
  char *diags;
  size_t len;
  FILE *fp;
} build_env;

void build_env_init(build_env *e);
/* The diagnostics so far (valid until the next call or the end). */
const char *build_env_diags(build_env *e);
void build_env_done(build_env *e);

/* Parses `text` named `name`; NULL on error (see build_env_diags). */
qir_build_config *parse(build_env *e, const char *name, const char *text);
/* The merged configuration as JSON (malloc'd). */
char *to_json(const qir_build_config *c);

/* Files for the tests that touch the disk (tests/unit/build_outdir.c). */
char *test_tmpdir(void); /* a new folder under /tmp, malloc'd */
void write_text(const char *dir, const char *name, const char *text);
char *read_text(const char *dir, const char *name); /* NULL: no file */
unsigned count_entries(const char *dir);
void remove_test_dir(const char *dir);

Suite *build_config_suite(void);
Suite *build_override_suite(void);
Suite *build_outdir_suite(void);
Suite *build_run_suite(void);
Suite *build_preprocess_suite(void);

#endif
