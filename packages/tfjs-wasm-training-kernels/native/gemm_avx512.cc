// The GEMM loops for AVX-512 (compiled with -mavx512f -mavx512vl -mfma): 16-float vectors, tiles
// of 4 rows x 4 vectors (16 accumulators of the 32 zmm registers), 8-float ones for the rest. The
// convolutions' many-channel tiles use 24 accumulators (6 rows x 4 vectors, 12 x 2): each filter
// vector loaded then serves more rows, 148 against 135 GFLOP/s on a 64 -> 64 channel 3x3
// convolution (Intel Xeon, Sapphire Rapids, one core; 8 rows x 4 spill: 115).
#define WIDE_LANES 16
#define WIDE_NV 4
#define TILE_ACC 24
#define FILTER_NV WIDE_NV
#define FILTER_BLOCK 128
#define KERNELS_NAME kernelsAvx512
#include "gemm.inc"
