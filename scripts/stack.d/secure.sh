# shellcheck shell=bash
# `scripts/stack up --secure`: the stack as production runs it, sourced by
# scripts/stack, whose functions of the same names it replaces. Certificates
# from a local CA (openssl); one Kafka broker with a SASL_SSL listener
# (SCRAM-SHA-512, and OAUTHBEARER with Kafka's unsecured-JWS validator, for
# tests) and an SSL listener that requires client certificates, KRaft's
# StandardAuthorizer with no access unless an ACL grants it; MariaDB that
# accepts only TLS, with a DDL user (REQUIRE SSL) and a DML user (REQUIRE
# X509); the registry over HTTPS with basic auth. Its own directory and ports:
# it runs beside the plain stack.

readonly secure_admin_password=kelt-admin-secret
readonly secure_registry_user=kelt-registry secure_registry_password=kelt-registry-secret
readonly secure_ddl_user=kelt_ddl secure_ddl_password=kelt-ddl-secret
readonly secure_dml_user=kelt_dml
# The Kafka principals of the secured stack: the admin (super user), one per
# stage and one for migrate. Each has a SCRAM password <name>-secret and a
# client certificate CN=<name> (the SSL listener maps the CN to the principal).
readonly secure_principals="admin kelt-migrate kelt-extract kelt-load kelt-transform kelt-produce"

tls_dir() { echo "$stack_dir/tls"; }
mtls_port() { echo $((kafka_port + 2)); }

# ---------------------------------------------------------------- certificates

sign_cert() { # ca-name name subject-alt-names extended-key-usage
  local dir ca=$1 name=$2 san=$3 eku=$4; dir=$(tls_dir)
  openssl req -newkey rsa:2048 -nodes -keyout "$dir/$name.key" -subj "/CN=$name" -out "$dir/$name.csr" 2>/dev/null
  printf 'basicConstraints=CA:FALSE\nextendedKeyUsage=%s\n%s' "$eku" "${san:+subjectAltName=$san
}" >"$dir/$name.ext"
  openssl x509 -req -in "$dir/$name.csr" -CA "$dir/$ca.pem" -CAkey "$dir/$ca.key" -CAcreateserial \
    -days 30 -sha256 -extfile "$dir/$name.ext" -out "$dir/$name.pem" 2>/dev/null
  rm -f "$dir/$name.csr" "$dir/$name.ext"
}

make_certs() {
  local dir name; dir=$(tls_dir)
  [ -f "$dir/kelt-broker.pem" ] && return 0
  command -v openssl >/dev/null || apt_install openssl
  say "making a local CA and certificates in $dir"
  mkdir -p "$dir"
  for name in kelt-local-ca kelt-rogue-ca; do
    openssl req -x509 -newkey rsa:2048 -nodes -keyout "$dir/$name.key" -subj "/CN=$name" -days 30 -out "$dir/$name.pem" 2>/dev/null
  done
  # The broker's certificate serves its listeners and is its client certificate towards itself (controller, replication).
  sign_cert kelt-local-ca kelt-broker "IP:127.0.0.1,DNS:localhost" serverAuth,clientAuth
  cat "$dir/kelt-broker.key" "$dir/kelt-broker.pem" >"$dir/kelt-broker-keystore.pem"
  for name in $secure_principals "$secure_dml_user"; do sign_cert kelt-local-ca "$name" "" clientAuth; done
  # A certificate the broker must refuse: the right name, signed by a CA it does not trust.
  sign_cert kelt-rogue-ca kelt-rogue "" clientAuth
  chmod 600 "$dir"/*.key
}

# ---------------------------------------------------------------- Kafka

write_broker_config() { # broker index
  local i=$1 dir tls; dir=$(kafka_dir)/broker-$i; tls=$(tls_dir)
  mkdir -p "$dir/data"
  cat >"$dir/server.properties" <<EOF
# Written by scripts/stack --secure; edits are overwritten on the next \`up\`.
process.roles=broker,controller
node.id=$i
controller.quorum.voters=$i@127.0.0.1:$(controller_port "$i")
listeners=SASL_SSL://127.0.0.1:$(broker_port "$i"),CONTROLLER://127.0.0.1:$(controller_port "$i"),SSL://127.0.0.1:$(mtls_port)
advertised.listeners=SASL_SSL://127.0.0.1:$(broker_port "$i"),SSL://127.0.0.1:$(mtls_port)
controller.listener.names=CONTROLLER
listener.security.protocol.map=SASL_SSL:SASL_SSL,SSL:SSL,CONTROLLER:SSL
inter.broker.listener.name=SSL
ssl.keystore.type=PEM
ssl.keystore.location=$tls/kelt-broker-keystore.pem
ssl.truststore.type=PEM
ssl.truststore.location=$tls/kelt-local-ca.pem
ssl.client.auth=required
listener.name.sasl_ssl.ssl.client.auth=none
ssl.principal.mapping.rules=RULE:^CN=([^,]+)\$/\$1/,DEFAULT
sasl.enabled.mechanisms=SCRAM-SHA-512,OAUTHBEARER
listener.name.sasl_ssl.scram-sha-512.sasl.jaas.config=org.apache.kafka.common.security.scram.ScramLoginModule required;
listener.name.sasl_ssl.oauthbearer.sasl.jaas.config=org.apache.kafka.common.security.oauthbearer.OAuthBearerLoginModule required unsecuredLoginStringClaim_sub="admin";
authorizer.class.name=org.apache.kafka.metadata.authorizer.StandardAuthorizer
allow.everyone.if.no.acl.found=false
super.users=User:admin;User:kelt-broker
log.dirs=$dir/data
auto.create.topics.enable=false
num.partitions=1
default.replication.factor=1
min.insync.replicas=1
offsets.topic.replication.factor=1
offsets.topic.num.partitions=12
transaction.state.log.replication.factor=1
transaction.state.log.min.isr=1
transaction.state.log.num.partitions=12
share.coordinator.state.topic.replication.factor=1
share.coordinator.state.topic.min.isr=1
group.initial.rebalance.delay.ms=0
EOF
  # The admin's client settings, for Kafka's tools.
  cat >"$(kafka_dir)/admin.properties" <<EOF
security.protocol=SASL_SSL
sasl.mechanism=SCRAM-SHA-512
sasl.jaas.config=org.apache.kafka.common.security.scram.ScramLoginModule required username="admin" password="$secure_admin_password";
ssl.truststore.type=PEM
ssl.truststore.location=$tls/kelt-local-ca.pem
EOF
}

format_storage() { # broker index
  local bdir name scram=(); bdir=$(kafka_dir)/broker-$1
  for name in $secure_principals; do
    local password=$name-secret
    [ "$name" = admin ] && password=$secure_admin_password
    scram+=(--add-scram "SCRAM-SHA-512=[name=$name,password=$password]")
  done
  kafka_tool kafka.tools.StorageTool format --ignore-formatted -t "$(cat "$(kafka_dir)/cluster-id")" \
    -c "$bdir/server.properties" "${scram[@]}" >"$bdir/format.log" 2>&1 \
    || die "formatting broker $1's storage failed; see $bdir/format.log"
}

kafka_answers() { # broker index
  port_open "$(broker_port "$1")" &&
    kafka_tool org.apache.kafka.tools.ClusterTool cluster-id \
      --bootstrap-server "127.0.0.1:$(broker_port "$1")" --config "$(kafka_dir)/admin.properties" >/dev/null 2>&1
}

kafka_groups_ready() {
  kafka_tool org.apache.kafka.tools.consumer.group.ConsumerGroupCommand --bootstrap-server "$(bootstrap)" \
    --command-config "$(kafka_dir)/admin.properties" \
    --describe --group kelt-stack-ready --timeout 5000 2>&1 | grep -qE 'GroupIdNotFoundException|does not exist'
}

# ---------------------------------------------------------------- MariaDB

mariadb_answers() {
  local tls; tls=$(tls_dir)
  mariadb --no-defaults --protocol=tcp -h127.0.0.1 -P"$mysql_port" -u"$mysql_user" -p"$mysql_password" \
    --ssl --ssl-ca="$tls/kelt-local-ca.pem" --ssl-verify-server-cert -N -e 'SELECT 1' "$mysql_database" >/dev/null 2>&1
}

start_mariadb() {
  local pidfile=$mariadb_dir/mariadbd.pid tls; tls=$(tls_dir)
  if pid_alive "$pidfile"; then return 0; fi
  mkdir -p "$mariadb_dir"
  if [ ! -d "$mariadb_dir/data/mysql" ]; then
    say "initialising MariaDB in $mariadb_dir/data"
    mariadb-install-db --no-defaults --user="$(id -un)" --datadir="$mariadb_dir/data" \
      --auth-root-authentication-method=socket --skip-test-db >"$mariadb_dir/install.log" 2>&1 \
      || die "mariadb-install-db failed; see $mariadb_dir/install.log"
  fi
  say "starting MariaDB (TLS only) on 127.0.0.1:$mysql_port"
  start_daemon "$pidfile" "$mariadb_dir/mariadbd.out" \
    mariadbd --no-defaults --user="$(id -un)" --datadir="$mariadb_dir/data" \
      --bind-address=127.0.0.1 --port="$mysql_port" --socket="$(mysql_socket)" \
      --pid-file="$mariadb_dir/mariadbd.self.pid" --log-error="$mariadb_dir/error.log" \
      --skip-name-resolve --max-connections=200 --innodb-buffer-pool-size=128M \
      --innodb-flush-log-at-trx-commit=2 --character-set-server=utf8mb4 --collation-server=utf8mb4_bin \
      --ssl-ca="$tls/kelt-local-ca.pem" --ssl-cert="$tls/kelt-broker.pem" --ssl-key="$tls/kelt-broker.key" \
      --require-secure-transport=ON
  wait_until 120 "MariaDB (socket)" mariadb_socket_answers
  # kelt: the tests' own user (creates a database per test, grants the
  # others). kelt_ddl: migrate's (tables). kelt_dml: the stages' (rows only),
  # which must also show a client certificate of the local CA named kelt_dml.
  mysql_root <<SQL
CREATE DATABASE IF NOT EXISTS \`$mysql_database\`;
CREATE DATABASE IF NOT EXISTS \`kelt_registry\`;
CREATE USER IF NOT EXISTS '$mysql_user'@'127.0.0.1' IDENTIFIED BY '$mysql_password' REQUIRE SSL;
GRANT ALL PRIVILEGES ON *.* TO '$mysql_user'@'127.0.0.1' WITH GRANT OPTION;
CREATE USER IF NOT EXISTS '$secure_ddl_user'@'127.0.0.1' IDENTIFIED BY '$secure_ddl_password' REQUIRE SSL;
CREATE USER IF NOT EXISTS '$secure_dml_user'@'127.0.0.1' REQUIRE SUBJECT '/CN=$secure_dml_user' AND ISSUER '/CN=kelt-local-ca';
SQL
  wait_until 60 "MariaDB (SELECT 1 over TLS)" mariadb_answers
}

# ---------------------------------------------------------------- schema registry

registry_answers() {
  curl -fs -o /dev/null --cacert "$(tls_dir)/kelt-local-ca.pem" -u "$secure_registry_user:$secure_registry_password" \
    "https://127.0.0.1:$registry_port/subjects"
}

start_registry() {
  local pidfile=$registry_dir/registry.pid tls; tls=$(tls_dir)
  if pid_alive "$pidfile"; then return 0; fi
  mkdir -p "$registry_dir"
  cat >"$registry_dir/config.yaml" <<EOF
server: { host: 127.0.0.1, port: $registry_port }
storage:
  type: mysql
  mysql: { host: 127.0.0.1, port: $mysql_port, database: kelt_registry, user: $mysql_user, password: $mysql_password, tls: "skip-verify" }
logging: { level: warn }
security:
  tls: { enabled: true, cert_file: $tls/kelt-broker.pem, key_file: $tls/kelt-broker.key, min_version: TLS1.2, client_auth: none }
  auth:
    enabled: true
    methods: [basic]
    bootstrap: { enabled: true }
    rbac: { enabled: true, default_role: readonly, super_admins: [$secure_registry_user] }
EOF
  say "starting the schema registry on https://127.0.0.1:$registry_port (basic auth)"
  start_daemon "$pidfile" "$registry_dir/registry.log" env \
    SCHEMA_REGISTRY_BOOTSTRAP_USERNAME="$secure_registry_user" SCHEMA_REGISTRY_BOOTSTRAP_PASSWORD="$secure_registry_password" \
    "$registry_bin" -config "$registry_dir/config.yaml"
  wait_until 60 "schema registry (GET /subjects over TLS)" registry_answers
}

# ---------------------------------------------------------------- commands

print_env() {
  local tls; tls=$(tls_dir)
  cat <<EOF
KELT_KAFKA_BROKERS=$(bootstrap)
KELT_KAFKA_TLS=true
KELT_KAFKA_TLS_CA_FILE=$tls/kelt-local-ca.pem
KELT_KAFKA_SASL_MECHANISM=scram-sha-512
KELT_KAFKA_SASL_USERNAME=admin
KELT_KAFKA_SASL_PASSWORD=$secure_admin_password
KELT_SCHEMA_REGISTRY_URL=https://127.0.0.1:$registry_port
KELT_SCHEMA_REGISTRY_USERNAME=$secure_registry_user
KELT_SCHEMA_REGISTRY_PASSWORD=$secure_registry_password
KELT_SCHEMA_REGISTRY_CA_FILE=$tls/kelt-local-ca.pem
KELT_MYSQL_URL=mysql://$mysql_user:$mysql_password@127.0.0.1:$mysql_port/$mysql_database
KELT_MYSQL_TLS=true
KELT_MYSQL_TLS_CA_FILE=$tls/kelt-local-ca.pem
KELT_SECURE_TLS_DIR=$tls
KELT_SECURE_MTLS_BROKERS=127.0.0.1:$(mtls_port)
KELT_SECURE_DDL_URL=mysql://$secure_ddl_user:$secure_ddl_password@127.0.0.1:$mysql_port/$mysql_database
KELT_SECURE_DML_URL=mysql://$secure_dml_user@127.0.0.1:$mysql_port/$mysql_database
EOF
}

cmd_up() {
  [ "$brokers" = 1 ] || die "the secured stack has one broker"
  mkdir -p "$stack_dir" "$cache_dir"
  install_mariadb
  install_registry
  install_kafka
  make_certs
  start_mariadb
  start_registry
  start_kafka
  print_env | tee "$stack_dir/env"
}
