/* ir/pass/plugin.c - loading pass plugins (shared objects that export
 * QIR_PLUGIN_ENTRY). */
#include <dlfcn.h>
#include <pthread.h>
#include <string.h>

#include "ir/pass/pass.h"

/* The plugins loaded in each live context, so that loading one twice
 * registers its passes once. */
typedef struct loaded_plugin {
  qir_context *ctx;
  void *handle;
  struct loaded_plugin *next;
} loaded_plugin;

static loaded_plugin *loaded_plugins;
static pthread_mutex_t loaded_lock = PTHREAD_MUTEX_INITIALIZER;

static bool is_loaded(qir_context *ctx, void *handle) {
  pthread_mutex_lock(&loaded_lock);
  loaded_plugin *p = loaded_plugins;
  while (p && !(p->ctx == ctx && p->handle == handle))
    p = p->next;
  pthread_mutex_unlock(&loaded_lock);
  return p != NULL;
}

static loaded_plugin *remember_loaded(qir_context *ctx, void *handle) {
  loaded_plugin *p = qir_xmalloc(sizeof *p);
  p->ctx = ctx;
  p->handle = handle;
  pthread_mutex_lock(&loaded_lock);
  p->next = loaded_plugins;
  loaded_plugins = p;
  pthread_mutex_unlock(&loaded_lock);
  return p;
}

/* Context cleanup: forget the plugin and close it. */
static void close_plugin(void *arg) {
  loaded_plugin *lp = arg;
  pthread_mutex_lock(&loaded_lock);
  loaded_plugin **link = &loaded_plugins;
  while (*link != lp)
    link = &(*link)->next;
  *link = lp->next;
  pthread_mutex_unlock(&loaded_lock);
  dlclose(lp->handle);
  free(lp);
}

static const char *dl_reason(void) {
  const char *e = dlerror();
  return e ? e : "unknown reason";
}

/* dlopen searches the library path for a name without a '/'; a plugin named
 * on the command line is a file, so "libfoo.so" means "./libfoo.so". */
static void *open_plugin(const char *path) {
  if (strchr(path, '/'))
    return dlopen(path, RTLD_NOW | RTLD_LOCAL);
  size_t n = strlen(path);
  char *rel = qir_xmalloc(n + 3);
  memcpy(rel, "./", 2);
  memcpy(rel + 2, path, n + 1);
  void *h = dlopen(rel, RTLD_NOW | RTLD_LOCAL);
  free(rel);
  return h;
}

static const qir_plugin_info *plugin_info(qir_context *ctx, void *handle,
                                          const char *path) {
  dlerror();
  void *sym = dlsym(handle, QIR_PLUGIN_ENTRY);
  if (!sym) {
    qir_emit_error(ctx, qir_loc_unknown(),
                   "plugin '%s' has no entry point '%s': %s", path,
                   QIR_PLUGIN_ENTRY, dl_reason());
    return NULL;
  }
  const qir_plugin_info *(*get_info)(void);
  /* ISO C has no function/object pointer conversion; POSIX guarantees it. */
  memcpy(&get_info, &sym, sizeof get_info);
  const qir_plugin_info *info = get_info();
  if (!info) {
    qir_emit_error(ctx, qir_loc_unknown(), "plugin '%s' returned no plugin "
                   "information from '%s'", path, QIR_PLUGIN_ENTRY);
    return NULL;
  }
  if (info->api_version != QIR_PLUGIN_API_VERSION) {
    qir_emit_error(ctx, qir_loc_unknown(),
                   "plugin '%s' was built for qir plugin API version %u, this "
                   "qir has version %u", path, (unsigned)info->api_version,
                   (unsigned)QIR_PLUGIN_API_VERSION);
    return NULL;
  }
  if (!info->register_fn) {
    qir_emit_error(ctx, qir_loc_unknown(),
                   "plugin '%s' has no register function", path);
    return NULL;
  }
  return info;
}

bool qir_load_plugin(qir_context *ctx, const char *path) {
  void *handle = open_plugin(path);
  if (!handle) {
    qir_emit_error(ctx, qir_loc_unknown(), "cannot load plugin '%s': %s",
                   path, dl_reason());
    return false;
  }
  if (is_loaded(ctx, handle)) {
    dlclose(handle); /* drop the reference this dlopen added */
    return true;
  }
  const qir_plugin_info *info = plugin_info(ctx, handle, path);
  if (!info) {
    dlclose(handle);
    return false;
  }
  /* Closed when the context goes, after everything registered is unused. */
  qir_context_add_cleanup(ctx, close_plugin, remember_loaded(ctx, handle));
  QIR_DEBUG(ctx, "plugin", "loaded '%s' %s from %s\n",
            info->name ? info->name : "?",
            info->version ? info->version : "?", path);
  info->register_fn(ctx);
  return true;
}
