# Sourced: the bench stack's data folder and ports, apart from the `make run` stack's and the test stack's,
# so `make bench` never writes into the topics and database a developer is using (issue 16).
export WERKPLEK_DATA="${WERKPLEK_DATA:-$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)/.data/bench}"
export WERKPLEK_KAFKA_PORT="${WERKPLEK_KAFKA_PORT:-39092}"
export WERKPLEK_KAFKA_CONTROLLER_PORT="${WERKPLEK_KAFKA_CONTROLLER_PORT:-39093}"
export WERKPLEK_PG_PORT="${WERKPLEK_PG_PORT:-55434}"
export WERKPLEK_KEYCLOAK_PORT="${WERKPLEK_KEYCLOAK_PORT:-38080}"
export WERKPLEK_PROXY_PORT="${WERKPLEK_PROXY_PORT:-38000}"
export WERKPLEK_PROXY_HTTPS_PORT="${WERKPLEK_PROXY_HTTPS_PORT:-38443}"
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
