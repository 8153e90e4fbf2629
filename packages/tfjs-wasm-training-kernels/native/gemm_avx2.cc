// The GEMM loops for AVX2 + FMA (compiled with -mavx2 -mfma): 8-float vectors, tiles of
// 4 rows x 2 vectors (8 accumulators of the 16 ymm registers). 4 x 3 (12 accumulators) was
// measured slower: 71 against 86 GFLOP/s on a 64 -> 64 channel 3x3 convolution (AMD EPYC, Zen 3),
// as the compiler then spills. The filter gradient's tiles are 4 channels x 3 vectors (12
// accumulators; their broadcasts come from the indirection table's pixels) over blocks of 64
// pixels: a 64 -> 64 channel 3x3 filter gradient 49-52 -> 68-69 GFLOP/s, an RGB first layer's
// 20-23 -> 31 (AMD EPYC, Zen 3, one core; 4 x 2 over 64 pixels: 62, 4 x 3 over 128: 63).
#define WIDE_LANES 8
#define WIDE_NV 2
#define TILE_ACC 8
#define FILTER_NV 3
#define FILTER_BLOCK 64
#define KERNELS_NAME kernelsAvx2
#include "gemm.inc"
