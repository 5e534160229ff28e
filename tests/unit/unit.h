/* tests/unit/unit.h - shared helpers for the Check unit tests. */
#ifndef QIR_TESTS_UNIT_H
#define QIR_TESTS_UNIT_H

#include <check.h>
#include <stdlib.h>

#include "qir/qir.h"

/* Defines main() running the suites returned by the given functions. */
#define QIR_UNIT_MAIN(...)                                                    \
  int main(void) {                                                            \
    Suite *(*makers[])(void) = {__VA_ARGS__};                                 \
    SRunner *sr = srunner_create(NULL);                                       \
    for (size_t i = 0; i < sizeof makers / sizeof makers[0]; i++)             \
      srunner_add_suite(sr, makers[i]());                                     \
    srunner_run_all(sr, CK_NORMAL);                                           \
    int failed = srunner_ntests_failed(sr);                                   \
    srunner_free(sr);                                                         \
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;                              \
  }

#endif
