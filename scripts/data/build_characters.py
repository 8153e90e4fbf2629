#!/usr/bin/env python3
"""Builds the `characters` source domain: letters and ideographs of real scripts, each rendered
from every installed Debian font that draws it (printed, brush and handwriting fonts, Hershey's
vector hands), with seeded rendering jitter. Classes are characters (no digits, no punctuation),
instances are fonts x jitter. Output: OUT/{train,val,test}/<script>-<codepoint>/<nn>.png, 32x32
grey, white strokes on black, plus SOURCES.md (packages and licences) and manifest.json.

  python3 scripts/data/build_characters.py OUT [--max-classes N] [--per-class K]

Deterministic: the same packages give byte-identical files (sha256 in manifest.json)."""
import argparse
import json
import math
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from common import ensure_packages, use_debian_python, fresh_dir, png_bytes, rng, tree_digest, write_sources  # noqa: E402

FONT_PACKAGES = [
    'fonts-dejavu-core', 'fonts-liberation', 'fonts-freefont-ttf', 'fonts-noto-core', 'fonts-noto-cjk',
    'fonts-unifont', 'fonts-droid-fallback', 'fonts-arphic-ukai', 'fonts-arphic-uming', 'fonts-ipafont-gothic',
    'fonts-ipafont-mincho', 'fonts-wqy-zenhei', 'fonts-wqy-microhei', 'fonts-vlgothic', 'fonts-sawarabi-mincho',
    'fonts-sawarabi-gothic', 'fonts-nanum', 'fonts-baekmuk',
    # handwriting and brush
    'fonts-seto', 'fonts-klee', 'fonts-kiloji', 'fonts-dkg-handwriting', 'fonts-breip', 'fonts-bwht',
    'fonts-femkeklaver', 'fonts-comic-neue', 'fonts-humor-sans', 'fonts-kristi', 'fonts-rufscript',
    'fonts-dancingscript', 'fonts-kaushanscript',
    'hershey-fonts-data',
]
TOOL_PACKAGES = ['python3-pil', 'python3-fonttools']

SIZE = 32          # output pixels
HI = 128           # rendering canvas, downsampled to SIZE
MIN_FONTS = 5      # distinct renderings a character needs to become a class
SPLIT = {'val': 0.10, 'test': 0.15}


def r(a, b):
    return list(range(a, b + 1))


def scripts():
    """Characters per script: letters only; look-alikes of other scripts' letters left out."""
    latin_like_cyr = {0x410, 0x412, 0x415, 0x41A, 0x41C, 0x41D, 0x41E, 0x420, 0x421, 0x422, 0x425}
    small_kana = {0x3041, 0x3043, 0x3045, 0x3047, 0x3049, 0x3063, 0x3083, 0x3085, 0x3087, 0x308E, 0x3095, 0x3096,
                  0x30A1, 0x30A3, 0x30A5, 0x30A7, 0x30A9, 0x30C3, 0x30E3, 0x30E5, 0x30E7, 0x30EE, 0x30F5, 0x30F6}
    return {
        'latin': r(0x41, 0x5A),
        'greek': [c for c in r(0x3B1, 0x3C9) if c not in (0x3C2, 0x3BF)],
        'cyrillic': [c for c in r(0x410, 0x42F) if c not in latin_like_cyr],
        'hebrew': [c for c in r(0x5D0, 0x5EA) if c not in (0x5DA, 0x5DD, 0x5DF, 0x5E3, 0x5E5)],
        'arabic': r(0x627, 0x63A) + r(0x641, 0x64A),
        'georgian': r(0x10D0, 0x10F0),
        'armenian': r(0x531, 0x556),
        'devanagari': r(0x905, 0x914) + r(0x915, 0x939),
        'thai': r(0xE01, 0xE2E),
        'hiragana': [c for c in r(0x3041, 0x3096) if c not in small_kana],
        'katakana': [c for c in r(0x30A1, 0x30F4) if c not in small_kana],
        'hangul': r(0xAC00, 0xD7A3)[::97],
        'cjk': r(0x4E00, 0x9FA5),  # sampled below among the well-covered ones
    }


CJK_CLASSES = 320


def font_files():
    """(path, face index) of every TrueType/OpenType face of the font packages, sorted."""
    import subprocess
    from fontTools.ttLib import TTCollection
    out = []
    for p in FONT_PACKAGES:
        files = subprocess.run(['dpkg', '-L', p], capture_output=True, text=True).stdout.split()
        for f in sorted(files):
            if not os.path.isfile(f):
                continue
            if f.lower().endswith(('.ttf', '.otf')):
                out.append((f, 0))
            elif f.lower().endswith('.ttc'):
                n = len(TTCollection(f, lazy=True).fonts)
                out += [(f, i) for i in range(n)]
    return sorted(set(out))


def cmap_of(path, index):
    from fontTools.ttLib import TTFont
    try:
        t = TTFont(path, fontNumber=index, lazy=True)
        return set(t.getBestCmap() or {})
    except Exception:
        return set()


# --- Hershey vector fonts: these .jhf files are Latin hands (roman, italic, script, gothic) in
# ASCII order (glyph i is chr(32 + i)); the others put Greek, Cyrillic or symbols at those places.
HERSHEY_LATIN = {'rowmans', 'rowmand', 'rowmant', 'scripts', 'scriptc', 'cursive', 'gothiceng', 'gothicger', 'gothicita',
                 'gothgbt', 'gothgrt', 'gothitt', 'futural', 'futuram', 'timesr', 'timesi', 'timesib', 'timesrb'}


def parse_jhf(path):
    glyphs, buf = [], ''
    for line in open(path, encoding='latin-1').read().splitlines():
        buf += line
        if len(buf) < 8:
            continue
        n = int(buf[5:8])
        if len(buf) < 8 + 2 * n:
            continue
        pairs = [buf[8 + 2 * i:10 + 2 * i] for i in range(n)]
        strokes, cur = [], []
        for p in pairs[1:]:
            if p == ' R':
                if cur:
                    strokes.append(cur)
                cur = []
            else:
                cur.append((ord(p[0]) - ord('R'), ord(p[1]) - ord('R')))
        if cur:
            strokes.append(cur)
        glyphs.append(strokes)
        buf = ''
    return glyphs


def hershey_fonts():
    import subprocess
    files = subprocess.run(['dpkg', '-L', 'hershey-fonts-data'], capture_output=True, text=True).stdout.split()
    out = {}
    for f in sorted(files):
        if os.path.basename(f)[:-4] in HERSHEY_LATIN:
            g = parse_jhf(f)
            out[f] = {32 + i: s for i, s in enumerate(g)}
    return out


# --- rendering


def raw_truetype(face, ch):
    """The glyph's ink on a HI x HI canvas, cropped to its box, or None when it draws nothing."""
    from PIL import Image, ImageDraw
    img = Image.new('L', (2 * HI, 2 * HI), 0)
    ImageDraw.Draw(img).text((HI // 2, HI // 2), chr(ch), fill=255, font=face)
    box = img.getbbox()
    if not box:
        return None
    return img.crop(box)


def raw_hershey(strokes):
    from PIL import Image, ImageDraw
    pts = [p for s in strokes for p in s]
    if not pts:
        return None
    xs, ys = [p[0] for p in pts], [p[1] for p in pts]
    span = max(max(xs) - min(xs), max(ys) - min(ys), 1)
    k = (HI - 16) / span
    img = Image.new('L', (HI, HI), 0)
    d = ImageDraw.Draw(img)
    for s in strokes:
        xy = [(8 + (x - min(xs)) * k, 8 + (y - min(ys)) * k) for x, y in s]
        if len(xy) == 1:
            xy = xy * 2
        d.line(xy, fill=255, width=max(3, round(HI / 24)), joint='curve')
    box = img.getbbox()
    return img.crop(box) if box else None


def place(ink, g):
    """The ink scaled into a jittered box, rotated and sheared a little, shifted, down to SIZE."""
    from PIL import Image
    w, h = ink.size
    target = HI * g.uniform(0.62, 0.86)
    k = target / max(w, h)
    ink = ink.resize((max(1, round(w * k)), max(1, round(h * k))), Image.LANCZOS)
    canvas = Image.new('L', (HI, HI), 0)
    canvas.paste(ink, ((HI - ink.size[0]) // 2, (HI - ink.size[1]) // 2))
    angle = g.uniform(-10, 10)
    shear = g.uniform(-0.15, 0.15)
    dx, dy = g.uniform(-0.06, 0.06) * HI, g.uniform(-0.06, 0.06) * HI
    a, t = math.radians(angle), HI / 2
    ca, sa = math.cos(a), math.sin(a)
    # inverse map: output (x, y) -> input; rotation then shear about the centre, then shift
    m = (ca, sa + shear, t - ca * (t + dx) - (sa + shear) * (t + dy), -sa, ca, t + sa * (t + dx) - ca * (t + dy))
    canvas = canvas.transform((HI, HI), Image.AFFINE, m, resample=Image.BILINEAR)
    return canvas.resize((SIZE, SIZE), Image.LANCZOS)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument('out')
    ap.add_argument('--max-classes', type=int, default=0, help='keep the first N classes of a seeded order (small builds); 0: all')
    ap.add_argument('--per-class', type=int, default=0, help='instances per class; 0: max(12, min(2 x fonts, 20))')
    ap.add_argument('--seed', type=int, default=0)
    a = ap.parse_args()
    ensure_packages(TOOL_PACKAGES + FONT_PACKAGES)
    use_debian_python()
    from PIL import ImageFont

    faces = font_files()
    print(f'{len(faces)} font faces', flush=True)
    cmaps = [cmap_of(f, i) for f, i in faces]
    hershey = hershey_fonts()
    print(f'{len(hershey)} Hershey Latin fonts', flush=True)

    sc = scripts()
    cover = lambda c: sum(c in m for m in cmaps)
    cjk = [c for c in sc['cjk'] if cover(c) >= 12]
    sc['cjk'] = sorted(rng(a.seed, 'cjk').sample(cjk, min(CJK_CLASSES, len(cjk))))
    chars = [(s, c) for s in sc for c in sc[s]]
    if a.max_classes:
        # Every script in turn (seeded order within each), with spares for those with too few fonts.
        per = {s_: rng(a.seed, 'subset', s_).sample(sc[s_], len(sc[s_])) for s_ in sc}
        order = [(s_, per[s_][i]) for i in range(max(map(len, per.values()))) for s_ in sorted(per) if i < len(per[s_])]
        chars = order[: a.max_classes * 2]

    face_cache = {}

    def face(i):
        if i not in face_cache:
            f, idx = faces[i]
            face_cache[i] = ImageFont.truetype(f, size=HI, index=idx)
        return face_cache[i]

    fresh_dir(a.out)
    classes = []
    for script, c in chars:
        if a.max_classes and len(classes) >= a.max_classes:
            break
        # Every distinct drawing of the character: fonts that map it, ink present, no duplicate bitmap.
        inks, seen = [], set()
        sources = [('tt', i) for i, m in enumerate(cmaps) if c in m] + [('hershey', f) for f in hershey if c in hershey[f]]
        for kind, key in sources:
            try:
                ink = raw_truetype(face(key), c) if kind == 'tt' else raw_hershey(hershey[key][c])
            except Exception:
                ink = None
            if ink is None or ink.size[0] * ink.size[1] < 16:
                continue
            sig = ink.resize((16, 16)).point(lambda v: 255 if v > 96 else 0).tobytes()
            if sig in seen:
                continue
            seen.add(sig)
            inks.append(ink)
        if len(inks) < MIN_FONTS:
            continue
        name = f'{script}-{c:04X}'
        k = a.per_class or max(12, min(2 * len(inks), 20))
        classes.append((name, len(inks), k, inks))

    names = [n for n, _, _, _ in classes]
    order = rng(a.seed, 'split').sample(names, len(names))
    n_test = round(len(names) * SPLIT['test'])
    n_val = round(len(names) * SPLIT['val'])
    split_of = {n: ('test' if i < n_test else 'val' if i < n_test + n_val else 'train') for i, n in enumerate(order)}
    manifest = {'classes': {}, 'size': SIZE}
    for name, nfonts, k, inks in classes:
        d = os.path.join(a.out, split_of[name], name)
        os.makedirs(d)
        for j in range(k):
            g = rng(a.seed, name, j)
            img = place(inks[j % len(inks)], g)
            open(os.path.join(d, f'{j:02d}.png'), 'wb').write(png_bytes(img))
        manifest['classes'][name] = {'split': split_of[name], 'fonts': nfonts, 'instances': k}
    per = {s: sum(1 for n in names if split_of[n] == s) for s in ('train', 'val', 'test')}
    manifest['splits'] = per
    write_sources(a.out, 'characters: letters and ideographs of real scripts from Debian fonts', FONT_PACKAGES,
                  'Generated images of single characters; fonts are used as rendering tools. Build: scripts/data/build_characters.py.')
    manifest['sha256'] = tree_digest(a.out)
    json.dump(manifest, open(os.path.join(a.out, 'manifest.json'), 'w'), indent=1, sort_keys=True)
    print(f'{len(names)} classes ({per}), {sum(k for _, _, k, _ in classes)} images -> {a.out}')


if __name__ == '__main__':
    main()
