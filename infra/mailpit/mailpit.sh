#!/usr/bin/env bash
# Mailpit, the local mail catcher the notifier sends to: SMTP, plus an HTTP API (and a web UI) to read
# the mails. Built from source with `go install` at a pinned version into .data/bin (no prebuilt
# binary is downloaded), shared by the run and test stacks; its data lives under $DATA/mailpit.
# Ports: WERKPLEK_MAILPIT_SMTP_PORT / WERKPLEK_MAILPIT_HTTP_PORT (infra/mailpit/env.sh: next to Kafka's).
# Usage: mailpit.sh install | up | down | status | wipe
source "$(dirname "$0")/../lib.sh"
VERSION="v1.33.1"
MODULE="github.com/axllent/mailpit"
BIN_DIR="$ROOT/.data/bin"
BIN="$BIN_DIR/mailpit-$VERSION"
DIR="$DATA/mailpit"
PIDFILE="$DIR/mailpit.pid"
LOG="$DIR/mailpit.log"

install() {
  [ -x "$BIN" ] && return 0
  if ! command -v go >/dev/null; then
    [ "$(id -u)" = 0 ] || die "Go is missing (needed to build Mailpit, the local mail catcher)" "sudo apt-get install -y golang-go"
    say "installing Go from Debian's packages (first run only)"
    ( apt-get -o DPkg::Lock::Timeout=600 update -q && DEBIAN_FRONTEND=noninteractive \
        apt-get -o DPkg::Lock::Timeout=600 install -y -q --no-install-recommends golang-go ) >"$DATA/apt-go.log" 2>&1 \
      || { tail -20 "$DATA/apt-go.log" >&2; die "apt-get could not install Go (log: $DATA/apt-go.log)" "check that Debian's package mirror is reachable"; }
  fi
  say "building Mailpit $VERSION with go install (first run only, a few minutes)"
  mkdir -p "$BIN_DIR" "$DATA"
  local tmp; tmp="$(mktemp -d)"
  # GOTOOLCHAIN=auto: an older Go fetches the toolchain the module asks for, from the module proxy
  ( cd "$tmp" && GOBIN="$tmp" GOTOOLCHAIN="${GOTOOLCHAIN:-auto}" go install "$MODULE@$VERSION" ) \
    >"$DATA/mailpit-build.log" 2>&1 \
    || { tail -20 "$DATA/mailpit-build.log" >&2; rm -rf "$tmp"; die "go install $MODULE@$VERSION failed (log: $DATA/mailpit-build.log)" "check that the Go module proxy is reachable (GOPROXY)"; }
  mv "$tmp/mailpit" "$BIN" && rm -rf "$tmp"
}

ready() { curl -fsS "http://127.0.0.1:$MAILPIT_HTTP_PORT/readyz" >/dev/null 2>&1; }

up() {
  install
  if pid_alive "$PIDFILE"; then ready && return 0; fi
  require_free_port "$MAILPIT_SMTP_PORT" "mailpit_smtp"
  require_free_port "$MAILPIT_HTTP_PORT" "mailpit_http"
  mkdir -p "$DIR"
  # --enable-chaos: tests make the SMTP server refuse (4xx / 5xx) through the API, as a real one would
  nohup "$BIN" --smtp "127.0.0.1:$MAILPIT_SMTP_PORT" --listen "127.0.0.1:$MAILPIT_HTTP_PORT" \
    --database "$DIR/mailpit.db" --max 20000 --smtp-auth-accept-any --smtp-auth-allow-insecure \
    --enable-chaos --disable-version-check >>"$LOG" 2>&1 &
  echo $! >"$PIDFILE"
  wait_for "mailpit" 30 ready || { tail -20 "$LOG" >&2; die "Mailpit did not start (log: $LOG)"; }
  say "mailpit: SMTP 127.0.0.1:$MAILPIT_SMTP_PORT, web UI and API http://127.0.0.1:$MAILPIT_HTTP_PORT"
}

case "${1:-}" in
  install) install ;;
  up) up ;;
  down) stop_pidfile "$PIDFILE" "mailpit" ;;
  wipe) stop_pidfile "$PIDFILE" "mailpit"; rm -rf "$DIR" ;;
  status)
    if pid_alive "$PIDFILE" && ready; then echo "mailpit    up    smtp 127.0.0.1:$MAILPIT_SMTP_PORT  http://127.0.0.1:$MAILPIT_HTTP_PORT"
    else echo "mailpit    down"; exit 1; fi ;;
  *) die "usage: mailpit.sh install|up|down|status|wipe" ;;
esac
