/*
 * What the addon's modules share: the Node-API version and the argument
 * helpers (native/args.c). Each helper that checks a JavaScript value throws
 * a TypeError or RangeError and returns 0 (or NULL) on bad input.
 */
#ifndef IIOJS_ADDON_H
#define IIOJS_ADDON_H

#define NAPI_VERSION 8
#include <node_api.h>
#include <stddef.h>
#include <stdint.h>

#define CHECK(call)                                                        \
  do {                                                                     \
    if ((call) != napi_ok) return NULL;                                    \
  } while (0)

napi_value throw_type(napi_env env, const char *msg);
napi_value throw_range(napi_env env, const char *msg);
/* The call's first `want` arguments, undefined where fewer were given. */
int get_args(napi_env env, napi_callback_info info, size_t want, napi_value *argv);
int is_type(napi_env env, napi_value v, napi_valuetype want);
/* An integer-valued number in [min, max]. */
int get_integer(napi_env env, napi_value v, double min, double max, const char *what, int64_t *out);
int get_fd(napi_env env, napi_value v, int *fd);
/* The bytes of an ArrayBuffer, TypedArray or DataView (0 without throwing if it is none). */
int get_bytes(napi_env env, napi_value v, void **data, size_t *len);
/* A string of at most size - 1 bytes without NUL, into buf. */
int get_string(napi_env env, napi_value v, char *buf, size_t size, const char *what);
napi_value make_int(napi_env env, int64_t v);
/* A syscall's return value, or -errno if it failed. */
napi_value result(napi_env env, int64_t rc);
int set_int(napi_env env, napi_value obj, const char *name, int64_t value);

#endif
