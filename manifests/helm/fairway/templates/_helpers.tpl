{{/*
The labels every object carries, as the kustomization's `labels` adds them:
on the object's metadata only, never on selectors or pod templates, so that
the selectors of objects already running never change.
*/}}
{{- define "fairway.labels" -}}
app.kubernetes.io/part-of: fairway
{{- end }}

{{/* An image reference from images.<name>. */}}
{{- define "fairway.image" -}}
{{ .repository }}:{{ .tag }}
{{- end }}

{{/* Whether xDS is served over mTLS, as "true" or "". */}}
{{- define "fairway.mtls" -}}
{{- $s := .Values.certificates.source -}}
{{- if eq $s "certgen" "cert-manager" }}true{{ else if ne $s "none" }}
{{- fail (printf "certificates.source %q: want none, certgen or cert-manager" $s) }}
{{- end }}
{{- end }}

{{/* Where the xDS certificate Secret is mounted, in fairway and the fleet. */}}
{{- define "fairway.tlsDir" -}}/etc/fairway/xds-tls{{- end }}

{{/*
The fleets: one entry per node group, or the single default fleet
(DaemonSet fairway-envoy, node cluster "fairway") when there are none.
Returned as YAML, for fromYaml.
*/}}
{{- define "fairway.fleets" -}}
{{- $fleets := list }}
{{- if not .Values.fleet.nodeGroups }}
{{- $fleets = append $fleets (dict "daemonSet" "fairway-envoy" "cluster" "fairway" "group" "" "nodeSelector" .Values.fleet.nodeSelector "resources" .Values.fleet.resources) }}
{{- end }}
{{- $seen := dict }}
{{- range .Values.fleet.nodeGroups }}
{{- if not (regexMatch "^[a-z0-9]([-a-z0-9]{0,47}[a-z0-9])?$" (toString .name)) }}
{{- fail (printf "fleet.nodeGroups: name %q must be a DNS label of at most 49 characters (fairway-envoy-<name> is one)" (toString .name)) }}
{{- end }}
{{- if hasKey $seen .name }}
{{- fail (printf "fleet.nodeGroups: name %q appears twice" .name) }}
{{- end }}
{{- $_ := set $seen .name true }}
{{- $fleets = append $fleets (dict "daemonSet" (printf "fairway-envoy-%s" .name) "cluster" .name "group" .name "nodeSelector" (.nodeSelector | default $.Values.fleet.nodeSelector) "resources" (.resources | default $.Values.fleet.resources)) }}
{{- end }}
fleets: {{ toJson $fleets }}
{{- end }}

{{/* The pod template of the certgen Job and CronJob. */}}
{{- define "fairway.certgenPod" -}}
metadata:
  labels:
    app.kubernetes.io/name: fairway-certgen
spec:
  serviceAccountName: fairway-certgen
  restartPolicy: OnFailure
  securityContext:
    runAsNonRoot: true
    runAsUser: 65532
    runAsGroup: 65532
    seccompProfile:
      type: RuntimeDefault
  containers:
    - name: certgen
      image: {{ include "fairway.image" .Values.images.fairway }}
      {{- with .Values.images.fairway.pullPolicy }}
      imagePullPolicy: {{ . }}
      {{- end }}
      args:
        - certgen
        - --log-json
        {{- if ne .Values.certificates.trustDomain "fairway" }}
        - --trust-domain={{ .Values.certificates.trustDomain }}
        {{- end }}
        {{- range .Values.proxyless.namespaces }}
        - --proxyless-namespace={{ . }}
        {{- end }}
      # certgen's namespace for the Secrets it keeps: its own.
      env:
        - name: POD_NAMESPACE
          valueFrom:
            fieldRef:
              fieldPath: metadata.namespace
      resources:
        requests:
          cpu: 10m
          memory: 32Mi
        limits:
          memory: 64Mi
      securityContext:
        allowPrivilegeEscalation: false
        readOnlyRootFilesystem: true
        capabilities:
          drop: [ALL]
{{- end }}
