// The GEMM loops for AVX-512 (compiled with -mavx512f -mavx512vl -mfma): 16-float vectors, tiles
// of 4 rows x 4 vectors (16 accumulators of the 32 zmm registers), 8-float ones for the rest.
#define WIDE_LANES 16
#define WIDE_NV 4
#define KERNELS_NAME kernelsAvx512
#include "gemm.inc"
