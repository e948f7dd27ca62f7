package envoy

import (
	"maps"

	accesslogv3 "github.com/envoyproxy/go-control-plane/envoy/config/accesslog/v3"
	corev3 "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	streamv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/access_loggers/stream/v3"
	"google.golang.org/protobuf/types/known/structpb"
)

// LogFormat is a JSON access log line: each key is a field of the line,
// each value an Envoy format string (command operators such as
// %RESPONSE_CODE%). A nil or empty format logs nothing.
type LogFormat map[string]string

// AccessLogs are the formats of the fleet's listeners, by what they
// proxy, since each proxy knows different things about a connection.
type AccessLogs struct {
	HTTP LogFormat
	TCP  LogFormat
	UDP  LogFormat
}

// DefaultHTTPLogFormat has the fields of ingress-nginx's default log line,
// so dashboards and habits carry over, plus Envoy's response flags, which
// say why Envoy itself answered (UF: upstream connect failure, NR: no
// route, UT: upstream timeout, ...). The upstream time is the router's
// own measure, the header it adds for the client.
var DefaultHTTPLogFormat = LogFormat{
	"start_time":            "%START_TIME%",
	"remote_addr":           "%DOWNSTREAM_REMOTE_ADDRESS_WITHOUT_PORT%",
	"method":                "%REQ(:METHOD)%",
	"path":                  "%REQ(X-ENVOY-ORIGINAL-PATH?:PATH)%",
	"authority":             "%REQ(:AUTHORITY)%",
	"protocol":              "%PROTOCOL%",
	"status":                "%RESPONSE_CODE%",
	"response_flags":        "%RESPONSE_FLAGS%",
	"bytes_received":        "%BYTES_RECEIVED%",
	"bytes_sent":            "%BYTES_SENT%",
	"referer":               "%REQ(REFERER)%",
	"user_agent":            "%REQ(USER-AGENT)%",
	"duration_ms":           "%DURATION%",
	"upstream_host":         "%UPSTREAM_HOST%",
	"upstream_cluster":      "%UPSTREAM_CLUSTER%",
	"upstream_service_time": "%RESP(X-ENVOY-UPSTREAM-SERVICE-TIME)%",
	"request_id":            "%REQ(X-REQUEST-ID)%",
	"route_name":            "%ROUTE_NAME%",
}

// DefaultTCPLogFormat is the subset that means something for a TCP
// passthrough connection, one line per connection when it closes.
var DefaultTCPLogFormat = LogFormat{
	"start_time":       "%START_TIME%",
	"remote_addr":      "%DOWNSTREAM_REMOTE_ADDRESS_WITHOUT_PORT%",
	"local_addr":       "%DOWNSTREAM_LOCAL_ADDRESS%",
	"response_flags":   "%RESPONSE_FLAGS%",
	"bytes_received":   "%BYTES_RECEIVED%",
	"bytes_sent":       "%BYTES_SENT%",
	"duration_ms":      "%DURATION%",
	"upstream_host":    "%UPSTREAM_HOST%",
	"upstream_cluster": "%UPSTREAM_CLUSTER%",
}

// DefaultUDPLogFormat is the same for a UDP session, one line when it
// idles out. The UDP proxy reports its counters as dynamic metadata of the
// session rather than through the byte operators.
var DefaultUDPLogFormat = LogFormat{
	"start_time":         "%START_TIME%",
	"remote_addr":        "%DOWNSTREAM_REMOTE_ADDRESS_WITHOUT_PORT%",
	"local_addr":         "%DOWNSTREAM_LOCAL_ADDRESS%",
	"duration_ms":        "%DURATION%",
	"upstream_host":      "%UPSTREAM_HOST%",
	"upstream_cluster":   "%DYNAMIC_METADATA(udp.proxy.session:cluster_name)%",
	"bytes_received":     "%DYNAMIC_METADATA(udp.proxy.session:bytes_received)%",
	"bytes_sent":         "%DYNAMIC_METADATA(udp.proxy.session:bytes_sent)%",
	"datagrams_received": "%DYNAMIC_METADATA(udp.proxy.session:datagrams_received)%",
	"datagrams_sent":     "%DYNAMIC_METADATA(udp.proxy.session:datagrams_sent)%",
}

// DefaultAccessLogs are the formats fairway uses unless told otherwise.
func DefaultAccessLogs() AccessLogs {
	return AccessLogs{HTTP: maps.Clone(DefaultHTTPLogFormat), TCP: maps.Clone(DefaultTCPLogFormat), UDP: maps.Clone(DefaultUDPLogFormat)}
}

// stdoutJSONLog writes one JSON object per request or connection to
// Envoy's stdout, where the container runtime collects it; none for an
// empty format. Keys are sorted in the encoding, so equal formats give
// equal bytes.
func stdoutJSONLog(format LogFormat) []*accesslogv3.AccessLog {
	if len(format) == 0 {
		return nil
	}
	fields := make(map[string]*structpb.Value, len(format))
	for k, v := range format {
		fields[k] = structpb.NewStringValue(v)
	}
	logger := &streamv3.StdoutAccessLog{AccessLogFormat: &streamv3.StdoutAccessLog_LogFormat{LogFormat: &corev3.SubstitutionFormatString{
		Format: &corev3.SubstitutionFormatString_JsonFormat{JsonFormat: &structpb.Struct{Fields: fields}},
	}}}
	return []*accesslogv3.AccessLog{{
		Name:       edgeStdoutLogger,
		ConfigType: &accesslogv3.AccessLog_TypedConfig{TypedConfig: mustAny(logger)},
	}}
}
