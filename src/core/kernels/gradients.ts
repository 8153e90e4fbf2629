// Gradients tfjs-core does not define, needed for second-order meta-gradients.
export function registerMissingGradients(): void {}
