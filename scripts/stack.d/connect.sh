# shellcheck shell=bash
# Kafka Connect with Debezium's MariaDB connector, for capturing a database's
# changes into a pipeline's raw topic: one standalone worker, started on
# demand (`scripts/stack start connect`), its source offsets in a file so
# that a restarted worker resumes where the last one flushed. Sourced by
# scripts/stack.

readonly debezium_version=3.5.0.Final
connect_port=${KELT_STACK_CONNECT_PORT:-18083}
connect_home=$cache_dir/connect-$kafka_version-debezium-$debezium_version
connect_dir=$stack_dir/connect

install_connect() {
  [ -f "$connect_home/libs/debezium-connector-mariadb-$debezium_version.jar" ] && return 0
  command -v java >/dev/null || apt_install openjdk-17-jre-headless
  command -v mvn >/dev/null || apt_install maven
  say "fetching Kafka Connect $kafka_version and Debezium $debezium_version (MariaDB) jars from Maven Central"
  mkdir -p "$connect_home"
  sed -e "s/@KAFKA_VERSION@/$kafka_version/g" -e "s/@DEBEZIUM_VERSION@/$debezium_version/g" \
    -e "s/@LOG4J_VERSION@/$log4j_version/g" -e "s/@SLF4J_VERSION@/$slf4j_version/g" \
    "$root/scripts/stack.d/connect-pom.xml" >"$connect_home/pom.xml"
  mvn -q -B -f "$connect_home/pom.xml" dependency:copy-dependencies \
    -DincludeScope=runtime -DoutputDirectory="$connect_home/libs.tmp" >"$connect_home/mvn.log" 2>&1 \
    || die "resolving Kafka Connect's and Debezium's jars failed; see $connect_home/mvn.log"
  rm -rf "$connect_home/libs" && mv "$connect_home/libs.tmp" "$connect_home/libs"
}

connect_answers() {
  [ "$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$connect_port/connectors")" = 200 ]
}

start_connect() {
  pid_alive "$connect_dir/connect.pid" && return 0
  # A MariaDB started by an older scripts/stack has no binary log to read.
  [ "$(mysql_root -N -e "SELECT @@log_bin" 2>/dev/null)" = 1 ] \
    || die "MariaDB's binary log is off (or MariaDB is not running); restart the stack: scripts/stack down && scripts/stack up"
  install_connect
  brokers=$(running_brokers)
  mkdir -p "$connect_dir"
  cat >"$connect_dir/worker.properties" <<CONF
# Written by scripts/stack; edits are overwritten on the next start.
bootstrap.servers=$(bootstrap)
listeners=http://127.0.0.1:$connect_port
key.converter=org.apache.kafka.connect.json.JsonConverter
value.converter=org.apache.kafka.connect.json.JsonConverter
offset.storage.file.filename=$connect_dir/offsets.dat
offset.flush.interval.ms=1000
# Source records are sent idempotently and acknowledged by every in-sync replica.
producer.enable.idempotence=true
producer.acks=all
CONF
  say "starting Kafka Connect $kafka_version (Debezium $debezium_version) on 127.0.0.1:$connect_port"
  start_daemon "$connect_dir/connect.pid" "$connect_dir/connect.out" \
    java -Xms128m -Xmx512m -XX:+UseG1GC -Djava.awt.headless=true \
      -Dkafka.logs.dir="$connect_dir" -Dlog4j2.configurationFile="$root/scripts/stack.d/log4j2-broker.properties" \
      -cp "$connect_home/libs/*" org.apache.kafka.connect.cli.ConnectStandalone "$connect_dir/worker.properties"
  wait_until 120 "Kafka Connect (REST)" connect_answers
}
