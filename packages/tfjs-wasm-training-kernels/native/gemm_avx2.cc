// The GEMM loops for AVX2 + FMA (compiled with -mavx2 -mfma): 8-float vectors, tiles of
// 4 rows x 2 vectors (8 accumulators of the 16 ymm registers). 4 x 3 (12 accumulators) was
// measured slower: 71 against 86 GFLOP/s on a 64 -> 64 channel 3x3 convolution (AMD EPYC, Zen 3),
// as the compiler then spills.
#define WIDE_LANES 8
#define WIDE_NV 2
#define TILE_ACC 8
#define KERNELS_NAME kernelsAvx2
#include "gemm.inc"
