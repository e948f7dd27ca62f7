package translator

import (
	"strings"
	"testing"
)

// TestAccessLogOptionsValidate: formats are checked for Envoy's operator
// syntax, naming the kind and field of a mistake.
func TestAccessLogOptionsValidate(t *testing.T) {
	cases := []struct {
		name   string
		opts   Options
		errHas string // "" when valid
	}{
		{"defaults", Options{}, ""},
		{"off", Options{AccessLog: AccessLogOff}, ""},
		{"unknown mode", Options{AccessLog: "text"}, `access log "text"`},
		{"operators and text", Options{AccessLogFormat: AccessLogFormat{HTTP: map[string]string{
			"line": "%REQ(:METHOD)% %REQ(X-ENVOY-ORIGINAL-PATH?:PATH):256% took %DURATION%ms",
			"t":    "%START_TIME(%Y-%m-%dT%H:%M:%S.%3f%z)%",
			"md":   "%DYNAMIC_METADATA(udp.proxy.session:bytes_sent)%",
			"text": "fleet",
		}}}, ""},
		{"unclosed", Options{AccessLogFormat: AccessLogFormat{TCP: map[string]string{"sent": "%BYTES_SENT"}}}, "access log format tcp.sent"},
		{"lone percent", Options{AccessLogFormat: AccessLogFormat{UDP: map[string]string{"p": "100%"}}}, "access log format udp.p"},
		{"lower case", Options{AccessLogFormat: AccessLogFormat{HTTP: map[string]string{"s": "%response_code%"}}}, "access log format http.s"},
		{"empty value", Options{AccessLogFormat: AccessLogFormat{HTTP: map[string]string{"s": ""}}}, "format string is empty"},
		{"empty key", Options{AccessLogFormat: AccessLogFormat{HTTP: map[string]string{" ": "%RESPONSE_CODE%"}}}, "field name must not be empty"},
		{"no fields", Options{AccessLogFormat: AccessLogFormat{HTTP: map[string]string{}}}, "has no fields"},
	}
	for _, c := range cases {
		err := c.opts.Validate()
		switch {
		case c.errHas == "" && err != nil:
			t.Errorf("%s: %v", c.name, err)
		case c.errHas != "" && (err == nil || !strings.Contains(err.Error(), c.errHas)):
			t.Errorf("%s: error %v, want one containing %q", c.name, err, c.errHas)
		}
	}
}

// TestAccessLogsOff: off gives every kind an empty format, so no listener
// carries a logger; a custom kind replaces only its own defaults.
func TestAccessLogsOff(t *testing.T) {
	off := Options{AccessLog: AccessLogOff, AccessLogFormat: AccessLogFormat{HTTP: map[string]string{"s": "%RESPONSE_CODE%"}}}.WithDefaults().accessLogs()
	if off.HTTP != nil || off.TCP != nil || off.UDP != nil {
		t.Errorf("off: %+v, want no formats", off)
	}
	custom := Options{AccessLogFormat: AccessLogFormat{TCP: map[string]string{"s": "%BYTES_SENT%"}}}.WithDefaults().accessLogs()
	if len(custom.TCP) != 1 || custom.TCP["s"] != "%BYTES_SENT%" || custom.HTTP["status"] != "%RESPONSE_CODE%" || custom.UDP["start_time"] == "" {
		t.Errorf("custom tcp: %+v", custom)
	}
}
