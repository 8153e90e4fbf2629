#!/usr/bin/env bash
# Installs what the end-to-end tests need to drive the extension in a real VS Code:
#   - Debian packages: chromium (the browser Playwright drives), ripgrep (fed to code-server's
#     @vscode/ripgrep, which would otherwise download a binary), libkrb5-dev (headers for the
#     `kerberos` native module that code-server's VS Code server builds on install).
#   - code-server (VS Code 1.100 served to a browser) from the npm registry, into its own prefix
#     outside the project's dependencies: ${ROBUST_META_E2E_HOME:-$HOME/.cache/robust-meta-e2e}/code-server
#
# Idempotent and cached: apt-get runs only when a package is missing, code-server is installed
# only when the prefix does not hold a verified install of the pinned version.
# Prints the code-server executable's path as its last line of output.
#
# Environment:
#   ROBUST_META_E2E_HOME   cache folder (default $HOME/.cache/robust-meta-e2e)
#   CODE_SERVER_VERSION    default 4.100.3 (the newest that runs on Node 20; bundles VS Code 1.100)
#   E2E_SKIP_APT=1         do not touch Debian packages (they must be there already)
set -euo pipefail

CODE_SERVER_VERSION="${CODE_SERVER_VERSION:-4.100.3}"
E2E_HOME="${ROBUST_META_E2E_HOME:-$HOME/.cache/robust-meta-e2e}"
PREFIX="$E2E_HOME/code-server"
BIN="$PREFIX/node_modules/.bin/code-server"
MARKER="$PREFIX/.verified-$CODE_SERVER_VERSION"
APT_PACKAGES=(chromium ripgrep libkrb5-dev)

log() { printf '[setup-code-server] %s\n' "$*" >&2; }
t0=$(date +%s)

# ---------------------------------------------------------------- Debian packages
missing=()
for p in "${APT_PACKAGES[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed'; then
    missing+=("$p")
  fi
done
if ((${#missing[@]})); then
  if [[ "${E2E_SKIP_APT:-}" == 1 ]]; then
    log "missing Debian packages: ${missing[*]} (E2E_SKIP_APT=1, not installing)"; exit 1
  fi
  SUDO=()
  if [[ $(id -u) -ne 0 ]]; then SUDO=(sudo); fi
  log "installing Debian packages: ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  mkdir -p "$E2E_HOME"
  apt_log="$E2E_HOME/apt.log"
  if ! { "${SUDO[@]}" apt-get update -qq &&
         "${SUDO[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}"; } >"$apt_log" 2>&1; then
    tail -n 40 "$apt_log" >&2; log "apt-get failed (full log: $apt_log)"; exit 1
  fi
else
  log "Debian packages present: ${APT_PACKAGES[*]}"
fi
for exe in /usr/bin/chromium /usr/bin/rg; do
  [[ -x $exe ]] || { log "$exe not found after install"; exit 1; }
done

# ---------------------------------------------------------------- code-server
verify() {
  # 1. the executable answers with the pinned version
  local cfg; cfg=$(mktemp -d)
  local v
  v=$(XDG_CONFIG_HOME="$cfg" XDG_DATA_HOME="$cfg" "$BIN" --version 2>/dev/null | tail -n 1) || { rm -rf "$cfg"; return 1; }
  [[ $v == "$CODE_SERVER_VERSION "* ]] || { log "unexpected version output: $v"; rm -rf "$cfg"; return 1; }
  # 2. the postinstall step ran: VS Code's server modules installed, native ones built, rg placed
  local vs="$PREFIX/node_modules/code-server/lib/vscode"
  local f
  for f in node_modules/node-pty/build/Release/pty.node \
           node_modules/@vscode/spdlog/build/Release/spdlog.node \
           node_modules/@vscode/ripgrep/bin/rg \
           node_modules.asar \
           extensions/node_modules; do
    [[ -e $vs/$f ]] || { log "missing $vs/$f (code-server's postinstall did not complete)"; rm -rf "$cfg"; return 1; }
  done
  # 3. it serves: start it on a free loopback port and ask /healthz
  local logf="$cfg/server.log" pid url ok=1
  XDG_CONFIG_HOME="$cfg" XDG_DATA_HOME="$cfg" "$BIN" --bind-addr 127.0.0.1:0 --auth none \
    --disable-telemetry --disable-update-check --user-data-dir "$cfg/ud" --extensions-dir "$cfg/ext" \
    "$cfg" >"$logf" 2>&1 &
  pid=$!
  for _ in $(seq 1 60); do
    url=$(grep -o 'HTTP server listening on http://[0-9.:]*' "$logf" | sed 's/.* on //' || true)
    if [[ -n $url ]] && node -e "fetch('$url/healthz').then(r=>process.exit(r.ok?0:1),()=>process.exit(1))"; then
      ok=0; break
    fi
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.5
  done
  kill "$pid" 2>/dev/null || true
  wait "$pid" 2>/dev/null || true
  if ((ok)); then log "code-server did not answer /healthz; its log:"; cat "$logf" >&2; fi
  rm -rf "$cfg"
  return $ok
}

if [[ -f $MARKER && -x $BIN ]]; then
  log "code-server $CODE_SERVER_VERSION already installed in $PREFIX"
else
  log "installing code-server@$CODE_SERVER_VERSION into $PREFIX"
  rm -rf "$PREFIX"
  mkdir -p "$PREFIX"
  # A package.json of its own makes the prefix a project separate from the repository; the
  # allowScripts field approves the two install scripts code-server needs (npm 11 warns about,
  # and later versions block, unapproved ones). Name-only entries: this machine's npm writes
  # lockfiles without `resolved` addresses, which version-pinned entries would need.
  cat >"$PREFIX/package.json" <<'JSON'
{
  "name": "robust-meta-e2e-code-server",
  "private": true,
  "description": "code-server for robust-meta's end-to-end tests (written by scripts/setup-code-server.sh)",
  "allowScripts": { "code-server": true, "argon2": true }
}
JSON
  # @vscode/ripgrep (installed by code-server's postinstall) downloads rg from GitHub unless its
  # cache already holds the archive: give it Debian's rg.
  rg_cache="$(node -p 'require("os").tmpdir()')/vscode-ripgrep-cache-1.15.11"
  mkdir -p "$rg_cache"
  tar -C /usr/bin -czf "$rg_cache/ripgrep-v13.0.0-10-x86_64-unknown-linux-musl.tar.gz" rg
  # npm_config_yes: node-pty's install step runs `npx node-gyp` (this machine's npmrc says yes=false).
  # --unsafe-perm: code-server's postinstall refuses to run as root without it (npm 11 warns that
  # it no longer knows the flag, but still passes it on to the script).
  # npm_config_unsafe_perm is also what the nested `npm install`s in the postinstall look at.
  (
    cd "$PREFIX"
    export npm_config_yes=true npm_config_unsafe_perm=true npm_config_update_notifier=false \
           npm_config_fund=false npm_config_audit=false
    npm install --unsafe-perm --loglevel=warn "code-server@$CODE_SERVER_VERSION" >&2
  )
  # Should a future npm skip the postinstall (unapproved scripts blocked), run it by hand.
  if [[ ! -e "$PREFIX/node_modules/code-server/lib/vscode/node_modules.asar" ]]; then
    log "code-server's postinstall did not run; running it by hand"
    (
      cd "$PREFIX/node_modules/code-server"
      export npm_config_yes=true npm_config_unsafe_perm=true \
             npm_config_user_agent="npm/$(npm -v) node/$(node -v) linux x64"
      sh ./postinstall.sh >&2
    )
  fi
  log "checking the install"
  verify || { log "code-server install check failed"; exit 1; }
  touch "$MARKER"
fi

log "done in $(($(date +%s) - t0))s"
echo "$BIN"
