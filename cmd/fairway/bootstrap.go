package main

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"github.com/spf13/cobra"
	"google.golang.org/protobuf/encoding/protojson"
	"sigs.k8s.io/yaml"

	"github.com/fairwayhq/fairway/envoy"
)

// DefaultMaxConnections is the bootstrap's global downstream connection cap.
const DefaultMaxConnections = 50000

func newBootstrapCommand() *cobra.Command {
	hostname, _ := os.Hostname()
	c := envoy.BootstrapConfig{NodeID: hostname}
	var (
		output, transport, outFile, copyBinary string
		tlsFiles                               envoy.BootstrapTLS
		grpcClient                             bool
	)
	cmd := &cobra.Command{
		Use:   "bootstrap --xds-address HOST:PORT",
		Short: "Print an Envoy bootstrap config that points a fleet member at fairway (or, with --grpc, a gRPC xDS bootstrap)",
		Args:  cobra.NoArgs,
	}
	f := cmd.Flags()
	f.StringVar(&c.XDSAddress, "xds-address", "127.0.0.1:18000", "fairway's xDS address, host:port (a hostname is resolved by DNS)")
	f.StringVar(&c.NodeID, "node-id", c.NodeID, "Envoy node id (default: this host's name)")
	f.StringVar(&c.NodeCluster, "node-cluster", "fairway", "Envoy node cluster; the snapshot key with serve --node-group-by=cluster")
	checkEdgeFlags := addEdgeFlags(f, &c)
	f.StringVar(&transport, "xds-transport", "delta", "xDS protocol: delta or sotw")
	f.StringVarP(&output, "output", "o", "yaml", "output format: yaml or json")
	f.StringVar(&outFile, "out-file", "", "write the config to this file instead of stdout (an init container needs no shell)")
	f.StringVar(&copyBinary, "copy-binary", "", "also copy this fairway binary here, for the Envoy container's preStop `fairway drain`")
	f.StringVar(&tlsFiles.CertFile, "xds-tls-cert", "", "client certificate file (on the Envoy) for mTLS to fairway")
	f.StringVar(&tlsFiles.KeyFile, "xds-tls-key", "", "client key file (on the Envoy) for mTLS to fairway")
	f.StringVar(&tlsFiles.CAFile, "xds-tls-ca", "", "CA file (on the Envoy) that signed fairway's certificate")
	f.BoolVar(&grpcClient, "grpc", false, "print the JSON bootstrap a proxyless gRPC client or server reads (GRPC_XDS_BOOTSTRAP) instead of Envoy's")
	f.StringVar(&tlsFiles.ServerName, "xds-tls-server-name", "", "name in fairway's certificate (default: the xds-address host)")
	cmd.RunE = func(cmd *cobra.Command, _ []string) error {
		if transport != "delta" && transport != "sotw" {
			return usageError(fmt.Errorf("--xds-transport %q: must be delta or sotw", transport))
		}
		if output != "yaml" && output != "json" {
			return usageError(fmt.Errorf("-o %q: must be yaml or json", output))
		}
		if c.NodeID == "" {
			return usageError(errors.New("--node-id is empty and the host name is unknown"))
		}
		if err := checkEdgeFlags(); err != nil {
			return usageError(err)
		}
		switch set := tlsFiles.CertFile != "" || tlsFiles.KeyFile != "" || tlsFiles.CAFile != ""; {
		case set && (tlsFiles.CertFile == "" || tlsFiles.KeyFile == "" || tlsFiles.CAFile == ""):
			return usageError(errors.New("mTLS needs all of --xds-tls-cert, --xds-tls-key and --xds-tls-ca"))
		case set && !grpcClient && outFile == "":
			return usageError(errors.New("mTLS writes the SDS files of the xDS certificate beside the bootstrap: give --out-file"))
		case set:
			c.TLS = &tlsFiles
		}
		c.Delta = transport == "delta"
		var out []byte
		var err error
		if grpcClient {
			if cmd.Flags().Changed("output") && output != "json" {
				return usageError(errors.New("--grpc prints JSON, the only format gRPC reads; drop -o or use -o json"))
			}
			if out, err = grpcBootstrapJSON(c); err != nil {
				return usageError(fmt.Errorf("--xds-address %q: %w", c.XDSAddress, err))
			}
		} else {
			if c.TLS != nil {
				if c.TLS.SDSDir, err = writeSDSFiles(outFile, c.TLS); err != nil {
					return fmt.Errorf("--out-file: %w", err)
				}
			}
			if out, err = envoyBootstrap(c, output); err != nil {
				return err
			}
		}
		if copyBinary != "" {
			if err := copySelf(copyBinary); err != nil {
				return fmt.Errorf("--copy-binary: %w", err)
			}
		}
		if outFile != "" {
			return writeFileAtomic(outFile, out, 0o644)
		}
		_, err = cmd.OutOrStdout().Write(out)
		return err
	}
	return cmd
}

// envoyBootstrap renders an Envoy bootstrap as YAML or JSON.
func envoyBootstrap(c envoy.BootstrapConfig, output string) ([]byte, error) {
	b, err := envoy.Bootstrap(c)
	if err != nil {
		return nil, usageError(err)
	}
	out, err := protojson.MarshalOptions{UseProtoNames: true, Multiline: true}.Marshal(b)
	if err != nil {
		return nil, err
	}
	if output == "yaml" {
		return yaml.JSONToYAML(out)
	}
	return append(out, '\n'), nil
}

// writeSDSFiles writes the SDS files of the xDS connection's certificate
// and CA into the directory of the bootstrap file, and returns that
// directory as an absolute path (the bootstrap names them by it).
func writeSDSFiles(outFile string, files *envoy.BootstrapTLS) (string, error) {
	dir, err := filepath.Abs(filepath.Dir(outFile))
	if err != nil {
		return "", err
	}
	for name, resp := range envoy.XDSClientSecrets(files) {
		data, err := protojson.MarshalOptions{UseProtoNames: true, Multiline: true}.Marshal(resp)
		if err != nil {
			return "", err
		}
		if err := writeFileAtomic(filepath.Join(dir, name), append(data, '\n'), 0o644); err != nil {
			return "", err
		}
	}
	return dir, nil
}

// writeFileAtomic writes through a temporary file and a rename, so that an
// Envoy never reads half a config.
func writeFileAtomic(path string, data []byte, mode os.FileMode) error {
	tmp, err := os.CreateTemp(filepath.Dir(path), ".bootstrap-*")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name())
	if _, err := tmp.Write(data); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Chmod(mode); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	return os.Rename(tmp.Name(), path)
}

// copySelf copies the running binary to path.
func copySelf(path string) error {
	self, err := os.Executable()
	if err != nil {
		return err
	}
	data, err := os.ReadFile(self)
	if err != nil {
		return err
	}
	return writeFileAtomic(path, data, 0o755)
}
