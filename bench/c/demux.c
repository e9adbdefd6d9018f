/*
 * Baseline for bench/demux.ts: the same (de)interleave loops in plain C, compiled with -O2.
 *   argv: runs iterations scans
 * Prints one JSON object: nanoseconds per block for each of `runs` runs, per case:
 *   demux4x16:  4 interleaved int16 channels -> 4 arrays (block of scans * 8 bytes)
 *   mux4x16:    the inverse
 *   word4x12be: 4 channels of be:s12/16>>4 -> 4 int16 arrays (swap, shift, sign-extend)
 *   timestamp:  the int64 at offset 8 of 16-byte scans (4 x int16 + timestamp) -> int64 array
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static double now_ns(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return t.tv_sec * 1e9 + t.tv_nsec;
}

__attribute__((noinline)) static void demux4x16(const int16_t *in, int16_t *a, int16_t *b, int16_t *c, int16_t *d, size_t n) {
  for (size_t i = 0; i < n; i++) {
    a[i] = in[4 * i];
    b[i] = in[4 * i + 1];
    c[i] = in[4 * i + 2];
    d[i] = in[4 * i + 3];
  }
}

__attribute__((noinline)) static void mux4x16(int16_t *out, const int16_t *a, const int16_t *b, const int16_t *c, const int16_t *d, size_t n) {
  for (size_t i = 0; i < n; i++) {
    out[4 * i] = a[i];
    out[4 * i + 1] = b[i];
    out[4 * i + 2] = c[i];
    out[4 * i + 3] = d[i];
  }
}

static inline int16_t be_s12_shift4(uint16_t w) {
  return (int16_t)(uint16_t)((w >> 8) | (w << 8)) >> 4;
}

__attribute__((noinline)) static void word4x12be(const uint16_t *in, int16_t *a, int16_t *b, int16_t *c, int16_t *d, size_t n) {
  for (size_t i = 0; i < n; i++) {
    a[i] = be_s12_shift4(in[4 * i]);
    b[i] = be_s12_shift4(in[4 * i + 1]);
    c[i] = be_s12_shift4(in[4 * i + 2]);
    d[i] = be_s12_shift4(in[4 * i + 3]);
  }
}

__attribute__((noinline)) static void timestamp(const uint8_t *in, int64_t *out, size_t n) {
  for (size_t i = 0; i < n; i++) memcpy(&out[i], in + 16 * i + 8, 8);
}

static volatile int64_t sink;

#define TIME(name, call)                                          \
  do {                                                            \
    printf("%s\"%s\":[", first ? "" : ",", name);                 \
    first = 0;                                                    \
    for (long w = 0; w < iterations; w++) call;                   \
    for (int r = 0; r < runs; r++) {                              \
      double t0 = now_ns();                                       \
      for (long k = 0; k < iterations; k++) call;                 \
      printf("%s%.1f", r ? "," : "", (now_ns() - t0) / iterations); \
    }                                                             \
    printf("]");                                                  \
  } while (0)

int main(int argc, char **argv) {
  int runs = argc > 1 ? atoi(argv[1]) : 15;
  long iterations = argc > 2 ? atol(argv[2]) : 100;
  size_t n = argc > 3 ? (size_t)atol(argv[3]) : 131072;
  int16_t *in = malloc(16 * n), *ch[4];
  int64_t *ts = malloc(8 * n);
  for (int c = 0; c < 4; c++) ch[c] = malloc(2 * n);
  if (!in || !ts) return perror("malloc"), 1;
  for (size_t i = 0; i < 8 * n; i++) in[i] = (int16_t)(i * 2654435761u);
  int first = 1;
  printf("{");
  TIME("demux4x16", demux4x16(in, ch[0], ch[1], ch[2], ch[3], n));
  TIME("mux4x16", mux4x16(in, ch[0], ch[1], ch[2], ch[3], n));
  TIME("word4x12be", word4x12be((const uint16_t *)in, ch[0], ch[1], ch[2], ch[3], n));
  TIME("timestamp", timestamp((const uint8_t *)in, ts, n));
  printf("}\n");
  sink = ch[0][n / 2] + ch[3][n - 1] + ts[n / 3];
  return 0;
}
