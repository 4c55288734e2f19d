{{- define "portcullis.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{- define "portcullis.fullname" -}}
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

{{- define "portcullis.selectorLabels" -}}
app.kubernetes.io/name: {{ include "portcullis.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end -}}

{{- define "portcullis.labels" -}}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" }}
{{ include "portcullis.selectorLabels" . }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
{{- end -}}

{{- define "portcullis.image" -}}
{{- if .Values.image.digest -}}
{{- printf "%s@%s" .Values.image.repository .Values.image.digest -}}
{{- else -}}
{{- printf "%s:%s" .Values.image.repository (default .Chart.AppVersion .Values.image.tag) -}}
{{- end -}}
{{- end -}}

{{/* Names the code is told about and RBAC is limited to: they must agree. */}}
{{- define "portcullis.webhookName" -}}{{ include "portcullis.fullname" . }}{{- end -}}
{{- define "portcullis.tlsSecret" -}}{{ default (printf "%s-webhook-tls" (include "portcullis.fullname" .)) .Values.certificates.selfManaged.secretName }}{{- end -}}
{{- define "portcullis.certManagerSecret" -}}{{ include "portcullis.fullname" . }}-serving-cert{{- end -}}
{{- define "portcullis.leaseName" -}}{{ include "portcullis.fullname" . }}-leader{{- end -}}
{{- define "portcullis.selfManaged" -}}{{ eq .Values.certificates.mode "selfManaged" }}{{- end -}}

{{/* The webhook configurations' caBundle: cert-manager's cainjector fills it from the Certificate. */}}
{{- define "portcullis.webhookAnnotations" -}}
{{- if eq .Values.certificates.mode "certManager" }}
annotations:
  cert-manager.io/inject-ca-from: {{ .Release.Namespace }}/{{ include "portcullis.fullname" . }}-serving
{{- end }}
{{- end -}}

{{/* Both webhooks skip these namespaces (webhooks.excludedNamespaces: kube-system and kube-public by default) and the release's own, so a broken Portcullis can always be repaired. */}}
{{- define "portcullis.namespaceSelector" -}}
namespaceSelector:
  matchExpressions:
    - key: kubernetes.io/metadata.name
      operator: NotIn
      values:
        {{- range (uniq (append .Values.webhooks.excludedNamespaces .Release.Namespace)) }}
        - {{ . | quote }}
        {{- end }}
{{- end -}}

{{- define "portcullis.clientConfig" -}}
clientConfig:
  service:
    name: {{ include "portcullis.fullname" .root }}
    namespace: {{ .root.Release.Namespace }}
    path: {{ .path }}
    port: 8443
{{- end -}}

{{/* The Service's ext_authz gRPC port, and the address the injected sidecars call it on. */}}
{{- define "portcullis.authzGrpcPort" -}}9191{{- end -}}
{{- define "portcullis.sdsPort" -}}15012{{- end -}}
{{/* SDS serves Portcullis' own proxies: with Istio's (injection.provider istio), istiod issues the certificates. */}}
{{- define "portcullis.sdsEnabled" -}}{{ and .Values.sds.enabled (eq .Values.injection.provider "portcullis") }}{{- end -}}
{{- define "portcullis.sdsAddress" -}}
{{- printf "%s.%s.svc:%s" (include "portcullis.fullname" .) .Release.Namespace (include "portcullis.sdsPort" .) -}}
{{- end -}}
{{/* The Secret holding the CA that signs workload certificates in certManager mode (none in selfManaged). */}}
{{- define "portcullis.sdsCaSecret" -}}
{{- if and (eq (include "portcullis.sdsEnabled" .) "true") (eq .Values.certificates.mode "certManager") -}}
{{- if .Values.certificates.certManager.issuerRef -}}
{{- required "sds.caSecret: with certificates.certManager.issuerRef, name the Secret of an RSA CA that signs the workload certificates (or set sds.enabled false)" .Values.sds.caSecret -}}
{{- else -}}
{{- printf "%s-ca" (include "portcullis.fullname" .) -}}
{{- end -}}
{{- end -}}
{{- end -}}
{{- define "portcullis.authzAddress" -}}
{{- printf "%s.%s.svc:%s" (include "portcullis.fullname" .) .Release.Namespace (include "portcullis.authzGrpcPort" .) -}}
{{- end -}}
