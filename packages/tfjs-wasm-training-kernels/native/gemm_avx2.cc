// The GEMM loops for AVX2 + FMA (compiled with -mavx2 -mfma): 8-float vectors, tiles of
// 4 rows x 2 vectors (8 accumulators of the 16 ymm registers). The many-channel convolution's
// tiles are 3 rows x 4 vectors (12 accumulators; per row of B 4 vector loads and 3 broadcasts for
// 12 FMAs, against 2 and 4 for 8): medians of 150 calls alternating with the 4 x 2 build, 75 x 14
// x 14 x 32 -> 32 channels 50-61 -> 62-70 GFLOP/s (53 -> 63 with cold caches), 64 -> 64 58 -> 64
// (AMD EPYC, Zen 3, one core; the machine's neighbours make single calls vary from 45 to 88).
// 4 x 3 spills (71 against 86 hot on 64 -> 64), 6 x 2 ran slower (47 against 51).
// The filter gradient's tiles are 4 channels x 3 vectors (12 accumulators; their broadcasts
// come from the indirection table's pixels) over blocks of 64 pixels: a 64 -> 64 channel 3x3
// filter gradient 49-52 -> 68-69 GFLOP/s, an RGB first layer's 20-23 -> 31 (AMD EPYC, Zen 3, one
// core; 4 x 2 over 64 pixels: 62, 4 x 3 over 128: 63).
#define WIDE_LANES 8
#define WIDE_NV 2
#define TILE_ACC 8
#define CONV_NV 4
#define CONV_ROWS(NV) ((NV) == 4 ? 3 : 4)
#define FILTER_NV 3
#define FILTER_BLOCK 64
#define KERNELS_NAME kernelsAvx2
#include "gemm.inc"
