package main

import (
	"fmt"
	"os"
	"slices"
	"strings"

	"github.com/spf13/pflag"
	"sigs.k8s.io/yaml"

	"github.com/fairwayhq/fairway/translator"
)

// addTranslatorFlags binds the translator's options to flags, with the
// translator's defaults. translate and serve share them, so a translation
// previews exactly what serve would publish.
func addTranslatorFlags(fs *pflag.FlagSet) *translator.Options {
	o := translator.Options{}.WithDefaults()
	fs.StringVar(&o.IngressController, "ingress-controller", o.IngressController,
		"spec.controller of the IngressClasses whose Ingresses fairway serves")
	fs.StringVar(&o.GatewayController, "gateway-controller", o.GatewayController,
		"spec.controllerName of the GatewayClasses whose Gateways fairway serves")
	fs.StringVar(&o.LBClass, "lb-class", "",
		"loadBalancerClass fairway handles besides Services with no class (default: only Services with no class)")
	fs.Int32Var(&o.HTTPPort, "http-port", o.HTTPPort, "port of the fleet's Ingress HTTP listener")
	fs.Int32Var(&o.HTTPSPort, "https-port", o.HTTPSPort, "port of the fleet's Ingress HTTPS listener")
	fs.StringVar(&o.ListenAddress, "listen-address", o.ListenAddress,
		`IP the fleet's listeners bind: "0.0.0.0" (IPv4), "::" (IPv6 and IPv4, for dual-stack nodes) or one address`)
	fs.Var((*lbTargetFlag)(&o.LBTarget), "lb-target",
		`where LoadBalancer traffic goes: "pods" (ready pod endpoints) or "nodes" (node InternalIPs at the nodePort)`)
	fs.IntVar(&o.RegexProgramSizeLimit, "regex-program-size-limit", o.RegexProgramSizeLimit,
		"largest RE2 program size the fleet's Envoys accept (their re2.max_program_size.error_level): fairway's bootstrap sets this default; use 100 for Envoys run from a bootstrap of their own")
	fs.IntVar(&o.Limits.AnnotationBytes, "max-annotation-bytes", o.Limits.AnnotationBytes,
		"largest total of an Ingress's annotations (keys plus values) that is served; the API server's own cap is the default")
	fs.IntVar(&o.Limits.IngressPaths, "max-ingress-paths", o.Limits.IngressPaths,
		"most rules, and most paths over all rules, of an Ingress that is served")
	fs.IntVar(&o.Limits.IngressTLSHosts, "max-ingress-tls-hosts", o.Limits.IngressTLSHosts,
		"most hosts over all spec.tls entries of an Ingress that is served")
	fs.Var((*accessLogFlag)(&o.AccessLog), "access-log",
		`access logs of the fleet's listeners: "json" (one JSON line per request or connection on Envoy's stdout) or "off"`)
	fs.Var((*accessLogFormatFlag)(&o.AccessLogFormat), "access-log-format",
		"YAML or JSON file of access log fields, {http|tcp|udp: {field: Envoy format string}}; a kind left out keeps its default fields")
	fs.BoolVar(&o.SSLRedirect, "ssl-redirect", false,
		"redirect plain-HTTP requests for hosts with a certificate to https with 308 (ingress-nginx's default); an Ingress's ssl-redirect annotation overrides it")
	fs.Uint32Var(&o.XFFTrustedHops, "xff-trusted-hops", 0,
		"number of proxies in front of the fleet whose X-Forwarded-For entries are trusted for the client address (ingress-nginx's use-forwarded-headers)")
	fs.BoolVar(&o.ProxyProtocol, "proxy-protocol", false,
		"the fleet's http, https and tcp-<port> listeners expect the PROXY protocol (v1 or v2) from a load balancer in front")
	fs.Var((*lbAddressPoolFlag)(&o.LBAddressPools), "lb-address-pool",
		"CIDR or FIRST-LAST (IPv4 or IPv6) of addresses to give LoadBalancer Services one each, instead of the fleet's addresses; repeatable, oldest Service first to the lowest free address")
	return &o
}

// lbAddressPoolFlag collects --lb-address-pool values, checking each one
// and its overlap with those before it as it is parsed.
type lbAddressPoolFlag []string

func (f *lbAddressPoolFlag) String() string { return strings.Join(*f, ",") }
func (f *lbAddressPoolFlag) Type() string   { return "CIDR|FIRST-LAST" }
func (f *lbAddressPoolFlag) Set(v string) error {
	pools := append(slices.Clone(*f), v)
	if err := (translator.Options{LBAddressPools: pools}).Validate(); err != nil {
		return err
	}
	*f = pools
	return nil
}

// accessLogFlag validates --access-log as it is parsed.
type accessLogFlag translator.AccessLogMode

func (f *accessLogFlag) String() string { return string(*f) }
func (f *accessLogFlag) Type() string   { return "json|off" }
func (f *accessLogFlag) Set(v string) error {
	o := translator.Options{AccessLog: translator.AccessLogMode(v)}
	if err := o.Validate(); err != nil {
		return err
	}
	*f = accessLogFlag(v)
	return nil
}

// accessLogFormatFlag reads and checks the --access-log-format file as
// the flag is parsed, so a typo stops fairway before any Envoy sees it.
// Decoding is strict: an unknown kind or a value that is not a string is
// an error.
type accessLogFormatFlag translator.AccessLogFormat

func (f *accessLogFormatFlag) String() string { return "" }
func (f *accessLogFormatFlag) Type() string   { return "FILE" }
func (f *accessLogFormatFlag) Set(path string) error {
	data, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	var format translator.AccessLogFormat
	if err := yaml.UnmarshalStrict(data, &format); err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	if format.HTTP == nil && format.TCP == nil && format.UDP == nil {
		return fmt.Errorf("%s: no fields for http, tcp or udp", path)
	}
	if err := (translator.Options{AccessLogFormat: format}).Validate(); err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	*f = accessLogFormatFlag(format)
	return nil
}

// lbTargetFlag validates --lb-target as it is parsed.
type lbTargetFlag translator.LBTarget

func (f *lbTargetFlag) String() string { return string(*f) }
func (f *lbTargetFlag) Type() string   { return "pods|nodes" }
func (f *lbTargetFlag) Set(v string) error {
	o := translator.Options{LBTarget: translator.LBTarget(v)}
	if err := o.Validate(); err != nil {
		return err
	}
	*f = lbTargetFlag(v)
	return nil
}
