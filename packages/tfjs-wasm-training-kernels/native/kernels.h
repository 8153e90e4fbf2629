// The native GEMM kernels' table: the same loops as ../src/simd/kernels.wat (convIndirection,
// convGemm, convFilterGemm, convNarrow, gemm), and convDirect, convNarrowDirect (the same without the indirection table) with the same arguments, on the tfjs wasm backend's heap in place (`heap`
// is its first byte; every other pointer is a byte offset into it, as in the wasm module).
// gemm.inc is compiled once per instruction set (gemm_avx2.cc, gemm_avx512.cc); addon.cc picks one.
#pragma once
#include <cstdint>

struct NativeKernels {
  void (*convIndirection)(char* heap, uint32_t ind, uint32_t x, uint32_t zero, int N, int H, int W, int Ci, int Ho, int Wo, int kh, int kw, int padTop,
                          int padLeft, int Mpad);
  void (*convGemm)(char* heap, uint32_t ind, uint32_t B, uint32_t out, int m0, int m1, int M, int T, int Ci, int Co);
  void (*convDirect)(char* heap, uint32_t x, uint32_t B, uint32_t out, int n0, int n1, int H, int W, int Ci, int Ho, int Wo, int kh, int kw, int padTop,
                     int padLeft, int Co);
  void (*convFilterGemm)(char* heap, uint32_t ind, uint32_t dy, uint32_t dW, int m0, int m1, int T, int Ci, int Co);
  void (*convNarrow)(char* heap, uint32_t ind, uint32_t B, uint32_t out, int m0, int m1, int M, int T, int Cin, int Cout);
  void (*convNarrowDirect)(char* heap, uint32_t x, uint32_t B, uint32_t out, int n0, int n1, int H, int W, int Cin, int Ho, int Wo, int kh, int kw,
                           int padTop, int padLeft, int Cout);
  void (*gemm)(char* heap, uint32_t A, uint32_t B, uint32_t C, int M, int K, int N, int lda, int ldb, int ldc, int acc);
  // Not a loop of kernels.wat: the core's measured GFLOP/s on these vectors (no heap).
  double (*fmaPeak)(int chunks);
};

// The batch norm + ReLU + pool loops (bn.cc): memory-bound, one build (AVX2) for every table.
struct BnKernels {
  void (*moments)(char* heap, uint32_t x, int M, int C, uint32_t shift, uint32_t s1, uint32_t s2, uint32_t p1, uint32_t p2);
  void (*bnReluPool)(char* heap, uint32_t x, int N, int H, int W, int C, uint32_t mean, uint32_t a, uint32_t beta, uint32_t y, uint32_t xmax);
  void (*poolGradSums)(char* heap, uint32_t xmax, uint32_t dy, int M, int C, uint32_t mean, uint32_t a, uint32_t beta, uint32_t s1, uint32_t s2, uint32_t p1,
                       uint32_t p2);
  void (*affine)(char* heap, uint32_t x, uint32_t dx, int M, int C, uint32_t mean, uint32_t cA, uint32_t cB);
  void (*poolGradDx)(char* heap, uint32_t x, uint32_t dy, int N, int H, int W, int C, uint32_t mean, uint32_t a, uint32_t beta, uint32_t cA, uint32_t cB,
                     uint32_t dx);
};

extern const BnKernels bnKernels;
extern const NativeKernels kernelsAvx2;
extern const NativeKernels kernelsAvx512;
// The AVX-512 loops compiled for AVX2 (gemm_avx512_on_avx2.cc): for tests only.
extern const NativeKernels kernelsAvx512OnAvx2;
