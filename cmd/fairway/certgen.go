package main

import (
	"errors"
	"fmt"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/spf13/cobra"

	"github.com/fairwayhq/fairway/pki"
	"github.com/fairwayhq/fairway/source/kube"
)

const day = 24 * time.Hour

func newCertgenCommand() *cobra.Command {
	cfg := kube.CertConfig{}
	var kubeconfig, logLevel string
	var logJSON bool
	cmd := &cobra.Command{
		Use:   "certgen",
		Short: "Create or renew the CA and certificates that secure xDS, as Kubernetes Secrets",
		Long: `certgen keeps the Secrets of the xDS mTLS install current: the CA (` + kube.CASecret + `),
fairway's serving certificate (` + kube.ServerSecret + `), the fleet's client
certificate (` + kube.FleetSecret + `), and a client certificate (` + kube.ProxylessSecret + `)
in each --proxyless-namespace. Each holds tls.crt, tls.key and ca.crt.

It is idempotent: a certificate that is valid, names what it should and is
not within --renew-before of its end is left alone, and a run that finds
everything so writes nothing. A certificate that is not is re-issued from
the existing CA; a missing, broken or expiring CA is replaced, and then
every certificate is re-issued. Run it as a Job at install and on a
schedule (the install's CronJob runs it daily).`,
		Args: cobra.NoArgs,
	}
	f := cmd.Flags()
	f.StringVar(&kubeconfig, "kubeconfig", "", "kubeconfig of the cluster (default: in-cluster, then $KUBECONFIG or ~/.kube/config)")
	f.StringVar(&cfg.Namespace, "namespace", envOr("POD_NAMESPACE", "fairway-system"), "namespace of fairway, its CA and the fleet")
	f.StringVar(&cfg.TrustDomain, "trust-domain", pki.DefaultTrustDomain, "SPIFFE trust domain of the identities in the certificates")
	f.StringVar(&cfg.ServiceName, "service-name", "fairway", "name of fairway's Service, for the DNS names of its certificate")
	f.StringArrayVar(&cfg.ProxylessNamespaces, "proxyless-namespace", nil, "a namespace whose proxyless gRPC applications get a client certificate (repeatable)")
	f.DurationVar(&cfg.CertValidity, "cert-validity", 365*day, "lifetime of a leaf certificate")
	f.DurationVar(&cfg.CAValidity, "ca-validity", 3650*day, "lifetime of a new CA")
	f.DurationVar(&cfg.RenewBefore, "renew-before", 30*day, "re-issue a certificate (or replace the CA) this long before it ends")
	f.StringVar(&logLevel, "log-level", "info", "trace, debug, info, warn or error")
	f.BoolVar(&logJSON, "log-json", false, "log JSON lines instead of text")
	cmd.RunE = func(cmd *cobra.Command, _ []string) error {
		if err := checkCertConfig(cfg); err != nil {
			return usageError(err)
		}
		log, err := newLogger(logLevel, logJSON, cmd.ErrOrStderr())
		if err != nil {
			return usageError(err)
		}
		restCfg, err := kube.RESTConfig(kubeconfig)
		if err != nil {
			return usageError(err)
		}
		reg := prometheus.NewRegistry()
		client, err := kube.NewClient(restCfg, version, kube.NewMetrics(reg))
		if err != nil {
			return err
		}
		ctx, stop := signal.NotifyContext(cmd.Context(), os.Interrupt, syscall.SIGTERM)
		defer stop()
		g := &kube.Certgen{Client: client, Config: cfg, Now: time.Now, Log: log.Named("certgen")}
		changes, err := g.Run(ctx)
		log.Info("certgen done", "changed", len(changes), "write_requests", writeRequests(reg))
		for _, c := range changes {
			fmt.Fprintf(cmd.OutOrStdout(), "%s/%s: %s\n", c.Namespace, c.Name, c.Reason)
		}
		return err
	}
	return cmd
}

func checkCertConfig(c kube.CertConfig) error {
	if err := pki.CheckTrustDomain(c.TrustDomain); err != nil {
		return fmt.Errorf("--trust-domain: %w", err)
	}
	switch {
	case c.Namespace == "" || c.ServiceName == "":
		return errors.New("--namespace and --service-name must not be empty")
	case c.CertValidity <= c.RenewBefore:
		return fmt.Errorf("--cert-validity %v must be longer than --renew-before %v, or every run re-issues", c.CertValidity, c.RenewBefore)
	case c.CAValidity <= c.CertValidity:
		return fmt.Errorf("--ca-validity %v must be longer than --cert-validity %v", c.CAValidity, c.CertValidity)
	case c.RenewBefore <= 0:
		return errors.New("--renew-before must be positive")
	}
	return nil
}

// writeRequests counts the requests that changed, or tried to change, the
// cluster: the proof that a run with nothing to do writes nothing.
func writeRequests(reg *prometheus.Registry) int {
	families, _ := reg.Gather()
	n := 0.0
	for _, f := range families {
		if f.GetName() != "fairway_kube_requests_total" {
			continue
		}
		for _, m := range f.GetMetric() {
			for _, l := range m.GetLabel() {
				if l.GetName() == "verb" && l.GetValue() != "get" && l.GetValue() != "list" && l.GetValue() != "watch" {
					n += m.GetCounter().GetValue()
				}
			}
		}
	}
	return int(n)
}
