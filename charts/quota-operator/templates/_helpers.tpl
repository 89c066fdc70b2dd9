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

{{/*
The label matchers, braces included, that pick this release's own series in the alert rules:
prometheusRule.selector when set, else the job and namespace the chart's ServiceMonitor gives
them (the Service's name and the release namespace).
*/}}
{{- define "quota-operator.ruleSelector" -}}
{{- $sel := .Values.prometheusRule.selector }}
{{- if not $sel }}
{{- $sel = dict "job" (include "quota-operator.fullname" .) "namespace" .Release.Namespace }}
{{- end }}
{{- $matchers := list }}
{{- range $name := keys $sel | sortAlpha }}
{{- $matchers = append $matchers (printf "%s=%q" $name (get $sel $name)) }}
{{- end }}
{{- printf "{%s}" (join ", " $matchers) }}
{{- end }}

{{/*
A Prometheus duration ("7d", "1d12h", "90m") in seconds, for comparing with a _seconds gauge:
rule expressions get a plain number, which every Prometheus version reads.
*/}}
{{- define "quota-operator.durationSeconds" -}}
{{- $ms := dict "y" 31536000000 "w" 604800000 "d" 86400000 "h" 3600000 "m" 60000 "s" 1000 "ms" 1 }}
{{- $total := 0 }}
{{- range $part := regexFindAll "[0-9]+(ms|y|w|d|h|m|s)" . -1 }}
{{- $n := regexFind "^[0-9]+" $part }}
{{- $total = add $total (mul ($n | int64) (get $ms (trimPrefix $n $part))) }}
{{- end }}
{{- if mod $total 1000 }}
{{- printf "%d.%03d" (div $total 1000) (mod $total 1000) }}
{{- else }}
{{- div $total 1000 }}
{{- end }}
{{- end }}

{{/*
"true" when the NetworkPolicy opens GKE's metadata server: asked for, or GKE Workload Identity
chosen by its ServiceAccount annotation. Empty otherwise (a false `if`).
*/}}
{{- define "quota-operator.gkeMetadataServer" -}}
{{- if or .Values.networkPolicy.gkeMetadataServer (hasKey (.Values.serviceAccount.annotations | default dict) "iam.gke.io/gcp-service-account") -}}
true
{{- end }}
{{- end }}
