"""Shared helpers of the data build scripts: installing the Debian packages a script needs,
recording their licences, seeded randomness and writing PNG class folders deterministically."""
import hashlib
import io
import os
import random
import shutil
import subprocess
import sys


def ensure_packages(packages, modules=()):
    """Installs the Debian packages that are missing when run as root; otherwise says which to install."""
    missing = [p for p in packages if subprocess.run(['dpkg-query', '-W', '-f=${Status}', p], capture_output=True, text=True).stdout.strip() != 'install ok installed']
    if not missing:
        return
    if os.geteuid() != 0:
        sys.exit(f'missing Debian packages: {" ".join(missing)}\ninstall them (sudo apt-get install {" ".join(missing)}) or run this script as root')
    print(f'apt-get install {" ".join(missing)}', flush=True)
    env = dict(os.environ, DEBIAN_FRONTEND='noninteractive')
    subprocess.run(['apt-get', 'update'], check=True, env=env, stdout=subprocess.DEVNULL)
    subprocess.run(['apt-get', 'install', '-y', '--no-install-recommends', *missing], check=True, env=env, stdout=subprocess.DEVNULL)


def use_debian_python():
    """Debian's python3-pil and python3-fonttools live in /usr/bin/python3's path; another python3
    first on PATH (pyenv, a virtual environment) would not see them: run again under Debian's."""
    try:
        import PIL  # noqa: F401
    except ImportError:
        if os.path.realpath(sys.executable) != os.path.realpath('/usr/bin/python3') and os.path.exists('/usr/bin/python3'):
            os.execv('/usr/bin/python3', ['/usr/bin/python3', *sys.argv])
        raise


def package_version(p):
    return subprocess.run(['dpkg-query', '-W', '-f=${Version}', p], capture_output=True, text=True).stdout.strip()


def licence_summary(p):
    """The License: lines of the package's machine-readable copyright file (or its first lines)."""
    f = f'/usr/share/doc/{p}/copyright'
    try:
        text = open(f, encoding='utf8', errors='replace').read()
    except OSError:
        return 'copyright file missing'
    names = []
    for line in text.splitlines():
        if line.startswith('License:'):
            name = line.split(':', 1)[1].strip()
            if name and name not in names:
                names.append(name)
    return ', '.join(names) if names else ' '.join(text.split()[:40])


def write_sources(out, title, packages, extra=''):
    """SOURCES.md beside the data: each package, its version and its licence(s)."""
    lines = [f'# {title}', '', 'Built from these Debian 12 packages (licences from /usr/share/doc/<package>/copyright; the', 'full texts are there).', '', '| package | version | licence(s) |', '| --- | --- | --- |']
    for p in sorted(packages):
        lines.append(f'| {p} | {package_version(p)} | {licence_summary(p)} |')
    if extra:
        lines += ['', extra]
    with open(os.path.join(out, 'SOURCES.md'), 'w', encoding='utf8') as f:
        f.write('\n'.join(lines) + '\n')


def rng(*parts):
    """A random.Random seeded by a stable hash of the parts (never Python's salted hash())."""
    h = hashlib.sha256('\x00'.join(str(p) for p in parts).encode()).digest()
    return random.Random(int.from_bytes(h[:8], 'big'))


def png_bytes(img):
    """PNG bytes without metadata (no time stamps), so a rebuild is byte-identical."""
    b = io.BytesIO()
    img.save(b, format='PNG', optimize=True)
    return b.getvalue()


def fresh_dir(path):
    if os.path.exists(path):
        shutil.rmtree(path)
    os.makedirs(path)


def tree_digest(root):
    """sha256 over every file's relative path and bytes, in sorted order."""
    h = hashlib.sha256()
    for d, dirs, files in sorted(os.walk(root)):
        dirs.sort()
        for name in sorted(files):
            p = os.path.join(d, name)
            h.update(os.path.relpath(p, root).encode() + b'\x00')
            h.update(open(p, 'rb').read())
    return h.hexdigest()
