// Batch norm + ReLU + 2x2 max-pool (../src/bnReluPool.ts): the memory-bound loops of kernels.wat
// (moments, bnReluPool, poolGradSums, affine, poolGradDx) with the same arithmetic per channel, in
// 8-float vectors (4 for a last block of 4 channels). Compiled with -mavx2 and -ffp-contract=off:
// the wasm loops multiply, then add, and so must these for both to give the same bits (tested).
// The wasm loops' float32 partial sums, flushed into float64 every 16 rows, are kept
// here in registers over the same 16 rows: the same additions in the same order.
//
// Preconditions are those of kernels.wat: NHWC float32, C % 4 == 0, pointers byte offsets into the
// heap (addon.cc checks their ranges).
#include <algorithm>
#include <cstring>

#include "kernels.h"

namespace {

typedef float v8f __attribute__((vector_size(32)));
typedef float v4f __attribute__((vector_size(16)));
typedef int v8i __attribute__((vector_size(32)));
typedef int v4i __attribute__((vector_size(16)));
typedef double v4d __attribute__((vector_size(32)));

template <typename V>
struct IntOf;
template <>
struct IntOf<v8f> {
  typedef v8i type;
};
template <>
struct IntOf<v4f> {
  typedef v4i type;
};

template <typename V>
inline V load(const char* heap, long offset) {
  V v;
  std::memcpy(&v, heap + offset, sizeof v);
  return v;
}
template <typename V>
inline void store(char* heap, long offset, V v) {
  std::memcpy(heap + offset, &v, sizeof v);
}

// s[c] += p[c] in float64 for the channels of block j (s may be only 4-byte aligned: memcpy), four
// lanes a vector: the same float64 additions as lane by lane, without a scalar load, convert and
// store per channel (moments of a 75 x 32 x 32 x 64 tensor: 1.4 -> 1.0 ms, Intel Xeon, hot caches).
template <typename V>
inline void addToDouble(char* heap, long s, long j, V p) {
  constexpr int L = sizeof(V) / 4;
  for (int l = 0; l < L; l += 4) {
    const long at = s + 2 * j + 8 * l;
    const v4d q = {p[l], p[l + 1], p[l + 2], p[l + 3]};
    store(heap, at, load<v4d>(heap, at) + q);
  }
}

// Calls f.template operator()<V, G>(j) for G channel blocks at a time from byte offset j (G
// 8-float blocks where G whole ones fit, then single 8-float blocks, then one of 4 where C % 8 ==
// 4). For the sums: each channel's additions form one chain, 3 cycles an addition; interleaving G
// blocks' chains keeps every channel's order (the same bits) with G times the additions in
// flight. With 4 blocks (AMD EPYC Zen 3, one core, 75 x 32 x 32 x 64, hot caches, noisy machine):
// moments 2.4-2.6 -> 1.5-2.2 ms, poolGradSums 3.7-4.7 -> 2.9-3.1 ms (then over x's windows; it now
// reads the pooled xmax: 1.3 -> 0.4 ms on AMD EPYC Zen 5).
constexpr int kGroup = 4;
template <int G, typename F>
inline void channelGroups(int C, F&& f) {
  const long rowBytes = 4L * C;
  long j = 0;
  for (; j + 32 * G <= rowBytes; j += 32 * G) f.template operator()<v8f, G>(j);
  for (; j + 32 <= rowBytes; j += 32) f.template operator()<v8f, 1>(j);
  if (j < rowBytes) f.template operator()<v4f, 1>(j);
}

// Calls f.template operator()<V>(j) for every channel block at byte offset j of a row of C
// channels, one at a time (the loops that do not sum): channelGroups' blocks.
template <typename F>
inline void channelBlocks(int C, F&& f) {
  channelGroups<1>(C, [&]<typename V, int>(long j) { f.template operator()<V>(j); });
}

void moments(char* heap, uint32_t x, int M, int C, uint32_t shift, uint32_t s1, uint32_t s2, uint32_t, uint32_t) {
  const long rowBytes = 4L * C;
  for (int r0 = 0; r0 < M; r0 += 16) {
    const int r1 = std::min(M, r0 + 16);
    channelGroups<kGroup>(C, [&]<typename V, int G>(long j) {
      constexpr long B = sizeof(V);
      V sh[G], p1[G], p2[G];
      for (int g = 0; g < G; g++) sh[g] = load<V>(heap, shift + j + g * B), p1[g] = p2[g] = V{};
      for (int r = r0; r < r1; r++)
        for (int g = 0; g < G; g++) {
          const V d = load<V>(heap, x + r * rowBytes + j + g * B) - sh[g];
          p1[g] += d;
          p2[g] += d * d;
        }
      for (int g = 0; g < G; g++) addToDouble(heap, s1, j + g * B, p1[g]), addToDouble(heap, s2, j + g * B, p2[g]);
    });
  }
}

// The pooled windows of an [N, H, W, C] tensor: f(window index, byte offset of its first input
// pixel) for each, in the order of the pooled output.
template <typename F>
inline void windows(int N, int H, int W, int C, F&& f) {
  const long rowBytes = 4L * C, lineBytes = W * rowBytes;
  const int Ho = H >> 1, Wo = W >> 1;
  long w = 0;
  for (int n = 0; n < N; n++)
    for (int oy = 0; oy < Ho; oy++)
      for (int ox = 0; ox < Wo; ox++, w++) f(w, (static_cast<long>(n) * H + 2 * oy) * lineBytes + 2 * ox * rowBytes);
}

// z = (x - mean) * a + beta over a window's 4 pixels: the maximum m (the first where equal), and
// the x and the position it came from. One definition for the forward pass and for poolGradDx,
// which finds the position again from x instead of reading one saved by the forward pass.
template <typename V>
struct WindowMax {
  typedef typename IntOf<V>::type I;
  V m, x;
  I k;
};
template <typename V>
inline WindowMax<V> windowMax(const V (&xs)[4], V mu, V av, V bv) {
  typedef typename IntOf<V>::type I;
  WindowMax<V> r{(xs[0] - mu) * av + bv, xs[0], I{}};
  for (int q = 1; q < 4; q++) {
    const V z = (xs[q] - mu) * av + bv;
    const I gt = z > r.m;
    r.m = gt ? z : r.m;
    r.x = gt ? xs[q] : r.x;
    r.k = gt ? I{} + q : r.k;
  }
  return r;
}

void bnReluPool(char* heap, uint32_t x, int N, int H, int W, int C, uint32_t mean, uint32_t a, uint32_t beta, uint32_t y, uint32_t xmax) {
  const long rowBytes = 4L * C, lineBytes = W * rowBytes;
  const long at[4] = {0, rowBytes, lineBytes, lineBytes + rowBytes};
  windows(N, H, W, C, [&](long w, long p0) {
    channelBlocks(C, [&]<typename V>(long j) {
      V xs[4];
      for (int q = 0; q < 4; q++) xs[q] = load<V>(heap, x + p0 + at[q] + j);
      const WindowMax<V> r = windowMax(xs, load<V>(heap, mean + j), load<V>(heap, a + j), load<V>(heap, beta + j));
      store(heap, y + w * rowBytes + j, r.m > V{} ? r.m : V{});
      store(heap, xmax + w * rowBytes + j, r.x);
    });
  });
}

// Over the M pooled rows: v = xmax, g = dy where (v - mean) * a + beta > 0 (the window's maximum,
// recomputed as the forward pass computed it, so the same ReLU decision), else 0.
void poolGradSums(char* heap, uint32_t xmax, uint32_t dy, int M, int C, uint32_t mean, uint32_t a, uint32_t beta, uint32_t s1, uint32_t s2, uint32_t,
                  uint32_t) {
  const long rowBytes = 4L * C;
  for (int r0 = 0; r0 < M; r0 += 16) {
    const int r1 = std::min(M, r0 + 16);
    channelGroups<kGroup>(C, [&]<typename V, int G>(long j) {
      constexpr long B = sizeof(V);
      V mu[G], av[G], bv[G], p1[G], p2[G];
      for (int g = 0; g < G; g++) {
        const long o = j + g * B;
        mu[g] = load<V>(heap, mean + o), av[g] = load<V>(heap, a + o), bv[g] = load<V>(heap, beta + o), p1[g] = p2[g] = V{};
      }
      for (int r = r0; r < r1; r++)
        for (int g = 0; g < G; g++) {
          const long o = r * rowBytes + j + g * B;
          const V v = load<V>(heap, xmax + o);
          const V d = (v - mu[g]) * av[g] + bv[g] > V{} ? load<V>(heap, dy + o) : V{};
          p1[g] += d;
          p2[g] += d * (v - mu[g]);
        }
      for (int g = 0; g < G; g++) addToDouble(heap, s1, j + g * B, p1[g]), addToDouble(heap, s2, j + g * B, p2[g]);
    });
  }
}

void affine(char* heap, uint32_t x, uint32_t dx, int M, int C, uint32_t mean, uint32_t cA, uint32_t cB) {
  const long rowBytes = 4L * C;
  for (long r = 0; r < M; r++)
    channelBlocks(C, [&]<typename V>(long j) {
      const long o = r * rowBytes + j;
      store(heap, dx + o, (load<V>(heap, x + o) - load<V>(heap, mean + j)) * load<V>(heap, cA + j) + load<V>(heap, cB + j));
    });
}

// dx over the windows: (x - mean) * cA + cB, plus dy * a at the window's maximum where it is > 0
// (found again as the forward pass found it).
void poolGradDx(char* heap, uint32_t x, uint32_t dy, int N, int H, int W, int C, uint32_t mean, uint32_t a, uint32_t beta, uint32_t cA, uint32_t cB,
                uint32_t dx) {
  const long rowBytes = 4L * C, lineBytes = W * rowBytes;
  const long at[4] = {0, rowBytes, lineBytes, lineBytes + rowBytes};
  windows(N, H, W, C, [&](long w, long p0) {
    channelBlocks(C, [&]<typename V>(long j) {
      typedef typename IntOf<V>::type I;
      const V mu = load<V>(heap, mean + j), av = load<V>(heap, a + j), ca = load<V>(heap, cA + j), cb = load<V>(heap, cB + j);
      V xs[4];
      for (int q = 0; q < 4; q++) xs[q] = load<V>(heap, x + p0 + at[q] + j);
      const WindowMax<V> r = windowMax(xs, mu, av, load<V>(heap, beta + j));
      const I k = r.m > V{} ? r.k : I{} - 1;
      const V g = load<V>(heap, dy + w * rowBytes + j) * av;
      // + 0 where the maximum was elsewhere, as the wasm loop's (g & mask): -0 becomes +0 alike.
      for (int q = 0; q < 4; q++) store(heap, dx + p0 + at[q] + j, ((xs[q] - mu) * ca + cb) + (k == q ? g : V{}));
    });
  });
}

}  // namespace

extern const BnKernels bnKernels = {moments, bnReluPool, poolGradSums, affine, poolGradDx};
