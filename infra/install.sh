#!/usr/bin/env bash
# Installs what is missing, idempotently: system packages, the Kafka jars, the Python virtualenv.
source "$(dirname "$0")/lib.sh"
mkdir -p "$DATA"

need_apt=()
command -v java >/dev/null || need_apt+=(openjdk-17-jre-headless)
command -v mvn  >/dev/null || need_apt+=(maven)
ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || need_apt+=(postgresql)
command -v promtool >/dev/null || need_apt+=(prometheus)
[ -x /usr/bin/prometheus-postgres-exporter ] || need_apt+=(prometheus-postgres-exporter)  # PostgreSQL's panels
command -v curl >/dev/null || need_apt+=(curl)
command -v go >/dev/null || need_apt+=(golang-go)  # builds kube-score (below)
if [ ${#need_apt[@]} -gt 0 ]; then
  [ "$(id -u)" = 0 ] || die "missing system packages: ${need_apt[*]}" "sudo apt-get install -y ${need_apt[*]}"
  say "installing ${need_apt[*]} from Debian's packages (first run only)"
  # The Debian package starts its own services; ours run from infra/, so keep the package from starting them.
  [ -e /usr/sbin/policy-rc.d ] || { printf "#!/bin/sh\nexit 101\n" > /usr/sbin/policy-rc.d; chmod +x /usr/sbin/policy-rc.d; made_policy=1; }
  ( apt-get update -q && DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "${need_apt[@]}" ) \
    >"$DATA/apt.log" 2>&1 || { tail -20 "$DATA/apt.log" >&2; die "apt-get failed (log: $DATA/apt.log)" "check that Debian's package mirror is reachable"; }
  if [ -n "${made_policy:-}" ]; then rm -f /usr/sbin/policy-rc.d; fi
fi

bash "$ROOT/infra/kafka/kafka.sh" install
bash "$ROOT/infra/mailpit/mailpit.sh" install
bash "$ROOT/infra/keycloak/keycloak.sh" install
bash "$ROOT/infra/app.sh" install

# kube-score (the manifests' lint in tests/unit/test_deploy.py) from the Go module proxy at a pinned
# version, into .data/tools/bin; a new pin is built on the next run.
KUBE_SCORE_VERSION=v1.20.0
tools="$ROOT/.data/tools/bin"
if [ ! -x "$tools/kube-score" ] || [ "$(cat "$tools/.kube-score-version" 2>/dev/null)" != "$KUBE_SCORE_VERSION" ]; then
  say "building kube-score $KUBE_SCORE_VERSION with go install (first run only; minutes on a busy machine)"
  mkdir -p "$tools"
  GOBIN="$tools" GOFLAGS=-buildvcs=false go install "github.com/zegl/kube-score/cmd/kube-score@$KUBE_SCORE_VERSION" \
    >"$DATA/go.log" 2>&1 || { tail -20 "$DATA/go.log" >&2; die "go install of kube-score failed (log: $DATA/go.log)" \
                                "check that the Go module proxy is reachable"; }
  echo "$KUBE_SCORE_VERSION" > "$tools/.kube-score-version"
fi

# Every Python package, build tooling included, comes from requirements.lock with its hash checked
# (make lock writes it). The project itself is then built by the locked setuptools, without build
# isolation, so nothing unlocked is fetched to build it.
lock="$ROOT/requirements.lock"
stamp="$VENV/.stamp-$(cat "$ROOT/pyproject.toml" "$lock" | sha256sum | cut -c1-16)"
if [ ! -f "$stamp" ]; then
  command -v python3 >/dev/null || die "python3 is missing" "apt-get install -y python3 python3-venv"
  python3 -c 'import sys; sys.exit(sys.version_info < (3, 11))' || die "Python 3.11 or newer is needed ($(python3 -V) found)" "install python3.11"
  say "installing the locked Python dependencies into .venv (first run, or after make lock)"
  [ -x "$PY" ] || python3 -m venv "$VENV"
  ( "$PY" -m pip install -q --require-hashes --no-deps -r "$lock" \
    && "$PY" -m pip install -q --no-deps --no-build-isolation -e "$ROOT" ) >"$DATA/pip.log" 2>&1 \
    || { tail -20 "$DATA/pip.log" >&2; die "pip could not install the locked dependencies (log: $DATA/pip.log)" \
           "check that PyPI is reachable; after editing pyproject.toml run make lock"; }
  rm -f "$VENV"/.stamp-*; touch "$stamp"
fi

# The Quix Streams peer of the bench (bench/peers/quix_peer.py) in a virtualenv of its own, from its own
# hash-checked lock: quixstreams caps pydantic below the project's pin (docs/adr/0080-peers-bench-only.md).
# A failure here does not stop the install: bench_peers reports the peer as missing, with this log.
QUIX_VENV="$ROOT/.venv-quix"
quix_lock="$ROOT/bench/peers/quix.lock"
quix_stamp="$QUIX_VENV/.stamp-$(sha256sum < "$quix_lock" | cut -c1-16)"
if [ ! -f "$quix_stamp" ]; then
  say "installing the Quix Streams peer into .venv-quix (bench only; first run, or after make lock)"
  { [ -x "$QUIX_VENV/bin/python" ] || python3 -m venv "$QUIX_VENV"; } \
    && "$QUIX_VENV/bin/python" -m pip install -q --require-hashes --no-deps -r "$quix_lock" >"$DATA/pip-quix.log" 2>&1 \
    && { rm -f "$QUIX_VENV"/.stamp-*; touch "$quix_stamp"; } \
    || say "WARNING: the Quix Streams peer could not be installed (log: $DATA/pip-quix.log); bench_peers reports it missing"
fi
