/* frontends/onnx/model.c - ONNX element types and tensor data (including
 * external data files) to qir types and dense attributes. */
#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include "frontends/onnx/onnx-internal.h"

const char *onnx_str(const char *s) { return s ? s : ""; }

static const struct {
  int32_t onnx;
  qir_scalar scalar;
} elem_types[] = {
    {ONNX__TENSOR_PROTO__DATA_TYPE__FLOAT, QIR_F32},
    {ONNX__TENSOR_PROTO__DATA_TYPE__DOUBLE, QIR_F64},
    {ONNX__TENSOR_PROTO__DATA_TYPE__FLOAT16, QIR_F16},
    {ONNX__TENSOR_PROTO__DATA_TYPE__BFLOAT16, QIR_BF16},
    {ONNX__TENSOR_PROTO__DATA_TYPE__BOOL, QIR_I1},
    {ONNX__TENSOR_PROTO__DATA_TYPE__INT8, QIR_I8},
    {ONNX__TENSOR_PROTO__DATA_TYPE__UINT8, QIR_U8},
    {ONNX__TENSOR_PROTO__DATA_TYPE__INT16, QIR_I16},
    {ONNX__TENSOR_PROTO__DATA_TYPE__UINT16, QIR_U16},
    {ONNX__TENSOR_PROTO__DATA_TYPE__INT32, QIR_I32},
    {ONNX__TENSOR_PROTO__DATA_TYPE__INT64, QIR_I64},
};

bool onnx_scalar_from_elem_type(int32_t t, qir_scalar *out) {
  for (size_t i = 0; i < sizeof elem_types / sizeof elem_types[0]; i++)
    if (elem_types[i].onnx == t) {
      *out = elem_types[i].scalar;
      return true;
    }
  return false;
}

int32_t onnx_elem_type_from_scalar(qir_scalar s) {
  for (size_t i = 0; i < sizeof elem_types / sizeof elem_types[0]; i++)
    if (elem_types[i].scalar == s)
      return elem_types[i].onnx;
  return ONNX__TENSOR_PROTO__DATA_TYPE__UNDEFINED;
}

const char *onnx_elem_type_name(int32_t t) {
  static const char *const names[] = {
      "UNDEFINED", "FLOAT",  "UINT8",  "INT8",      "UINT16",     "INT16",
      "INT32",     "INT64",  "STRING", "BOOL",      "FLOAT16",    "DOUBLE",
      "UINT32",    "UINT64", "COMPLEX64", "COMPLEX128", "BFLOAT16"};
  if (t >= 0 && (size_t)t < sizeof names / sizeof names[0])
    return names[t];
  return "unknown";
}

static const char *tensor_name(const onnx_tensor *t) {
  return onnx_str(t->name);
}

/* The qir type of a TensorProto; NULL after an error. */
static const qir_type *tensor_type(onnx_importer *imp, const onnx_tensor *t) {
  qir_scalar s;
  if (!t->has_data_type || !onnx_scalar_from_elem_type(t->data_type, &s)) {
    qir_emit_error(imp->ctx, qir_loc_unknown(),
                   "tensor '%s' has element type %s, which qir does not "
                   "support",
                   tensor_name(t), onnx_elem_type_name(t->data_type));
    return NULL;
  }
  if (t->n_dims > QIR_MAX_RANK) {
    qir_emit_error(imp->ctx, qir_loc_unknown(),
                   "tensor '%s' has rank %zu; qir supports at most %d",
                   tensor_name(t), t->n_dims, QIR_MAX_RANK);
    return NULL;
  }
  int64_t n = 1;
  for (size_t i = 0; i < t->n_dims; i++) {
    if (t->dims[i] < 0 || t->dims[i] > ONNX_MAX_TENSOR_ELEMENTS ||
        (t->dims[i] && n > ONNX_MAX_TENSOR_ELEMENTS / t->dims[i])) {
      qir_emit_error(imp->ctx, qir_loc_unknown(),
                     "tensor '%s' has an absurd dimension %lld (dim %zu)",
                     tensor_name(t), (long long)t->dims[i], i);
      return NULL;
    }
    n *= t->dims[i];
  }
  return qir_tensor_of(imp->ctx, s, (unsigned)t->n_dims, t->dims);
}

static const char *external_entry(const onnx_tensor *t, const char *key) {
  for (size_t i = 0; i < t->n_external_data; i++)
    if (strcmp(onnx_str(t->external_data[i]->key), key) == 0)
      return onnx_str(t->external_data[i]->value);
  return NULL;
}

static bool parse_u64(const char *s, uint64_t *out) {
  if (!s || !*s || *s == '-')
    return false;
  char *end;
  errno = 0;
  unsigned long long v = strtoull(s, &end, 10);
  if (errno || *end)
    return false;
  *out = v;
  return true;
}

/* Reads `nbytes` of external data for `t` into a malloc'd buffer. */
static void *read_external(onnx_importer *imp, const onnx_tensor *t,
                           size_t nbytes) {
  const char *loc = external_entry(t, "location");
  const char *off_s = external_entry(t, "offset");
  const char *len_s = external_entry(t, "length");
  uint64_t off = 0, len = nbytes;
  if (!loc || !*loc || loc[0] == '/' || strstr(loc, "..") ||
      (off_s && !parse_u64(off_s, &off)) ||
      (len_s && !parse_u64(len_s, &len))) {
    qir_emit_error(imp->ctx, qir_loc_unknown(),
                   "tensor '%s' has an invalid external data reference",
                   tensor_name(t));
    return NULL;
  }
  if (len != nbytes) {
    qir_emit_error(imp->ctx, qir_loc_unknown(),
                   "tensor '%s': external data length %llu does not match its "
                   "shape (%zu bytes)",
                   tensor_name(t), (unsigned long long)len, nbytes);
    return NULL;
  }
  if (!imp->base_dir) {
    qir_emit_error(imp->ctx, qir_loc_unknown(),
                   "tensor '%s' has external data but the model was not read "
                   "from a file",
                   tensor_name(t));
    return NULL;
  }
  size_t plen = strlen(imp->base_dir) + strlen(loc) + 2;
  char *path = qir_xmalloc(plen);
  snprintf(path, plen, "%s/%s", imp->base_dir, loc);
  FILE *fp = fopen(path, "rb");
  free(path);
  if (!fp) {
    qir_emit_error(imp->ctx, qir_loc_unknown(),
                   "missing external data file '%s' (tensor '%s')", loc,
                   tensor_name(t));
    return NULL;
  }
  void *buf = NULL;
  long size = -1;
  if (fseek(fp, 0, SEEK_END) == 0)
    size = ftell(fp);
  if (size < 0 || off > (uint64_t)size || len > (uint64_t)size - off) {
    qir_emit_error(imp->ctx, qir_loc_unknown(),
                   "external data of tensor '%s' (offset %llu, length %llu) "
                   "lies outside '%s' (%ld bytes)",
                   tensor_name(t), (unsigned long long)off,
                   (unsigned long long)len, loc, size);
  } else {
    buf = qir_xmalloc(nbytes ? nbytes : 1);
    if (fseek(fp, (long)off, SEEK_SET) != 0 ||
        fread(buf, 1, nbytes, fp) != nbytes) {
      qir_emit_error(imp->ctx, qir_loc_unknown(),
                     "cannot read external data of tensor '%s' from '%s'",
                     tensor_name(t), loc);
      free(buf);
      buf = NULL;
    }
  }
  fclose(fp);
  return buf;
}

/* Converts typed-field data (float_data, int32_data, ...) to storage. */
static bool typed_to_storage(onnx_importer *imp, const onnx_tensor *t,
                             qir_scalar s, int64_t n, void *dst) {
  size_t count;
  switch (s) {
  case QIR_F32: count = t->n_float_data; break;
  case QIR_F64: count = t->n_double_data; break;
  case QIR_I64: count = t->n_int64_data; break;
  default: count = t->n_int32_data; break;
  }
  if ((int64_t)count != n) {
    qir_emit_error(imp->ctx, qir_loc_unknown(),
                   "tensor '%s' holds %zu values but its shape has %lld",
                   tensor_name(t), count, (long long)n);
    return false;
  }
  size_t esz = qir_scalar_size(s);
  for (int64_t i = 0; i < n; i++) {
    unsigned char *p = (unsigned char *)dst + (size_t)i * esz;
    switch (s) {
    case QIR_F32: memcpy(p, &t->float_data[i], 4); break;
    case QIR_F64: memcpy(p, &t->double_data[i], 8); break;
    case QIR_I64: memcpy(p, &t->int64_data[i], 8); break;
    case QIR_I32: memcpy(p, &t->int32_data[i], 4); break;
    case QIR_I16: case QIR_U16: case QIR_F16: case QIR_BF16: {
      uint16_t v = (uint16_t)t->int32_data[i];
      memcpy(p, &v, 2);
      break;
    }
    case QIR_I1: *p = t->int32_data[i] != 0; break;
    default: *p = (unsigned char)t->int32_data[i]; break;
    }
  }
  return true;
}

const qir_attr *onnx_tensor_to_dense(onnx_importer *imp, const onnx_tensor *t) {
  const qir_type *type = tensor_type(imp, t);
  if (!type)
    return NULL;
  int64_t n = qir_tensor_num_elements(type);
  size_t nbytes = (size_t)n * qir_scalar_size(type->scalar);
  void *data = NULL;
  if (t->has_data_location &&
      t->data_location == ONNX__TENSOR_PROTO__DATA_LOCATION__EXTERNAL) {
    data = read_external(imp, t, nbytes);
    if (!data)
      return NULL;
  } else if (t->has_raw_data) {
    if (t->raw_data.len != nbytes) {
      qir_emit_error(imp->ctx, qir_loc_unknown(),
                     "tensor '%s' has %zu bytes of data but its shape needs "
                     "%zu",
                     tensor_name(t), t->raw_data.len, nbytes);
      return NULL;
    }
    data = qir_xmalloc(nbytes ? nbytes : 1);
    if (nbytes)
      memcpy(data, t->raw_data.data, nbytes);
  } else {
    data = qir_xmalloc(nbytes ? nbytes : 1);
    if (!typed_to_storage(imp, t, type->scalar, n, data)) {
      free(data);
      return NULL;
    }
  }
  if (type->scalar == QIR_I1)
    for (size_t i = 0; i < nbytes; i++)
      ((unsigned char *)data)[i] = ((unsigned char *)data)[i] != 0;
  const qir_attr *a =
      qir_attr_dense(imp->ctx, qir_loc_unknown(), type, data, nbytes);
  free(data);
  return a;
}
