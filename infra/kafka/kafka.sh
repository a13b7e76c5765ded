#!/usr/bin/env bash
# Apache Kafka 4.x, single node, KRaft, from Maven Central jars. Usage: kafka.sh install|up|down|status
source "$(dirname "$0")/../lib.sh"
K="$DATA/kafka"; LIBS="$ROOT/.data/kafka-libs"; PIDFILE="$K/kafka.pid"; CONF="$K/server.properties"
POM="$ROOT/infra/kafka/pom.xml"

install() {
  command -v java >/dev/null || die "Java is missing; Kafka needs Java 17 or newer" "apt-get install -y openjdk-17-jre-headless"
  local major; major="$(java -version 2>&1 | sed -nE 's/.*version "([0-9]+).*/\1/p' | head -1)"
  [ "${major:-0}" -ge 17 ] || die "Java $major found; Kafka 4 needs Java 17 or newer" "install openjdk-17 and put it first on PATH"
  local stamp; stamp="$(sha256sum "$POM" | cut -c1-16)"
  [ -f "$LIBS/.stamp-$stamp" ] && return 0
  command -v mvn >/dev/null || die "Maven is missing; it resolves the Kafka jars" "apt-get install -y maven"
  say "resolving Kafka jars from Maven Central (first run only)"
  rm -rf "$LIBS"; mkdir -p "$LIBS" "$K"
  if ! mvn -q -B -f "$POM" dependency:copy-dependencies -DincludeScope=runtime -DoutputDirectory="$LIBS" >"$LIBS.maven.log" 2>&1; then
    tail -20 "$LIBS.maven.log" >&2
    die "Maven could not resolve the Kafka jars (log: $LIBS.maven.log)" "check that Maven Central is reachable (mvn -v; proxy settings in ~/.m2/settings.xml)"
  fi
  mkdir -p "$LIBS/agents" && mv "$LIBS"/jmx_prometheus_javaagent-*.jar "$LIBS/agents/jmx_prometheus_javaagent.jar"
  touch "$LIBS/.stamp-$stamp"
}

ready() { grep -q "Kafka Server started" "$K/logs/server.log" 2>/dev/null && port_open "$KAFKA_PORT"; }
# Ready, or the process is gone (a port another socket holds, a corrupt log dir): stop waiting either way.
ready_or_dead() { ready || ! pid_alive "$PIDFILE"; }

up() {
  install
  if pid_alive "$PIDFILE"; then say "kafka already running (pid $(cat "$PIDFILE")) on 127.0.0.1:$KAFKA_PORT"; return 0; fi
  require_free_port "$KAFKA_PORT" kafka; require_free_port "$KAFKA_CONTROLLER_PORT" kafka_controller
  require_free_port "$KAFKA_METRICS_PORT" kafka_metrics
  mkdir -p "$K/logs" "$K/data"
  sed -e "s#@KAFKA_PORT@#$KAFKA_PORT#g" -e "s#@CONTROLLER_PORT@#$KAFKA_CONTROLLER_PORT#g" -e "s#@LOG_DIRS@#$K/data#g" \
    "$ROOT/infra/kafka/server.properties.in" > "$CONF"
  local java=(java -Xms256m -Xmx768m -XX:+UseG1GC -Djava.awt.headless=true -Dkafka.logs.dir="$K/logs"
              -Dlog4j2.configurationFile="$ROOT/infra/kafka/log4j2.properties" -cp "$LIBS/*")
  if [ ! -f "$K/data/meta.properties" ]; then
    say "formatting Kafka storage (first start)"
    local id; id="$("${java[@]}" kafka.tools.StorageTool random-uuid)"
    "${java[@]}" kafka.tools.StorageTool format -t "$id" -c "$CONF" >"$K/logs/format.log" 2>&1 \
      || { cat "$K/logs/format.log" >&2; die "formatting Kafka storage failed" "remove $K/data and run make infra-up again"; }
  fi
  : > "$K/logs/server.log"
  # The broker's JMX metrics on /metrics (same exporter and rules as Strimzi's, see kafka-metrics.yaml).
  local agent="-javaagent:$LIBS/agents/jmx_prometheus_javaagent.jar=127.0.0.1:$KAFKA_METRICS_PORT:$ROOT/deploy/k8s/components/strimzi/kafka-metrics.yaml"
  nohup "${java[0]}" "$agent" "${java[@]:1}" kafka.Kafka "$CONF" >"$K/logs/stdout.log" 2>&1 &
  echo $! > "$PIDFILE"
  # a deadline, not a wait: on two cores shared with a load average of 40-50 the broker took over 90 s;
  # WERKPLEK_KAFKA_START_S changes it (a broker recovering many partitions on a busy machine may need longer)
  if ! wait_for "kafka" "${WERKPLEK_KAFKA_START_S:-240}" ready_or_dead || ! ready; then
    grep -hE "ERROR|Exception" "$K/logs/server.log" "$K/logs/stdout.log" 2>/dev/null | tail -n 8 >&2 || true
    stop_pidfile "$PIDFILE" kafka
    die "Kafka did not start (logs: $K/logs)" "read the log lines above; 'Address already in use' means another socket holds port $KAFKA_PORT or $KAFKA_CONTROLLER_PORT: choose others with WERKPLEK_KAFKA_PORT / WERKPLEK_KAFKA_CONTROLLER_PORT"
  fi
  say "kafka ready on 127.0.0.1:$KAFKA_PORT (pid $(cat "$PIDFILE"), metrics http://127.0.0.1:$KAFKA_METRICS_PORT/metrics, logs $K/logs)"
}

down() { stop_pidfile "$PIDFILE" kafka; say "kafka stopped"; }

status() {
  if pid_alive "$PIDFILE" && port_open "$KAFKA_PORT"; then echo "kafka: up (pid $(cat "$PIDFILE"), 127.0.0.1:$KAFKA_PORT)"; return 0; fi
  echo "kafka: down"; return 1
}

"${1:-status}"
