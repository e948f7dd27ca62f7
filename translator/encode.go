package translator

import (
	"bytes"
	"encoding/json"
	"fmt"

	routev3 "github.com/envoyproxy/go-control-plane/envoy/config/route/v3"
	tlsv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/transport_sockets/tls/v3"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"

	"github.com/fairwayhq/fairway/envoy"
)

// Resources is the JSON shape of a Result's Envoy resources: each element
// the protojson form of the v3 message, with "@type" on Any fields and
// Envoy's own snake_case field names, each array sorted by name. `fairway
// translate`, the golden tests and the debug endpoint all print this shape.
type Resources struct {
	Listeners []json.RawMessage `json:"listeners"`
	Routes    []json.RawMessage `json:"routes"`
	Clusters  []json.RawMessage `json:"clusters"`
	Endpoints []json.RawMessage `json:"endpoints"`
	Secrets   []json.RawMessage `json:"secrets"`
}

var jsonOptions = protojson.MarshalOptions{UseProtoNames: true}

// Resources encodes the Result's resources. Private keys and basic-auth
// users are replaced with a marker unless showSecrets is set.
func (r *Result) Resources(showSecrets bool) (*Resources, error) {
	out := &Resources{}
	var err error
	if out.Listeners, err = encodeAll(r.Listeners); err != nil {
		return nil, err
	}
	routes := r.Routes
	if !showSecrets {
		routes = make([]*routev3.RouteConfiguration, len(r.Routes))
		for i, rc := range r.Routes {
			routes[i] = envoy.RedactRouteConfig(rc)
		}
	}
	if out.Routes, err = encodeAll(routes); err != nil {
		return nil, err
	}
	if out.Clusters, err = encodeAll(r.Clusters); err != nil {
		return nil, err
	}
	if out.Endpoints, err = encodeAll(r.Endpoints); err != nil {
		return nil, err
	}
	secrets := r.Secrets
	if !showSecrets {
		secrets = make([]*tlsv3.Secret, len(r.Secrets))
		for i, s := range r.Secrets {
			secrets[i] = envoy.RedactSecret(s)
		}
	}
	if out.Secrets, err = encodeAll(secrets); err != nil {
		return nil, err
	}
	return out, nil
}

// encodeAll encodes each message as compact JSON. protojson varies its
// whitespace on purpose; compacting removes that, so equal messages give
// equal bytes.
func encodeAll[M proto.Message](msgs []M) ([]json.RawMessage, error) {
	out := make([]json.RawMessage, 0, len(msgs))
	for _, m := range msgs {
		b, err := jsonOptions.Marshal(m)
		if err != nil {
			return nil, fmt.Errorf("encode %T: %w", m, err)
		}
		var buf bytes.Buffer
		if err := json.Compact(&buf, b); err != nil {
			return nil, fmt.Errorf("compact %T: %w", m, err)
		}
		out = append(out, buf.Bytes())
	}
	return out, nil
}
