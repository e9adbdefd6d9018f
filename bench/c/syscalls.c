/*
 * Baseline for bench/addon-syscalls.ts: the same syscalls issued from C.
 * Prints one JSON object: nanoseconds per operation for each of `runs` runs.
 *   ioctl: ioctl(FIONREAD) on a memfd (the addon's byte-argument path)
 *   poll:  write 1 byte to a pipe, poll(POLLIN), read it back (a readiness round-trip)
 */
#define _GNU_SOURCE
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

static double now_ns(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return t.tv_sec * 1e9 + t.tv_nsec;
}

int main(int argc, char **argv) {
  int runs = argc > 1 ? atoi(argv[1]) : 15;
  long iterations = argc > 2 ? atol(argv[2]) : 100000;
  int memfd = memfd_create("bench", MFD_CLOEXEC), pipefd[2];
  if (memfd < 0 || ftruncate(memfd, 4096) < 0 || pipe(pipefd) < 0) return perror("setup"), 1;
  printf("{\"ioctl\":[");
  for (int r = 0; r < runs; r++) {
    int avail;
    double t0 = now_ns();
    for (long i = 0; i < iterations; i++)
      if (ioctl(memfd, FIONREAD, &avail) < 0) return perror("ioctl"), 1;
    printf("%s%.2f", r ? "," : "", (now_ns() - t0) / iterations);
  }
  printf("],\"poll\":[");
  for (int r = 0; r < runs; r++) {
    char byte = 1;
    struct pollfd p = {.fd = pipefd[0], .events = POLLIN};
    double t0 = now_ns();
    for (long i = 0; i < iterations / 10; i++) {
      if (write(pipefd[1], &byte, 1) != 1 || poll(&p, 1, -1) != 1 || read(pipefd[0], &byte, 1) != 1)
        return perror("poll round-trip"), 1;
    }
    printf("%s%.2f", r ? "," : "", (now_ns() - t0) / (iterations / 10));
  }
  printf("]}\n");
  return 0;
}
