#!/usr/bin/env python3
"""Builds the `textures` unseen domain: crops of GIMP's patterns (gimp-data). Classes are
patterns; instances are seeded crops of the tiled pattern at several scales, resized to 32x32
RGB. Near-uniform patterns are left out. Output: OUT/<pattern>/<nn>.png, SOURCES.md, manifest.json.

  python3 scripts/data/build_textures.py OUT [--max-classes N] [--per-class K]

Deterministic: the same packages give byte-identical files (sha256 in manifest.json)."""
import argparse
import json
import os
import re
import struct
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from common import ensure_packages, use_debian_python, fresh_dir, png_bytes, rng, tree_digest, write_sources  # noqa: E402

PACKAGES = ['gimp-data']
TOOL_PACKAGES = ['python3-pil']
SIZE = 32
PER_CLASS = 20


def read_pat(path):
    """A GIMP .pat file: big-endian header (size, version, width, height, bytes per pixel,
    'GPAT'), a name, then the pixels."""
    from PIL import Image
    b = open(path, 'rb').read()
    header_size, version, w, h, bpp = struct.unpack('>5I', b[:20])
    if b[20:24] != b'GPAT' or bpp not in (1, 2, 3, 4):
        raise ValueError(f'{path}: not a GIMP pattern')
    mode = {1: 'L', 2: 'LA', 3: 'RGB', 4: 'RGBA'}[bpp]
    return Image.frombytes(mode, (w, h), b[header_size:header_size + w * h * bpp])


def load(path):
    from PIL import Image
    img = read_pat(path) if path.endswith('.pat') else Image.open(path)
    img = img.convert('RGBA')
    bg = Image.new('RGBA', img.size, (255, 255, 255, 255))
    bg.alpha_composite(img)
    return bg.convert('RGB')


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument('out')
    ap.add_argument('--max-classes', type=int, default=0)
    ap.add_argument('--per-class', type=int, default=PER_CLASS)
    ap.add_argument('--seed', type=int, default=0)
    a = ap.parse_args()
    ensure_packages(TOOL_PACKAGES + PACKAGES)
    use_debian_python()
    from PIL import Image, ImageStat
    files = subprocess.run(['dpkg', '-L', 'gimp-data'], capture_output=True, text=True).stdout.split()
    pats = sorted(f for f in files if '/patterns/' in f and f.lower().endswith(('.pat', '.png', '.jpg')) and os.path.isfile(f))
    if a.max_classes:
        pats = sorted(rng(a.seed, 'subset').sample(pats, min(len(pats), a.max_classes * 2)))
    fresh_dir(a.out)
    manifest = {'classes': {}, 'size': SIZE}
    for f in pats:
        if a.max_classes and len(manifest['classes']) >= a.max_classes:
            break
        try:
            img = load(f)
        except Exception as e:  # a file that is not a pattern is skipped, and said
            print(f'skipped {f}: {e}', flush=True)
            continue
        if max(ImageStat.Stat(img.convert('L')).stddev) < 10:
            continue
        name = re.sub(r'[^A-Za-z0-9_.-]+', '-', os.path.splitext(os.path.basename(f))[0]).strip('-').lower()
        if name in manifest['classes']:
            continue
        w, h = img.size
        # Patterns tile: a 3x3 tiling lets crops be larger than the pattern and cross its seams.
        tiled = Image.new('RGB', (3 * w, 3 * h))
        for i in range(3):
            for j in range(3):
                tiled.paste(img, (i * w, j * h))
        d = os.path.join(a.out, name)
        os.makedirs(d)
        for k in range(a.per_class):
            g = rng(a.seed, name, k)
            c = round(g.uniform(0.35, 1.0) * min(w, h, 160) * 1.5)
            c = max(12, min(c, 3 * min(w, h)))
            x, y = g.randrange(0, 3 * w - c + 1), g.randrange(0, 3 * h - c + 1)
            crop = tiled.crop((x, y, x + c, y + c)).resize((SIZE, SIZE), Image.LANCZOS)
            open(os.path.join(d, f'{k:02d}.png'), 'wb').write(png_bytes(crop))
        manifest['classes'][name] = {'source': os.path.basename(f), 'size': [w, h], 'instances': a.per_class}
    write_sources(a.out, 'textures: crops of the GIMP patterns', PACKAGES, 'Build: scripts/data/build_textures.py.')
    manifest['sha256'] = tree_digest(a.out)
    json.dump(manifest, open(os.path.join(a.out, 'manifest.json'), 'w'), indent=1, sort_keys=True)
    print(f'{len(manifest["classes"])} classes, {a.per_class * len(manifest["classes"])} images -> {a.out}')


if __name__ == '__main__':
    main()
