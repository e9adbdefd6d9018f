/*
 * How the kernel uses an ioctl's argument: the rules of the addon's request
 * table (native/iiojs_kernel.c), mirrored by src/abi/ioctl-args.ts.
 */
#ifndef IIOJS_IOCTL_RULE_H
#define IIOJS_IOCTL_RULE_H

#include "addon.h"

enum arg_kind {
  ARG_NONE,    /* no argument: 0 is passed */
  ARG_VALUE,   /* an integer passed by value */
  ARG_STRUCT,  /* `size` bytes at the address */
  ARG_FLEX,    /* a `size`-byte header, then count × elem bytes (count: u32 at count_off) */
  ARG_POINTER, /* `size` bytes whose u64 at ptr_off points to count × elem bytes */
  ARG_STRING,  /* a NUL-terminated string of at most `size` bytes, NUL included */
  /* usbfs URBs (native/usbfs.c): memory that outlives the call */
  ARG_URB,         /* a `size`-byte usbdevfs_urb whose buffer (u64 at ptr_off) holds buffer_length bytes */
  ARG_URB_REAP,    /* `size` (8) bytes receiving the reaped URB's usercontext */
  ARG_URB_DISCARD, /* the bytes given to SUBMITURB */
};

typedef struct {
  uint32_t request;
  uint8_t kind;
  uint8_t out;        /* the kernel writes the argument back */
  uint16_t size;
  uint16_t count_off; /* ARG_FLEX, ARG_POINTER, ARG_URB */
  uint8_t count_size; /* bytes of the count: 2 or 4 */
  uint16_t elem;      /* ARG_FLEX, ARG_POINTER, ARG_URB */
  uint16_t ptr_off;   /* ARG_POINTER, ARG_URB */
} ioctl_rule;

/*
 * The address for a rule's pointer field from a `pointers` pair (off_v NULL:
 * none given, NULL): the offset must be the rule's and the target must hold
 * count × elem bytes. Throws and returns 0 otherwise.
 */
int pointer_target(napi_env env, const ioctl_rule *rule, napi_value off_v, napi_value target_v,
                   uint32_t count, uint64_t *address);

#endif
