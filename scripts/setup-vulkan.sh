#!/usr/bin/env bash
# Installs what the webgpu backend's tests need on a machine without a GPU: the Vulkan loader
# (libvulkan1, which Dawn loads) and SwiftShader's Vulkan driver, which Debian ships inside its
# chromium packages (chromium-common: /usr/lib/chromium/vk_swiftshader_icd.json). Tests point
# VK_ICD_FILENAMES at it themselves (test/helpers/webgpu.ts).
#
# Idempotent: apt-get runs only when a package is missing. Prints the driver manifest's path as
# its last line. E2E_SKIP_APT=1: do not touch Debian packages (they must be there already).
set -euo pipefail

APT_PACKAGES=(libvulkan1 chromium)
ICD=/usr/lib/chromium/vk_swiftshader_icd.json
log() { printf '[setup-vulkan] %s\n' "$*" >&2; }

missing=()
for p in "${APT_PACKAGES[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed'; then missing+=("$p"); fi
done
if ((${#missing[@]})); then
  if [[ "${E2E_SKIP_APT:-}" == 1 ]]; then log "missing Debian packages: ${missing[*]} (E2E_SKIP_APT=1, not installing)"; exit 1; fi
  SUDO=()
  if [[ $(id -u) -ne 0 ]]; then SUDO=(sudo); fi
  log "installing Debian packages: ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt_log=$(mktemp)
  if ! { "${SUDO[@]}" apt-get update -qq &&
         "${SUDO[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}"; } >"$apt_log" 2>&1; then
    tail -n 40 "$apt_log" >&2; log "apt-get failed (full log: $apt_log)"; exit 1
  fi
  rm -f "$apt_log"
else
  log "Debian packages present: ${APT_PACKAGES[*]}"
fi
[[ -f $ICD ]] || { log "$ICD not found after install (is chromium-common's layout different?)"; exit 1; }
echo "$ICD"
