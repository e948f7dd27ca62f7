package translator

import (
	"fmt"
	"maps"
	"regexp"
	"slices"
	"strings"

	"github.com/fairwayhq/fairway/envoy"
)

// AccessLogMode says whether the fleet's listeners write access logs.
type AccessLogMode string

const (
	// AccessLogJSON writes one JSON line per request (HTTP) or connection
	// and session (TCP, UDP) to Envoy's stdout.
	AccessLogJSON AccessLogMode = "json"
	// AccessLogOff writes none.
	AccessLogOff AccessLogMode = "off"
)

// AccessLogFormat replaces the default JSON fields of one kind of
// listener or more: field name → Envoy format string, such as
// {"status": "%RESPONSE_CODE%"}. A kind left out keeps its defaults
// (envoy.DefaultHTTPLogFormat and its TCP and UDP peers).
type AccessLogFormat struct {
	HTTP map[string]string `json:"http,omitempty"`
	TCP  map[string]string `json:"tcp,omitempty"`
	UDP  map[string]string `json:"udp,omitempty"`
}

// accessLogs are the formats the fleet's listeners log with; all empty
// when logging is off.
func (o Options) accessLogs() envoy.AccessLogs {
	if o.AccessLog == AccessLogOff {
		return envoy.AccessLogs{}
	}
	logs := envoy.DefaultAccessLogs()
	for _, k := range o.AccessLogFormat.kinds() {
		if k.fields != nil {
			*k.target(&logs) = envoy.LogFormat(k.fields)
		}
	}
	return logs
}

type logKind struct {
	name   string
	fields map[string]string
	target func(*envoy.AccessLogs) *envoy.LogFormat
}

func (f AccessLogFormat) kinds() []logKind {
	return []logKind{
		{"http", f.HTTP, func(l *envoy.AccessLogs) *envoy.LogFormat { return &l.HTTP }},
		{"tcp", f.TCP, func(l *envoy.AccessLogs) *envoy.LogFormat { return &l.TCP }},
		{"udp", f.UDP, func(l *envoy.AccessLogs) *envoy.LogFormat { return &l.UDP }},
	}
}

// logOperator is one Envoy command operator: %NAME%, %NAME(args)% or
// %NAME(args):length%.
var logOperator = regexp.MustCompile(`%[A-Z][A-Z0-9_]*(\([^()]*\))?(:[0-9]+)?%`)

// validAccessLog reports a mode or format Envoy would refuse, or that
// would log nothing useful, naming the field. Envoy rejects a listener
// whose format it cannot parse, and with it the update of every listener
// in the response, so a mistake is caught here, before it reaches a
// fleet. Only the operator syntax is checked, not the operator names,
// which grow with each Envoy release.
func (o Options) validAccessLog() error {
	if o.AccessLog != AccessLogJSON && o.AccessLog != AccessLogOff {
		return fmt.Errorf("access log %q: must be %q or %q", o.AccessLog, AccessLogJSON, AccessLogOff)
	}
	for _, k := range o.AccessLogFormat.kinds() {
		if k.fields != nil && len(k.fields) == 0 {
			return fmt.Errorf("access log format %s: has no fields (use access log %q to log nothing)", k.name, AccessLogOff)
		}
		for _, key := range slices.Sorted(maps.Keys(k.fields)) {
			if err := validLogField(key, k.fields[key]); err != nil {
				return fmt.Errorf("access log format %s.%s: %w", k.name, key, err)
			}
		}
	}
	return nil
}

func validLogField(key, value string) error {
	if strings.TrimSpace(key) == "" {
		return fmt.Errorf("a field name must not be empty")
	}
	if value == "" {
		return fmt.Errorf("the format string is empty")
	}
	if rest := logOperator.ReplaceAllString(value, ""); strings.Contains(rest, "%") {
		return fmt.Errorf("%q: a '%%' that starts no command operator (such as %%RESPONSE_CODE%% or %%REQ(USER-AGENT)%%)", value)
	}
	return nil
}
