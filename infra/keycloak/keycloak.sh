#!/usr/bin/env bash
# Keycloak (OpenID Connect provider) from Maven Central, the realm imported from infra/keycloak/realm.json.
# Usage: keycloak.sh install|up|down|status|wipe
# Keycloak 26 needs Java 21 or newer (the machines carry Temurin 25 at /usr/lib/jvm/temurin-25-jdk-amd64).
# The built distribution is shared (.data/keycloak-dist); each stack has its own hard-linked copy with
# its own data (H2 file database) under $DATA/keycloak.
source "$(dirname "$0")/../lib.sh"
KC_PORT="${WERKPLEK_KEYCLOAK_PORT:-18080}"
PROXY_PORT="${WERKPLEK_PROXY_PORT:-18000}"
APP_ORIGIN="${WERKPLEK_APP_ORIGIN:-http://127.0.0.1:$PROXY_PORT}"
APP_HTTPS_ORIGIN="${WERKPLEK_APP_HTTPS_ORIGIN:-https://127.0.0.1:${WERKPLEK_PROXY_HTTPS_PORT:-18443}}"
POM="$ROOT/infra/keycloak/pom.xml"; VERSION="$(sed -nE 's#.*<keycloak.version>(.*)</keycloak.version>.*#\1#p' "$POM")"
DIST="$ROOT/.data/keycloak-dist"; K="$DATA/keycloak"; HOME_DIR="$K/home"; PIDFILE="$K/keycloak.pid"

# build-time options (one local node, no clustering; the H2 file database): every start is --optimized
BUILD_OPTS="--db=dev-file --cache=local --health-enabled=false --metrics-enabled=false"
stamp() { echo ".stamp-$VERSION-$(echo "$BUILD_OPTS" | sha256sum | cut -c1-12)"; }

java_home() {  # the first JDK of version 21 or newer
  local j v
  for j in ${WERKPLEK_KEYCLOAK_JAVA_HOME:-} /usr/lib/jvm/temurin-25-jdk-amd64 /usr/lib/jvm/*; do
    [ -x "$j/bin/java" ] || continue
    v="$("$j/bin/java" -version 2>&1 | sed -nE 's/.*version "([0-9]+).*/\1/p' | head -1)"
    [ "${v:-0}" -ge 21 ] && { echo "$j"; return 0; }
  done
  return 1
}

install() {
  local jh; jh="$(java_home)" || die "Keycloak $VERSION needs Java 21 or newer; none found under /usr/lib/jvm" \
    "install a JDK 21+ (e.g. Temurin 25) under /usr/lib/jvm, or set WERKPLEK_KEYCLOAK_JAVA_HOME"
  [ -f "$DIST/$(stamp)" ] && return 0
  command -v mvn >/dev/null || die "Maven is missing; it fetches Keycloak" "apt-get install -y maven"
  say "fetching Keycloak $VERSION from Maven Central and building it (first run only, about a minute)"
  rm -rf "$DIST" "$DIST.tmp"; mkdir -p "$DIST.tmp"
  mvn -q -B -f "$POM" dependency:copy -Dartifact="org.keycloak:keycloak-quarkus-dist:$VERSION:tar.gz" \
      -DoutputDirectory="$DIST.tmp" >"$DIST.tmp/maven.log" 2>&1 \
    || { tail -20 "$DIST.tmp/maven.log" >&2; die "Maven could not fetch Keycloak" "check that Maven Central is reachable"; }
  tar xzf "$DIST.tmp/keycloak-quarkus-dist-$VERSION.tar.gz" -C "$DIST.tmp" --strip-components=1
  rm -f "$DIST.tmp/keycloak-quarkus-dist-$VERSION.tar.gz"
  # build once (the build-time options), so every start is `start --optimized`
  # shellcheck disable=SC2086
  JAVA_HOME="$jh" "$DIST.tmp/bin/kc.sh" build $BUILD_OPTS >"$DIST.tmp/build.log" 2>&1 \
    || { tail -20 "$DIST.tmp/build.log" >&2; die "building Keycloak failed (log: $DIST.tmp/build.log)"; }
  mv "$DIST.tmp" "$DIST"; touch "$DIST/$(stamp)"
}

realm() {  # the committed realm with this stack's app origins
  sed -e "s#@APP_ORIGIN@#$APP_ORIGIN#g" -e "s#@APP_HTTPS_ORIGIN@#$APP_HTTPS_ORIGIN#g" "$ROOT/infra/keycloak/realm.json"
}

url() { echo "http://127.0.0.1:$KC_PORT"; }
ready() { curl -fsS -o /dev/null "$(url)/realms/werkplek/.well-known/openid-configuration" 2>/dev/null; }
ready_or_dead() { ready || ! pid_alive "$PIDFILE"; }

start() {  # launch without waiting (make test starts it early and waits later: it is the slowest part)
  install
  if pid_alive "$PIDFILE"; then return 0; fi
  require_free_port "$KC_PORT" keycloak
  if [ ! -f "$HOME_DIR/$(stamp)" ]; then  # a hard-linked copy of the built distribution (data kept apart)
    local keep=""; [ -d "$HOME_DIR/data/h2" ] && { keep="$K/h2.keep"; rm -rf "$keep"; mv "$HOME_DIR/data/h2" "$keep"; }
    rm -rf "$HOME_DIR"; mkdir -p "$K"; cp -al "$DIST" "$HOME_DIR"
    if [ -n "$keep" ]; then mkdir -p "$HOME_DIR/data"; mv "$keep" "$HOME_DIR/data/h2"; fi
  fi
  mkdir -p "$HOME_DIR/data/import" "$K/logs"
  realm > "$HOME_DIR/data/import/werkplek-realm.json"
  [ -f "$K/admin.pass" ] || { head -c 18 /dev/urandom | base64 | tr -d '/+=' > "$K/admin.pass"; chmod 600 "$K/admin.pass"; }
  local jh; jh="$(java_home)"
  JAVA_HOME="$jh" KC_BOOTSTRAP_ADMIN_USERNAME=admin KC_BOOTSTRAP_ADMIN_PASSWORD="$(cat "$K/admin.pass")" \
  JAVA_OPTS_KC_HEAP="-Xms64m -Xmx512m" \
    setsid nohup "$HOME_DIR/bin/kc.sh" start --optimized --import-realm --http-enabled=true --http-host=127.0.0.1 \
      --http-port="$KC_PORT" --hostname-strict=false --proxy-headers=xforwarded --log-level=info \
      >"$K/logs/keycloak.log" 2>&1 &
  echo $! > "$PIDFILE"
}

wait_ready() {
  pid_alive "$PIDFILE" || die "keycloak is not running (log: $K/logs/keycloak.log)" "bash infra/keycloak/keycloak.sh up"
  if ! wait_for keycloak 600 ready_or_dead || ! ready; then
    tail -n 15 "$K/logs/keycloak.log" >&2 || true
    down
    die "Keycloak did not start (log: $K/logs/keycloak.log)" "read the lines above; another process on port $KC_PORT? choose another with WERKPLEK_KEYCLOAK_PORT"
  fi
  say "keycloak ready on $(url) (realm werkplek, admin password in $K/admin.pass)"
}

up() {
  if pid_alive "$PIDFILE" && ready; then say "keycloak already running (pid $(cat "$PIDFILE")) on $(url)"; return 0; fi
  start; wait_ready
}

down() {  # kc.sh starts java as its child: stop the whole process group (setsid made it ours alone)
  if pid_alive "$PIDFILE"; then
    local pid; pid="$(cat "$PIDFILE")"
    kill -TERM -- "-$pid" 2>/dev/null || true
    wait_for "keycloak to stop" 30 bash -c "! kill -0 -- -$pid 2>/dev/null" || kill -KILL -- "-$pid" 2>/dev/null || true
  fi
  rm -f "$PIDFILE"
}

wipe() { down; rm -rf "$HOME_DIR/data"; }  # the realm is imported afresh at the next start

status() {
  if pid_alive "$PIDFILE" && ready; then echo "keycloak: up (pid $(cat "$PIDFILE"), $(url))"; return 0; fi
  echo "keycloak: down"; return 1
}

case "${1:-status}" in wait) wait_ready ;; *) "${1:-status}" ;; esac
