// Kernels that training needs and tfjs-backend-wasm 4.22 lacks or runs slowly.
// Registered before the wasm backend initialises. (Filled in by the kernels work.)
export function registerWasmKernels(): void {}
