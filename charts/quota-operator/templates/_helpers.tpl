{{/* Chart name, overridable. */}}
{{- define "quota-operator.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/* Fully qualified name: the release name when it already contains the chart name. */}}
{{- define "quota-operator.fullname" -}}
{{- if .Values.fullnameOverride }}
{{- .Values.fullnameOverride | trunc 63 | trimSuffix "-" }}
{{- else }}
{{- $name := default .Chart.Name .Values.nameOverride }}
{{- if contains $name .Release.Name }}
{{- .Release.Name | trunc 63 | trimSuffix "-" }}
{{- else }}
{{- printf "%s-%s" .Release.Name $name | trunc 63 | trimSuffix "-" }}
{{- end }}
{{- end }}
{{- end }}

{{/* Labels that select the operator's pods; never change them (Deployment selectors are immutable). */}}
{{- define "quota-operator.selectorLabels" -}}
app.kubernetes.io/name: {{ include "quota-operator.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end }}

{{- define "quota-operator.labels" -}}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
{{ include "quota-operator.selectorLabels" . }}
app.kubernetes.io/version: {{ .Values.image.tag | default .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
app.kubernetes.io/part-of: quota-operator
{{- end }}

{{- define "quota-operator.serviceAccountName" -}}
{{- if .Values.serviceAccount.create }}
{{- default (include "quota-operator.fullname" .) .Values.serviceAccount.name }}
{{- else }}
{{- required "serviceAccount.name is required when serviceAccount.create is false" .Values.serviceAccount.name }}
{{- end }}
{{- end }}

{{- define "quota-operator.image" -}}
{{- if .Values.image.digest }}
{{- printf "%s@%s" .Values.image.repository .Values.image.digest }}
{{- else }}
{{- printf "%s:%s" .Values.image.repository (.Values.image.tag | default .Chart.AppVersion) }}
{{- end }}
{{- end }}

{{/*
Replicas after the HA rule: without leader election, two pods would both reconcile and both
file requests, so only one is allowed (and the Deployment uses Recreate).
*/}}
{{- define "quota-operator.replicas" -}}
{{- if .Values.leaderElection.enabled }}
{{- .Values.replicaCount }}
{{- else if gt (int .Values.replicaCount) 1 }}
{{- fail (printf "replicaCount is %d but leaderElection.enabled is false: without leader election two replicas would both reconcile and file duplicate quota requests; set replicaCount: 1 or enable leader election" (int .Values.replicaCount)) }}
{{- else }}
{{- .Values.replicaCount }}
{{- end }}
{{- end }}
