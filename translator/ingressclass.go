package translator

import (
	networkingv1 "k8s.io/api/networking/v1"
)

const (
	// defaultClassAnnotation marks the cluster's default IngressClass.
	defaultClassAnnotation = networkingv1.AnnotationIsDefaultIngressClass
	// legacyClassAnnotation is the pre-IngressClass way to pick a controller.
	// Many charts still set it, so it is honoured when spec.ingressClassName
	// is unset, and names an IngressClass just like the field does.
	legacyClassAnnotation = "kubernetes.io/ingress.class"
)

// classSelection is which IngressClasses are fairway's.
type classSelection struct {
	ours      map[string]bool
	isDefault bool // one of ours is the cluster default
}

func selectClasses(classes map[string]*networkingv1.IngressClass, controller string) classSelection {
	sel := classSelection{ours: map[string]bool{}}
	for _, c := range classes {
		if c == nil || c.Spec.Controller != controller {
			continue
		}
		sel.ours[c.Name] = true
		if c.Annotations[defaultClassAnnotation] == "true" {
			sel.isDefault = true
		}
	}
	return sel
}

// serves reports whether fairway serves ing: its class is one of fairway's,
// or it has no class and one of fairway's is the default. Every other
// Ingress is someone else's, so it gets neither config nor a Problem.
func (s classSelection) serves(ing *networkingv1.Ingress) bool {
	class := ingressClassName(ing)
	return (class == "" && s.isDefault) || (class != "" && s.ours[class])
}

func ingressClassName(ing *networkingv1.Ingress) string {
	if ing.Spec.IngressClassName != nil && *ing.Spec.IngressClassName != "" {
		return *ing.Spec.IngressClassName
	}
	return ing.Annotations[legacyClassAnnotation]
}
