/* qir/opt.h - the qir-opt driver as a library function.
 *
 * tools/qir-opt/main.c only calls qir_opt_main; embedders that build their
 * own opt-like tool (with extra passes registered by a plugin) can call it
 * too. */
#ifndef QIR_OPT_H
#define QIR_OPT_H

#ifdef __cplusplus
extern "C" {
#endif

/* Runs qir-opt with the given command line; returns the exit status
 * (0 on success, 1 on any user error). */
int qir_opt_main(int argc, char **argv);

#ifdef __cplusplus
}
#endif
#endif
