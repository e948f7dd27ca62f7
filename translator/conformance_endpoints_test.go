package translator

import (
	"fmt"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"sigs.k8s.io/yaml"
)

// The suite's backends are Deployments behind Services; in a cluster the
// EndpointSlice controller lists their ready pods. The harness does the
// same for the weights that live in endpoints (a UDP split's localities):
// each Deployment's replicas become ready endpoints of every Service in
// its namespace whose selector picks its pods.

// conformanceDeployment reads a manifest document when it is a Deployment.
func conformanceDeployment(doc []byte) (*appsv1.Deployment, error) {
	var tm metav1.TypeMeta
	if err := yaml.Unmarshal(doc, &tm); err != nil || tm.Kind != "Deployment" {
		return nil, err
	}
	d := &appsv1.Deployment{}
	if err := yaml.Unmarshal(doc, d); err != nil {
		return nil, fmt.Errorf("Deployment: %w", err)
	}
	return d, nil
}

// deploymentSlices are the EndpointSlices the Services' selected
// Deployments give, with pod addresses 10.244.<deployment>.<replica>.
func deploymentSlices(deps []*appsv1.Deployment, services []*corev1.Service) []*discoveryv1.EndpointSlice {
	var out []*discoveryv1.EndpointSlice
	for _, svc := range services {
		if len(svc.Spec.Selector) == 0 {
			continue
		}
		for i, d := range deps {
			if d.Namespace != svc.Namespace || !labels.SelectorFromSet(svc.Spec.Selector).Matches(labels.Set(d.Spec.Template.Labels)) {
				continue
			}
			out = append(out, podSlice(svc, d, i))
		}
	}
	return out
}

func podSlice(svc *corev1.Service, d *appsv1.Deployment, i int) *discoveryv1.EndpointSlice {
	es := &discoveryv1.EndpointSlice{
		ObjectMeta:  metav1.ObjectMeta{Namespace: svc.Namespace, Name: svc.Name + "-" + d.Name, Labels: map[string]string{discoveryv1.LabelServiceName: svc.Name}},
		AddressType: discoveryv1.AddressTypeIPv4,
	}
	replicas := 1
	if d.Spec.Replicas != nil {
		replicas = int(*d.Spec.Replicas)
	}
	for r := range replicas {
		es.Endpoints = append(es.Endpoints, discoveryv1.Endpoint{Addresses: []string{fmt.Sprintf("10.244.%d.%d", i+1, r+1)}})
	}
	for _, sp := range svc.Spec.Ports {
		port, proto := targetPortOf(sp, d), protocolOf(&sp)
		es.Ports = append(es.Ports, discoveryv1.EndpointPort{Name: &sp.Name, Protocol: &proto, Port: &port})
	}
	return es
}

// targetPortOf resolves a Service port's targetPort against the pods'
// container ports, as the EndpointSlice controller does.
func targetPortOf(sp corev1.ServicePort, d *appsv1.Deployment) int32 {
	if sp.TargetPort.StrVal == "" {
		if n := sp.TargetPort.IntVal; n != 0 {
			return n
		}
		return sp.Port
	}
	for _, c := range d.Spec.Template.Spec.Containers {
		for _, cp := range c.Ports {
			if cp.Name == sp.TargetPort.StrVal {
				return cp.ContainerPort
			}
		}
	}
	return sp.Port
}
