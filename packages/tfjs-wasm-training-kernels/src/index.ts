// tfjs-wasm-training-kernels: what training a convolutional network on tfjs-backend-wasm 4.22
// needs beyond that backend (see README.md). The public API; everything else is internal.
export { registerWasmKernels, originalWasmKernel, kernelTuning } from './registerWasm';
export { registerMissingGradients, registerTrainingGradients } from './gradients';
export { KERNEL_PATHS, KernelPath, kernelPath, kernelPathRuns, fmaFused, measuredPeakPerCore, nativeUnavailable } from './simd';
export { fusedBnReluPool, fusedBnReluPoolApplies, fusion } from './bnReluPool';
export { fusedConvBnReluPool, fusedConvBnReluPoolApplies } from './convBnReluPool';
export { CONV_KERNELS, GEMM_KERNELS, KernelRow, kernelFlops, profileKernels } from './profile';
