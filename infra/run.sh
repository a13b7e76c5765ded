#!/usr/bin/env bash
# `make run`: installs what is missing, starts the stack and every service in infra/Procfile, then
# shows a live status line. Ctrl-C stops the services; the stack keeps running (make infra-down).
source "$(dirname "$0")/lib.sh"
bash "$ROOT/infra/keycloak/keycloak.sh" start  # slow to start: launched first, waited for below
bash "$ROOT/infra/up.sh"
bash "$ROOT/infra/prometheus/prometheus.sh" up
bash "$ROOT/infra/app.sh" build && bash "$ROOT/infra/keycloak/keycloak.sh" wait && bash "$ROOT/infra/proxy/proxy.sh" up
export WERKPLEK_APP_OIDC_ISSUER="http://127.0.0.1:${WERKPLEK_KEYCLOAK_PORT:-18080}/realms/werkplek"  # for the Procfile
LOGS="$DATA/logs"; mkdir -p "$LOGS"
pids=()
stop_services() {  # the EXIT trap: runs once, however the script ends (Ctrl-C, TERM, an error)
  echo; say "stopping services"
  for pid in "${pids[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
  for pid in "${pids[@]}"; do wait "$pid" 2>/dev/null || true; done
  say "services stopped; the stack is still up (make infra-down stops it)"
}
trap stop_services EXIT
trap 'exit 130' INT
trap 'exit 143' TERM
export PATH="$VENV/bin:$PATH"
while IFS= read -r line; do
  [[ "$line" =~ ^[[:space:]]*(#|$) ]] && continue
  name="${line%%:*}"; cmd="${line#*:}"
  ( cd "$ROOT" && exec bash -c "exec $cmd" ) >>"$LOGS/$name.log" 2>&1 &
  pids+=($!)
  say "started $name (pid $!, log $LOGS/$name.log)"
done < "$ROOT/infra/Procfile"
[ ${#pids[@]} -gt 0 ] || say "no services yet: the stack runs with its topics"
say "open:"
"$PY" -m werkplek_common.cli urls
echo "  student app                      http://127.0.0.1:${WERKPLEK_PROXY_PORT:-18000}/  (demo login inst-1-stu-1 / werkplek; HTTPS for a phone: see README)"
echo "  mail catcher (mails to mentors)  http://127.0.0.1:${MAILPIT_HTTP_PORT}/"
echo "  sign-in (Keycloak, admin: .data/keycloak/admin.pass)  http://127.0.0.1:${WERKPLEK_KEYCLOAK_PORT:-18080}/admin/"
say "live status: each service up / not ready / DOWN, its consumer lag (Ctrl-C to stop):"
# In the background, waited for: bash runs its trap as soon as a signal arrives (a foreground child
# would delay it until the child exits), and the services are stopped by TERM as well as by Ctrl-C.
"$PY" -m werkplek_common.cli status --watch 2 &
pids+=($!)
wait "$!"
