// N-API glue of the native kernels: `isa()` names the widest instruction set this CPU runs of
// those compiled in ('avx512', 'avx2' or ''); `kernels(isa)` returns { convIndirection, convGemm,
// convFilterGemm, convNarrow, convDirect, convNarrowDirect, gemm } on that one (null where the CPU
// lacks it), with the batch norm + ReLU + pool loops (moments, bnReluPool, poolGradSums, affine,
// poolGradDx; one AVX2 build for every table) and fmaPeak (the core's measured GFLOP/s), each loop
// taking the wasm backend's heap (its WebAssembly.Memory's ArrayBuffer) followed by the wasm
// module's own arguments, byte offsets into that heap. N-API keeps the addon loadable in every
// worker thread and across Node versions.
#include <node_api.h>

#include <cstring>

#include "kernels.h"

namespace {

const char* widestIsa() {
  __builtin_cpu_init();
  if (__builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512vl")) return "avx512";
  if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma")) return "avx2";
  return "";
}

napi_value str(napi_env env, const char* s) {
  napi_value v;
  napi_create_string_utf8(env, s, NAPI_AUTO_LENGTH, &v);
  return v;
}

napi_value fail(napi_env env, const char* message) {
  napi_throw_error(env, nullptr, message);
  return nullptr;
}

napi_value Isa(napi_env env, napi_callback_info) { return str(env, widestIsa()); }

napi_value ConvIndirection(napi_env env, napi_callback_info info);
napi_value ConvGemm(napi_env env, napi_callback_info info);
napi_value ConvFilterGemm(napi_env env, napi_callback_info info);
napi_value ConvNarrow(napi_env env, napi_callback_info info);
napi_value ConvDirect(napi_env env, napi_callback_info info);
napi_value ConvNarrowDirect(napi_env env, napi_callback_info info);
napi_value Gemm(napi_env env, napi_callback_info info);
napi_value Moments(napi_env env, napi_callback_info info);
napi_value BnReluPool(napi_env env, napi_callback_info info);
napi_value PoolGradSums(napi_env env, napi_callback_info info);
napi_value Affine(napi_env env, napi_callback_info info);
napi_value PoolGradDx(napi_env env, napi_callback_info info);
napi_value FmaPeak(napi_env env, napi_callback_info info);

// kernels('avx512' | 'avx2' | 'avx512-on-avx2'): the GEMM functions on that table, or null
// where this CPU does not run it. The last is the AVX-512 loops built for AVX2, for tests.
napi_value Kernels(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1];
  napi_get_cb_info(env, info, &argc, argv, nullptr, nullptr);
  char name[16] = {0};
  size_t len = 0;
  if (argc < 1 || napi_get_value_string_utf8(env, argv[0], name, sizeof name, &len) != napi_ok) return fail(env, "kernels(isa): isa must be a string");
  const char* widest = widestIsa();
  const NativeKernels* table = nullptr;
  if (std::strcmp(name, "avx512") == 0 && std::strcmp(widest, "avx512") == 0) table = &kernelsAvx512;
  if (std::strcmp(name, "avx2") == 0 && widest[0] != '\0') table = &kernelsAvx2;
  if (std::strcmp(name, "avx512-on-avx2") == 0 && widest[0] != '\0') table = &kernelsAvx512OnAvx2;
  napi_value result;
  if (!table) {
    napi_get_null(env, &result);
    return result;
  }
  napi_create_object(env, &result);
  const struct {
    const char* name;
    napi_callback fn;
  } fns[] = {{"convIndirection", ConvIndirection}, {"convGemm", ConvGemm}, {"convFilterGemm", ConvFilterGemm}, {"convNarrow", ConvNarrow},
             {"convDirect", ConvDirect}, {"convNarrowDirect", ConvNarrowDirect}, {"gemm", Gemm}, {"moments", Moments},
             {"bnReluPool", BnReluPool}, {"poolGradSums", PoolGradSums}, {"affine", Affine}, {"poolGradDx", PoolGradDx}, {"fmaPeak", FmaPeak}};
  for (const auto& f : fns) {
    napi_value v;
    napi_create_function(env, f.name, NAPI_AUTO_LENGTH, f.fn, const_cast<NativeKernels*>(table), &v);
    napi_set_named_property(env, result, f.name, v);
  }
  return result;
}

// The kernel table the function was made for, the heap (argv[0]) and `n` integer arguments after
// it; false (with a JS error thrown) when not.
bool args(napi_env env, napi_callback_info info, size_t n, const NativeKernels** table, char** heap, size_t* heapBytes, int64_t* out) {
  napi_value argv[16];
  size_t argc = 16;
  void* data = nullptr;
  napi_get_cb_info(env, info, &argc, argv, nullptr, &data);
  *table = static_cast<const NativeKernels*>(data);
  if (argc != n + 1) return fail(env, "native kernels: wrong number of arguments"), false;
  if (napi_get_arraybuffer_info(env, argv[0], &data, heapBytes) != napi_ok) return fail(env, "native kernels: the heap must be an ArrayBuffer"), false;
  *heap = static_cast<char*>(data);
  for (size_t i = 0; i < n; i++) {
    if (napi_get_value_int64(env, argv[i + 1], &out[i]) != napi_ok) return fail(env, "native kernels: arguments must be numbers"), false;
  }
  return true;
}

// Whether [offset, offset + bytes) lies in the heap: a wrong offset is an error, not a crash.
bool inHeap(int64_t offset, int64_t bytes, size_t heapBytes) {
  return offset >= 0 && bytes >= 0 && offset + bytes <= static_cast<int64_t>(heapBytes);
}

// A native call with N integer arguments after the heap: body(table, heap, a, in) checks them
// (in(offset, bytes): whether that range lies in the heap), runs the loop and returns nullptr, or
// returns the message for arguments out of range, thrown as a JS error.
template <size_t N, typename Body>
napi_value run(napi_env env, napi_callback_info info, Body&& body) {
  const NativeKernels* k;
  char* heap;
  size_t size;
  int64_t a[N];
  if (!args(env, info, N, &k, &heap, &size, a)) return nullptr;
  const char* error = body(*k, heap, a, [size](int64_t offset, int64_t bytes) { return inHeap(offset, bytes, size); });
  return error ? fail(env, error) : nullptr;
}

napi_value ConvIndirection(napi_env env, napi_callback_info info) {
  return run<14>(env, info, [](const NativeKernels& k, char* heap, const int64_t* a, auto in) -> const char* {
    const int64_t ind = a[0], x = a[1], zero = a[2], N = a[3], H = a[4], W = a[5], Ci = a[6], Ho = a[7], Wo = a[8], kh = a[9], kw = a[10], pt = a[11],
                  pl = a[12], Mpad = a[13];
    if (N < 0 || H < 1 || W < 1 || Ci < 1 || Ho < 0 || Wo < 0 || kh < 1 || kw < 1 || Mpad < N * Ho * Wo || !in(ind, Mpad * kh * kw * 4) ||
        !in(x, N * H * W * Ci * 4) || !in(zero, Ci * 4))
      return "native convIndirection: arguments out of range";
    k.convIndirection(heap, ind, x, zero, N, H, W, Ci, Ho, Wo, kh, kw, pt, pl, Mpad);
    return nullptr;
  });
}

napi_value ConvGemm(napi_env env, napi_callback_info info) {
  return run<9>(env, info, [](const NativeKernels& k, char* heap, const int64_t* a, auto in) -> const char* {
    const int64_t ind = a[0], B = a[1], out = a[2], m0 = a[3], m1 = a[4], M = a[5], T = a[6], Ci = a[7], Co = a[8];
    if (m0 < 0 || m0 % 4 != 0 || m1 < m0 || Co % 8 != 0 || T < 1 || Ci < 1 || !in(ind, ((m1 + 3) / 4 * 4) * T * 4) ||
        !in(B, T * Ci * Co * 4) || !in(out, M * Co * 4))
      return "native convGemm: arguments out of range";
    k.convGemm(heap, ind, B, out, m0, m1, M, T, Ci, Co);
    return nullptr;
  });
}

napi_value ConvFilterGemm(napi_env env, napi_callback_info info) {
  return run<8>(env, info, [](const NativeKernels& k, char* heap, const int64_t* a, auto in) -> const char* {
    const int64_t ind = a[0], dy = a[1], dW = a[2], m0 = a[3], m1 = a[4], T = a[5], Ci = a[6], Co = a[7];
    if (m0 < 0 || m1 < m0 || Co % 8 != 0 || Ci < 1 || T < 1 || !in(ind, m1 * T * 4) || !in(dy, m1 * Co * 4) ||
        !in(dW, T * Ci * Co * 4))
      return "native convFilterGemm: arguments out of range";
    k.convFilterGemm(heap, ind, dy, dW, m0, m1, T, Ci, Co);
    return nullptr;
  });
}

napi_value ConvNarrow(napi_env env, napi_callback_info info) {
  return run<9>(env, info, [](const NativeKernels& k, char* heap, const int64_t* a, auto in) -> const char* {
    const int64_t ind = a[0], B = a[1], out = a[2], m0 = a[3], m1 = a[4], M = a[5], T = a[6], Cin = a[7], Cout = a[8];
    if (m0 < 0 || m0 % 2 != 0 || m1 < m0 || Cin % 4 != 0 || Cin < 4 || Cout < 1 || Cout > 3 || T < 1 || !in(ind, ((m1 + 3) / 4 * 4) * T * 4) ||
        !in(B, T * 3 * Cin * 4) || !in(out, M * Cout * 4))
      return "native convNarrow: arguments out of range";
    k.convNarrow(heap, ind, B, out, m0, m1, M, T, Cin, Cout);
    return nullptr;
  });
}

napi_value ConvDirect(napi_env env, napi_callback_info info) {
  return run<15>(env, info, [](const NativeKernels& k, char* heap, const int64_t* a, auto in) -> const char* {
    const int64_t x = a[0], B = a[1], out = a[2], n0 = a[3], n1 = a[4], H = a[5], W = a[6], Ci = a[7], Ho = a[8], Wo = a[9], kh = a[10], kw = a[11],
                  pt = a[12], pl = a[13], Co = a[14];
    if (n0 < 0 || n1 < n0 || Ci < 1 || Ci > 4 || Co % 8 != 0 || H < 1 || W < 1 || Ho < 1 || Wo < 1 || kh < 1 || kw < 1 || kh * kw > 25 || pt < 0 ||
        pl < 0 ||
        !in(x, n1 * H * W * Ci * 4) || !in(B, kh * kw * Ci * Co * 4) || !in(out, n1 * Ho * Wo * Co * 4))
      return "native convDirect: arguments out of range";
    k.convDirect(heap, x, B, out, n0, n1, H, W, Ci, Ho, Wo, kh, kw, pt, pl, Co);
    return nullptr;
  });
}

napi_value ConvNarrowDirect(napi_env env, napi_callback_info info) {
  return run<15>(env, info, [](const NativeKernels& k, char* heap, const int64_t* a, auto in) -> const char* {
    const int64_t x = a[0], B = a[1], out = a[2], n0 = a[3], n1 = a[4], H = a[5], W = a[6], Cin = a[7], Ho = a[8], Wo = a[9], kh = a[10], kw = a[11],
                  pt = a[12], pl = a[13], Cout = a[14];
    if (n0 < 0 || n1 < n0 || Cin < 4 || Cin % 4 != 0 || Cout < 1 || Cout > 3 || H < 1 || W < 1 || Ho < 1 || Wo < 1 || kh < 1 || kw < 1 || pt < 0 ||
        pl < 0 || !in(x, n1 * H * W * Cin * 4) || !in(B, kh * kw * 3 * Cin * 4) || !in(out, n1 * Ho * Wo * Cout * 4))
      return "native convNarrowDirect: arguments out of range";
    k.convNarrowDirect(heap, x, B, out, n0, n1, H, W, Cin, Ho, Wo, kh, kw, pt, pl, Cout);
    return nullptr;
  });
}

napi_value Gemm(napi_env env, napi_callback_info info) {
  return run<10>(env, info, [](const NativeKernels& k, char* heap, const int64_t* a, auto in) -> const char* {
    const int64_t A = a[0], B = a[1], C = a[2], M = a[3], K = a[4], N = a[5], lda = a[6], ldb = a[7], ldc = a[8], acc = a[9];
    if (M < 0 || K < 0 || N < 0 || !in(A, ((M > 0 ? M - 1 : 0) * lda + K) * 4) || !in(B, ((K > 0 ? K - 1 : 0) * ldb + N) * 4) ||
        !in(C, ((M > 0 ? M - 1 : 0) * ldc + N) * 4))
      return "native gemm: arguments out of range";
    if (M > 0 && N > 0) k.gemm(heap, A, B, C, M, K, N, lda, ldb, ldc, acc);
    return nullptr;
  });
}

// The batch norm + ReLU + pool loops: one build for every table (the table argument is unused).
// Shapes as kernels.wat needs them: C % 4 == 0, windows of 2x2.

bool bnShape(int64_t N, int64_t H, int64_t W, int64_t C) { return N >= 0 && H >= 2 && W >= 2 && C >= 4 && C % 4 == 0; }

napi_value Moments(napi_env env, napi_callback_info info) {
  return run<8>(env, info, [](const NativeKernels& k, char* heap, const int64_t* a, auto in) -> const char* {
    const int64_t x = a[0], M = a[1], C = a[2], shift = a[3], s1 = a[4], s2 = a[5];
    if (M < 0 || C < 4 || C % 4 != 0 || !in(x, M * C * 4) || !in(shift, C * 4) || !in(s1, C * 8) || !in(s2, C * 8))
      return "native moments: arguments out of range";
    bnKernels.moments(heap, x, M, C, shift, s1, s2, a[6], a[7]);
    return nullptr;
  });
}

napi_value BnReluPool(napi_env env, napi_callback_info info) {
  return run<10>(env, info, [](const NativeKernels& k, char* heap, const int64_t* a, auto in) -> const char* {
    const int64_t x = a[0], N = a[1], H = a[2], W = a[3], C = a[4], mean = a[5], sc = a[6], beta = a[7], y = a[8], xmax = a[9];
    const int64_t pooled = N * (H / 2) * (W / 2) * C * 4;
    if (!bnShape(N, H, W, C) || !in(x, N * H * W * C * 4) || !in(mean, C * 4) || !in(sc, C * 4) || !in(beta, C * 4) ||
        !in(y, pooled) || !in(xmax, pooled))
      return "native bnReluPool: arguments out of range";
    bnKernels.bnReluPool(heap, x, N, H, W, C, mean, sc, beta, y, xmax);
    return nullptr;
  });
}

napi_value PoolGradSums(napi_env env, napi_callback_info info) {
  return run<11>(env, info, [](const NativeKernels& k, char* heap, const int64_t* a, auto in) -> const char* {
    const int64_t xmax = a[0], dy = a[1], M = a[2], C = a[3], mean = a[4], sc = a[5], beta = a[6], s1 = a[7], s2 = a[8];
    if (M < 0 || C < 4 || C % 4 != 0 || !in(xmax, M * C * 4) || !in(dy, M * C * 4) || !in(mean, C * 4) || !in(sc, C * 4) ||
        !in(beta, C * 4) || !in(s1, C * 8) || !in(s2, C * 8))
      return "native poolGradSums: arguments out of range";
    bnKernels.poolGradSums(heap, xmax, dy, M, C, mean, sc, beta, s1, s2, a[9], a[10]);
    return nullptr;
  });
}

napi_value Affine(napi_env env, napi_callback_info info) {
  return run<7>(env, info, [](const NativeKernels& k, char* heap, const int64_t* a, auto in) -> const char* {
    const int64_t x = a[0], dx = a[1], M = a[2], C = a[3], mean = a[4], cA = a[5], cB = a[6];
    if (M < 0 || C < 4 || C % 4 != 0 || !in(x, M * C * 4) || !in(dx, M * C * 4) || !in(mean, C * 4) || !in(cA, C * 4) ||
        !in(cB, C * 4))
      return "native affine: arguments out of range";
    bnKernels.affine(heap, x, dx, M, C, mean, cA, cB);
    return nullptr;
  });
}

napi_value PoolGradDx(napi_env env, napi_callback_info info) {
  return run<12>(env, info, [](const NativeKernels& k, char* heap, const int64_t* a, auto in) -> const char* {
    const int64_t x = a[0], dy = a[1], N = a[2], H = a[3], W = a[4], C = a[5], mean = a[6], sc = a[7], beta = a[8], cA = a[9], cB = a[10], dx = a[11];
    const int64_t pooled = N * (H / 2) * (W / 2) * C * 4, full = N * H * W * C * 4;
    if (!bnShape(N, H, W, C) || !in(x, full) || !in(dx, full) || !in(dy, pooled) || !in(mean, C * 4) || !in(sc, C * 4) ||
        !in(beta, C * 4) || !in(cA, C * 4) || !in(cB, C * 4))
      return "native poolGradDx: arguments out of range";
    bnKernels.poolGradDx(heap, x, dy, N, H, W, C, mean, sc, beta, cA, cB, dx);
    return nullptr;
  });
}

// fmaPeak(chunks): the core's measured GFLOP/s on the table's vectors (1 to 100 chunks of about
// 2 ms each).
napi_value FmaPeak(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1];
  void* data = nullptr;
  napi_get_cb_info(env, info, &argc, argv, nullptr, &data);
  double chunks = 0;
  if (argc != 1 || napi_get_value_double(env, argv[0], &chunks) != napi_ok || !(chunks >= 1 && chunks <= 100) || chunks != static_cast<int>(chunks))
    return fail(env, "native fmaPeak: chunks must be an integer from 1 to 100");
  napi_value result;
  napi_create_double(env, static_cast<const NativeKernels*>(data)->fmaPeak(static_cast<int>(chunks)), &result);
  return result;
}

}  // namespace

NAPI_MODULE_INIT() {
  const struct {
    const char* name;
    napi_callback fn;
  } fns[] = {{"isa", Isa}, {"kernels", Kernels}};
  for (const auto& f : fns) {
    napi_value v;
    napi_create_function(env, f.name, NAPI_AUTO_LENGTH, f.fn, nullptr, &v);
    napi_set_named_property(env, exports, f.name, v);
  }
  return exports;
}
