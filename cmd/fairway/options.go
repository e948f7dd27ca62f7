package main

import (
	"github.com/spf13/pflag"

	"github.com/fairwayhq/fairway/translator"
)

// addTranslatorFlags binds the translator's options to flags, with the
// translator's defaults. translate and serve share them, so a translation
// previews exactly what serve would publish.
func addTranslatorFlags(fs *pflag.FlagSet) *translator.Options {
	o := translator.Options{}.WithDefaults()
	fs.StringVar(&o.IngressController, "ingress-controller", o.IngressController,
		"spec.controller of the IngressClasses whose Ingresses fairway serves")
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
	return &o
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
