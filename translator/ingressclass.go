package translator

import (
	"slices"

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

// servedIngresses returns the Ingresses fairway serves, oldest first: those
// whose class is one of fairway's IngressClasses, and those with no class when
// one of fairway's classes is the default. Every other Ingress is someone
// else's, so it gets neither config nor a Problem.
func servedIngresses(in Input, controller string) []*networkingv1.Ingress {
	ours := map[string]bool{}
	isDefault := false
	for _, c := range in.IngressClasses {
		if c == nil || c.Spec.Controller != controller {
			continue
		}
		ours[c.Name] = true
		if c.Annotations[defaultClassAnnotation] == "true" {
			isDefault = true
		}
	}
	var served []*networkingv1.Ingress
	for _, ing := range in.Ingresses {
		if ing == nil {
			continue
		}
		class := ingressClassName(ing)
		if (class == "" && isDefault) || (class != "" && ours[class]) {
			served = append(served, ing)
		}
	}
	slices.SortFunc(served, func(a, b *networkingv1.Ingress) int { return compareAge(&a.ObjectMeta, &b.ObjectMeta) })
	return served
}

func ingressClassName(ing *networkingv1.Ingress) string {
	if ing.Spec.IngressClassName != nil && *ing.Spec.IngressClassName != "" {
		return *ing.Spec.IngressClassName
	}
	return ing.Annotations[legacyClassAnnotation]
}
