{{- define "apps.labels" -}}
app.kubernetes.io/managed-by: {{ .Release.Service }}
platform.acme.io/env: {{ .Values.env | quote }}
{{- end }}
