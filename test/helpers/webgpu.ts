// Test set-up for the webgpu backend without a GPU: the machine's own Vulkan driver if it has one,
// else SwiftShader's, which Debian's chromium package installs (scripts/setup-vulkan.sh).
import * as fs from 'fs';
import { missingVulkanDriver, SWIFTSHADER_ICD } from '../../src/core/webgpu';

/**
 * Points Dawn at a Vulkan driver before it loads; returns why the webgpu tests cannot run here,
 * or undefined when they can.
 */
export function webgpuUnavailable(): string | undefined {
  for (const pkg of ['webgpu', '@tensorflow/tfjs-backend-webgpu']) {
    try {
      require.resolve(`${pkg}/package.json`);
    } catch {
      return `${pkg} is not installed (an optional dependency)`;
    }
  }
  if (!missingVulkanDriver()) return undefined;
  if (!fs.existsSync(SWIFTSHADER_ICD)) return `no Vulkan driver, and no SwiftShader at ${SWIFTSHADER_ICD} (bash scripts/setup-vulkan.sh installs it)`;
  process.env.VK_ICD_FILENAMES = SWIFTSHADER_ICD;
  return undefined;
}
