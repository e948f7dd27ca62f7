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
	cmd.Flags().BoolVar(&showSecrets, "show-secrets", false, "print private keys instead of redacting them")
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
		res := translator.Translate(in, *opts)
		for _, p := range res.Problems {
			fmt.Fprintf(cmd.ErrOrStderr(), "problem: %s\n", p)
		}
		return writeResources(cmd.OutOrStdout(), &res, output, showSecrets)
	}
	return cmd
}

// writeResources prints the resources in the translate JSON shape.
func writeResources(w io.Writer, res *translator.Result, output string, showSecrets bool) error {
	resources, err := res.Resources(showSecrets)
	if err != nil {
		return err
	}
	if output == "yaml" {
		return writeYAML(w, resources)
	}
	out, err := json.MarshalIndent(resources, "", "  ")
	if err != nil {
		return err
	}
	_, err = w.Write(append(out, '\n'))
	return err
}

// writeYAML prints the sections in the JSON order (listeners first, as
// Envoy reads them), which a single YAML encoding would sort away.
func writeYAML(w io.Writer, r *translator.Resources) error {
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
	return nil
}
