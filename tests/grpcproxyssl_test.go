package tests

import (
	"encoding/base64"
	"fmt"
	"path/filepath"
	"testing"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/fairwayhq/fairway/translator/translatortest"
)

// TestGRPCProxylessVerifiedBackendFails: a route whose backend the
// Ingress asks to verify (proxy-ssl-verify) cannot be verified by a
// proxyless client, which dials the pods itself over the plain cluster:
// grpc-go ACKs the table, and every call on that route fails without
// reaching the backend, while the same host's other route keeps working.
func TestGRPCProxylessVerifiedBackendFails(t *testing.T) {
	open, verified := startNamedBackend(t, "open"), startNamedBackend(t, "verified")
	ca := translatortest.MustCertPair(t, "backend-ca.example.com")[0]
	dir := manifestDir(t)
	writeFile(t, filepath.Join(dir, "grpc-proxyssl.yaml"), grpcServiceYAML("grpcssl", "open", open)+"---\n"+
		grpcServiceYAML("grpcssl", "verified", verified)+fmt.Sprintf(`---
apiVersion: v1
kind: Secret
metadata: {name: backend-ca, namespace: grpcssl}
data: {ca.crt: %s}
---
apiVersion: networking.k8s.io/v1
kind: Ingress
metadata:
  name: open
  namespace: grpcssl
spec:
  ingressClassName: fairway
  rules:
  - host: grpc.proxyssl.example.com
    http:
      paths:
      - {path: /shop.Open, pathType: Prefix, backend: {service: {name: open, port: {name: grpc}}}}
---
apiVersion: networking.k8s.io/v1
kind: Ingress
metadata:
  name: verified
  namespace: grpcssl
  annotations:
    nginx.ingress.kubernetes.io/backend-protocol: GRPCS
    nginx.ingress.kubernetes.io/proxy-ssl-secret: grpcssl/backend-ca
    nginx.ingress.kubernetes.io/proxy-ssl-verify: "on"
    nginx.ingress.kubernetes.io/proxy-ssl-name: verified.grpcssl.svc
spec:
  ingressClassName: fairway
  rules:
  - host: grpc.proxyssl.example.com
    http:
      paths:
      - {path: /shop.Verified, pathType: Prefix, backend: {service: {name: verified, port: {name: grpc}}}}
`, base64.StdEncoding.EncodeToString(ca)))
	f := startFairway(t, dir)
	cc := xdsClient(t, f.xds, "grpc-proxyssl", "grpc.proxyssl.example.com")
	got, err := call(cc, "/shop.Open/Get", 15*time.Second)
	if err != nil || got != "open" {
		t.Fatalf("/shop.Open/Get: reached %q, %v; want the open backend", got, err)
	}
	got, err = call(cc, "/shop.Verified/Get", 5*time.Second)
	if err == nil || status.Code(err) == codes.OK {
		t.Errorf("/shop.Verified/Get: reached %q; a route to a verified backend must fail a proxyless call", got)
	}
	if n := verified.calls.Load(); n != 0 {
		t.Errorf("the verified backend got %d calls in the clear", n)
	}
	assertNoGRPCNACKs(t, f)
}
