package main

import (
	"fmt"
	"io"
	"strings"

	"github.com/go-logr/logr"
	"github.com/hashicorp/go-hclog"
	"k8s.io/klog/v2"
)

// newLogger is fairway's one root logger; components take named
// sub-loggers from it.
func newLogger(level string, jsonFormat bool, out io.Writer) (hclog.Logger, error) {
	lvl := hclog.LevelFromString(level)
	if lvl == hclog.NoLevel {
		return nil, fmt.Errorf("--log-level %q: must be trace, debug, info, warn or error", level)
	}
	log := hclog.New(&hclog.LoggerOptions{
		Name:       "fairway",
		Level:      lvl,
		JSONFormat: jsonFormat,
		Output:     out,
	})
	klog.SetLogger(logr.New(&klogSink{log: log.Named("klog")}))
	return log, nil
}

// klogSink routes klog (client-go and apimachinery log through it) into
// hclog. klog's verbosity V(n) maps to debug for n ≤ 2 and trace beyond.
type klogSink struct {
	log  hclog.Logger
	name string
}

func (s *klogSink) Init(logr.RuntimeInfo) {}

func (s *klogSink) Enabled(level int) bool {
	if level <= 2 {
		return s.log.IsDebug()
	}
	return s.log.IsTrace()
}

func (s *klogSink) Info(level int, msg string, kv ...any) {
	if level <= 2 {
		s.log.Debug(s.prefix(msg), kv...)
		return
	}
	s.log.Trace(s.prefix(msg), kv...)
}

func (s *klogSink) Error(err error, msg string, kv ...any) {
	s.log.Error(s.prefix(msg), append(kv, "error", err)...)
}

func (s *klogSink) WithValues(kv ...any) logr.LogSink {
	return &klogSink{log: s.log.With(kv...), name: s.name}
}

func (s *klogSink) WithName(name string) logr.LogSink {
	if s.name != "" {
		name = s.name + "." + name
	}
	return &klogSink{log: s.log, name: name}
}

func (s *klogSink) prefix(msg string) string {
	msg = strings.TrimSpace(msg)
	if s.name == "" {
		return msg
	}
	return s.name + ": " + msg
}
