{{/*
Names and labels.
Objects are named after the release (release "hello" -> Deployment "hello"), not "<release>-<chart>":
the chart is generic, the release is the service.
*/}}
{{- define "go-service.name" -}}
{{- default .Release.Name .Values.nameOverride | trunc 63 | trimSuffix "-" }}
{{- end }}

{{- define "go-service.fullname" -}}
{{- default .Release.Name .Values.fullnameOverride | trunc 63 | trimSuffix "-" }}
{{- end }}

{{- define "go-service.chart" -}}
{{- printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
{{- end }}

{{- define "go-service.selectorLabels" -}}
app.kubernetes.io/name: {{ include "go-service.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end }}

{{- define "go-service.labels" -}}
helm.sh/chart: {{ include "go-service.chart" . }}
{{ include "go-service.selectorLabels" . }}
{{- with .Values.image.tag }}
app.kubernetes.io/version: {{ . | quote }}
{{- end }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
{{- end }}

{{/* Pod labels leave out helm.sh/chart: a chart version bump alone should not restart every pod. */}}
{{- define "go-service.podLabels" -}}
{{ include "go-service.selectorLabels" . }}
{{- with .Values.image.tag }}
app.kubernetes.io/version: {{ . | quote }}
{{- end }}
{{- end }}

{{- define "go-service.serviceAccountName" -}}
{{- if .Values.serviceAccount.create }}
{{- default (include "go-service.fullname" .) .Values.serviceAccount.name }}
{{- else }}
{{- required "serviceAccount.name: name an existing ServiceAccount when serviceAccount.create is false" .Values.serviceAccount.name }}
{{- end }}
{{- end }}

{{/*
The image reference: <repository>@<digest> when a digest is given, else <repository>:<tag>.
The schema already forbids `latest` and malformed digests; this only rejects "neither".
*/}}
{{- define "go-service.image" -}}
{{- $img := .Values.image }}
{{- if $img.digest }}
{{- printf "%s@%s" $img.repository $img.digest }}
{{- else if $img.tag }}
{{- printf "%s:%s" $img.repository $img.tag }}
{{- else }}
{{- fail "image: neither image.digest nor image.tag is set; set image.digest (sha256:<64 hex>, preferred) or image.tag (any tag but latest)" }}
{{- end }}
{{- end }}

{{/*
Bytes in a Kubernetes quantity (the forms the schema admits: an integer or decimal with an optional
k/M/G/T or Ki/Mi/Gi/Ti suffix), as a float. Usage: include "go-service.bytes" (dict "key" "resources.limits.memory" "value" "256Mi")
*/}}
{{- define "go-service.bytes" -}}
{{- $q := toString .value }}
{{- $num := regexFind "^[0-9]+(\\.[0-9]+)?" $q }}
{{- $unit := trimPrefix $num $q }}
{{- $mult := dict "" 1 "k" 1000 "M" 1000000 "G" 1000000000 "T" 1000000000000 "Ki" 1024 "Mi" 1048576 "Gi" 1073741824 "Ti" 1099511627776 }}
{{- if or (not $num) (not (hasKey $mult $unit)) }}
{{- fail (printf "%s: %q is not a memory quantity this chart understands; use a number with an optional k, M, G, T, Ki, Mi, Gi or Ti suffix (e.g. 256Mi)" .key $q) }}
{{- end }}
{{- mulf (float64 $num) (get $mult $unit) }}
{{- end }}

{{/*
Seconds in a Go duration (e.g. 1m30s, 500ms), as a float.
Usage: include "go-service.seconds" (dict "key" "shutdown.timeout" "value" "20s")
*/}}
{{- define "go-service.seconds" -}}
{{- $d := toString .value }}
{{- $units := dict "h" 3600.0 "m" 60.0 "s" 1.0 "ms" 0.001 "us" 0.000001 "µs" 0.000001 "ns" 0.000000001 }}
{{- $parts := regexFindAll "[0-9]+(\\.[0-9]+)?(ns|us|µs|ms|s|m|h)" $d -1 }}
{{- if and (ne $d "0") (ne (join "" $parts) $d) }}
{{- fail (printf "%s: %q is not a Go duration; use e.g. 500ms, 5s, 1m30s" .key $d) }}
{{- end }}
{{- $total := 0.0 }}
{{- range $parts }}
{{- $n := regexFind "^[0-9]+(\\.[0-9]+)?" . }}
{{- $total = addf $total (mulf (float64 $n) (get $units (trimPrefix $n .))) }}
{{- end }}
{{- $total }}
{{- end }}

{{/*
terminationGracePeriodSeconds: the kubelet's whole budget, counted from the start of the preStop hook.
It must outlast preStop sleep + DRAIN_DELAY + SHUTDOWN_TIMEOUT, or the service is SIGKILLed mid-shutdown.
*/}}
{{- define "go-service.terminationGracePeriodSeconds" -}}
{{- $s := .Values.shutdown }}
{{- $drain := include "go-service.seconds" (dict "key" "shutdown.drainDelay" "value" $s.drainDelay) | float64 }}
{{- $timeout := include "go-service.seconds" (dict "key" "shutdown.timeout" "value" $s.timeout) | float64 }}
{{- $needed := addf (float64 $s.preStopSleepSeconds) $drain $timeout }}
{{- if kindIs "invalid" $s.terminationGracePeriodSeconds }}
{{- addf (ceil $needed) 5 | int64 }}
{{- else if le (float64 $s.terminationGracePeriodSeconds) $needed }}
{{- fail (printf "shutdown.terminationGracePeriodSeconds: %v is too small; it must be greater than shutdown.preStopSleepSeconds (%v) + shutdown.drainDelay (%s) + shutdown.timeout (%s) = %vs, or null to compute it" $s.terminationGracePeriodSeconds $s.preStopSleepSeconds $s.drainDelay $s.timeout $needed) }}
{{- else }}
{{- int64 $s.terminationGracePeriodSeconds }}
{{- end }}
{{- end }}

{{/*
GOMEMLIMIT in bytes: goRuntime.memoryLimitPercent of resources.limits.memory.
*/}}
{{- define "go-service.goMemLimit" -}}
{{- $limit := include "go-service.bytes" (dict "key" "resources.limits.memory" "value" .Values.resources.limits.memory) | float64 }}
{{- divf (mulf $limit .Values.goRuntime.memoryLimitPercent) 100 | floor | int64 }}
{{- end }}

{{/* More than one pod can run: the PodDisruptionBudget is worth having. */}}
{{- define "go-service.multiReplica" -}}
{{- if .Values.autoscaling.enabled }}
{{- if gt (int .Values.autoscaling.maxReplicas) 1 }}true{{ end }}
{{- else if gt (int .Values.replicaCount) 1 }}true{{ end }}
{{- end }}

{{/*
Rules across values that JSON Schema cannot express. Each message names the values, the bad value and what is allowed.
*/}}
{{- define "go-service.validate" -}}
{{- $v := .Values }}
{{- if and $v.autoscaling.enabled (lt (int $v.autoscaling.maxReplicas) (int $v.autoscaling.minReplicas)) }}
{{- fail (printf "autoscaling.maxReplicas: %v is below autoscaling.minReplicas (%v); it must be at least minReplicas" $v.autoscaling.maxReplicas $v.autoscaling.minReplicas) }}
{{- end }}
{{- if and $v.ingress.enabled (not $v.ingress.host) }}
{{- fail "ingress.host: empty while ingress.enabled is true; set the host name to route (e.g. hello.example.com) or disable the ingress" }}
{{- end }}
{{- if and $v.networkPolicy.enabled (eq $v.service.type "LoadBalancer") (not $v.networkPolicy.ingress.cidrs) }}
{{- fail "networkPolicy.ingress.cidrs: empty while service.type is LoadBalancer and networkPolicy.enabled is true, so the NetworkPolicy would drop all load balancer traffic; list the client CIDRs (e.g. [\"0.0.0.0/0\"]) or use a ClusterIP Service behind an Ingress" }}
{{- end }}
{{- /* The ranges the service's config loader accepts; outside them it exits at start-up (CrashLoopBackOff). */}}
{{- $drain := include "go-service.seconds" (dict "key" "shutdown.drainDelay" "value" $v.shutdown.drainDelay) | float64 }}
{{- if gt $drain 300.0 }}
{{- fail (printf "shutdown.drainDelay: %q is longer than the service accepts; allowed: 0s to 5m" $v.shutdown.drainDelay) }}
{{- end }}
{{- $timeout := include "go-service.seconds" (dict "key" "shutdown.timeout" "value" $v.shutdown.timeout) | float64 }}
{{- if or (lt $timeout 1.0) (gt $timeout 300.0) }}
{{- fail (printf "shutdown.timeout: %q is outside what the service accepts; allowed: 1s to 5m" $v.shutdown.timeout) }}
{{- end }}
{{- $reserved := list "PORT" "LOG_LEVEL" "DRAIN_DELAY" "SHUTDOWN_TIMEOUT" "GOMEMLIMIT" "GOMAXPROCS" }}
{{- range $name, $_ := $v.extraEnv }}
{{- if has $name $reserved }}
{{- fail (printf "extraEnv.%s: set by the chart itself; allowed: any other name (the chart derives %s from its own values)" $name (join ", " $reserved)) }}
{{- end }}
{{- end }}
{{- if and $v.resources.limits.cpu (hasKey $v.resources.requests "cpu") }}
{{- $req := include "go-service.millicores" $v.resources.requests.cpu | float64 }}
{{- $lim := include "go-service.millicores" $v.resources.limits.cpu | float64 }}
{{- if lt $lim $req }}
{{- fail (printf "resources.limits.cpu: %v is below resources.requests.cpu (%v); the limit must be at least the request" $v.resources.limits.cpu $v.resources.requests.cpu) }}
{{- end }}
{{- end }}
{{- $reqMem := include "go-service.bytes" (dict "key" "resources.requests.memory" "value" $v.resources.requests.memory) | float64 }}
{{- $limMem := include "go-service.bytes" (dict "key" "resources.limits.memory" "value" $v.resources.limits.memory) | float64 }}
{{- if lt $limMem $reqMem }}
{{- fail (printf "resources.limits.memory: %v is below resources.requests.memory (%v); the limit must be at least the request" $v.resources.limits.memory $v.resources.requests.memory) }}
{{- end }}
{{- end }}

{{/* Millicores in a CPU quantity (e.g. 250m, 1, 1.5). */}}
{{- define "go-service.millicores" -}}
{{- $q := toString . }}
{{- if hasSuffix "m" $q }}{{ trimSuffix "m" $q | float64 }}{{ else }}{{ mulf (float64 $q) 1000 }}{{ end }}
{{- end }}
