/*
 * usbfs URBs (usb.md §A2, drivers/usb/core/devio.c): asynchronous transfers
 * whose memory outlives the ioctl that submits them.
 *
 * The kernel knows a URB by the user address of its usbdevfs_urb: it keeps
 * that address at SUBMITURB, writes status, actual_length and error_count
 * there when the URB is reaped, copies an IN URB's data to its buffer then
 * (OUT data is copied in at submit), and answers REAPURB with the address.
 * So, as for every by-address argument, the kernel gets a private copy of
 * the caller's urb, here in a table entry that lives until the URB is reaped
 * or its fd closed, with the buffer field set to the caller's data; the
 * caller's urb and data are held by references meanwhile. A reap translates
 * the address back: the entry's urb is copied into the caller's bytes (their
 * buffer field kept), and the usercontext, never an address, is what the
 * 8-byte argument receives.
 */
#include "usbfs.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#define URB_SIZE 56 /* sizeof(struct usbdevfs_urb) on 64-bit, without iso_frame_desc[] */
#define URB_TYPE_OFF 0
#define URB_TYPE_ISO 0
#define URB_BUFFER_OFF 16
#define URB_USERCONTEXT_OFF 48

struct urb_entry {
  urb_entry *next;
  uint64_t urb[URB_SIZE / sizeof(uint64_t)]; /* the copy the kernel knows the URB by */
  int fd;
  const void *caller_urb; /* the bytes given to SUBMITURB: DISCARDURB names the URB by them */
  napi_ref urb_ref, data_ref;
};

static void entry_free(napi_env env, urb_entry *e) {
  napi_delete_reference(env, e->urb_ref);
  if (e->data_ref != NULL) napi_delete_reference(env, e->data_ref);
  free(e);
}

static napi_value too_short(napi_env env, const ioctl_rule *rule, size_t len) {
  char msg[128];
  snprintf(msg, sizeof msg, "ioctl argument holds %zu bytes but request 0x%08x needs %u", len,
           rule->request, rule->size);
  return throw_range(env, msg);
}

napi_value urb_submit(napi_env env, int fd, const ioctl_rule *rule, napi_value urb_v, void *data,
                      size_t len, napi_value off_v, napi_value target_v, urb_entry **urbs) {
  if (len < URB_SIZE) return too_short(env, rule, len);
  urb_entry *e = calloc(1, sizeof *e);
  if (e == NULL) return make_int(env, -ENOMEM);
  memcpy(e->urb, data, URB_SIZE);
  char *urb = (char *)e->urb;
  /* An isochronous URB's frame descriptors follow the struct: the kernel would read (and, at
   * reap, write) past the copy. */
  if (urb[URB_TYPE_OFF] == URB_TYPE_ISO) {
    free(e);
    return throw_range(env, "isochronous URBs (type 0) are not supported: their frame descriptors follow the urb");
  }
  /* The length the kernel will use is the copy's; a negative one it refuses (EINVAL). */
  int32_t length;
  memcpy(&length, urb + rule->count_off, sizeof length);
  uint64_t address;
  if (!pointer_target(env, rule, off_v, target_v, length > 0 ? (uint32_t)length : 0, &address)) {
    free(e);
    return NULL;
  }
  memcpy(urb + rule->ptr_off, &address, sizeof address);
  if (napi_create_reference(env, urb_v, 1, &e->urb_ref) != napi_ok) {
    free(e);
    return NULL;
  }
  if (off_v != NULL && napi_create_reference(env, target_v, 1, &e->data_ref) != napi_ok) {
    napi_delete_reference(env, e->urb_ref);
    free(e);
    return NULL;
  }
  int rc = ioctl(fd, (unsigned long)rule->request, e->urb);
  if (rc < 0) {
    int err = errno;
    entry_free(env, e);
    return make_int(env, -err);
  }
  e->fd = fd;
  e->caller_urb = data;
  e->next = *urbs;
  *urbs = e;
  return make_int(env, rc);
}

napi_value urb_reap(napi_env env, int fd, const ioctl_rule *rule, void *data, size_t len,
                    urb_entry **urbs) {
  if (len < rule->size) return too_short(env, rule, len);
  uint64_t reaped = 0;
  int rc = ioctl(fd, (unsigned long)rule->request, &reaped);
  if (rc < 0) return make_int(env, -errno);
  urb_entry **link = urbs;
  while (*link != NULL && (uint64_t)(uintptr_t)(*link)->urb != reaped) link = &(*link)->next;
  urb_entry *e = *link;
  if (e == NULL) return make_int(env, -ENOENT); /* submitted by someone else (another thread's addon, C code) */
  *link = e->next;

  napi_value urb_v;
  void *caller;
  size_t caller_len;
  const char *urb = (const char *)e->urb;
  /* The caller's urb bytes, unless they were detached since: all but the buffer field. */
  if (napi_get_reference_value(env, e->urb_ref, &urb_v) == napi_ok && urb_v != NULL &&
      get_bytes(env, urb_v, &caller, &caller_len) && caller != NULL && caller_len >= URB_SIZE) {
    const size_t after = URB_BUFFER_OFF + sizeof(uint64_t);
    memcpy(caller, urb, URB_BUFFER_OFF);
    memcpy((char *)caller + after, urb + after, URB_SIZE - after);
  }
  memcpy(data, urb + URB_USERCONTEXT_OFF, sizeof(uint64_t));
  entry_free(env, e);
  return make_int(env, rc);
}

napi_value urb_discard(napi_env env, int fd, const ioctl_rule *rule, void *data, urb_entry **urbs) {
  const void *address = NULL; /* not a URB of ours: the kernel answers EINVAL (ENOTTY elsewhere) */
  for (urb_entry *e = *urbs; e != NULL && data != NULL; e = e->next) {
    if (e->fd == fd && e->caller_urb == data) {
      address = e->urb;
      break;
    }
  }
  return result(env, ioctl(fd, (unsigned long)rule->request, address));
}

/* The kernel kills and frees an fd's URBs in its release (devio.c destroy_all_async). */
napi_value urb_release(napi_env env, napi_callback_info info, urb_entry **urbs) {
  napi_value argv[1];
  int fd;
  int64_t forgotten = 0;
  if (!get_args(env, info, 1, argv) || !get_fd(env, argv[0], &fd)) return NULL;
  for (urb_entry **link = urbs; *link != NULL;) {
    urb_entry *e = *link;
    if (e->fd == fd) {
      *link = e->next;
      entry_free(env, e);
      forgotten++;
    } else {
      link = &e->next;
    }
  }
  return make_int(env, forgotten);
}
