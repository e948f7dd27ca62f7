package kube

import (
	"errors"
	"fmt"
	"net/http"

	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"
	gatewayclient "sigs.k8s.io/gateway-api/pkg/client/clientset/versioned"
)

// RESTConfig finds the cluster: the kubeconfig file when one is named,
// else the pod's service account when running in a cluster, else
// $KUBECONFIG or ~/.kube/config, as kubectl would.
func RESTConfig(kubeconfig string) (*rest.Config, error) {
	if kubeconfig != "" {
		cfg, err := clientcmd.BuildConfigFromFlags("", kubeconfig)
		if err != nil {
			return nil, fmt.Errorf("--kubeconfig %s: %w", kubeconfig, err)
		}
		return cfg, nil
	}
	cfg, err := rest.InClusterConfig()
	if err == nil {
		return cfg, nil
	}
	if !errors.Is(err, rest.ErrNotInCluster) {
		return nil, fmt.Errorf("in-cluster config: %w", err)
	}
	rules := clientcmd.NewDefaultClientConfigLoadingRules()
	cfg, err = clientcmd.NewNonInteractiveDeferredLoadingClientConfig(rules, &clientcmd.ConfigOverrides{}).ClientConfig()
	if err != nil {
		return nil, fmt.Errorf("no cluster to watch: not in a cluster, and no kubeconfig (%w); give --kubeconfig, or --manifests to serve files", err)
	}
	return cfg, nil
}

// NewClient is a clientset with a user agent that names fairway, and
// client-side rate limits sized for a controller that lists a large
// cluster at start and writes status in bursts. Every request is counted
// in metrics.
func NewClient(cfg *rest.Config, version string, metrics *Metrics) (kubernetes.Interface, error) {
	return kubernetes.NewForConfig(clientConfig(cfg, version, metrics))
}

// NewGatewayClient is the Gateway API's clientset, made as NewClient's.
func NewGatewayClient(cfg *rest.Config, version string, metrics *Metrics) (gatewayclient.Interface, error) {
	return gatewayclient.NewForConfig(clientConfig(cfg, version, metrics))
}

func clientConfig(cfg *rest.Config, version string, metrics *Metrics) *rest.Config {
	cfg = rest.CopyConfig(cfg)
	cfg.UserAgent = "fairway/" + version
	cfg.Wrap(func(rt http.RoundTripper) http.RoundTripper {
		return &countingTransport{next: rt, requests: metrics.Requests}
	})
	if cfg.QPS == 0 {
		cfg.QPS, cfg.Burst = 50, 100
	}
	return cfg
}
