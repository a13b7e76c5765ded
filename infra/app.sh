#!/usr/bin/env bash
# The student app (apps/student): npm ci from the committed lock, the build, the unit tests, the
# browser tests. Usage: app.sh install|build|unit|browser
source "$(dirname "$0")/lib.sh"
APP="$ROOT/apps/student"

install() {
  command -v node >/dev/null || die "Node.js is missing; the student app is built with it" "apt-get install -y nodejs npm (Node 20+)"
  local major; major="$(node -p 'process.versions.node.split(".")[0]')"
  [ "$major" -ge 20 ] || die "Node.js $major found; the student app needs Node 20 or newer"
  local stamp="$APP/node_modules/.stamp-$(sha256sum "$APP/package-lock.json" | cut -c1-16)"
  [ -f "$stamp" ] && return 0
  say "installing the student app's packages (npm ci, from the committed lock)"
  mkdir -p "$DATA"
  ( cd "$APP" && npm ci --no-audit --no-fund ) >"$DATA/npm.log" 2>&1 \
    || { tail -20 "$DATA/npm.log" >&2; die "npm ci failed (log: $DATA/npm.log)" "check that the npm registry is reachable"; }
  touch "$stamp"
}

browser_binary() {  # Debian's Chromium for the browser tests and Lighthouse (Playwright's own download is unreachable)
  # type -P looks only at files on PATH: `command -v` would also find a shell function of that name
  type -P chromium >/dev/null && return 0
  [ "$(id -u)" = 0 ] || die "chromium is missing" "sudo apt-get install -y chromium"
  say "installing Debian's chromium (first run only)"
  mkdir -p "$DATA"
  ( apt-get -o DPkg::Lock::Timeout=600 update -q && DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=600 \
      install -y -q --no-install-recommends chromium fonts-dejavu-core ) >"$DATA/apt-chromium.log" 2>&1 \
    || { tail -20 "$DATA/apt-chromium.log" >&2; die "apt-get could not install chromium (log: $DATA/apt-chromium.log)"; }
  type -P chromium >/dev/null || die "apt-get ran but no chromium is on PATH (log: $DATA/apt-chromium.log)"
}

build() {
  install
  ( cd "$APP" && npm run --silent build ) >"$DATA/app-build.log" 2>&1 \
    || { tail -30 "$DATA/app-build.log" >&2; die "the student app did not build (log: $DATA/app-build.log)"; }
  say "student app built ($APP/dist)"
}

unit() { install; ( cd "$APP" && npx vitest run ); }

check() { build; unit; browser_binary; }  # make test: the browser scenarios run inside pytest (tests/e2e)

browser() { install; browser_binary; ( cd "$APP" && node --test --test-concurrency=1 tests/browser/ ); }

"${1:-build}"
