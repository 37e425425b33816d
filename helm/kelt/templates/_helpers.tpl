{{- define "kelt.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{- define "kelt.fullname" -}}
{{- if .Values.fullnameOverride -}}
{{- .Values.fullnameOverride | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- $name := default .Chart.Name .Values.nameOverride -}}
{{- if contains $name .Release.Name -}}
{{- .Release.Name | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- printf "%s-%s" .Release.Name $name | trunc 63 | trimSuffix "-" -}}
{{- end -}}
{{- end -}}
{{- end -}}

{{- define "kelt.labels" -}}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" }}
app.kubernetes.io/name: {{ include "kelt.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
app.kubernetes.io/part-of: kelt
{{- end -}}

{{/* Selector labels of one stage; call with (dict "root" $ "stage" "extract"). */}}
{{- define "kelt.stageSelector" -}}
app.kubernetes.io/name: {{ include "kelt.name" .root }}
app.kubernetes.io/instance: {{ .root.Release.Name }}
app.kubernetes.io/component: {{ .stage }}
{{- end -}}

{{- define "kelt.image" -}}
{{- if .Values.image.digest -}}
{{- printf "%s@%s" .Values.image.repository .Values.image.digest -}}
{{- else -}}
{{- printf "%s:%s" .Values.image.repository (default .Chart.AppVersion .Values.image.tag) -}}
{{- end -}}
{{- end -}}

{{- define "kelt.serviceAccountName" -}}
{{- if .Values.serviceAccount.create -}}
{{- default (include "kelt.fullname" .) .Values.serviceAccount.name -}}
{{- else -}}
{{- default "default" .Values.serviceAccount.name -}}
{{- end -}}
{{- end -}}

{{- define "kelt.pipelineConfigMap" -}}
{{- default (printf "%s-pipeline" (include "kelt.fullname" .)) .Values.pipeline.existingConfigMap -}}
{{- end -}}

{{/* The Secret the chart creates for credentials given in values. */}}
{{- define "kelt.secretName" -}}
{{- printf "%s-credentials" (include "kelt.fullname" .) -}}
{{- end -}}

{{- define "kelt.partitions" -}}
{{- .Values.pipeline.spec.partitions | default 12 -}}
{{- end -}}

{{/* The input topic of a stage; call with (dict "root" $ "stage" "load"). */}}
{{- define "kelt.inputTopic" -}}
{{- $spec := .root.Values.pipeline.spec -}}
{{- $topics := $spec.topics | default dict -}}
{{- $key := get (dict "extract" "raw" "load" "extracted" "transform" "loaded") .stage -}}
{{- get $topics $key | default (printf "%s.%s" $spec.name $key) -}}
{{- end -}}

{{/* The secret variables (the MySQL URL but for the collector, which never opens MySQL; the SASL and registry passwords) as (variable, Secret, key) triples: from the environment, or from files with secretsAsFiles; called as kelt.env. */}}
{{- define "kelt.secretVariables" -}}
{{- $v := .root.Values -}}
{{- $own := .kafkaSecret -}}
{{- $refs := list -}}
{{- if .collect }}
{{- else if and .migrate $v.mysql.migrate.existingSecret }}
{{- $refs = append $refs (list "KELT_MYSQL_URL" $v.mysql.migrate.existingSecret $v.mysql.migrate.urlKey) }}
{{- else }}
{{- $refs = append $refs (list "KELT_MYSQL_URL" (default .secret $v.mysql.existingSecret) (ternary $v.mysql.urlKey "mysql-url" (ne $v.mysql.existingSecret ""))) }}
{{- end }}
{{- with $v.kafka.sasl }}
{{- if and .mechanism (ne .mechanism "oauthbearer") }}
{{- $given := or $own .existingSecret }}
{{- $refs = append $refs (list "KELT_KAFKA_SASL_PASSWORD" (default (default $.secret .existingSecret) $own) (ternary .passwordKey "kafka-sasl-password" (ne $given ""))) }}
{{- end }}
{{- end }}
{{- with $v.schemaRegistry.auth }}
{{- if or .username .existingSecret }}
{{- $refs = append $refs (list "KELT_SCHEMA_REGISTRY_PASSWORD" (default $.secret .existingSecret) (ternary .passwordKey "registry-password" (ne .existingSecret ""))) }}
{{- end }}
{{- end }}
{{- if and .collect $v.collector.tokensSecret }}
{{- $refs = append $refs (list "KELT_COLLECT_TOKENS" $v.collector.tokensSecret $v.collector.tokensKey) }}
{{- end }}
{{- toJson $refs -}}
{{- end -}}

{{/* Environment shared by the stages and the migrate job; call with (dict "root" $ "secret" <name of the chart's credentials Secret> "kafkaSecret" <the role's own Kafka Secret, or ""> "migrate" <true for the migrate job>). */}}
{{- define "kelt.env" -}}
{{- $v := .root.Values -}}
{{- $secret := .secret -}}
{{- $own := .kafkaSecret -}}
- name: KELT_KAFKA_BROKERS
  value: {{ join "," $v.kafka.brokers | quote }}
- name: KELT_SCHEMA_REGISTRY_URL
  value: {{ $v.schemaRegistry.url | quote }}
{{- range (include "kelt.secretVariables" . | fromJsonArray) }}
{{- if $v.secretsAsFiles }}
- name: {{ index . 0 }}_FILE
  value: /etc/kelt/secrets/{{ index . 0 | lower | replace "_" "-" }}/{{ index . 2 }}
{{- else }}
- name: {{ index . 0 }}
  valueFrom:
    secretKeyRef:
      name: {{ index . 1 }}
      key: {{ index . 2 }}
{{- end }}
{{- end }}
- name: KELT_LOG_LEVEL
  value: {{ $v.logLevel | quote }}
- name: KELT_HTTP_HOST
  value: "0.0.0.0"
- name: KELT_HTTP_PORT
  value: {{ default $v.metrics.port .port | quote }}
- name: KELT_LAG_INTERVAL_SECONDS
  value: {{ $v.lagIntervalSeconds | quote }}
{{- if $v.kafka.tls.enabled }}
- name: KELT_KAFKA_TLS
  value: "true"
{{- if $v.kafka.tls.caSecret.name }}
- name: KELT_KAFKA_TLS_CA_FILE
  value: /etc/kelt/tls/kafka/{{ $v.kafka.tls.caSecret.key }}
{{- end }}
{{- if $v.kafka.tls.clientCertificate.enabled }}
- name: KELT_KAFKA_TLS_CERT_FILE
  value: /etc/kelt/tls/kafka-client/{{ $v.kafka.tls.clientCertificate.certKey }}
- name: KELT_KAFKA_TLS_KEY_FILE
  value: /etc/kelt/tls/kafka-client/{{ $v.kafka.tls.clientCertificate.keyKey }}
{{- end }}
{{- end }}
{{- with $v.kafka.sasl }}
{{- if eq .mechanism "oauthbearer" }}
- name: KELT_KAFKA_SASL_MECHANISM
  value: oauthbearer
- name: KELT_KAFKA_OAUTH_TOKEN_FILE
  value: /etc/kelt/kafka-token/{{ .tokenKey }}
{{- else if .mechanism }}
{{- $name := default (default $secret .existingSecret) $own }}
{{- $given := or $own .existingSecret }}
- name: KELT_KAFKA_SASL_MECHANISM
  value: {{ .mechanism | quote }}
- name: KELT_KAFKA_SASL_USERNAME
  valueFrom:
    secretKeyRef:
      name: {{ $name }}
      key: {{ if $given }}{{ .usernameKey }}{{ else }}kafka-sasl-username{{ end }}
{{- end }}
{{- if and .mechanism .allowPlaintext }}
- name: KELT_KAFKA_SASL_ALLOW_PLAINTEXT
  value: "true"
{{- end }}
{{- end }}
{{- with $v.schemaRegistry.auth }}
{{- if or .username .existingSecret }}
- name: KELT_SCHEMA_REGISTRY_USERNAME
  valueFrom:
    secretKeyRef:
      name: {{ default $secret .existingSecret }}
      key: {{ if .existingSecret }}{{ .usernameKey }}{{ else }}registry-username{{ end }}
{{- end }}
{{- end }}
{{- if and (or $v.schemaRegistry.auth.username $v.schemaRegistry.auth.existingSecret) $v.schemaRegistry.auth.allowPlaintext }}
- name: KELT_SCHEMA_REGISTRY_ALLOW_PLAINTEXT
  value: "true"
{{- end }}
{{- with $v.schemaRegistry.tls }}
{{- if .caSecret.name }}
- name: KELT_SCHEMA_REGISTRY_CA_FILE
  value: /etc/kelt/tls/registry/{{ .caSecret.key }}
{{- end }}
{{- if .clientCertificate.existingSecret }}
- name: KELT_SCHEMA_REGISTRY_CERT_FILE
  value: /etc/kelt/tls/registry-client/{{ .clientCertificate.certKey }}
- name: KELT_SCHEMA_REGISTRY_KEY_FILE
  value: /etc/kelt/tls/registry-client/{{ .clientCertificate.keyKey }}
{{- end }}
{{- end }}
{{- if $v.mysql.tls.enabled }}
- name: KELT_MYSQL_TLS
  value: "true"
{{- if $v.mysql.tls.caSecret.name }}
- name: KELT_MYSQL_TLS_CA_FILE
  value: /etc/kelt/tls/mysql/{{ $v.mysql.tls.caSecret.key }}
{{- end }}
{{- if $v.mysql.tls.clientCertificate.existingSecret }}
- name: KELT_MYSQL_TLS_CERT_FILE
  value: /etc/kelt/tls/mysql-client/{{ $v.mysql.tls.clientCertificate.certKey }}
- name: KELT_MYSQL_TLS_KEY_FILE
  value: /etc/kelt/tls/mysql-client/{{ $v.mysql.tls.clientCertificate.keyKey }}
{{- end }}
{{- end }}
{{- with $v.extraEnv }}
{{ toYaml . }}
{{- end }}
{{- end -}}

{{/* Credentials given in values, as Secret data (nothing when all come from existing Secrets). */}}
{{- define "kelt.secretData" -}}
{{- $v := .Values -}}
{{- if not $v.mysql.existingSecret }}
mysql-url: {{ $v.mysql.url | b64enc | quote }}
{{- end }}
{{- if and $v.kafka.sasl.mechanism (not $v.kafka.sasl.existingSecret) }}
kafka-sasl-username: {{ $v.kafka.sasl.username | b64enc | quote }}
kafka-sasl-password: {{ $v.kafka.sasl.password | b64enc | quote }}
{{- end }}
{{- if and $v.schemaRegistry.auth.username (not $v.schemaRegistry.auth.existingSecret) }}
registry-username: {{ $v.schemaRegistry.auth.username | b64enc | quote }}
registry-password: {{ $v.schemaRegistry.auth.password | b64enc | quote }}
{{- end }}
{{- end -}}

{{/* The pipeline ConfigMap's data: the spec and its files. */}}
{{- define "kelt.pipelineData" -}}
pipeline.yaml: |
{{ toYaml .Values.pipeline.spec | indent 2 }}
{{- range $name, $content := .Values.pipeline.files }}
{{ $name }}: |
{{ $content | indent 2 }}
{{- end }}
{{- end -}}

{{/* Volumes: the pipeline, a writable /tmp (the root filesystem is read-only), CA certificates. */}}
{{/* The Secrets mounted as files, as (name, Secret, path) triples; call with (dict "root" $ "kafkaSecret" <the role's own Kafka Secret, or "">). */}}
{{- define "kelt.secretFiles" -}}
{{- $v := .root.Values -}}
{{- $files := list -}}
{{- if and $v.kafka.tls.enabled $v.kafka.tls.caSecret.name }}{{ $files = append $files (list "kafka-ca" $v.kafka.tls.caSecret.name "/etc/kelt/tls/kafka") }}{{ end -}}
{{- if and $v.kafka.tls.enabled $v.kafka.tls.clientCertificate.enabled }}{{ $files = append $files (list "kafka-client" (default $v.kafka.tls.clientCertificate.existingSecret .kafkaSecret) "/etc/kelt/tls/kafka-client") }}{{ end -}}
{{- if eq $v.kafka.sasl.mechanism "oauthbearer" }}{{ $files = append $files (list "kafka-token" (default $v.kafka.sasl.existingSecret .kafkaSecret) "/etc/kelt/kafka-token") }}{{ end -}}
{{- if $v.schemaRegistry.tls.caSecret.name }}{{ $files = append $files (list "registry-ca" $v.schemaRegistry.tls.caSecret.name "/etc/kelt/tls/registry") }}{{ end -}}
{{- if $v.schemaRegistry.tls.clientCertificate.existingSecret }}{{ $files = append $files (list "registry-client" $v.schemaRegistry.tls.clientCertificate.existingSecret "/etc/kelt/tls/registry-client") }}{{ end -}}
{{- if and $v.mysql.tls.enabled $v.mysql.tls.caSecret.name }}{{ $files = append $files (list "mysql-ca" $v.mysql.tls.caSecret.name "/etc/kelt/tls/mysql") }}{{ end -}}
{{- if and $v.mysql.tls.enabled $v.mysql.tls.clientCertificate.existingSecret }}{{ $files = append $files (list "mysql-client" $v.mysql.tls.clientCertificate.existingSecret "/etc/kelt/tls/mysql-client") }}{{ end -}}
{{- toJson $files -}}
{{- end -}}

{{/* Volumes: the pipeline, a writable /tmp (the root filesystem is read-only), certificates and tokens; call with (dict "root" $ "configMap" <name> "kafkaSecret" <the role's own, or "">). */}}
{{- define "kelt.volumes" -}}
- name: pipeline
  configMap:
    name: {{ .configMap }}
- name: tmp
  emptyDir:
    sizeLimit: {{ .root.Values.tmpSizeLimit }}
{{- range (include "kelt.secretFiles" . | fromJsonArray) }}
- name: {{ index . 0 }}
  secret:
    secretName: {{ index . 1 }}
{{- end }}
{{- if .root.Values.secretsAsFiles }}
{{- range (include "kelt.secretVariables" . | fromJsonArray) }}
- name: {{ index . 0 | lower | replace "_" "-" }}
  secret:
    secretName: {{ index . 1 }}
    items: [{ key: {{ index . 2 | quote }}, path: {{ index . 2 | quote }} }]
{{- end }}
{{- end }}
{{- end -}}

{{/* Where the volumes are mounted; call with (dict "root" $ "kafkaSecret" <the role's own, or "">). */}}
{{- define "kelt.volumeMounts" -}}
- name: pipeline
  mountPath: /etc/kelt/pipeline
  readOnly: true
- name: tmp
  mountPath: /tmp
{{- range (include "kelt.secretFiles" . | fromJsonArray) }}
- name: {{ index . 0 }}
  mountPath: {{ index . 2 }}
  readOnly: true
{{- end }}
{{- if .root.Values.secretsAsFiles }}
{{- range (include "kelt.secretVariables" . | fromJsonArray) }}
- name: {{ index . 0 | lower | replace "_" "-" }}
  mountPath: /etc/kelt/secrets/{{ index . 0 | lower | replace "_" "-" }}
  readOnly: true
{{- end }}
{{- end }}
{{- end -}}

{{/* The chart's Deployments: the three stages, and the HTTP collector when enabled. */}}
{{- define "kelt.workloads" -}}
extract load transform{{ if .Values.collector.enabled }} collect{{ end }}
{{- end -}}

{{/* A Deployment's values: stages.<stage>, or collector. */}}
{{- define "kelt.workloadValues" -}}
{{- if eq .stage "collect" }}{{ toJson .root.Values.collector }}{{ else }}{{ toJson (get .root.Values.stages .stage) }}{{ end -}}
{{- end -}}

{{/* A Deployment's port of /metrics and the probes (and the collector's /events); call with (dict "root" $ "stage" <name>). */}}
{{- define "kelt.httpPort" -}}
{{- default .root.Values.metrics.port (include "kelt.workloadValues" . | fromJson).httpPort -}}
{{- end -}}

{{/* A Deployment's container arguments; call with (dict "stage" <name> "values" <its values>). */}}
{{- define "kelt.args" -}}
- {{ .stage | quote }}
- "--pipeline"
- "/etc/kelt/pipeline/pipeline.yaml"
- "--grace"
- {{ .values.graceSeconds | quote }}
{{- if eq .stage "collect" }}
- "--max-body-bytes"
- {{ .values.maxBodyBytes | int64 | quote }}
- "--max-events"
- {{ .values.maxEvents | int64 | quote }}
- "--max-buffered"
- {{ .values.maxBuffered | int64 | quote }}
- "--ack-timeout"
- {{ .values.ackTimeoutSeconds | quote }}
{{- with .values.corsOrigins }}
- "--cors-origin"
{{- range . }}
- {{ . | quote }}
{{- end }}
{{- end }}
{{- end }}
{{- end -}}

{{/* Fails the render with a clear message when a required connection value is missing. */}}
{{- define "kelt.validate" -}}
{{- if not .Values.kafka.brokers }}{{ fail "kafka.brokers: give at least one host:port" }}{{ end -}}
{{- if not .Values.schemaRegistry.url }}{{ fail "schemaRegistry.url: give the registry's http(s):// URL" }}{{ end -}}
{{- if and (not .Values.mysql.url) (not .Values.mysql.existingSecret) }}{{ fail "mysql: give mysql.url or mysql.existingSecret" }}{{ end -}}
{{- $v := .Values -}}
{{- $everyRoleOwn := and $v.stages.extract.kafkaSecret $v.stages.load.kafkaSecret $v.stages.transform.kafkaSecret (or (not $v.migrate.enabled) $v.migrate.kafkaSecret) -}}
{{- if eq $v.kafka.sasl.mechanism "oauthbearer" }}
{{- if not (or $v.kafka.sasl.existingSecret $everyRoleOwn) }}{{ fail "kafka.sasl: oauthbearer reads its token from a Secret: give existingSecret, or every role's kafkaSecret" }}{{ end -}}
{{- else if and $v.kafka.sasl.mechanism (not $v.kafka.sasl.existingSecret) (not $everyRoleOwn) (or (not $v.kafka.sasl.username) (not $v.kafka.sasl.password)) }}{{ fail "kafka.sasl: give username and password, or existingSecret" }}{{ end -}}
{{- if and (or $v.schemaRegistry.auth.username $v.schemaRegistry.auth.existingSecret) (not (hasPrefix "https://" $v.schemaRegistry.url)) (not $v.schemaRegistry.auth.allowPlaintext) }}{{ fail "schemaRegistry.auth: basic auth over an http:// URL sends the password in clear text; use https://, or set schemaRegistry.auth.allowPlaintext" }}{{ end -}}
{{- if and $v.collector.enabled (not $v.collector.tokensSecret) (not $v.collector.allowAnonymous) }}{{ fail "collector: no tokensSecret, so anyone who reaches it could post events; give tokensSecret, or set collector.allowAnonymous" }}{{ end -}}
{{- if and $v.kafka.sasl.mechanism (not $v.kafka.tls.enabled) (not $v.kafka.sasl.allowPlaintext) }}{{ fail "kafka.sasl: SASL without kafka.tls.enabled sends credentials in clear text; enable TLS, or set kafka.sasl.allowPlaintext" }}{{ end -}}
{{- if and $v.kafka.tls.clientCertificate.enabled (not $v.kafka.tls.enabled) }}{{ fail "kafka.tls.clientCertificate: needs kafka.tls.enabled" }}{{ end -}}
{{- if $v.hostNetwork }}
{{- $ports := dict -}}
{{- range $stage := splitList " " (include "kelt.workloads" .) }}
{{- $port := include "kelt.httpPort" (dict "root" $ "stage" $stage) -}}
{{- if hasKey $ports $port }}{{ fail (printf "hostNetwork: %s and %s both serve on port %s, and a node's stages share its ports; give each its own stages.<stage>.httpPort (collector.httpPort)" (get $ports $port) $stage $port) }}{{ end -}}
{{- $_ := set $ports $port $stage -}}
{{- end }}
{{- end }}
{{- if and $v.kafka.tls.clientCertificate.enabled (not $v.kafka.tls.clientCertificate.existingSecret) (not $everyRoleOwn) }}{{ fail "kafka.tls.clientCertificate: give existingSecret, or every role's kafkaSecret" }}{{ end -}}
{{- end -}}
