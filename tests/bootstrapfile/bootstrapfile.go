// Package bootstrapfile reads what `fairway bootstrap` writes, as Envoy
// would: the bootstrap (YAML or JSON) validated with its protos' rules.
// Tests of the install, the compose demo and the Helm chart share it.
package bootstrapfile

import (
	"fmt"
	"os"

	bootstrapv3 "github.com/envoyproxy/go-control-plane/envoy/config/bootstrap/v3"
	"google.golang.org/protobuf/encoding/protojson"
	"sigs.k8s.io/yaml"

	// The bootstrap's typed configs (overload manager, resource monitors,
	// filters) decode only with their types registered, as fairway has them.
	_ "github.com/fairwayhq/fairway/envoy"
)

// Read decodes and validates the bootstrap at path.
func Read(path string) (*bootstrapv3.Bootstrap, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	js, err := yaml.YAMLToJSON(data)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	b := &bootstrapv3.Bootstrap{}
	if err := protojson.Unmarshal(js, b); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	if err := b.ValidateAll(); err != nil {
		return nil, fmt.Errorf("%s: the bootstrap does not validate: %w", path, err)
	}
	return b, nil
}
