{
  "targets": [
    {
      "target_name": "iiojs_kernel",
      "sources": ["native/iiojs_kernel.c"],
      "cflags": ["-std=gnu11", "-Wall", "-Wextra", "-Werror", "-O2"],
      "defines": ["_GNU_SOURCE"]
    }
  ]
}
