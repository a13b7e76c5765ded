# Sourced: the test stack's data folder and ports, apart from the `make run` stack's.
export WERKPLEK_DATA="${WERKPLEK_DATA:-$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)/.data/test}"
export WERKPLEK_KAFKA_PORT="${WERKPLEK_KAFKA_PORT:-29092}"
export WERKPLEK_KAFKA_CONTROLLER_PORT="${WERKPLEK_KAFKA_CONTROLLER_PORT:-29093}"
export WERKPLEK_PG_PORT="${WERKPLEK_PG_PORT:-55433}"
export WERKPLEK_KEYCLOAK_PORT="${WERKPLEK_KEYCLOAK_PORT:-28080}"
export WERKPLEK_PROXY_PORT="${WERKPLEK_PROXY_PORT:-28000}"
export WERKPLEK_PROXY_HTTPS_PORT="${WERKPLEK_PROXY_HTTPS_PORT:-28443}"
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
