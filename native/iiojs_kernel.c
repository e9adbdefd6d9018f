/*
 * iiojs kernel addon: the few Linux syscalls node:fs does not offer, for the
 * Linux Kernel port (src/kernel/linux). Plain C over node_api.h, NAPI 8.
 *
 * Conventions:
 *  - Syscall failures are returned as a negative errno (never thrown), so the
 *    hot path allocates nothing; the TypeScript layer turns them into
 *    Node-style errors that name the request.
 *  - Wrong arguments throw TypeError/RangeError; nothing a caller passes may
 *    crash the process or make the kernel touch memory it does not own.
 *    ioctl only takes the requests of its table (RULES), which says for each
 *    what the kernel reads and writes; the kernel works on a private copy of
 *    the argument, so no heap address ever reaches JavaScript memory.
 *  - No global mutable state: per-environment state lives in instance data,
 *    so the addon loads in any number of worker threads.
 */
#include "addon.h"
#include "blocking.h"
#include "ioctl_rule.h"
#include "usbfs.h"

#include <uv.h>

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/syscall.h>
#include <unistd.h>
#include <linux/ioctl.h>

#ifndef MFD_CLOEXEC
#define MFD_CLOEXEC 0x0001U
#define MFD_ALLOW_SEALING 0x0002U
#define MFD_HUGETLB 0x0004U
#endif
#ifndef F_ADD_SEALS
#define F_ADD_SEALS 1033
#define F_GET_SEALS 1034
#define F_SEAL_SEAL 0x0001
#define F_SEAL_SHRINK 0x0002
#define F_SEAL_GROW 0x0004
#define F_SEAL_WRITE 0x0008
#endif
#ifndef F_SEAL_FUTURE_WRITE
#define F_SEAL_FUTURE_WRITE 0x0010
#endif

/* Per-environment state (instance data). */
typedef struct watcher watcher;
typedef struct addon_state addon_state;
struct addon_state {
  watcher *open; /* list of watchers not yet closed */
  unsigned pending_closes; /* uv_close calls whose callback has not run yet */
  napi_async_cleanup_hook_handle cleanup;
  int tearing_down;
  blocking_hub *blocking; /* readBlocking/writeBlocking calls (native/blocking.c) */
  urb_entry *urbs;        /* URBs submitted and not yet reaped (native/usbfs.c) */
};

/* Type tags tell our handles apart from any other external or ArrayBuffer. */
static const napi_type_tag MAPPING_TAG = {0x69696f6a735f6d61ULL, 0x7070696e67000001ULL};
static const napi_type_tag WATCHER_TAG = {0x69696f6a735f7761ULL, 0x7463686572000001ULL};

/* ---- ioctl ------------------------------------------------------------- */

/*
 * Every request the addon accepts, with how the kernel uses its argument.
 * The kernel trusts the third ioctl argument completely: a number where it
 * expects a pointer is dereferenced, and it reads or writes as many bytes as
 * the driver decides, which _IOC_SIZE does not always say (a flexible array,
 * a user pointer inside the struct, a string, a legacy number with no size).
 * So the addon refuses requests it does not know, and for the ones it knows
 * checks that the caller's bytes cover everything the kernel will touch.
 *
 * By-address arguments are copied into a private buffer and the kernel is
 * given that copy: pointer fields are patched into the copy only, so no heap
 * address is ever written to memory JavaScript can see, and counts are read
 * from the same copy the kernel reads (another thread writing a
 * SharedArrayBuffer cannot change them between the check and the call).
 */
/* Requests that follow the _IOC convention: the kernel copies _IOC_SIZE bytes,
 * in for _IOC_WRITE, back out for _IOC_READ. */
#define IOC_OUT_(req) ((_IOC_DIR(req) & _IOC_READ) != 0)
#define NONE(req) {(req), ARG_NONE, 0, 0, 0, 0, 0, 0}
#define VALUE(req) {(req), ARG_VALUE, 0, 0, 0, 0, 0, 0}
#define STRUCT(req) {(req), ARG_STRUCT, IOC_OUT_(req), _IOC_SIZE(req), 0, 0, 0, 0}
/* usbfs's _IOR requests whose argument the kernel only reads */
#define INPUT(req) {(req), ARG_STRUCT, 0, _IOC_SIZE(req), 0, 0, 0, 0}
#define FLEX(req, count_off, elem) {(req), ARG_FLEX, IOC_OUT_(req), _IOC_SIZE(req), (count_off), 4, (elem), 0}
#define POINTER(req, out, count_off, count_size, elem, ptr_off) \
  {(req), ARG_POINTER, (out), _IOC_SIZE(req), (count_off), (count_size), (elem), (ptr_off)}
#define STRING(req, max) {(req), ARG_STRING, 0, (max), 0, 0, 0, 0}
#define URB(req, count_off, elem, ptr_off) {(req), ARG_URB, 0, _IOC_SIZE(req), (count_off), 4, (elem), (ptr_off)}
#define URB_REAP(req) {(req), ARG_URB_REAP, 0, _IOC_SIZE(req), 0, 0, 0, 0}
#define URB_DISCARD(req) {(req), ARG_URB_DISCARD, 0, 0, 0, 0, 0, 0}

static const ioctl_rule RULES[] = {
    /* IIO (kernel-abi.md §1, §2): int * or struct iio_dmabuf */
    STRUCT(_IOC(_IOC_READ, 'i', 0x90, 4)),               /* IIO_GET_EVENT_FD_IOCTL */
    STRUCT(_IOC(_IOC_READ | _IOC_WRITE, 'i', 0x91, 4)),  /* IIO_BUFFER_GET_FD_IOCTL */
    STRUCT(_IOC(_IOC_WRITE, 'i', 0x92, 4)),              /* IIO_BUFFER_DMABUF_ATTACH_IOCTL */
    STRUCT(_IOC(_IOC_WRITE, 'i', 0x93, 4)),              /* IIO_BUFFER_DMABUF_DETACH_IOCTL */
    STRUCT(_IOC(_IOC_WRITE, 'i', 0x94, 16)),             /* IIO_BUFFER_DMABUF_ENQUEUE_IOCTL */
    /* DMA-BUF (§4.4–§4.6) */
    STRUCT(_IOC(_IOC_WRITE, 'b', 0, 8)),                 /* DMA_BUF_IOCTL_SYNC */
    STRING(_IOC(_IOC_WRITE, 'b', 1, 4), 32),             /* DMA_BUF_SET_NAME_A: strndup_user(arg, 32) */
    STRING(_IOC(_IOC_WRITE, 'b', 1, 8), 32),             /* DMA_BUF_SET_NAME_B */
    STRUCT(_IOC(_IOC_READ | _IOC_WRITE, 'b', 2, 8)),     /* DMA_BUF_IOCTL_EXPORT_SYNC_FILE */
    STRUCT(_IOC(_IOC_WRITE, 'b', 3, 8)),                 /* DMA_BUF_IOCTL_IMPORT_SYNC_FILE */
    /* DMA heaps and udmabuf (§4.1, §4.2) */
    STRUCT(_IOC(_IOC_READ | _IOC_WRITE, 'H', 0, 24)),    /* DMA_HEAP_IOCTL_ALLOC */
    STRUCT(_IOC(_IOC_WRITE, 'u', 0x42, 24)),             /* UDMABUF_CREATE */
    FLEX(_IOC(_IOC_WRITE, 'u', 0x43, 8), 4, 24),         /* UDMABUF_CREATE_LIST: count items after the header */
    /* sync_file (§4.6) */
    STRUCT(_IOC(_IOC_READ | _IOC_WRITE, '>', 3, 48)),    /* SYNC_IOC_MERGE */
    POINTER(_IOC(_IOC_READ | _IOC_WRITE, '>', 4, 56), 1, 40, 4, 80, 48), /* SYNC_IOC_FILE_INFO: num_fences × sync_fence_info */
    STRUCT(_IOC(_IOC_WRITE, '>', 5, 16)),                /* SYNC_IOC_SET_DEADLINE */
    /* FunctionFS (kernel-abi.md §5, <linux/usb/functionfs.h>) */
    NONE(_IOC(_IOC_NONE, 'g', 1, 0)),                    /* FUNCTIONFS_FIFO_STATUS */
    NONE(_IOC(_IOC_NONE, 'g', 2, 0)),                    /* FUNCTIONFS_FIFO_FLUSH */
    NONE(_IOC(_IOC_NONE, 'g', 3, 0)),                    /* FUNCTIONFS_CLEAR_HALT */
    VALUE(_IOC(_IOC_NONE, 'g', 128, 0)),                 /* FUNCTIONFS_INTERFACE_REVMAP: the interface number */
    NONE(_IOC(_IOC_NONE, 'g', 129, 0)),                  /* FUNCTIONFS_ENDPOINT_REVMAP */
    STRUCT(_IOC(_IOC_READ, 'g', 130, 9)),                /* FUNCTIONFS_ENDPOINT_DESC */
    STRUCT(_IOC(_IOC_WRITE, 'g', 131, 4)),               /* FUNCTIONFS_DMABUF_ATTACH */
    STRUCT(_IOC(_IOC_WRITE, 'g', 132, 4)),               /* FUNCTIONFS_DMABUF_DETACH */
    STRUCT(_IOC(_IOC_WRITE, 'g', 133, 16)),              /* FUNCTIONFS_DMABUF_TRANSFER */
    /* usbfs (usb.md §A2, <linux/usbdevice_fs.h>, 64-bit layouts) */
    POINTER(_IOC(_IOC_READ | _IOC_WRITE, 'U', 0, 24), 0, 6, 2, 1, 16), /* USBDEVFS_CONTROL: wLength bytes at data */
    POINTER(_IOC(_IOC_READ | _IOC_WRITE, 'U', 2, 24), 0, 4, 4, 1, 16), /* USBDEVFS_BULK: len bytes at data */
    INPUT(_IOC(_IOC_READ, 'U', 4, 8)),                   /* USBDEVFS_SETINTERFACE */
    INPUT(_IOC(_IOC_READ, 'U', 5, 4)),                   /* USBDEVFS_SETCONFIGURATION */
    URB(_IOC(_IOC_READ, 'U', 10, 56), 24, 1, 16),        /* USBDEVFS_SUBMITURB: buffer_length bytes at buffer */
    URB_DISCARD(_IOC(_IOC_NONE, 'U', 11, 0)),            /* USBDEVFS_DISCARDURB */
    URB_REAP(_IOC(_IOC_WRITE, 'U', 12, 8)),              /* USBDEVFS_REAPURB */
    URB_REAP(_IOC(_IOC_WRITE, 'U', 13, 8)),              /* USBDEVFS_REAPURBNDELAY */
    INPUT(_IOC(_IOC_READ, 'U', 15, 4)),                  /* USBDEVFS_CLAIMINTERFACE */
    INPUT(_IOC(_IOC_READ, 'U', 16, 4)),                  /* USBDEVFS_RELEASEINTERFACE */
    NONE(_IOC(_IOC_NONE, 'U', 20, 0)),                   /* USBDEVFS_RESET */
    INPUT(_IOC(_IOC_READ, 'U', 21, 4)),                  /* USBDEVFS_CLEAR_HALT */
    STRUCT(_IOC(_IOC_READ, 'U', 26, 4)),                 /* USBDEVFS_GET_CAPABILITIES */
    NONE(_IOC(_IOC_NONE, 'U', 31, 0)),                   /* USBDEVFS_GET_SPEED */
    /* Legacy: _IOC_SIZE says 0 but the kernel writes an int (bench/addon-syscalls.ts). */
    {0x541B, ARG_STRUCT, 1, 4, 0, 0, 0, 0},              /* FIONREAD */
    /* Requests the conformance suites send to see how the kernel refuses or resizes them
     * (test/conformance-*.test.ts); none is implemented with a different argument. */
    NONE(_IOC(_IOC_NONE, 'i', 0xee, 0)),                 /* unknown IIO request */
    STRUCT(_IOC(_IOC_READ, 'T', 1, 4)),                  /* a tty-like request on an IIO fd */
    NONE(_IOC(_IOC_NONE, 'b', 0x7f, 0)),                 /* unknown DMA-BUF request */
    NONE(_IOC(_IOC_NONE, 'u', 0x7f, 0)),                 /* unknown udmabuf request */
    NONE(_IOC(_IOC_NONE, '>', 0x7f, 0)),                 /* unknown sync_file request */
    STRUCT(_IOC(_IOC_READ | _IOC_WRITE, 'H', 1, 24)),    /* unknown heap nr */
    STRUCT(_IOC(_IOC_READ | _IOC_WRITE, 'H', 0, 16)),    /* ALLOC, shorter struct */
    STRUCT(_IOC(_IOC_READ | _IOC_WRITE, 'H', 0, 32)),    /* ALLOC, longer struct */
    STRUCT(_IOC(_IOC_READ, 'H', 0, 24)),                 /* ALLOC without _IOC_WRITE */
};
#define NRULES (sizeof RULES / sizeof RULES[0])

/* A linear scan: ~30 entries of 12 bytes, cheaper than the syscall by far. */
static const ioctl_rule *find_rule(uint32_t request) {
  for (size_t i = 0; i < NRULES; i++)
    if (RULES[i].request == request) return &RULES[i];
  return NULL;
}

static const char *const KIND_NAMES[] = {"none",   "value", "struct",   "flex",       "pointer",
                                         "string", "urb",   "urb-reap", "urb-discard"};

int pointer_target(napi_env env, const ioctl_rule *rule, napi_value off_v, napi_value target_v,
                   uint32_t count, uint64_t *address) {
  char msg[192];
  int64_t off;
  void *target;
  size_t target_len;
  *address = 0; /* no target: NULL, which the kernel answers with EFAULT if it touches it */
  if (off_v == NULL) return 1;
  if (!get_integer(env, off_v, 0, UINT32_MAX, "pointer offset", &off)) return 0;
  if (off != rule->ptr_off) {
    snprintf(msg, sizeof msg, "the pointer field of request 0x%08x is at offset %u, not %lld",
             rule->request, rule->ptr_off, (long long)off);
    throw_range(env, msg);
    return 0;
  }
  if (!get_bytes(env, target_v, &target, &target_len)) {
    throw_type(env, "pointer target must be an ArrayBuffer or ArrayBufferView");
    return 0;
  }
  if (target == NULL) target_len = 0;
  uint64_t target_need = (uint64_t)count * rule->elem;
  if (target_len < target_need) {
    snprintf(msg, sizeof msg, "pointer target holds %zu bytes but request 0x%08x writes %u × %u = %llu",
             target_len, rule->request, count, rule->elem, (unsigned long long)target_need);
    throw_range(env, msg);
    return 0;
  }
  *address = (uint64_t)(uintptr_t)target;
  return 1;
}

/* The private copy lives on the stack up to this size (every struct request). */
#define STACK_ARG 256

/*
 * ioctl(fd, request, arg?, pointers?) -> result >= 0 or -errno.
 * The request must be in RULES (else RangeError). arg by its kind: undefined
 * for none, an integer for value, bytes (ArrayBuffer or view) for the rest;
 * anything else is a TypeError. Bytes must cover the rule's extent (else
 * RangeError). pointers: [[offset, target]] only for ARG_POINTER and ARG_URB
 * rules, at exactly ptr_off, with a target of at least count × elem bytes;
 * without it the field is passed as NULL. The caller's bytes are updated from
 * the copy for requests the kernel writes back, except the pointer field,
 * which keeps the caller's value. The URB kinds go to native/usbfs.c, whose
 * copies outlive the call.
 */
static napi_value ioctl_call(napi_env env, napi_callback_info info) {
  napi_value argv[4];
  int fd;
  int64_t req;
  char msg[192];
  if (!get_args(env, info, 4, argv) || !get_fd(env, argv[0], &fd)) return NULL;
  if (!get_integer(env, argv[1], INT32_MIN, UINT32_MAX, "request", &req)) return NULL;
  uint32_t request = (uint32_t)req;
  const ioctl_rule *rule = find_rule(request);
  if (rule == NULL) {
    snprintf(msg, sizeof msg, "ioctl request 0x%08x is not one the iiojs addon knows", request);
    return throw_range(env, msg);
  }
  bool has_pointers = !is_type(env, argv[3], napi_undefined);
  if (has_pointers && rule->kind != ARG_POINTER && rule->kind != ARG_URB) {
    snprintf(msg, sizeof msg, "ioctl request 0x%08x has no pointer fields", request);
    return throw_type(env, msg);
  }

  if (rule->kind == ARG_NONE || rule->kind == ARG_VALUE) {
    int64_t value = 0;
    if (rule->kind == ARG_NONE && !is_type(env, argv[2], napi_undefined)) {
      snprintf(msg, sizeof msg, "ioctl request 0x%08x takes no argument", request);
      return throw_type(env, msg);
    }
    if (rule->kind == ARG_VALUE &&
        !get_integer(env, argv[2], INT32_MIN, UINT32_MAX, "ioctl argument", &value))
      return NULL;
    return result(env, ioctl(fd, (unsigned long)request, (unsigned long)value));
  }

  /* Fetch the pointer pair's elements first: an index getter may run
   * JavaScript (and detach a buffer), so no data pointer is taken before. */
  napi_value off_v = NULL, target_v = NULL;
  if (has_pointers) {
    bool is_array = false;
    uint32_t count = 0;
    if (napi_is_array(env, argv[3], &is_array) != napi_ok || !is_array)
      return throw_type(env, "pointers must be an array of [offset, bytes] pairs");
    CHECK(napi_get_array_length(env, argv[3], &count));
    if (count > 1) {
      snprintf(msg, sizeof msg, "ioctl request 0x%08x has 1 pointer field, not %u", request, count);
      return throw_range(env, msg);
    }
    if (count == 1) {
      napi_value pair;
      CHECK(napi_get_element(env, argv[3], 0, &pair));
      if (napi_is_array(env, pair, &is_array) != napi_ok || !is_array)
        return throw_type(env, "pointers must be an array of [offset, bytes] pairs");
      CHECK(napi_get_element(env, pair, 0, &off_v));
      CHECK(napi_get_element(env, pair, 1, &target_v));
    }
  }
  /* From here on nothing runs JavaScript until the ioctl returns. */

  void *data;
  size_t len;
  if (!get_bytes(env, argv[2], &data, &len)) {
    snprintf(msg, sizeof msg,
             "ioctl request 0x%08x takes its argument by address: an ArrayBuffer or ArrayBufferView",
             request);
    return throw_type(env, msg);
  }
  if (data == NULL) len = 0; /* detached */
  if (rule->kind >= ARG_URB) { /* the URB table: native/usbfs.c */
    addon_state *s;
    CHECK(napi_get_instance_data(env, (void **)&s));
    if (rule->kind == ARG_URB) return urb_submit(env, fd, rule, argv[2], data, len, off_v, target_v, &s->urbs);
    if (rule->kind == ARG_URB_REAP) return urb_reap(env, fd, rule, data, len, &s->urbs);
    return urb_discard(env, fd, rule, data, &s->urbs);
  }

  /* The extent the kernel touches at the argument address. */
  uint64_t need = rule->size;
  if (rule->kind == ARG_STRING) {
    const char *nul = len == 0 ? NULL : memchr(data, 0, len < rule->size ? len : rule->size);
    if (nul != NULL) need = (uint64_t)(nul - (const char *)data) + 1;
    else if (len < rule->size) { /* the kernel would read on past the bytes looking for the NUL */
      snprintf(msg, sizeof msg,
               "ioctl argument holds %zu bytes without a NUL but request 0x%08x reads up to %u",
               len, request, rule->size);
      return throw_range(env, msg);
    }
  }
  if (len < need) goto too_short;
  if (rule->kind == ARG_FLEX) {
    uint32_t count;
    memcpy(&count, (char *)data + rule->count_off, sizeof count);
    need += (uint64_t)count * rule->elem;
    if (len < need) goto too_short;
  }

  uint64_t stack[STACK_ARG / sizeof(uint64_t)]; /* aligned, and room for strnlen_user's word reads */
  char *copy = (char *)stack;
  if (need > STACK_ARG) { /* only long UDMABUF_CREATE_LIST item lists */
    copy = malloc(need);
    if (copy == NULL) return make_int(env, -ENOMEM);
  } else if (rule->kind == ARG_STRING) {
    memset(stack, 0, sizeof stack);
  }
  memcpy(copy, data, need);

  uint64_t caller_slot = 0;
  napi_value ret = NULL; /* a thrown error, unless the ioctl is made */
  if (rule->kind == ARG_FLEX) { /* the count the kernel will read must be the one checked */
    uint32_t count;
    memcpy(&count, copy + rule->count_off, sizeof count);
    if (rule->size + (uint64_t)count * rule->elem != need) {
      throw_range(env, "ioctl argument changed while it was being copied");
      goto done;
    }
  }
  if (rule->kind == ARG_POINTER) {
    uint16_t count16;
    uint32_t count;
    uint64_t address;
    if (rule->count_size == 2) {
      memcpy(&count16, copy + rule->count_off, sizeof count16);
      count = count16;
    } else {
      memcpy(&count, copy + rule->count_off, sizeof count);
    }
    memcpy(&caller_slot, copy + rule->ptr_off, sizeof caller_slot);
    if (!pointer_target(env, rule, off_v, target_v, count, &address)) goto done;
    memcpy(copy + rule->ptr_off, &address, sizeof address);
  }

  int rc = ioctl(fd, (unsigned long)request, copy);
  int saved_errno = errno;
  if (rule->out) {
    memcpy(data, copy, need);
    /* The slot keeps the caller's value, even where a target overlapping the
     * argument was written by the kernel. */
    if (rule->kind == ARG_POINTER) memcpy((char *)data + rule->ptr_off, &caller_slot, sizeof caller_slot);
  }
  ret = make_int(env, rc < 0 ? -saved_errno : rc);
done:
  if (copy != (char *)stack) free(copy);
  return ret;

too_short:
  snprintf(msg, sizeof msg, "ioctl argument holds %zu bytes but request 0x%08x needs %llu", len,
           request, (unsigned long long)need);
  return throw_range(env, msg);
}

/* The request table for JavaScript: request number → {kind, size, ...}. */
static napi_value make_requests(napi_env env) {
  napi_value all;
  CHECK(napi_create_object(env, &all));
  for (size_t i = 0; i < NRULES; i++) {
    const ioctl_rule *r = &RULES[i];
    napi_value entry, key, kind;
    CHECK(napi_create_object(env, &entry));
    CHECK(napi_create_string_utf8(env, KIND_NAMES[r->kind], NAPI_AUTO_LENGTH, &kind));
    CHECK(napi_set_named_property(env, entry, "kind", kind));
    if (r->kind != ARG_NONE && r->kind != ARG_VALUE && r->kind != ARG_URB_DISCARD) {
      if (!set_int(env, entry, "size", r->size)) return NULL;
    }
    if (r->kind != ARG_NONE && r->kind != ARG_VALUE && r->kind < ARG_URB) {
      napi_value out;
      CHECK(napi_get_boolean(env, r->out, &out));
      CHECK(napi_set_named_property(env, entry, "out", out));
    }
    if (r->kind == ARG_FLEX || r->kind == ARG_POINTER || r->kind == ARG_URB) {
      if (!set_int(env, entry, "countOffset", r->count_off) || !set_int(env, entry, "elemSize", r->elem))
        return NULL;
    }
    if (r->kind == ARG_POINTER && !set_int(env, entry, "countSize", r->count_size)) return NULL;
    if ((r->kind == ARG_POINTER || r->kind == ARG_URB) && !set_int(env, entry, "pointerOffset", r->ptr_off))
      return NULL;
    CHECK(napi_create_uint32(env, r->request, &key));
    CHECK(napi_set_property(env, all, key, entry));
    CHECK(napi_object_freeze(env, entry));
  }
  CHECK(napi_object_freeze(env, all));
  return all;
}

/* fcntl(fd, cmd, arg?) -> result or -errno. Only the integer-argument
 * commands the port needs: a pointer-argument command would let the kernel
 * write through an integer. */
static napi_value fcntl_call(napi_env env, napi_callback_info info) {
  napi_value argv[3];
  int fd;
  int64_t cmd, arg = 0;
  if (!get_args(env, info, 3, argv) || !get_fd(env, argv[0], &fd)) return NULL;
  if (!get_integer(env, argv[1], 0, INT_MAX, "cmd", &cmd)) return NULL;
  if (!is_type(env, argv[2], napi_undefined) &&
      !get_integer(env, argv[2], INT32_MIN, UINT32_MAX, "arg", &arg))
    return NULL;
  if (cmd != F_GETFD && cmd != F_SETFD && cmd != F_GETFL && cmd != F_SETFL &&
      cmd != F_ADD_SEALS && cmd != F_GET_SEALS)
    return throw_range(env, "fcntl: cmd must be F_GETFD, F_SETFD, F_GETFL, F_SETFL, F_ADD_SEALS or F_GET_SEALS");
  return result(env, fcntl(fd, (int)cmd, (long)arg));
}

/* close(fd) -> 0 or -errno, for fds Node did not open (see src/kernel/linux). */
static napi_value close_call(napi_env env, napi_callback_info info) {
  napi_value argv[1];
  int fd;
  if (!get_args(env, info, 1, argv) || !get_fd(env, argv[0], &fd)) return NULL;
  return result(env, close(fd));
}

/* lseek(fd, offset, whence) -> new offset or -errno. */
static napi_value lseek_call(napi_env env, napi_callback_info info) {
  napi_value argv[3];
  int fd;
  int64_t off, whence;
  if (!get_args(env, info, 3, argv) || !get_fd(env, argv[0], &fd)) return NULL;
  if (!get_integer(env, argv[1], -9007199254740991.0, 9007199254740991.0, "offset", &off) ||
      !get_integer(env, argv[2], 0, INT_MAX, "whence", &whence))
    return NULL;
  return result(env, (int64_t)lseek(fd, (off_t)off, (int)whence));
}

/* memfdCreate(name, flags) -> fd or -errno. */
static napi_value memfd_create_call(napi_env env, napi_callback_info info) {
  napi_value argv[2];
  char name[249]; /* the kernel's MFD_NAME_MAX_LEN, NUL included */
  int64_t flags;
  if (!get_args(env, info, 2, argv) || !get_string(env, argv[0], name, sizeof name, "memfd name") ||
      !get_integer(env, argv[1], 0, UINT32_MAX, "flags", &flags))
    return NULL;
  return result(env, syscall(SYS_memfd_create, name, (unsigned int)flags));
}

/*
 * mount(source, target, fstype, data?) -> 0 or -errno: mount(2) without
 * flags; data is the option string (NULL if undefined). Synchronous: the
 * filesystems the port mounts (functionfs, configfs) are in memory and answer
 * at once.
 */
static napi_value mount_call(napi_env env, napi_callback_info info) {
  napi_value argv[4];
  char source[PATH_MAX], target[PATH_MAX], fstype[256], data[4096]; /* data: one page, as the kernel copies */
  if (!get_args(env, info, 4, argv) || !get_string(env, argv[0], source, sizeof source, "source") ||
      !get_string(env, argv[1], target, sizeof target, "target") ||
      !get_string(env, argv[2], fstype, sizeof fstype, "fstype"))
    return NULL;
  bool has_data = !is_type(env, argv[3], napi_undefined);
  if (has_data && !get_string(env, argv[3], data, sizeof data, "mount data")) return NULL;
  return result(env, mount(source, target, fstype, 0, has_data ? data : NULL));
}

/* umount(target) -> 0 or -errno: umount2(2) without flags. */
static napi_value umount_call(napi_env env, napi_callback_info info) {
  napi_value argv[1];
  char target[PATH_MAX];
  if (!get_args(env, info, 1, argv) || !get_string(env, argv[0], target, sizeof target, "target")) return NULL;
  return result(env, umount2(target, 0));
}

/* pollNow(fd, events) -> revents (poll with a zero timeout) or -errno. */
static napi_value poll_now_call(napi_env env, napi_callback_info info) {
  napi_value argv[2];
  int fd;
  int64_t events;
  if (!get_args(env, info, 2, argv) || !get_fd(env, argv[0], &fd)) return NULL;
  if (!get_integer(env, argv[1], 0, 0xffff, "events", &events)) return NULL;
  struct pollfd p = {.fd = fd, .events = (short)events, .revents = 0};
  int rc;
  do rc = poll(&p, 1, 0);
  while (rc < 0 && errno == EINTR);
  return make_int(env, rc < 0 ? -errno : p.revents);
}

/* ---- mmap -------------------------------------------------------------- */

/*
 * A mapping is exposed as an external ArrayBuffer. munmap() detaches the
 * ArrayBuffer before unmapping, so JavaScript never sees unmapped memory;
 * the finalizer unmaps what the program forgot.
 */
typedef struct {
  void *addr;
  size_t length;
  int mapped;
} mapping;

static void mapping_finalize(napi_env env, void *data, void *hint) {
  (void)env;
  (void)data;
  mapping *m = hint;
  if (m->mapped) munmap(m->addr, m->length);
  free(m);
}

/* mmap(fd, length, prot, flags, offset) -> ArrayBuffer or -errno. */
static napi_value mmap_call(napi_env env, napi_callback_info info) {
  napi_value argv[5], ab;
  int fd;
  int64_t length, prot, flags, offset;
  if (!get_args(env, info, 5, argv) || !get_fd(env, argv[0], &fd)) return NULL;
  if (!get_integer(env, argv[1], 1, 9007199254740991.0, "length", &length) ||
      !get_integer(env, argv[2], 0, INT_MAX, "prot", &prot) ||
      !get_integer(env, argv[3], 0, INT_MAX, "flags", &flags) ||
      !get_integer(env, argv[4], 0, 9007199254740991.0, "offset", &offset))
    return NULL;
  if (flags & MAP_FIXED) return throw_range(env, "mmap: MAP_FIXED is not allowed");
  void *addr = mmap(NULL, (size_t)length, (int)prot, (int)flags, fd, (off_t)offset);
  if (addr == MAP_FAILED) return make_int(env, -errno);
  mapping *m = malloc(sizeof *m);
  if (m == NULL) {
    munmap(addr, (size_t)length);
    return make_int(env, -ENOMEM);
  }
  *m = (mapping){.addr = addr, .length = (size_t)length, .mapped = 1};
  if (napi_create_external_arraybuffer(env, addr, (size_t)length, mapping_finalize, m, &ab) !=
      napi_ok) {
    munmap(addr, (size_t)length);
    free(m);
    return NULL;
  }
  if (napi_type_tag_object(env, ab, &MAPPING_TAG) != napi_ok ||
      napi_wrap(env, ab, m, NULL, NULL, NULL) != napi_ok)
    return NULL; /* the finalizer still unmaps */
  return ab;
}

/* munmap(arrayBuffer) -> 0 or -errno; -EINVAL if it was already unmapped. */
static napi_value munmap_call(napi_env env, napi_callback_info info) {
  napi_value argv[1];
  bool tagged = false;
  mapping *m = NULL;
  if (!get_args(env, info, 1, argv)) return NULL;
  if (!is_type(env, argv[0], napi_object) ||
      napi_check_object_type_tag(env, argv[0], &MAPPING_TAG, &tagged) != napi_ok || !tagged)
    return throw_type(env, "munmap takes an ArrayBuffer returned by mmap");
  /* The wrap is removed on the first munmap: a second one finds nothing. */
  if (napi_remove_wrap(env, argv[0], (void **)&m) != napi_ok || m == NULL)
    return make_int(env, -EINVAL);
  void *addr = m->addr;
  size_t length = m->length;
  m->mapped = 0; /* the finalizer must not unmap an address that may be reused */
  CHECK(napi_detach_arraybuffer(env, argv[0]));
  return make_int(env, munmap(addr, length) < 0 ? -errno : 0);
}

/* ---- readiness watchers (uv_poll) ------------------------------------- */

/*
 * One watcher per fd (libuv allows a single poll handle per fd and loop; the
 * TypeScript layer multiplexes waiters). A stopped watcher does not keep the
 * loop alive. Memory is freed once the handle is closed and the JS external
 * is finalized, whichever comes last.
 */
typedef struct watcher {
  uv_poll_t handle;
  napi_env env;
  napi_ref callback;
  napi_async_context async_context;
  addon_state *state;
  struct watcher *prev, *next; /* open watchers of this environment */
  int closing;
  int closed;
  int finalized;
} watcher;


static void unlink_watcher(watcher *w) {
  if (w->prev) w->prev->next = w->next;
  else w->state->open = w->next;
  if (w->next) w->next->prev = w->prev;
  w->prev = w->next = NULL;
}

static void on_watcher_closed(uv_handle_t *h) {
  watcher *w = (watcher *)h;
  addon_state *s = w->state;
  w->closed = 1;
  if (--s->pending_closes == 0 && s->tearing_down) napi_remove_async_cleanup_hook(s->cleanup);
  if (w->finalized) free(w);
}

/* Stop and close the handle; references are released only while JS runs. */
static void close_watcher(watcher *w, int release_refs) {
  if (w->closing) return;
  w->closing = 1;
  w->state->pending_closes++;
  unlink_watcher(w);
  if (release_refs) {
    napi_delete_reference(w->env, w->callback);
    napi_async_destroy(w->env, w->async_context);
  }
  uv_poll_stop(&w->handle);
  uv_close((uv_handle_t *)&w->handle, on_watcher_closed);
}

static void watcher_finalize(napi_env env, void *data, void *hint) {
  (void)env;
  (void)hint;
  watcher *w = data;
  w->finalized = 1;
  if (!w->closing) close_watcher(w, 1);
  else if (w->closed) free(w);
}

static void on_poll(uv_poll_t *h, int status, int events) {
  watcher *w = (watcher *)h;
  napi_env env = w->env;
  napi_handle_scope scope;
  napi_value cb, recv, argv[2];
  if (w->closing) return;
  if (napi_open_handle_scope(env, &scope) != napi_ok) return;
  if (napi_get_reference_value(env, w->callback, &cb) == napi_ok && cb != NULL &&
      napi_get_global(env, &recv) == napi_ok &&
      napi_create_int32(env, status, &argv[0]) == napi_ok &&
      napi_create_int32(env, events, &argv[1]) == napi_ok) {
    napi_value ignored;
    if (napi_make_callback(env, w->async_context, recv, cb, 2, argv, &ignored) ==
        napi_pending_exception) {
      napi_value exception;
      napi_get_and_clear_last_exception(env, &exception);
      napi_fatal_exception(env, exception);
    }
  }
  napi_close_handle_scope(env, scope);
}

/* The call's `want` arguments into argv, the first of them a watcher made by watcherCreate. */
static watcher *watcher_args(napi_env env, napi_callback_info info, size_t want, napi_value *argv) {
  bool tagged = false;
  void *data = NULL;
  if (!get_args(env, info, want, argv)) return NULL;
  napi_value v = argv[0];
  if (!is_type(env, v, napi_external) ||
      napi_check_object_type_tag(env, v, &WATCHER_TAG, &tagged) != napi_ok || !tagged ||
      napi_get_value_external(env, v, &data) != napi_ok) {
    throw_type(env, "expected a watcher returned by watcherCreate");
    return NULL;
  }
  return data;
}

/* watcherCreate(fd, callback(status, uvEvents)) -> watcher, or -errno. */
static napi_value watcher_create(napi_env env, napi_callback_info info) {
  napi_value argv[2], external, name;
  int fd;
  addon_state *s;
  uv_loop_t *loop;
  if (!get_args(env, info, 2, argv) || !get_fd(env, argv[0], &fd)) return NULL;
  if (!is_type(env, argv[1], napi_function)) return throw_type(env, "callback must be a function");
  CHECK(napi_get_instance_data(env, (void **)&s));
  CHECK(napi_get_uv_event_loop(env, &loop));
  watcher *w = calloc(1, sizeof *w);
  if (w == NULL) return make_int(env, -ENOMEM);
  int rc = uv_poll_init(loop, &w->handle, fd);
  if (rc < 0) { /* e.g. EPERM for regular files, EBADF */
    free(w);
    return make_int(env, rc);
  }
  w->env = env;
  w->state = s;
  if (napi_create_reference(env, argv[1], 1, &w->callback) != napi_ok ||
      napi_create_string_utf8(env, "iiojs:poll", NAPI_AUTO_LENGTH, &name) != napi_ok ||
      napi_async_init(env, NULL, name, &w->async_context) != napi_ok ||
      napi_create_external(env, w, watcher_finalize, NULL, &external) != napi_ok ||
      napi_type_tag_object(env, external, &WATCHER_TAG) != napi_ok) {
    w->finalized = 1;
    w->closing = 1;
    s->pending_closes++;
    uv_close((uv_handle_t *)&w->handle, on_watcher_closed);
    return NULL;
  }
  w->next = s->open;
  if (s->open) s->open->prev = w;
  s->open = w;
  return external;
}

/* watcherStart(w, uvEvents) -> 0 or -errno; restarting replaces the event set. */
static napi_value watcher_start(napi_env env, napi_callback_info info) {
  napi_value argv[2];
  int64_t events;
  watcher *w = watcher_args(env, info, 2, argv);
  if (w == NULL) return NULL;
  if (!get_integer(env, argv[1], 1, UV_READABLE | UV_WRITABLE | UV_DISCONNECT | UV_PRIORITIZED,
                   "events", &events))
    return NULL;
  if (w->closing) return make_int(env, -EBADF);
  return make_int(env, uv_poll_start(&w->handle, (int)events, on_poll));
}

static napi_value watcher_stop(napi_env env, napi_callback_info info) {
  napi_value argv[1];
  watcher *w = watcher_args(env, info, 1, argv);
  if (w == NULL) return NULL;
  if (!w->closing) uv_poll_stop(&w->handle);
  return make_int(env, 0);
}

static napi_value watcher_close(napi_env env, napi_callback_info info) {
  napi_value argv[1];
  watcher *w = watcher_args(env, info, 1, argv);
  if (w == NULL) return NULL;
  close_watcher(w, 1);
  return make_int(env, 0);
}

/* watcherRef(w, referenced) -> 0: whether the handle keeps the loop alive (uv_ref/uv_unref). */
static napi_value watcher_ref(napi_env env, napi_callback_info info) {
  napi_value argv[2];
  bool referenced;
  watcher *w = watcher_args(env, info, 2, argv);
  if (w == NULL) return NULL;
  if (!is_type(env, argv[1], napi_boolean) || napi_get_value_bool(env, argv[1], &referenced) != napi_ok)
    return throw_type(env, "referenced must be a boolean");
  if (!w->closing) {
    if (referenced) uv_ref((uv_handle_t *)&w->handle);
    else uv_unref((uv_handle_t *)&w->handle);
  }
  return make_int(env, 0);
}

/* Environment teardown (process exit, worker termination): close every handle. */
static void on_teardown(napi_async_cleanup_hook_handle handle, void *arg) {
  addon_state *s = arg;
  (void)handle;
  s->tearing_down = 1;
  blocking_teardown(s->blocking);
  for (watcher *w = s->open; w != NULL; w = s->open) close_watcher(w, 0);
  if (s->pending_closes == 0) napi_remove_async_cleanup_hook(s->cleanup);
}

static void state_finalize(napi_env env, void *data, void *hint) {
  addon_state *s = data;
  (void)env;
  (void)hint;
  blocking_release(s->blocking);
  /* URBs still in s->urbs are left allocated: if their fd outlives this environment, a reap
   * elsewhere still has the kernel write a status into them. */
  free(s);
}

static napi_value urb_release_call(napi_env env, napi_callback_info info) {
  addon_state *s;
  CHECK(napi_get_instance_data(env, (void **)&s));
  return urb_release(env, info, &s->urbs);
}

/* ---- blocking I/O on threads (native/blocking.c) ----------------------- */

static napi_value blocking_io_call(napi_env env, napi_callback_info info) {
  addon_state *s;
  CHECK(napi_get_instance_data(env, (void **)&s));
  return blocking_start(env, info, &s->blocking);
}

static napi_value blocking_cancel_call(napi_env env, napi_callback_info info) {
  addon_state *s;
  CHECK(napi_get_instance_data(env, (void **)&s));
  return blocking_cancel(env, info, s->blocking);
}

/* ---- module ------------------------------------------------------------ */

/* The platform's own values, so tests can check the TypeScript ABI tables. */
static napi_value make_constants(napi_env env) {
  napi_value c;
  CHECK(napi_create_object(env, &c));
  const struct { const char *name; int64_t value; } table[] = {
      {"O_RDONLY", O_RDONLY}, {"O_RDWR", O_RDWR}, {"O_NONBLOCK", O_NONBLOCK},
      {"O_CLOEXEC", O_CLOEXEC}, {"O_ACCMODE", O_ACCMODE}, {"F_GETFD", F_GETFD},
      {"F_SETFD", F_SETFD}, {"F_GETFL", F_GETFL}, {"F_SETFL", F_SETFL},
      {"FD_CLOEXEC", FD_CLOEXEC}, {"F_ADD_SEALS", F_ADD_SEALS}, {"F_GET_SEALS", F_GET_SEALS},
      {"F_SEAL_SEAL", F_SEAL_SEAL}, {"F_SEAL_SHRINK", F_SEAL_SHRINK},
      {"F_SEAL_GROW", F_SEAL_GROW}, {"F_SEAL_WRITE", F_SEAL_WRITE},
      {"F_SEAL_FUTURE_WRITE", F_SEAL_FUTURE_WRITE}, {"MFD_CLOEXEC", MFD_CLOEXEC},
      {"MFD_ALLOW_SEALING", MFD_ALLOW_SEALING}, {"MFD_HUGETLB", MFD_HUGETLB},
      {"PROT_READ", PROT_READ}, {"PROT_WRITE", PROT_WRITE}, {"MAP_SHARED", MAP_SHARED},
      {"MAP_PRIVATE", MAP_PRIVATE}, {"SEEK_SET", SEEK_SET}, {"SEEK_CUR", SEEK_CUR},
      {"SEEK_END", SEEK_END}, {"POLLIN", POLLIN}, {"POLLPRI", POLLPRI}, {"POLLOUT", POLLOUT},
      {"POLLERR", POLLERR}, {"POLLHUP", POLLHUP}, {"POLLNVAL", POLLNVAL},
      {"POLLRDNORM", POLLRDNORM}, {"POLLWRNORM", POLLWRNORM}, {"UV_READABLE", UV_READABLE},
      {"UV_WRITABLE", UV_WRITABLE}, {"UV_DISCONNECT", UV_DISCONNECT},
      {"UV_PRIORITIZED", UV_PRIORITIZED}, {"PAGE_SIZE", sysconf(_SC_PAGESIZE)},
  };
  for (size_t i = 0; i < sizeof table / sizeof table[0]; i++)
    if (!set_int(env, c, table[i].name, table[i].value)) return NULL;
  return c;
}

#define FUNCTION(name, fn) {name, NULL, fn, NULL, NULL, NULL, napi_enumerable, NULL}

NAPI_MODULE_INIT() {
  addon_state *s = calloc(1, sizeof *s);
  if (s == NULL) return NULL;
  if (napi_set_instance_data(env, s, state_finalize, NULL) != napi_ok) {
    free(s);
    return NULL;
  }
  CHECK(napi_add_async_cleanup_hook(env, on_teardown, s, &s->cleanup));
  const napi_property_descriptor fns[] = {
      FUNCTION("ioctl", ioctl_call),
      FUNCTION("close", close_call),
      FUNCTION("fcntl", fcntl_call),
      FUNCTION("lseek", lseek_call),
      FUNCTION("memfdCreate", memfd_create_call),
      FUNCTION("mount", mount_call),
      FUNCTION("umount", umount_call),
      FUNCTION("pollNow", poll_now_call),
      FUNCTION("mmap", mmap_call),
      FUNCTION("munmap", munmap_call),
      FUNCTION("watcherCreate", watcher_create),
      FUNCTION("watcherStart", watcher_start),
      FUNCTION("watcherStop", watcher_stop),
      FUNCTION("watcherClose", watcher_close),
      FUNCTION("watcherRef", watcher_ref),
      FUNCTION("blockingIo", blocking_io_call),
      FUNCTION("blockingCancel", blocking_cancel_call),
      FUNCTION("urbRelease", urb_release_call),
  };
  CHECK(napi_define_properties(env, exports, sizeof fns / sizeof fns[0], fns));
  napi_value constants = make_constants(env);
  if (constants == NULL) return NULL;
  CHECK(napi_set_named_property(env, exports, "constants", constants));
  napi_value requests = make_requests(env);
  if (requests == NULL) return NULL;
  CHECK(napi_set_named_property(env, exports, "requests", requests));
  return exports;
}
