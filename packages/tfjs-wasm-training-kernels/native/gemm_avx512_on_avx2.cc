// The AVX-512 build's loops (16-float vectors, tiles of 4 to 12 rows x 4 or 2 of them, 8-float ones for the rest)
// compiled for AVX2, where GCC splits each 16-float operation in two: the same arithmetic in the
// same order. Tests run it against the wasm kernels on any AVX2 machine, so the AVX-512 file's
// panel and remainder logic is checked where no AVX-512 CPU is at hand; it is never picked to run.
#define WIDE_LANES 16
#define WIDE_NV 4
#define TILE_ACC 24
#define FILTER_NV WIDE_NV
#define FILTER_BLOCK 128
#define KERNELS_NAME kernelsAvx512OnAvx2
#include "gemm.inc"
