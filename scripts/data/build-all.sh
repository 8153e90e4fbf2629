#!/bin/sh
# Builds the full datasets of experiments/full-strength.json into data/build/ (not committed) and
# the small subsets committed in data/ (for the demo and the tests). Run as root to let the scripts
# apt-get install the Debian packages they need; otherwise they name them. See scripts/data/README.md.
set -e
cd "$(dirname "$0")/../.."
PY=python3
[ -x /usr/bin/python3 ] && PY=/usr/bin/python3
case "${1:-all}" in
  all|full)
    $PY scripts/data/build_characters.py data/build/characters
    $PY scripts/data/build_icons.py data/build/icons
    $PY scripts/data/build_textures.py data/build/textures
    ;;
esac
case "${1:-all}" in
  all|small)
    $PY scripts/data/build_characters.py data/characters-small --max-classes 48 --per-class 10
    $PY scripts/data/build_icons.py data/icons-small --max-classes 16
    $PY scripts/data/build_textures.py data/textures-small --max-classes 10 --per-class 10
    ;;
esac
