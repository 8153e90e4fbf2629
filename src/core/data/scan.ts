// Listing an image folder: `root/<class>/<image>` or `root/{train,val,test}/<class>/<image>`.
// Images in sub-folders of a class folder belong to that class. Symbolic links are followed, but
// each real folder is visited once (a link loop ends there) and nesting is capped. Hidden entries
// (a leading '.') are skipped. Everything is sorted by code unit, never by locale, so the order is
// the same on every machine.

import * as fs from 'fs';
import * as path from 'path';
import { UserError } from '../errors';
import { hasImageExtension, IMAGE_EXTENSIONS } from './decode';

export type SplitName = 'train' | 'val' | 'test';

export interface ScannedFile {
  /** Path relative to the root, with '/' separators. */
  rel: string;
  abs: string;
  size: number;
  mtimeMs: number;
}

export interface ScannedClass {
  name: string;
  /** The split folder it was found in, for the split layout. */
  split?: SplitName;
  files: ScannedFile[];
}

export interface FolderScan {
  root: string;
  layout: 'flat' | 'splits';
  /** Sorted by name; only classes with at least one image file. */
  classes: ScannedClass[];
  warnings: string[];
}

const SPLIT_NAMES: Record<string, SplitName> = { train: 'train', training: 'train', val: 'val', valid: 'val', validation: 'val', test: 'test', testing: 'test' };
const MAX_DEPTH = 16;

function byCodeUnit(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

interface Entry {
  name: string;
  abs: string;
  kind: 'dir' | 'file' | 'other';
  stat?: fs.Stats;
}

interface Walker {
  /** The dataset folder's real path: symbolic links may point anywhere below it, nowhere else. */
  realRoot: string;
  visited: Set<string>;
  warnings: string[];
  ignored: string[];
}

function errCode(e: unknown): string {
  return (e as NodeJS.ErrnoException).code ?? (e as Error).message;
}

function dirKey(st: fs.Stats): string {
  return `${st.dev}:${st.ino}`;
}

/** The visible entries of a folder, sorted, with symbolic links resolved. */
function listDir(dir: string, rel: string, w: Walker): Entry[] | undefined {
  let dirents: fs.Dirent[];
  try {
    dirents = fs.readdirSync(dir, { withFileTypes: true });
  } catch (e) {
    w.warnings.push(`cannot read folder ${rel || '.'} (${errCode(e)}); its images were skipped: check its permissions`);
    return undefined;
  }
  const out: Entry[] = [];
  for (const d of dirents) {
    if (d.name.startsWith('.')) continue;
    const abs = dir + path.sep + d.name;
    if (d.isDirectory()) out.push({ name: d.name, abs, kind: 'dir' });
    else if (d.isFile()) out.push({ name: d.name, abs, kind: 'file' });
    else if (d.isSymbolicLink()) {
      const r = rel ? `${rel}/${d.name}` : d.name;
      try {
        // A dataset folder may come from anyone: a link that leaves it (a class linked to /)
        // would read files the user never meant to give.
        const target = fs.realpathSync.native(abs);
        const inside = path.relative(w.realRoot, target);
        if (inside.startsWith('..') || path.isAbsolute(inside)) {
          w.warnings.push(`${r} is a symbolic link to ${target}, outside the dataset folder; skipped (copy or move those files into the dataset folder to use them)`);
          continue;
        }
        const st = fs.statSync(abs);
        out.push({ name: d.name, abs, kind: st.isDirectory() ? 'dir' : st.isFile() ? 'file' : 'other', stat: st });
      } catch (e) {
        w.warnings.push(`${r} is a broken or looping symbolic link (${errCode(e)}); skipped`);
      }
    }
  }
  out.sort((a, b) => byCodeUnit(a.name, b.name));
  return out;
}

/** Adds the image files under dir (recursively) to files. */
function collectImages(dir: string, rel: string, depth: number, files: ScannedFile[], w: Walker): void {
  const entries = listDir(dir, rel, w);
  if (!entries) return;
  for (const e of entries) {
    const r = `${rel}/${e.name}`;
    if (e.kind === 'dir') {
      let st: fs.Stats;
      try {
        st = e.stat ?? fs.statSync(e.abs);
      } catch (err) {
        w.warnings.push(`cannot open folder ${r} (${errCode(err)}); skipped`);
        continue;
      }
      const key = dirKey(st);
      if (w.visited.has(key)) {
        w.warnings.push(`${r} leads back to a folder already read (a symbolic link loop or duplicate link); skipped`);
        continue;
      }
      if (depth >= MAX_DEPTH) {
        w.warnings.push(`${r} is nested more than ${MAX_DEPTH} folders deep; skipped`);
        continue;
      }
      w.visited.add(key);
      collectImages(e.abs, r, depth + 1, files, w);
    } else if (e.kind === 'file') {
      if (!hasImageExtension(e.name)) {
        w.ignored.push(r);
        continue;
      }
      let st = e.stat;
      if (!st) {
        try {
          st = fs.statSync(e.abs);
        } catch (err) {
          w.warnings.push(`cannot read ${r} (${errCode(err)}); skipped`);
          continue;
        }
      }
      files.push({ rel: r, abs: e.abs, size: st.size, mtimeMs: st.mtimeMs });
    }
  }
}

/**
 * Lists the classes and image files of a folder dataset. Throws a UserError when the root is
 * missing, unreadable, not a folder, or lays out its split folders ambiguously.
 */
export function scanImageFolder(root: string): FolderScan {
  let rootStat: fs.Stats;
  let realRoot: string;
  try {
    rootStat = fs.statSync(root);
    realRoot = fs.realpathSync.native(root);
  } catch (e) {
    throw new UserError(`dataset folder ${root} does not exist or cannot be opened (${errCode(e)}); check the path`);
  }
  const w: Walker = { realRoot, visited: new Set(), warnings: [], ignored: [] };
  if (!rootStat.isDirectory()) throw new UserError(`${root} is not a folder; give a folder with one sub-folder of images per class`);
  w.visited.add(dirKey(rootStat));
  try {
    fs.readdirSync(root);
  } catch (e) {
    throw new UserError(`cannot read dataset folder ${root} (${errCode(e)}); check its permissions`);
  }
  const top = listDir(root, '', w) ?? [];
  const dirs = top.filter((e) => e.kind === 'dir');
  const rootImages = top.filter((e) => e.kind === 'file' && hasImageExtension(e.name));
  const splitDirs = dirs.filter((d) => SPLIT_NAMES[d.name.toLowerCase()] !== undefined);
  const otherDirs = dirs.filter((d) => SPLIT_NAMES[d.name.toLowerCase()] === undefined);

  const classes = new Map<string, ScannedClass>();
  let layout: 'flat' | 'splits' = 'flat';

  const addClass = (name: string, dir: Entry, rel: string, split: SplitName | undefined) => {
    let st: fs.Stats;
    try {
      st = dir.stat ?? fs.statSync(dir.abs);
    } catch (e) {
      w.warnings.push(`cannot open folder ${rel} (${errCode(e)}); skipped`);
      return;
    }
    if (w.visited.has(dirKey(st))) {
      w.warnings.push(`${rel} leads back to a folder already read (a symbolic link loop or duplicate link); skipped`);
      return;
    }
    w.visited.add(dirKey(st));
    const files: ScannedFile[] = [];
    collectImages(dir.abs, rel, 1, files, w);
    const existing = classes.get(name);
    if (existing) {
      existing.files.push(...files);
      existing.split = undefined;
    } else classes.set(name, { name, split, files });
  };

  if (splitDirs.length > 0) {
    if (otherDirs.length > 0) {
      throw new UserError(
        `${root} mixes split folders (${splitDirs.map((d) => d.name).join(', ')}) with other folders (${otherDirs.slice(0, 5).map((d) => d.name).join(', ')}${otherDirs.length > 5 ? ', ...' : ''}): ` +
          `either put every class folder inside train/, val/ or test/, or rename the split folders if they are classes`,
      );
    }
    layout = 'splits';
    const seen = new Map<string, SplitName>();
    const shared = new Set<string>();
    for (const sd of splitDirs) {
      const split = SPLIT_NAMES[sd.name.toLowerCase()];
      const entries = listDir(sd.abs, sd.name, w) ?? [];
      const stray = entries.filter((e) => e.kind === 'file' && hasImageExtension(e.name)).length;
      if (stray) w.warnings.push(`${stray} image(s) directly in ${sd.name}/ were ignored: images must be in ${sd.name}/<class>/`);
      for (const cd of entries.filter((e) => e.kind === 'dir')) {
        const prev = seen.get(cd.name);
        if (prev !== undefined && prev !== split) shared.add(cd.name);
        seen.set(cd.name, split);
        addClass(cd.name, cd, `${sd.name}/${cd.name}`, split);
      }
    }
    if (shared.size > 0) {
      const names = [...shared].sort(byCodeUnit);
      w.warnings.push(
        `classes ${names.slice(0, 5).join(', ')}${names.length > 5 ? ', ...' : ''} appear in more than one split folder, so the split folders divide images, not classes; ` +
          `their images were merged and the classes are split as if the folder were flat (give a split file to choose the classes)`,
      );
      layout = 'flat';
      for (const c of classes.values()) c.split = undefined;
    }
  } else {
    for (const cd of dirs) addClass(cd.name, cd, cd.name, undefined);
  }
  if (rootImages.length) {
    w.warnings.push(`${rootImages.length} image(s) directly in the dataset folder were ignored: images must be in <class>/ sub-folders`);
  }

  const all = [...classes.values()].sort((a, b) => byCodeUnit(a.name, b.name));
  const empty = all.filter((c) => c.files.length === 0);
  if (empty.length) {
    w.warnings.push(`class folder(s) ${empty.slice(0, 5).map((c) => c.name).join(', ')}${empty.length > 5 ? ', ...' : ''} have no image files and were ignored`);
  }
  for (const c of all) c.files.sort((a, b) => byCodeUnit(a.rel, b.rel));
  if (w.ignored.length) {
    w.warnings.push(
      `${w.ignored.length} file(s) that are not images were ignored (e.g. ${w.ignored.slice(0, 3).join(', ')}); images must end in ${IMAGE_EXTENSIONS.join(' ')}`,
    );
  }
  return { root, layout, classes: all.filter((c) => c.files.length > 0), warnings: w.warnings };
}
