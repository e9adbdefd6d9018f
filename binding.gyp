{
  "targets": [
    {
      "target_name": "iiojs_kernel",
      "sources": ["native/iiojs_kernel.c", "native/args.c", "native/blocking.c", "native/usbfs.c"],
      "cflags": ["-std=gnu11", "-Wall", "-Wextra", "-Werror", "-O2", "-fvisibility=hidden"],
      "defines": ["_GNU_SOURCE"]
    }
  ]
}
