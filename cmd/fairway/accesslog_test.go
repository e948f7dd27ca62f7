package main

import (
	"encoding/json"
	"maps"
	"slices"
	"strings"
	"testing"

	accesslogv3 "github.com/envoyproxy/go-control-plane/envoy/config/accesslog/v3"
	listenerv3 "github.com/envoyproxy/go-control-plane/envoy/config/listener/v3"
	streamv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/access_loggers/stream/v3"
	hcmv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/network/http_connection_manager/v3"
	tcpproxyv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/network/tcp_proxy/v3"
	udpproxyv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/udp/udp_proxy/v3"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/types/known/anypb"

	"github.com/fairwayhq/fairway/envoy"
)

// dnsService adds a UDP LoadBalancer port to the examples, so that every
// kind of fleet listener is translated.
const dnsService = `apiVersion: v1
kind: Service
metadata: {name: dns, namespace: infra}
spec:
  type: LoadBalancer
  ports: [{name: dns, port: 53, protocol: UDP, targetPort: 53}]
`

// listenerLogs translates the examples plus a UDP Service with extra
// flags and returns, per listener, the JSON access log format of each of
// its proxies (nil where a proxy has no access log).
// exampleGatewayListener is the examples' Gateway's HTTP listener, which
// translate builds on its own port (make run shares it with the Ingress).
var exampleGatewayListener = envoy.GatewayListenerName("shop", "shop", 8080, false)

func listenerLogs(t *testing.T, flags ...string) map[string][]map[string]string {
	t.Helper()
	dir := t.TempDir()
	writeFile(t, dir, "dns.yaml", dnsService)
	args := append([]string{"translate", "-f", examples, "-f", dir, "-o", "json"}, flags...)
	code, stdout, stderr := runCLI(t, args...)
	if code != 0 {
		t.Fatalf("exit %d, stderr:\n%s", code, stderr)
	}
	var doc struct{ Listeners []json.RawMessage }
	if err := json.Unmarshal([]byte(stdout), &doc); err != nil {
		t.Fatal(err)
	}
	out := map[string][]map[string]string{}
	for _, raw := range doc.Listeners {
		l := &listenerv3.Listener{}
		if err := protojson.Unmarshal(raw, l); err != nil {
			t.Fatal(err)
		}
		var configs []*anypb.Any
		for _, fc := range l.FilterChains {
			for _, f := range fc.Filters {
				configs = append(configs, f.GetTypedConfig())
			}
		}
		for _, f := range l.ListenerFilters {
			if f.Name == "envoy.filters.udp_listener.udp_proxy" {
				configs = append(configs, f.GetTypedConfig())
			}
		}
		for _, c := range configs {
			out[l.Name] = append(out[l.Name], logFormat(t, c))
		}
	}
	if want := []string{exampleGatewayListener, "http", "https", "tcp-5432", "udp-53"}; !slices.Equal(slices.Sorted(maps.Keys(out)), want) {
		t.Fatalf("listeners %v, want %v", slices.Sorted(maps.Keys(out)), want)
	}
	return out
}

// logFormat is the stdout JSON format of a proxy's one access log.
func logFormat(t *testing.T, config *anypb.Any) map[string]string {
	t.Helper()
	m, err := config.UnmarshalNew()
	if err != nil {
		t.Fatal(err)
	}
	var logs []*accesslogv3.AccessLog
	switch p := m.(type) {
	case *hcmv3.HttpConnectionManager:
		logs = p.AccessLog
	case *tcpproxyv3.TcpProxy:
		logs = p.AccessLog
	case *udpproxyv3.UdpProxyConfig:
		logs = p.AccessLog
	default:
		t.Fatalf("unexpected proxy %T", m)
	}
	if len(logs) == 0 {
		return nil
	}
	if len(logs) != 1 {
		t.Fatalf("access logs %v: want one stdout logger", logs)
	}
	stdout := &streamv3.StdoutAccessLog{}
	if err := logs[0].GetTypedConfig().UnmarshalTo(stdout); err != nil {
		t.Fatal(err)
	}
	out := map[string]string{}
	for k, v := range stdout.GetLogFormat().GetJsonFormat().GetFields() {
		out[k] = v.GetStringValue()
	}
	return out
}

func wantFormats(t *testing.T, got map[string][]map[string]string, want map[string]map[string]string) {
	t.Helper()
	for name, formats := range got {
		for _, f := range formats {
			if !maps.Equal(f, want[name]) {
				t.Errorf("%s: access log format %v, want %v", name, f, want[name])
			}
		}
	}
}

// TestAccessLogDefault: every fleet listener logs JSON to stdout, with the
// field set of its kind.
func TestAccessLogDefault(t *testing.T) {
	wantFormats(t, listenerLogs(t), map[string]map[string]string{
		"http": envoy.DefaultHTTPLogFormat, "https": envoy.DefaultHTTPLogFormat, exampleGatewayListener: envoy.DefaultHTTPLogFormat,
		"tcp-5432": envoy.DefaultTCPLogFormat, "udp-53": envoy.DefaultUDPLogFormat,
	})
}

// TestAccessLogOff: --access-log off leaves every listener without logs.
func TestAccessLogOff(t *testing.T) {
	wantFormats(t, listenerLogs(t, "--access-log", "off"), map[string]map[string]string{})
}

// TestAccessLogCustomFormat: the file's kinds replace their defaults; a
// kind it leaves out keeps them.
func TestAccessLogCustomFormat(t *testing.T) {
	dir := t.TempDir()
	writeFile(t, dir, "format.yaml", `http:
  code: "%RESPONSE_CODE%"
  when: "%START_TIME(%Y-%m-%dT%H:%M:%S%z)%"
  ua: "%REQ(USER-AGENT):64%"
udp:
  peer: "%DOWNSTREAM_REMOTE_ADDRESS%"
`)
	httpFormat := map[string]string{"code": "%RESPONSE_CODE%", "when": "%START_TIME(%Y-%m-%dT%H:%M:%S%z)%", "ua": "%REQ(USER-AGENT):64%"}
	wantFormats(t, listenerLogs(t, "--access-log-format", dir+"/format.yaml"), map[string]map[string]string{
		"http": httpFormat, "https": httpFormat, exampleGatewayListener: httpFormat,
		"tcp-5432": envoy.DefaultTCPLogFormat, "udp-53": {"peer": "%DOWNSTREAM_REMOTE_ADDRESS%"},
	})
}

// TestAccessLogFlagErrors: a bad mode or format file stops translate with
// a usage error naming the problem.
func TestAccessLogFlagErrors(t *testing.T) {
	dir := t.TempDir()
	files := map[string]string{
		"list.yaml":     "http: {status: ['%RESPONSE_CODE%']}\n",
		"unknown.yaml":  "grpc: {status: '%RESPONSE_CODE%'}\n",
		"operator.yaml": "tcp: {sent: '%BYTES_SENT'}\n",
		"empty.yaml":    "http: {}\n",
		"nothing.yaml":  "{}\n",
		"lower.yaml":    "http: {status: '%response_code%'}\n",
	}
	for name, content := range files {
		writeFile(t, dir, name, content)
	}
	cases := []struct{ name, flag, value, stderr string }{
		{"bad mode", "--access-log", "text", `access log "text": must be "json" or "off"`},
		{"not a string", "--access-log-format", dir + "/list.yaml", "list.yaml: error unmarshaling JSON"},
		{"unknown kind", "--access-log-format", dir + "/unknown.yaml", `unknown field "grpc"`},
		{"unclosed operator", "--access-log-format", dir + "/operator.yaml", "access log format tcp.sent: \"%BYTES_SENT\""},
		{"no fields", "--access-log-format", dir + "/empty.yaml", "access log format http: has no fields"},
		{"empty file", "--access-log-format", dir + "/nothing.yaml", "no fields for http, tcp or udp"},
		{"lower-case operator", "--access-log-format", dir + "/lower.yaml", "access log format http.status"},
		{"missing file", "--access-log-format", dir + "/nope.yaml", "no such file"},
	}
	for _, c := range cases {
		code, _, stderr := runCLI(t, "translate", "-f", examples, c.flag, c.value)
		if code != 2 || !strings.Contains(stderr, c.stderr) {
			t.Errorf("%s: exit %d, stderr %q; want exit 2 and %q", c.name, code, stderr, c.stderr)
		}
	}
	// serve shares the flags, and refuses to start on a bad format.
	code, _, stderr := runCLI(t, "serve", "--manifests", examples, "--access-log-format", dir+"/operator.yaml")
	if code != 2 || !strings.Contains(stderr, "access log format tcp.sent") {
		t.Errorf("serve: exit %d, stderr %q; want exit 2 naming tcp.sent", code, stderr)
	}
}
