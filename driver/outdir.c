/* driver/outdir.c - paths, and the output folder that changes all at once:
 * the build writes into a temporary sibling of output_dir, which replaces
 * output_dir (an atomic exchange where the file system allows it) only
 * when every step succeeded. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "driver/build-internal.h"

/* Removes "." and "x/.." parts of an absolute path, in place (lexically:
 * the paths are for reading and for messages). */
static void normalize_abs(char *path) {
  size_t len = strlen(path), o = 0;
  char *out = qir_xmalloc(len + 2);
  for (const char *in = path; *in;) {
    while (*in == '/')
      in++;
    size_t n = strcspn(in, "/");
    if (n == 2 && in[0] == '.' && in[1] == '.') {
      while (o > 0 && out[--o] != '/')
        ;
    } else if (n && !(n == 1 && in[0] == '.')) {
      out[o++] = '/';
      memcpy(out + o, in, n);
      o += n;
    }
    in += n;
  }
  if (!o)
    out[o++] = '/';
  out[o] = 0;
  memcpy(path, out, o + 1);
  free(out);
}

char *build_path_join(const char *dir, const char *name) {
  char *out;
  if (name[0] == '/' || !dir || !dir[0]) {
    out = qir_xstrdup(name);
  } else {
    size_t n = strlen(dir), m = strlen(name);
    out = qir_xmalloc(n + m + 2);
    memcpy(out, dir, n);
    if (dir[n - 1] != '/')
      out[n++] = '/';
    memcpy(out + n, name, m + 1);
  }
  if (out[0] == '/')
    normalize_abs(out);
  return out;
}

static char *current_dir(void) {
  char *cwd = getcwd(NULL, 0);
  return cwd ? cwd : qir_xstrdup(".");
}

char *build_abs_dir_of(const char *path) {
  const char *slash = strrchr(path, '/');
  char *cwd = current_dir();
  if (!slash) {
    return cwd;
  }
  char *dir = qir_xstrdup(path);
  dir[slash - path ? slash - path : 1] = 0; /* "/x" keeps "/" */
  char *abs = build_path_join(cwd, dir);
  free(dir);
  free(cwd);
  return abs;
}

/* ---- Removing a tree --------------------------------------------------- */

static void remove_tree(const char *path) {
  DIR *d = opendir(path);
  if (!d) {
    unlink(path);
    return;
  }
  struct dirent *e;
  while ((e = readdir(d)) != NULL) {
    if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
      continue;
    char *sub = build_path_join(path, e->d_name);
    struct stat st;
    if (lstat(sub, &st) == 0 && S_ISDIR(st.st_mode))
      remove_tree(sub);
    else
      unlink(sub);
    free(sub);
  }
  closedir(d);
  rmdir(path);
}

/* ---- The output folder ------------------------------------------------- */

static bool is_empty_dir(const char *path) {
  DIR *d = opendir(path);
  if (!d)
    return false;
  struct dirent *e;
  bool empty = true;
  while (empty && (e = readdir(d)) != NULL)
    empty = !strcmp(e->d_name, ".") || !strcmp(e->d_name, "..");
  closedir(d);
  return empty;
}

/* An existing output_dir is replaced only when it is empty or holds a
 * previous build (its build.log): never a folder of the user's. */
static bool check_replaceable(qir_context *ctx, const char *dir) {
  struct stat st;
  if (stat(dir, &st) != 0)
    return true;
  if (!S_ISDIR(st.st_mode)) {
    qir_emit_error(ctx, qir_loc_unknown(),
                   "output_dir '%s' exists and is not a folder", dir);
    return false;
  }
  char *marker = build_path_join(dir, BUILD_MARKER);
  bool ok = access(marker, F_OK) == 0 || is_empty_dir(dir);
  free(marker);
  if (!ok)
    qir_emit_error(ctx, qir_loc_unknown(),
                   "output_dir '%s' exists and does not hold a previous "
                   "qir-build output (no %s); remove it or choose another "
                   "output_dir",
                   dir, BUILD_MARKER);
  return ok;
}

static char *strip_trailing_slashes(const char *path) {
  char *p = qir_xstrdup(path);
  size_t n = strlen(p);
  while (n > 1 && p[n - 1] == '/')
    p[--n] = 0;
  return p;
}

/* mkdir -p of the folder that holds `path`. */
static void make_parents(const char *path) {
  char *p = qir_xstrdup(path);
  for (char *s = strchr(p + 1, '/'); s; s = strchr(s + 1, '/')) {
    *s = 0;
    mkdir(p, 0777);
    *s = '/';
  }
  free(p);
}

bool build_outdir_begin(qir_context *ctx, build_outdir *od,
                        const char *output_dir) {
  od->final = strip_trailing_slashes(output_dir);
  od->tmp = NULL;
  if (!check_replaceable(ctx, od->final))
    return false;
  make_parents(od->final);
  size_t n = strlen(od->final);
  char *tmpl = qir_xmalloc(n + 16);
  snprintf(tmpl, n + 16, "%s.tmp-XXXXXX", od->final);
  if (!mkdtemp(tmpl)) {
    qir_emit_error(ctx, qir_loc_unknown(),
                   "cannot create a folder next to output_dir '%s': %s",
                   od->final, strerror(errno));
    free(tmpl);
    return false;
  }
  /* mkdtemp makes the folder private; outputs get the usual mode. */
  mode_t mask = umask(0);
  umask(mask);
  chmod(tmpl, 0777 & ~mask);
  od->tmp = tmpl;
  return true;
}

char *build_outdir_file(const build_outdir *od, const char *name) {
  return build_path_join(od->tmp, name);
}

/* Swaps tmp and final in one step (Linux renameat2 RENAME_EXCHANGE);
 * false when the system or the file system cannot. */
static bool exchange(const char *a, const char *b) {
#if defined(RENAME_EXCHANGE)
  return renameat2(AT_FDCWD, a, AT_FDCWD, b, RENAME_EXCHANGE) == 0;
#else
  (void)a;
  (void)b;
  return false;
#endif
}

bool build_outdir_commit(qir_context *ctx, build_outdir *od) {
  struct stat st;
  bool had_old = stat(od->final, &st) == 0;
  bool ok;
  if (had_old && exchange(od->tmp, od->final)) {
    remove_tree(od->tmp); /* now the old outputs */
    ok = true;
  } else if (had_old) {
    /* Two renames: the old outputs move aside first, so output_dir is at
     * worst missing for an instant, never mixed. */
    size_t n = strlen(od->final);
    char *old = qir_xmalloc(n + 16);
    snprintf(old, n + 16, "%s.old-XXXXXX", od->final);
    ok = mkdtemp(old) && rename(od->final, old) == 0 &&
         rename(od->tmp, od->final) == 0;
    if (ok)
      remove_tree(old);
    else
      rmdir(old);
    free(old);
  } else {
    ok = rename(od->tmp, od->final) == 0;
  }
  if (!ok) {
    qir_emit_error(ctx, qir_loc_unknown(), "cannot move the outputs into "
                   "'%s': %s", od->final, strerror(errno));
    build_outdir_abort(od);
    return false;
  }
  free(od->tmp);
  od->tmp = NULL;
  free(od->final);
  od->final = NULL;
  return true;
}

void build_outdir_abort(build_outdir *od) {
  if (od->tmp)
    remove_tree(od->tmp);
  free(od->tmp);
  free(od->final);
  od->tmp = od->final = NULL;
}
