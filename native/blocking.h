/*
 * Blocking read(2)/write(2) on threads of their own (native/blocking.c), for
 * files that block and cannot be polled (FunctionFS endpoint files).
 */
#ifndef IIOJS_BLOCKING_H
#define IIOJS_BLOCKING_H

#include "addon.h"

/* One environment's pending calls; created on the first call. */
typedef struct blocking_hub blocking_hub;

/* blockingIo(fd, bytes, write, done(result, cancelled)) -> id > 0, or -errno. */
napi_value blocking_start(napi_env env, napi_callback_info info, blocking_hub **hub);
/* blockingCancel(id) -> 0, or -ENOENT if no such call is pending. */
napi_value blocking_cancel(napi_env env, napi_callback_info info, blocking_hub *hub);
/* Environment teardown: interrupts every pending call and waits until none is in its syscall. */
void blocking_teardown(blocking_hub *hub);
/* The environment's instance data is freed: it drops its reference to the hub. */
void blocking_release(blocking_hub *hub);

#endif
