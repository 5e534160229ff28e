/* ir/output.c - safe output files (a temporary renamed into place on
 * success) and reading whole files. */
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "ir/internal.h"

static void output_clear(qir_output *o) {
  free(o->path);
  free(o->tmp_path);
  o->fp = NULL;
  o->path = NULL;
  o->tmp_path = NULL;
}

/* Permissions a newly created file would get (mkstemp gives 0600). */
static mode_t default_file_mode(void) {
  mode_t mask = umask(0);
  umask(mask);
  return 0666 & ~mask;
}

/* Opens an existing non-regular file (/dev/null, a FIFO, a terminal) in
 * place: a temporary renamed over it would replace the device. */
static bool open_device(qir_context *ctx, qir_output *o, const char *path,
                        bool binary) {
  o->fp = fopen(path, binary ? "wb" : "w");
  if (!o->fp) {
    qir_emit_error(ctx, qir_loc_unknown(), "cannot open '%s': %s", path,
                   strerror(errno));
    return false;
  }
  o->path = qir_xstrdup(path);
  return true;
}

static bool is_existing_non_regular(const char *path) {
  struct stat st;
  return stat(path, &st) == 0 && !S_ISREG(st.st_mode) && !S_ISDIR(st.st_mode);
}

bool qir_output_open(qir_context *ctx, qir_output *o, const char *path,
                     bool binary) {
  memset(o, 0, sizeof *o);
  if (strcmp(path, "-") == 0) {
    o->fp = stdout;
    return true;
  }
  if (is_existing_non_regular(path))
    return open_device(ctx, o, path, binary);
  size_t n = strlen(path);
  o->tmp_path = qir_xmalloc(n + sizeof ".tmp.XXXXXX");
  memcpy(o->tmp_path, path, n);
  memcpy(o->tmp_path + n, ".tmp.XXXXXX", sizeof ".tmp.XXXXXX");
  int fd = mkstemp(o->tmp_path);
  if (fd < 0) {
    qir_emit_error(ctx, qir_loc_unknown(), "cannot open '%s': %s", path,
                   strerror(errno));
    output_clear(o);
    return false;
  }
  fchmod(fd, default_file_mode());
  o->fp = fdopen(fd, binary ? "wb" : "w");
  if (!o->fp) {
    qir_emit_error(ctx, qir_loc_unknown(), "cannot open '%s': %s", path,
                   strerror(errno));
    close(fd);
    unlink(o->tmp_path);
    output_clear(o);
    return false;
  }
  o->path = qir_xstrdup(path);
  return true;
}

/* Flushes and closes (not stdout); false with errno set on failure. */
static bool flush_and_close(qir_output *o) {
  bool ok = fflush(o->fp) == 0 && !ferror(o->fp);
  int err = errno;
  if (o->fp != stdout && fclose(o->fp) != 0 && ok) {
    ok = false;
    err = errno;
  }
  o->fp = NULL;
  errno = err;
  return ok;
}

bool qir_output_commit(qir_context *ctx, qir_output *o) {
  if (!o->fp)
    return false;
  bool ok = flush_and_close(o);
  int err = errno;
  if (ok && o->tmp_path && rename(o->tmp_path, o->path) != 0) {
    ok = false;
    err = errno;
  }
  if (!ok) {
    if (o->path)
      qir_emit_error(ctx, qir_loc_unknown(), "cannot write '%s': %s",
                     o->path, strerror(err));
    else
      qir_emit_error(ctx, qir_loc_unknown(),
                     "cannot write to standard output: %s", strerror(err));
    if (o->tmp_path)
      unlink(o->tmp_path);
  }
  output_clear(o);
  return ok;
}

void qir_output_abort(qir_output *o) {
  if (o->fp) {
    flush_and_close(o);
    if (o->tmp_path)
      unlink(o->tmp_path);
  }
  output_clear(o);
}

/* A first buffer size: the file's size when it is a regular file (so the
 * buffer is not twice what it needs), else 64 KiB. */
static size_t first_read_size(FILE *fp) {
  struct stat st;
  if (fstat(fileno(fp), &st) == 0 && S_ISREG(st.st_mode) && st.st_size > 0 &&
      (uintmax_t)st.st_size < SIZE_MAX / 2)
    return (size_t)st.st_size + 2;
  return 1 << 16;
}

/* Reads all of fp; false on a read error (errno set). */
static bool read_all(FILE *fp, char **out, size_t *len) {
  size_t cap = first_read_size(fp), n = 0;
  char *buf = qir_xmalloc(cap);
  for (;;) {
    if (cap - n < 2) {
      if (cap > SIZE_MAX / 2)
        qir_die("file too large");
      cap *= 2;
      buf = qir_xrealloc(buf, cap);
    }
    size_t got = fread(buf + n, 1, cap - n - 1, fp);
    n += got;
    if (got == 0)
      break;
  }
  if (ferror(fp)) {
    int err = errno;
    free(buf);
    errno = err;
    return false;
  }
  buf[n] = '\0';
  *out = buf;
  *len = n;
  return true;
}

char *qir_read_file(qir_context *ctx, const char *path, size_t *len) {
  bool is_stdin = strcmp(path, "-") == 0;
  FILE *fp = is_stdin ? stdin : fopen(path, "rb");
  if (!fp) {
    qir_emit_error(ctx, qir_loc_unknown(), "cannot open '%s': %s", path,
                   strerror(errno));
    return NULL;
  }
  char *buf = NULL;
  size_t n = 0;
  bool ok = read_all(fp, &buf, &n);
  int err = errno;
  if (!is_stdin)
    fclose(fp);
  if (!ok) {
    qir_emit_error(ctx, qir_loc_unknown(), "cannot read '%s': %s", path,
                   strerror(err));
    return NULL;
  }
  if (len)
    *len = n;
  return buf;
}
