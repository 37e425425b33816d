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
{{- printf "%s:%s" .Values.image.repository (default .Chart.AppVersion .Values.image.tag) -}}
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

{{/* Environment shared by the stages and the migrate job; call with (dict "root" $ "secret" <name of the chart's credentials Secret>). */}}
{{- define "kelt.env" -}}
{{- $v := .root.Values -}}
{{- $secret := .secret -}}
- name: KELT_KAFKA_BROKERS
  value: {{ join "," $v.kafka.brokers | quote }}
- name: KELT_SCHEMA_REGISTRY_URL
  value: {{ $v.schemaRegistry.url | quote }}
- name: KELT_MYSQL_URL
  valueFrom:
    secretKeyRef:
      name: {{ default $secret $v.mysql.existingSecret }}
      key: {{ if $v.mysql.existingSecret }}{{ $v.mysql.urlKey }}{{ else }}mysql-url{{ end }}
- name: KELT_LOG_LEVEL
  value: {{ $v.logLevel | quote }}
- name: KELT_HTTP_HOST
  value: "0.0.0.0"
- name: KELT_HTTP_PORT
  value: {{ $v.metrics.port | quote }}
- name: KELT_LAG_INTERVAL_SECONDS
  value: {{ $v.lagIntervalSeconds | quote }}
{{- if $v.kafka.tls.enabled }}
- name: KELT_KAFKA_TLS
  value: "true"
{{- if $v.kafka.tls.caSecret.name }}
- name: KELT_KAFKA_TLS_CA_FILE
  value: /etc/kelt/tls/kafka/{{ $v.kafka.tls.caSecret.key }}
{{- end }}
{{- end }}
{{- with $v.kafka.sasl }}
{{- if .mechanism }}
- name: KELT_KAFKA_SASL_MECHANISM
  value: {{ .mechanism | quote }}
- name: KELT_KAFKA_SASL_USERNAME
  valueFrom:
    secretKeyRef:
      name: {{ default $secret .existingSecret }}
      key: {{ if .existingSecret }}{{ .usernameKey }}{{ else }}kafka-sasl-username{{ end }}
- name: KELT_KAFKA_SASL_PASSWORD
  valueFrom:
    secretKeyRef:
      name: {{ default $secret .existingSecret }}
      key: {{ if .existingSecret }}{{ .passwordKey }}{{ else }}kafka-sasl-password{{ end }}
{{- end }}
{{- end }}
{{- with $v.schemaRegistry.auth }}
{{- if or .username .existingSecret }}
- name: KELT_SCHEMA_REGISTRY_USERNAME
  valueFrom:
    secretKeyRef:
      name: {{ default $secret .existingSecret }}
      key: {{ if .existingSecret }}{{ .usernameKey }}{{ else }}registry-username{{ end }}
- name: KELT_SCHEMA_REGISTRY_PASSWORD
  valueFrom:
    secretKeyRef:
      name: {{ default $secret .existingSecret }}
      key: {{ if .existingSecret }}{{ .passwordKey }}{{ else }}registry-password{{ end }}
{{- end }}
{{- end }}
{{- if $v.mysql.tls.enabled }}
- name: KELT_MYSQL_TLS
  value: "true"
{{- if $v.mysql.tls.caSecret.name }}
- name: KELT_MYSQL_TLS_CA_FILE
  value: /etc/kelt/tls/mysql/{{ $v.mysql.tls.caSecret.key }}
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
{{- define "kelt.volumes" -}}
- name: pipeline
  configMap:
    name: {{ .configMap }}
- name: tmp
  emptyDir:
    sizeLimit: {{ .root.Values.tmpSizeLimit }}
{{- if and .root.Values.kafka.tls.enabled .root.Values.kafka.tls.caSecret.name }}
- name: kafka-ca
  secret:
    secretName: {{ .root.Values.kafka.tls.caSecret.name }}
{{- end }}
{{- if and .root.Values.mysql.tls.enabled .root.Values.mysql.tls.caSecret.name }}
- name: mysql-ca
  secret:
    secretName: {{ .root.Values.mysql.tls.caSecret.name }}
{{- end }}
{{- end -}}

{{- define "kelt.volumeMounts" -}}
{{- $v := .Values -}}
- name: pipeline
  mountPath: /etc/kelt/pipeline
  readOnly: true
- name: tmp
  mountPath: /tmp
{{- if and .Values.kafka.tls.enabled .Values.kafka.tls.caSecret.name }}
- name: kafka-ca
  mountPath: /etc/kelt/tls/kafka
  readOnly: true
{{- end }}
{{- if and .Values.mysql.tls.enabled .Values.mysql.tls.caSecret.name }}
- name: mysql-ca
  mountPath: /etc/kelt/tls/mysql
  readOnly: true
{{- end }}
{{- end -}}

{{/* Fails the render with a clear message when a required connection value is missing. */}}
{{- define "kelt.validate" -}}
{{- if not .Values.kafka.brokers }}{{ fail "kafka.brokers: give at least one host:port" }}{{ end -}}
{{- if not .Values.schemaRegistry.url }}{{ fail "schemaRegistry.url: give the registry's http(s):// URL" }}{{ end -}}
{{- if and (not .Values.mysql.url) (not .Values.mysql.existingSecret) }}{{ fail "mysql: give mysql.url or mysql.existingSecret" }}{{ end -}}
{{- if and .Values.kafka.sasl.mechanism (not .Values.kafka.sasl.existingSecret) (or (not .Values.kafka.sasl.username) (not .Values.kafka.sasl.password)) }}{{ fail "kafka.sasl: give username and password, or existingSecret" }}{{ end -}}
{{- end -}}
