/*
 * usbfs URBs (native/usbfs.c): SUBMITURB, REAPURB(NDELAY) and DISCARDURB,
 * whose memory outlives the ioctl (src/kernel/port.ts).
 */
#ifndef IIOJS_USBFS_H
#define IIOJS_USBFS_H

#include "ioctl_rule.h"

/* A URB submitted and not yet reaped; an environment keeps a list of them. */
typedef struct urb_entry urb_entry;

/* The arguments: the checked rule, the fd, and the caller's bytes (data NULL if detached). */
napi_value urb_submit(napi_env env, int fd, const ioctl_rule *rule, napi_value urb_v, void *data,
                      size_t len, napi_value off_v, napi_value target_v, urb_entry **urbs);
napi_value urb_reap(napi_env env, int fd, const ioctl_rule *rule, void *data, size_t len,
                    urb_entry **urbs);
napi_value urb_discard(napi_env env, int fd, const ioctl_rule *rule, void *data, urb_entry **urbs);
/* urbRelease(fd) -> how many URBs of `fd` were forgotten: call it once fd is closed. */
napi_value urb_release(napi_env env, napi_callback_info info, urb_entry **urbs);

#endif
