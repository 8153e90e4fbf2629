#!/usr/bin/env python3
"""Builds the `icons` unseen domain: the same freedesktop icon name drawn by different icon
themes of Debian. Classes are icon names present in at least MIN_THEMES themes; instances are
(theme, size) drawings (a theme's small sizes are often drawn anew, not scaled), identical
images dropped. Output: OUT/<icon-name>/<theme>-<size>.png, 32x32 RGB on white, SOURCES.md and
manifest.json.

  python3 scripts/data/build_icons.py OUT [--max-classes N]

Deterministic: the same packages give byte-identical files (sha256 in manifest.json)."""
import argparse
import hashlib
import json
import os
import re
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from common import ensure_packages, use_debian_python, fresh_dir, png_bytes, rng, tree_digest, write_sources  # noqa: E402

# package -> the theme folder it installs (its main variant only: dark/light twins would repeat it)
THEMES = {
    'papirus-icon-theme': '/usr/share/icons/Papirus',
    'breeze-icon-theme': '/usr/share/icons/breeze',
    'oxygen-icon-theme': '/usr/share/icons/oxygen',
    'mate-icon-theme': '/usr/share/icons/mate',
    'gnome-icon-theme': '/usr/share/icons/gnome',
    'lxde-icon-theme': '/usr/share/icons/nuoveXT2',
    'elementary-icon-theme': '/usr/share/icons/elementary',
    'numix-icon-theme': '/usr/share/icons/Numix',
    'faenza-icon-theme': '/usr/share/icons/Faenza',
    'adwaita-icon-theme': '/usr/share/icons/Adwaita',
}
TOOL_PACKAGES = ['python3-pil', 'librsvg2-bin']
SIZE = 32
MIN_THEMES = 6
MIN_INSTANCES = 10
MAX_INSTANCES = 20


def size_of(rel):
    for part in rel.split('/'):
        m = re.fullmatch(r'(\d+)(?:x\d+)?(?:@\dx)?', part)
        if m:
            return int(m.group(1))
        if part == 'scalable':
            return 1000
    return None


def theme_files(root):
    """name -> {size: real path}, for every non-symbolic icon of the theme."""
    out = {}
    for d, dirs, files in os.walk(root, followlinks=False):
        dirs.sort()
        rel_d = os.path.relpath(d, root)
        if 'symbolic' in rel_d or rel_d.startswith('cursors'):
            continue
        for f in sorted(files):
            name, ext = os.path.splitext(f)
            if ext not in ('.png', '.svg') or name.endswith('-symbolic'):
                continue
            s = size_of(rel_d)
            if s is None or s < 16:
                continue
            p = os.path.realpath(os.path.join(d, f))
            if os.path.isfile(p):
                out.setdefault(name, {}).setdefault(s, p)
    return out


def pick_sizes(sizes):
    """The largest drawing up to 64 px (or the scalable one) and the smallest one that differs."""
    big = max((s for s in sizes if s <= 64), default=None) or max(sizes)
    small = min(sizes)
    return [big] if small == big else [big, small]


def render(path, tmp):
    from PIL import Image
    if path.endswith('.svg'):
        out = os.path.join(tmp, 'x.png')
        r = subprocess.run(['rsvg-convert', '-w', str(SIZE), '-h', str(SIZE), '-f', 'png', '-o', out, path], capture_output=True)
        if r.returncode != 0:
            return None
        img = Image.open(out)
    else:
        img = Image.open(path)
    img = img.convert('RGBA')
    if img.size != (SIZE, SIZE):
        img = img.resize((SIZE, SIZE), Image.LANCZOS)
    bg = Image.new('RGBA', img.size, (255, 255, 255, 255))
    bg.alpha_composite(img)
    out = bg.convert('RGB')
    # A blank drawing (an empty placeholder file) is no instance.
    lo, hi = out.convert('L').getextrema()
    return out if hi - lo > 24 else None


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument('out')
    ap.add_argument('--max-classes', type=int, default=0)
    ap.add_argument('--seed', type=int, default=0)
    a = ap.parse_args()
    ensure_packages(TOOL_PACKAGES + list(THEMES))
    use_debian_python()
    themes = {pkg: theme_files(root) for pkg, root in THEMES.items()}
    for pkg, t in themes.items():
        print(f'{pkg}: {len(t)} icon names', flush=True)
    names = sorted({n for t in themes.values() for n in t})
    candidates = [(n, [p for p in sorted(themes) if n in themes[p]]) for n in names]
    candidates = [(n, ps) for n, ps in candidates if len(ps) >= MIN_THEMES]
    # Aliases (one file under several names) would make twin classes: keep a name only when most
    # of its files are not already some kept name's.
    candidates.sort(key=lambda c: (-len(c[1]), c[0]))
    used, kept = set(), []
    for n, ps in candidates:
        files = {themes[p][n][s] for p in ps for s in pick_sizes(themes[p][n])}
        if len(files & used) * 2 >= len(files):
            continue
        used |= files
        kept.append((n, ps))
    kept.sort()
    if a.max_classes:
        kept = sorted(rng(a.seed, 'subset').sample(kept, min(len(kept), a.max_classes * 2)))
    fresh_dir(a.out)
    manifest = {'classes': {}, 'size': SIZE}
    with tempfile.TemporaryDirectory() as tmp:
        for n, ps in kept:
            if a.max_classes and len(manifest['classes']) >= a.max_classes:
                break
            imgs, seen = [], set()
            for p in ps:
                for s in pick_sizes(themes[p][n]):
                    img = render(themes[p][n][s], tmp)
                    if img is None:
                        continue
                    h = hashlib.sha256(img.tobytes()).digest()
                    if h in seen:
                        continue
                    seen.add(h)
                    imgs.append((f'{p.replace("-icon-theme", "")}-{s if s < 1000 else "scalable"}', img))
            if len(imgs) < MIN_INSTANCES or len({t.rsplit('-', 1)[0] for t, _ in imgs}) < MIN_THEMES:
                continue
            imgs = imgs[:MAX_INSTANCES]
            d = os.path.join(a.out, n)
            os.makedirs(d)
            for tag, img in imgs:
                open(os.path.join(d, f'{tag}.png'), 'wb').write(png_bytes(img))
            manifest['classes'][n] = {'themes': len({t.rsplit('-', 1)[0] for t, _ in imgs}), 'instances': len(imgs)}
    write_sources(a.out, 'icons: one freedesktop icon name drawn by different Debian icon themes', list(THEMES),
                  'Rasterised with rsvg-convert (librsvg2-bin) or read as PNG, composited on white. Build: scripts/data/build_icons.py.')
    manifest['sha256'] = tree_digest(a.out)
    json.dump(manifest, open(os.path.join(a.out, 'manifest.json'), 'w'), indent=1, sort_keys=True)
    print(f'{len(manifest["classes"])} classes, {sum(c["instances"] for c in manifest["classes"].values())} images -> {a.out}')


if __name__ == '__main__':
    main()
