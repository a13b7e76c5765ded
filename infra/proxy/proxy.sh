#!/usr/bin/env bash
# The reverse proxy (nginx from Debian's packages): one origin for the student app, the APIs and the
# mentor pages, over HTTP on loopback and HTTPS with a local certificate (for a phone on the same
# network, see the README). Usage: proxy.sh install|up|down|status|reload
source "$(dirname "$0")/../lib.sh"
PORT="${WERKPLEK_PROXY_PORT:-18000}"
HTTPS_PORT="${WERKPLEK_PROXY_HTTPS_PORT:-18443}"
PUBLIC_HOST="${WERKPLEK_PUBLIC_HOST:-}"  # a LAN address to serve HTTPS on for a phone (default: loopback only)
PLACEMENT="${WERKPLEK_PROXY_PLACEMENT_UPSTREAM:-127.0.0.1:8001}"
MENTOR="${WERKPLEK_PROXY_MENTOR_UPSTREAM:-127.0.0.1:8002}"
IDP_ORIGIN="${WERKPLEK_IDP_ORIGIN:-http://127.0.0.1:${WERKPLEK_KEYCLOAK_PORT:-18080}}"
DIST="${WERKPLEK_APP_DIST:-$ROOT/apps/student/dist}"
RUN="$DATA/proxy"; CONF="$RUN/nginx.conf"; TLS="$RUN/tls"

install() {
  command -v nginx >/dev/null && return 0
  [ "$(id -u)" = 0 ] || die "nginx is missing" "sudo apt-get install -y nginx"
  say "installing nginx from Debian's packages (first run only)"
  mkdir -p "$DATA"
  # the package would start its own nginx on port 80; ours runs from here
  [ -e /usr/sbin/policy-rc.d ] || { printf "#!/bin/sh\nexit 101\n" > /usr/sbin/policy-rc.d; chmod +x /usr/sbin/policy-rc.d; made=1; }
  ( apt-get -o DPkg::Lock::Timeout=600 update -q && DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=600 \
      install -y -q --no-install-recommends nginx openssl ) >"$DATA/apt-nginx.log" 2>&1 \
    || { tail -20 "$DATA/apt-nginx.log" >&2; die "apt-get could not install nginx (log: $DATA/apt-nginx.log)"; }
  if [ -n "${made:-}" ]; then rm -f /usr/sbin/policy-rc.d; fi
}

certificate() {  # a local CA and a server certificate for 127.0.0.1, localhost and $PUBLIC_HOST
  local names="IP:127.0.0.1,DNS:localhost"
  [ -n "$PUBLIC_HOST" ] && { [[ "$PUBLIC_HOST" =~ ^[0-9.]+$ ]] && names="$names,IP:$PUBLIC_HOST" || names="$names,DNS:$PUBLIC_HOST"; }
  [ -f "$TLS/server.crt" ] && [ "$(cat "$TLS/names" 2>/dev/null)" = "$names" ] && return 0
  mkdir -p "$TLS"
  [ -f "$TLS/ca.crt" ] || openssl req -x509 -newkey rsa:2048 -nodes -days 825 -subj "/CN=werkplek local CA" \
      -keyout "$TLS/ca.key" -out "$TLS/ca.crt" >/dev/null 2>&1
  openssl req -newkey rsa:2048 -nodes -subj "/CN=werkplek local" -keyout "$TLS/server.key" -out "$TLS/server.csr" >/dev/null 2>&1
  printf "subjectAltName=%s\nextendedKeyUsage=serverAuth\n" "$names" > "$TLS/ext.cnf"
  openssl x509 -req -in "$TLS/server.csr" -CA "$TLS/ca.crt" -CAkey "$TLS/ca.key" -CAcreateserial -days 825 \
      -extfile "$TLS/ext.cnf" -out "$TLS/server.crt" >/dev/null 2>&1
  chmod 600 "$TLS"/*.key; echo "$names" > "$TLS/names"
}

config() {
  local https_listen="listen 127.0.0.1:$HTTPS_PORT ssl;"
  [ -n "$PUBLIC_HOST" ] && https_listen="$https_listen listen $PUBLIC_HOST:$HTTPS_PORT ssl;"
  local tls="ssl_certificate $TLS/server.crt; ssl_certificate_key $TLS/server.key; ssl_protocols TLSv1.2 TLSv1.3;"
  local app_config
  app_config="$(printf '{"authority":"%s/realms/werkplek","client_id":"werkplek-app"}' "$IDP_ORIGIN")"
  sed -e "s#@RUN@#$RUN#g" -e "s#@PORT@#$PORT#g" -e "s#@HTTPS_LISTEN@#$https_listen#" -e "s#@TLS@#$tls#" \
      -e "s#@DIST@#$DIST#g" -e "s#@PLACEMENT@#$PLACEMENT#g" -e "s#@MENTOR@#$MENTOR#g" -e "s#@IDP_ORIGIN@#$IDP_ORIGIN#g" \
      -e "s#@APP_CONFIG@#$app_config#g" -e "s#@MIME_TYPES@#/etc/nginx/mime.types#g" \
      "$ROOT/infra/proxy/nginx.conf.in" > "$CONF"
}

url() { echo "http://127.0.0.1:$PORT"; }
ready() { curl -fsS -o /dev/null "$(url)/config.json" 2>/dev/null; }

up() {
  install
  [ -f "$DIST/index.html" ] || die "the student app is not built ($DIST/index.html is missing)" "bash infra/app.sh build"
  mkdir -p "$RUN/tmp"
  certificate; config
  nginx -t -c "$CONF" -p "$RUN" >"$RUN/configtest.log" 2>&1 || { cat "$RUN/configtest.log" >&2; die "nginx refused its configuration ($CONF)"; }
  if pid_alive "$RUN/nginx.pid"; then nginx -c "$CONF" -p "$RUN" -s reload; say "proxy reloaded on $(url)"; return 0; fi
  require_free_port "$PORT" proxy; require_free_port "$HTTPS_PORT" proxy_https
  nginx -c "$CONF" -p "$RUN" || die "nginx did not start (log: $RUN/error.log)"
  wait_for proxy 20 ready || die "the proxy does not answer on $(url) (log: $RUN/error.log)"
  say "proxy ready on $(url) and https://127.0.0.1:$HTTPS_PORT (app: $DIST)"
}

down() { stop_pidfile "$RUN/nginx.pid" proxy; }

status() {
  if pid_alive "$RUN/nginx.pid" && ready; then echo "proxy: up (pid $(cat "$RUN/nginx.pid"), $(url))"; return 0; fi
  echo "proxy: down"; return 1
}

"${1:-status}"
