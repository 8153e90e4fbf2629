// Path checks for everything that names a file from outside the extension's own code: config
// files, webview messages, serialized panel state. A path is accepted only when it resolves inside
// one of the allowed roots (the workspace folders, the runs folder, a folder the user picked).
import * as path from 'path';
import * as fs from 'fs';

/** True when `child` is `parent` or lies below it (after resolving `..` and, where both exist, symlinks). */
export function isInside(parent: string, child: string): boolean {
  const p = realOrResolved(parent);
  const c = realOrResolved(child);
  const rel = path.relative(p, c);
  return rel === '' || (!rel.startsWith('..') && !path.isAbsolute(rel));
}

/** True when `child` is inside at least one of `roots`. */
export function isInsideAny(roots: readonly string[], child: string): boolean {
  return roots.some((r) => isInside(r, child));
}

/**
 * Resolves `p` (relative to `base` when not absolute) and returns it when it stays inside one of
 * `roots`; otherwise undefined.
 */
export function resolveInside(roots: readonly string[], base: string, p: string): string | undefined {
  if (typeof p !== 'string' || p.length === 0 || p.includes('\0')) return undefined;
  const full = path.resolve(base, p);
  return isInsideAny(roots, full) ? full : undefined;
}

/** A plain file name (no separators, no `..`), as found in a run folder's own files. */
export function isPlainFileName(name: string): boolean {
  return typeof name === 'string' && name.length > 0 && name !== '.' && name !== '..' && !/[\\/\0]/.test(name);
}

function realOrResolved(p: string): string {
  const resolved = path.resolve(p);
  try {
    return fs.realpathSync.native(resolved);
  } catch {
    // A path that does not exist yet: resolve its nearest existing ancestor so that a symlinked
    // root (e.g. /tmp on macOS) still compares equal.
    const parent = path.dirname(resolved);
    if (parent === resolved) return resolved;
    return path.join(realOrResolved(parent), path.basename(resolved));
  }
}
