/* Argument and value helpers shared by the addon's modules (see addon.h). */
#include "addon.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>

napi_value throw_type(napi_env env, const char *msg) {
  napi_throw_type_error(env, "ERR_INVALID_ARG_TYPE", msg);
  return NULL;
}

napi_value throw_range(napi_env env, const char *msg) {
  napi_throw_range_error(env, "ERR_OUT_OF_RANGE", msg);
  return NULL;
}

int get_args(napi_env env, napi_callback_info info, size_t want, napi_value *argv) {
  size_t argc = want;
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok) return 0;
  for (size_t i = argc; i < want; i++) napi_get_undefined(env, &argv[i]);
  return 1;
}

int is_type(napi_env env, napi_value v, napi_valuetype want) {
  napi_valuetype t;
  return napi_typeof(env, v, &t) == napi_ok && t == want;
}

/* An integer-valued number in [min, max]. */
int get_integer(napi_env env, napi_value v, double min, double max, const char *what,
                       int64_t *out) {
  double d;
  char msg[128];
  if (!is_type(env, v, napi_number) || napi_get_value_double(env, v, &d) != napi_ok) {
    snprintf(msg, sizeof msg, "%s must be a number", what);
    throw_type(env, msg);
    return 0;
  }
  if (d != d || d < min || d > max || (double)(int64_t)d != d) {
    snprintf(msg, sizeof msg, "%s must be an integer in [%.0f, %.0f]", what, min, max);
    throw_range(env, msg);
    return 0;
  }
  *out = (int64_t)d;
  return 1;
}

int get_fd(napi_env env, napi_value v, int *fd) {
  int64_t x;
  if (!get_integer(env, v, 0, INT_MAX, "fd", &x)) return 0;
  *fd = (int)x;
  return 1;
}

/* The bytes of an ArrayBuffer, TypedArray or DataView. */
int get_bytes(napi_env env, napi_value v, void **data, size_t *len) {
  bool yes = false;
  if (napi_is_arraybuffer(env, v, &yes) == napi_ok && yes)
    return napi_get_arraybuffer_info(env, v, data, len) == napi_ok;
  if (napi_is_typedarray(env, v, &yes) == napi_ok && yes) {
    napi_typedarray_type type;
    size_t count;
    if (napi_get_typedarray_info(env, v, &type, &count, data, NULL, NULL) != napi_ok) return 0;
    size_t elem = 1;
    switch (type) {
      case napi_int16_array: case napi_uint16_array: elem = 2; break;
      case napi_int32_array: case napi_uint32_array: case napi_float32_array: elem = 4; break;
      case napi_float64_array: case napi_bigint64_array: case napi_biguint64_array: elem = 8; break;
      default: break;
    }
    *len = count * elem;
    return 1;
  }
  if (napi_is_dataview(env, v, &yes) == napi_ok && yes)
    return napi_get_dataview_info(env, v, len, data, NULL, NULL) == napi_ok;
  return 0;
}

/* A string of at most size - 1 bytes (UTF-8) into buf, NUL-terminated. An
 * embedded NUL would silently cut the string short in C, so it is refused. */
int get_string(napi_env env, napi_value v, char *buf, size_t size, const char *what) {
  size_t len;
  char msg[128];
  if (!is_type(env, v, napi_string)) {
    snprintf(msg, sizeof msg, "%s must be a string", what);
    throw_type(env, msg);
    return 0;
  }
  if (napi_get_value_string_utf8(env, v, NULL, 0, &len) != napi_ok) return 0;
  if (len >= size) {
    snprintf(msg, sizeof msg, "%s is too long (max %zu bytes)", what, size - 1);
    throw_range(env, msg);
    return 0;
  }
  if (napi_get_value_string_utf8(env, v, buf, size, &len) != napi_ok) return 0;
  if (strlen(buf) != len) {
    snprintf(msg, sizeof msg, "%s must not contain NUL bytes", what);
    napi_throw_type_error(env, "ERR_INVALID_ARG_VALUE", msg);
    return 0;
  }
  return 1;
}

napi_value make_int(napi_env env, int64_t v) {
  napi_value r;
  CHECK(napi_create_int64(env, v, &r));
  return r;
}

napi_value result(napi_env env, int64_t rc) {
  return make_int(env, rc < 0 ? -errno : rc);
}

int set_int(napi_env env, napi_value obj, const char *name, int64_t value) {
  napi_value v;
  return napi_create_int64(env, value, &v) == napi_ok &&
         napi_set_named_property(env, obj, name, v) == napi_ok;
}
