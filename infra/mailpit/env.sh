# Sourced by infra/lib.sh: the mail catcher's ports, next to Kafka's unless set (+33 SMTP, +34 HTTP),
# so every stack that moves Kafka (the test stack, each developer's) gets a mail catcher of its own;
# and the notifier's SMTP settings pointing at it.
MAILPIT_SMTP_PORT="${WERKPLEK_MAILPIT_SMTP_PORT:-$((KAFKA_PORT + 33))}"
MAILPIT_HTTP_PORT="${WERKPLEK_MAILPIT_HTTP_PORT:-$((KAFKA_PORT + 34))}"
export WERKPLEK_MAILPIT_SMTP_PORT="$MAILPIT_SMTP_PORT" WERKPLEK_MAILPIT_HTTP_PORT="$MAILPIT_HTTP_PORT"
export WERKPLEK_MENTOR_SMTP_HOST="${WERKPLEK_MENTOR_SMTP_HOST:-127.0.0.1}"
export WERKPLEK_MENTOR_SMTP_PORT="${WERKPLEK_MENTOR_SMTP_PORT:-$MAILPIT_SMTP_PORT}"
