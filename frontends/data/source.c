/* frontends/data/source.c - the data files of one input: a folder (walked
 * recursively) or an archive (any format and compression libarchive
 * reads: .tar, .tar.gz, .tgz, .zip, ...).
 *
 * An archive is listed once when it is opened; members are then read by
 * going forward through the archive, reopening it only when a member comes
 * before the current position, so reading the samples in archive order
 * decompresses the archive once. */
#include <dirent.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

#include <archive.h>
#include <archive_entry.h>

#include "frontends/data/data.h"

enum { MAX_FOLDER_DEPTH = 16 };

static bool source_fail(data_source *s, const char *fmt, ...)
    QIR_PRINTF(2, 3);

static bool source_fail(data_source *s, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  qir_emitv(s->ctx, QIR_SEV_ERROR, qir_loc_unknown(), fmt, ap);
  va_end(ap);
  return false;
}

/* The format a file name says, QIR_DATA_AUTO when the extension is not
 * one of ours. */
static qir_data_format format_of_name(const char *name) {
  static const struct {
    const char *ext;
    qir_data_format format;
  } exts[] = {{".npy", QIR_DATA_NPY},   {".bin", QIR_DATA_BIN},
              {".raw", QIR_DATA_BIN},   {".png", QIR_DATA_IMAGE},
              {".jpg", QIR_DATA_IMAGE}, {".jpeg", QIR_DATA_IMAGE}};
  const char *dot = strrchr(name, '.');
  for (size_t i = 0; dot && i < sizeof exts / sizeof exts[0]; i++)
    if (!strcasecmp(dot, exts[i].ext))
      return exts[i].format;
  return QIR_DATA_AUTO;
}

/* The sample name: the base name without its extension. */
static char *key_of_path(const char *path) {
  const char *base = strrchr(path, '/');
  base = base ? base + 1 : path;
  const char *dot = strrchr(base, '.');
  size_t n = dot && dot != base ? (size_t)(dot - base) : strlen(base);
  char *k = qir_xmalloc(n + 1);
  memcpy(k, base, n);
  k[n] = 0;
  return k;
}

/* Hidden files and folders, and the resource forks macOS puts in zips. */
static bool skipped_name(const char *name) {
  return name[0] == '.' || !strcmp(name, "__MACOSX");
}

static bool skipped_member(const char *path) {
  for (const char *p = path; *p;) {
    const char *slash = strchr(p, '/');
    size_t n = slash ? (size_t)(slash - p) : strlen(p);
    if ((n && p[0] == '.' && !(n == 1 && slash)) ||
        (n == 8 && !strncmp(p, "__MACOSX", 8)))
      return true;
    p += n + (slash != NULL);
  }
  return false;
}

static bool count_entry(data_source *s) {
  if (++s->num_entries <= s->limits->max_entries)
    return true;
  qir_emit_error(s->ctx, qir_loc_unknown(),
                 "'%s': more than %zu files or archive entries (the limit)",
                 s->root, s->limits->max_entries);
  return false;
}

static bool add_file(data_source *s, qir_data_format fixed, char *display,
                     char *path, size_t order) {
  qir_data_format format = fixed ? fixed : format_of_name(path);
  if (!format) {
    qir_emit_error(s->ctx, qir_loc_unknown(),
                   "'%s': unknown file extension (expected .npy, .bin, .raw, "
                   ".png, .jpg or .jpeg)",
                   display);
    free(display);
    free(path);
    return false;
  }
  if (s->num_files == s->cap_files) {
    s->cap_files = s->cap_files ? 2 * s->cap_files : 64;
    s->files = qir_xrealloc(s->files, s->cap_files * sizeof *s->files);
  }
  data_file *f = &s->files[s->num_files++];
  f->display = display;
  f->path = path;
  f->key = key_of_path(path);
  f->format = format;
  f->order = order;
  return true;
}

static bool file_too_big(data_source *s, const char *name, uint64_t size) {
  if (size <= s->limits->max_file_bytes)
    return false;
  qir_emit_error(s->ctx, qir_loc_unknown(),
                 "'%s': %llu bytes exceeds the limit of %llu bytes per file",
                 name, (unsigned long long)size,
                 (unsigned long long)s->limits->max_file_bytes);
  return true;
}

/* ---- Folders ------------------------------------------------------------- */

static char *join_path(const char *dir, const char *name) {
  size_t a = strlen(dir), b = strlen(name);
  bool slash = a && dir[a - 1] == '/';
  char *p = qir_xmalloc(a + b + 2);
  memcpy(p, dir, a);
  if (!slash)
    p[a++] = '/';
  memcpy(p + a, name, b + 1);
  return p;
}

static bool walk_folder(data_source *s, const char *dir, qir_data_format fixed,
                        unsigned depth);

static bool walk_entry(data_source *s, const char *dir, const char *name,
                       qir_data_format fixed, unsigned depth) {
  char *path = join_path(dir, name);
  struct stat st;
  if (stat(path, &st)) {
    source_fail(s, "cannot open '%s': %s", path, strerror(errno));
    free(path);
    return false;
  }
  if (S_ISDIR(st.st_mode)) {
    bool ok = walk_folder(s, path, fixed, depth + 1);
    free(path);
    return ok;
  }
  if (!S_ISREG(st.st_mode)) {
    free(path);
    return true;
  }
  return add_file(s, fixed, qir_xstrdup(path), path, 0);
}

static bool walk_folder(data_source *s, const char *dir, qir_data_format fixed,
                        unsigned depth) {
  if (depth > MAX_FOLDER_DEPTH) {
    qir_emit_error(s->ctx, qir_loc_unknown(),
                   "'%s': folders nested deeper than %d levels", dir,
                   MAX_FOLDER_DEPTH);
    return false;
  }
  DIR *d = opendir(dir);
  if (!d)
    return source_fail(s, "cannot open '%s': %s", dir, strerror(errno));
  bool ok = true;
  struct dirent *e;
  while (ok && (e = readdir(d)))
    if (!skipped_name(e->d_name))
      ok = count_entry(s) && walk_entry(s, dir, e->d_name, fixed, depth);
  closedir(d);
  return ok;
}

static bool read_folder_file(data_source *s, const data_file *f, void **buf,
                             size_t *len) {
  FILE *fp = fopen(f->path, "rb");
  if (!fp)
    return source_fail(s, "cannot open '%s': %s", f->display,
                       strerror(errno));
  struct stat st;
  if (fstat(fileno(fp), &st) || file_too_big(s, f->display, (uint64_t)st.st_size)) {
    fclose(fp);
    return false;
  }
  size_t n = (size_t)st.st_size;
  char *b = qir_xmalloc(n ? n : 1);
  size_t got = fread(b, 1, n, fp);
  bool err = ferror(fp);
  fclose(fp);
  if (err || got != n) {
    free(b);
    return source_fail(s, "cannot read '%s': %s", f->display,
                       err ? strerror(errno) : "the file changed size");
  }
  *buf = b;
  *len = n;
  return true;
}

/* ---- Archives ------------------------------------------------------------ */

static struct archive *archive_open(data_source *s) {
  struct archive *a = archive_read_new();
  archive_read_support_filter_all(a);
  archive_read_support_format_all(a);
  if (archive_read_open_filename(a, s->root, 1 << 16) != ARCHIVE_OK) {
    source_fail(s, "'%s': not a folder or a readable archive: %s", s->root,
                archive_error_string(a));
    archive_read_free(a);
    return NULL;
  }
  return a;
}

/* Reads the next header; false at the end (*eof) or after an error. */
static bool archive_next(data_source *s, struct archive *a,
                         struct archive_entry **e, bool *eof) {
  int r = archive_read_next_header(a, e);
  *eof = r == ARCHIVE_EOF;
  if (r == ARCHIVE_OK || r == ARCHIVE_WARN)
    return true;
  if (!*eof)
    source_fail(s, "'%s': %s", s->root, archive_error_string(a));
  return false;
}

static bool list_member(data_source *s, struct archive_entry *e,
                        qir_data_format fixed, size_t order) {
  const char *name = archive_entry_pathname(e);
  if (!name || archive_entry_filetype(e) != AE_IFREG || skipped_member(name))
    return true;
  size_t n = strlen(s->root) + strlen(name) + 2;
  char *display = qir_xmalloc(n);
  snprintf(display, n, "%s:%s", s->root, name);
  if (archive_entry_size_is_set(e) &&
      file_too_big(s, display, (uint64_t)archive_entry_size(e))) {
    free(display);
    return false;
  }
  return add_file(s, fixed, display, qir_xstrdup(name), order);
}

static bool list_archive(data_source *s, qir_data_format fixed) {
  struct archive *a = archive_open(s);
  if (!a)
    return false;
  struct archive_entry *e;
  bool eof, ok = true;
  for (size_t order = 0; ok && archive_next(s, a, &e, &eof); order++)
    ok = count_entry(s) && list_member(s, e, fixed, order);
  archive_read_free(a);
  return ok && eof;
}

/* Moves the open archive to the header of entry `order`. */
static bool archive_seek(data_source *s, size_t order) {
  if (s->ar && order < s->ar_next) {
    archive_read_free(s->ar);
    s->ar = NULL;
  }
  if (!s->ar) {
    if (!(s->ar = archive_open(s)))
      return false;
    s->ar_next = 0;
  }
  struct archive_entry *e;
  bool eof;
  while (s->ar_next <= order) {
    if (!archive_next(s, s->ar, &e, &eof)) {
      if (eof)
        source_fail(s, "'%s': the archive changed", s->root);
      return false;
    }
    s->ar_next++;
  }
  return true;
}

static bool member_too_big(data_source *s, const data_file *f) {
  qir_emit_error(s->ctx, qir_loc_unknown(),
                 "'%s': larger than the limit of %llu bytes per file",
                 f->display, (unsigned long long)s->limits->max_file_bytes);
  return false;
}

/* Reads the current member; its size may be unknown (zip streams). */
static bool read_member(data_source *s, const data_file *f, void **buf,
                        size_t *len) {
  if (!archive_seek(s, f->order))
    return false;
  uint64_t limit = s->limits->max_file_bytes;
  size_t cap = 1 << 16, n = 0;
  char *b = qir_xmalloc(cap);
  for (;;) {
    if (n == cap) {
      if (n > limit) {
        free(b);
        return member_too_big(s, f);
      }
      cap = (uint64_t)cap * 2 > limit + 1 ? (size_t)limit + 1 : cap * 2;
      b = qir_xrealloc(b, cap);
    }
    la_ssize_t got = archive_read_data(s->ar, b + n, cap - n);
    if (got < 0) {
      free(b);
      return source_fail(s, "'%s': %s", f->display,
                         archive_error_string(s->ar));
    }
    if (!got)
      break;
    n += (size_t)got;
  }
  if (n > limit) {
    free(b);
    return member_too_big(s, f);
  }
  *buf = b;
  *len = n;
  return true;
}

/* ---- Sources ------------------------------------------------------------- */

bool data_source_open(qir_context *ctx, data_source *s, const char *path,
                      qir_data_format format, const qir_data_limits *limits) {
  memset(s, 0, sizeof *s);
  s->ctx = ctx;
  s->limits = limits;
  s->root = qir_xstrdup(path);
  struct stat st;
  if (stat(path, &st))
    return source_fail(s, "cannot open '%s': %s", path, strerror(errno));
  if (S_ISDIR(st.st_mode))
    return walk_folder(s, path, format, 0);
  /* Archives are reopened to go back: a pipe or a device would hang. */
  if (!S_ISREG(st.st_mode))
    return source_fail(s, "'%s': not a folder or a regular file", path);
  s->is_archive = true;
  return list_archive(s, format);
}

bool data_source_read(data_source *s, const data_file *f, void **buf,
                      size_t *len) {
  *buf = NULL;
  *len = 0;
  return s->is_archive ? read_member(s, f, buf, len)
                       : read_folder_file(s, f, buf, len);
}

void data_source_close(data_source *s) {
  for (size_t i = 0; i < s->num_files; i++) {
    free(s->files[i].display);
    free(s->files[i].path);
    free(s->files[i].key);
  }
  free(s->files);
  free(s->root);
  if (s->ar)
    archive_read_free(s->ar);
  memset(s, 0, sizeof *s);
}
