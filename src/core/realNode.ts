// Backends that need a real Node rather than Electron run as Node (VS Code's extension host):
// tfjs-node's addon is built for Node's ABI, and Dawn's WebGPU binding hands out external array
// buffers, which Electron forbids. No tfjs import: the extension reads this to pick the worker's
// executable (src/extension/workerNode.ts).
export const NEEDS_REAL_NODE: readonly string[] = ['tensorflow-gpu', 'webgpu', 'tensorflow'];

/** Why `backend` cannot run in this process, when it is Electron's; undefined when it can. */
export function electronRefusal(backend: string, versions: NodeJS.ProcessVersions = process.versions): string | undefined {
  const electron = (versions as NodeJS.ProcessVersions & { electron?: string }).electron;
  if (!electron || !NEEDS_REAL_NODE.includes(backend)) return undefined;
  return `it cannot run inside Electron ${electron} (VS Code's runtime): set robustMeta.nodePath to a Node.js executable, or put node on PATH`;
}
