/*
 * Baseline for bench/lab-capture.ts (run inside the real-kernel lab): the DMABUF capture loop
 * from C on one IIO buffer, as libiio does it, so that our library's loop can be compared with
 * it in the same boot.
 *   dmabuf-capture <sysfs dir> <dev node> <block bytes> <blocks> <milliseconds> <plain|checked>
 * The scan elements must already be enabled. Per block: poll(POLLOUT) on the DMABUF, DMA_BUF
 * SYNC START/END (read), ENQUEUE again. `checked` also does what iiojs does to learn a
 * transfer's error: export the fence as a sync file after ENQUEUE, and read its status after
 * the wait (kernel-abi §2.6). Prints one JSON object: bytes, blocks, seconds, CPU seconds.
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

/* kernel-abi §1–§4 (the Debian 12 uapi headers predate the IIO DMABUF ioctls). */
struct iio_dmabuf { uint32_t fd, flags; uint64_t bytes_used; };
struct dma_heap_allocation_data { uint64_t len; uint32_t fd, fd_flags; uint64_t heap_flags; };
struct dma_buf_sync { uint64_t flags; };
struct dma_buf_export_sync_file { uint32_t flags; int32_t fd; };
struct sync_file_info { char name[32]; int32_t status; uint32_t flags, num_fences, pad; uint64_t sync_fence_info; };
#define IIO_BUFFER_GET_FD_IOCTL _IOWR('i', 0x91, int)
#define IIO_BUFFER_DMABUF_ATTACH_IOCTL _IOW('i', 0x92, int)
#define IIO_BUFFER_DMABUF_ENQUEUE_IOCTL _IOW('i', 0x94, struct iio_dmabuf)
#define DMA_HEAP_IOCTL_ALLOC _IOWR('H', 0x0, struct dma_heap_allocation_data)
#define DMA_BUF_IOCTL_SYNC _IOW('b', 0, struct dma_buf_sync)
#define DMA_BUF_IOCTL_EXPORT_SYNC_FILE _IOWR('b', 2, struct dma_buf_export_sync_file)
#define SYNC_IOC_FILE_INFO _IOWR('>', 4, struct sync_file_info)
#define DMA_BUF_SYNC_READ 1
#define DMA_BUF_SYNC_RW 3
#define DMA_BUF_SYNC_START 0
#define DMA_BUF_SYNC_END 4

static double now_s(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return t.tv_sec + t.tv_nsec / 1e9;
}

static double cpu_s(void) {
  struct rusage u;
  getrusage(RUSAGE_SELF, &u);
  return u.ru_utime.tv_sec + u.ru_stime.tv_sec + (u.ru_utime.tv_usec + u.ru_stime.tv_usec) / 1e6;
}

static void die(const char *what) {
  perror(what);
  exit(1);
}

static void write_text(const char *dir, const char *file, const char *value) {
  char path[512];
  snprintf(path, sizeof path, "%s/%s", dir, file);
  int fd = open(path, O_WRONLY);
  if (fd < 0 || write(fd, value, strlen(value)) < 0) die(path);
  close(fd);
}

static void enqueue(int buffer, int dmabuf, uint64_t bytes, int checked, int *sync) {
  struct iio_dmabuf req = { .fd = (uint32_t)dmabuf, .bytes_used = bytes };
  if (ioctl(buffer, IIO_BUFFER_DMABUF_ENQUEUE_IOCTL, &req) < 0) die("ENQUEUE");
  if (!checked) return;
  struct dma_buf_export_sync_file exp = { .flags = DMA_BUF_SYNC_RW };
  if (ioctl(dmabuf, DMA_BUF_IOCTL_EXPORT_SYNC_FILE, &exp) < 0) die("EXPORT_SYNC_FILE");
  *sync = exp.fd;
}

int main(int argc, char **argv) {
  if (argc != 7) {
    fprintf(stderr, "usage: %s <sysfs dir> <dev node> <block bytes> <blocks> <ms> <plain|checked>\n", argv[0]);
    return 2;
  }
  const char *sys = argv[1];
  uint64_t bytes = strtoull(argv[3], NULL, 10);
  int nblocks = atoi(argv[4]);
  double seconds = atoi(argv[5]) / 1000.0;
  int checked = strcmp(argv[6], "checked") == 0;
  int dmabufs[64], syncs[64];
  if (nblocks < 1 || nblocks > 64) return 2;

  int dev = open(argv[2], O_RDWR);
  int buffer = 0;
  if (dev < 0 || ioctl(dev, IIO_BUFFER_GET_FD_IOCTL, &buffer) < 0) die("GET_FD");
  close(dev);
  fcntl(buffer, F_SETFL, fcntl(buffer, F_GETFL) | O_NONBLOCK);
  int heap = open("/dev/dma_heap/system", O_RDONLY | O_CLOEXEC);
  if (heap < 0) die("/dev/dma_heap/system");
  for (int i = 0; i < nblocks; i++) {
    struct dma_heap_allocation_data alloc = { .len = bytes, .fd_flags = O_RDWR | O_CLOEXEC };
    if (ioctl(heap, DMA_HEAP_IOCTL_ALLOC, &alloc) < 0) die("DMA_HEAP_IOCTL_ALLOC");
    dmabufs[i] = (int)alloc.fd;
    if (ioctl(buffer, IIO_BUFFER_DMABUF_ATTACH_IOCTL, &dmabufs[i]) < 0) die("ATTACH");
  }
  for (int i = 0; i < nblocks; i++) enqueue(buffer, dmabufs[i], bytes, checked, &syncs[i]);
  write_text(sys, "buffer0/enable", "1");

  double t0 = now_s(), c0 = cpu_s();
  long blocks = 0;
  for (int i = 0; now_s() - t0 < seconds; i = (i + 1) % nblocks, blocks++) {
    struct pollfd p = { .fd = dmabufs[i], .events = POLLOUT };
    if (poll(&p, 1, 5000) != 1) die("poll");
    if (checked) {
      struct sync_file_info info = { 0 };
      if (ioctl(syncs[i], SYNC_IOC_FILE_INFO, &info) < 0) die("SYNC_IOC_FILE_INFO");
      if (info.status < 0) return fprintf(stderr, "transfer failed: %d\n", info.status), 1;
      close(syncs[i]);
    }
    struct dma_buf_sync s = { .flags = DMA_BUF_SYNC_START | DMA_BUF_SYNC_READ };
    if (ioctl(dmabufs[i], DMA_BUF_IOCTL_SYNC, &s) < 0) die("SYNC START");
    s.flags = DMA_BUF_SYNC_END | DMA_BUF_SYNC_READ;
    if (ioctl(dmabufs[i], DMA_BUF_IOCTL_SYNC, &s) < 0) die("SYNC END");
    enqueue(buffer, dmabufs[i], bytes, checked, &syncs[i]);
  }
  double elapsed = now_s() - t0, cpu = cpu_s() - c0;

  write_text(sys, "buffer0/enable", "0");
  for (int i = 0; i < nblocks; i++) {
    if (checked) close(syncs[i]);
    close(dmabufs[i]);
  }
  close(buffer);
  close(heap);
  printf("{\"bytes\":%llu,\"blocks\":%ld,\"seconds\":%.6f,\"cpuSeconds\":%.6f}\n",
         (unsigned long long)(blocks * bytes), blocks, elapsed, cpu);
  return 0;
}
