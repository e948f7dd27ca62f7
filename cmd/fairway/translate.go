package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"

	"github.com/spf13/cobra"
	"sigs.k8s.io/yaml"

	"github.com/fairwayhq/fairway/source/file"
	"github.com/fairwayhq/fairway/translator"
)

func newTranslateCommand() *cobra.Command {
	var (
		paths       []string
		output      string
		showSecrets bool
		proxyless   bool
	)
	cmd := &cobra.Command{
		Use:   "translate -f FILE|DIR [-o yaml|json]",
		Short: "Print the Envoy resources that serve would publish for Kubernetes YAML",
		Long: `translate reads Kubernetes objects (multi-document YAML, JSON, kind List;
directories recursively) and prints the Envoy listeners, route configurations,
clusters, endpoints and secrets that fairway serve would publish for them.

Problems go to stderr, one per line. The exit code is 2 when the input cannot
be read or parsed, and 0 otherwise, Problems or not.`,
		Args: cobra.NoArgs,
	}
	opts := addTranslatorFlags(cmd.Flags())
	cmd.Flags().StringArrayVarP(&paths, "filename", "f", nil, "file or directory of Kubernetes YAML/JSON (repeatable)")
	cmd.Flags().StringVarP(&output, "output", "o", "yaml", "output format: yaml or json")
	cmd.Flags().BoolVar(&showSecrets, "show-secrets", false, "print private keys and basic-auth users instead of redacting them")
	cmd.Flags().BoolVar(&proxyless, "proxyless", false,
		"also print, under proxyless, what proxyless gRPC clients get: every Service's and Ingress host's, as if a client had asked for each (serve builds them when one does)")
	cmd.RunE = func(cmd *cobra.Command, _ []string) error {
		if len(paths) == 0 {
			return usageError(errors.New("translate needs -f FILE|DIR"))
		}
		if output != "yaml" && output != "json" {
			return usageError(fmt.Errorf("-o %q: must be yaml or json", output))
		}
		if err := opts.Validate(); err != nil {
			return usageError(err)
		}
		in, notes, err := file.Load(paths...)
		for _, n := range notes {
			fmt.Fprintf(cmd.ErrOrStderr(), "note: %s\n", n)
		}
		if err != nil {
			return usageError(err)
		}
		opts.Proxyless = proxyless
		res := translator.Translate(in, *opts)
		for _, p := range res.Problems {
			fmt.Fprintf(cmd.ErrOrStderr(), "problem: %s\n", p)
		}
		return writeResources(cmd.OutOrStdout(), &res, output, showSecrets, proxyless)
	}
	return cmd
}

// writeResources prints the resources in the translate JSON shape; with
// proxyless, the proxyless ones follow under one more key, proxyless, so
// that the fleet's part reads as it does without.
func writeResources(w io.Writer, res *translator.Result, output string, showSecrets, proxyless bool) error {
	resources, err := res.Resources(showSecrets)
	if err != nil {
		return err
	}
	doc := translateDoc{Resources: resources}
	if proxyless {
		p := translator.Result{Listeners: res.Proxyless.Listeners, Clusters: res.Proxyless.Clusters, Endpoints: res.Proxyless.Endpoints}
		if doc.Proxyless, err = p.Resources(false); err != nil {
			return err
		}
	}
	if output == "yaml" {
		return writeYAML(w, doc)
	}
	out, err := json.MarshalIndent(doc, "", "  ")
	if err != nil {
		return err
	}
	_, err = w.Write(append(out, '\n'))
	return err
}

// translateDoc is what translate prints.
type translateDoc struct {
	*translator.Resources
	Proxyless *translator.Resources `json:"proxyless,omitempty"`
}

// writeYAML prints the sections in the JSON order (listeners first, as
// Envoy reads them), which a single YAML encoding would sort away, then
// the proxyless ones, if any.
func writeYAML(w io.Writer, doc translateDoc) error {
	r := doc.Resources
	for _, section := range []struct {
		key   string
		items []json.RawMessage
	}{
		{"listeners", r.Listeners}, {"routes", r.Routes}, {"clusters", r.Clusters},
		{"endpoints", r.Endpoints}, {"secrets", r.Secrets},
	} {
		j, err := json.Marshal(map[string][]json.RawMessage{section.key: section.items})
		if err != nil {
			return err
		}
		y, err := yaml.JSONToYAML(j)
		if err != nil {
			return err
		}
		if _, err := w.Write(y); err != nil {
			return err
		}
	}
	if doc.Proxyless == nil {
		return nil
	}
	j, err := json.Marshal(map[string]*translator.Resources{"proxyless": doc.Proxyless})
	if err != nil {
		return err
	}
	y, err := yaml.JSONToYAML(j)
	if err != nil {
		return err
	}
	_, err = w.Write(y)
	return err
}
