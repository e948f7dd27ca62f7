// Package file reads Kubernetes objects from YAML or JSON files into a
// translator.Input: the source behind `fairway translate` and the no-cluster
// mode of `fairway serve`.
package file

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strings"

	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	networkingv1 "k8s.io/api/networking/v1"
	sigsjson "sigs.k8s.io/json"

	"sigs.k8s.io/yaml"

	"github.com/fairwayhq/fairway/translator"
)

// DefaultNamespace is given to namespaced objects that name none, as
// kubectl does.
const DefaultNamespace = "default"

// Note is something worth telling the user that does not stop the read: a
// skipped kind, an unknown field.
type Note struct {
	File     string
	Document int
	Message  string
}

func (n Note) String() string {
	return fmt.Sprintf("%s: document %d: %s", n.File, n.Document, n.Message)
}

// ParseError is input that cannot be read: it names the file and the
// 1-based document.
type ParseError struct {
	File     string
	Document int
	Err      error
}

func (e *ParseError) Error() string {
	return fmt.Sprintf("%s: document %d: %v", e.File, e.Document, e.Err)
}

func (e *ParseError) Unwrap() error { return e.Err }

// Decode reads every document of one file: multi-document YAML, or JSON, with
// kind List (and FooList) unwrapped. Kinds that fairway does not translate
// are skipped with a Note. name labels errors and notes.
func Decode(name string, data []byte) (translator.Input, []Note, error) {
	var in translator.Input
	var notes []Note
	for i, raw := range splitDocuments(data) {
		d := &document{file: name, number: i + 1, in: &in, notes: &notes}
		if err := d.decode(raw); err != nil {
			return in, notes, &ParseError{File: name, Document: d.number, Err: err}
		}
	}
	return in, notes, nil
}

// splitDocuments splits YAML at "---" lines. Documents are numbered as a
// reader counts them, empty ones included, so that "document 4" in a
// message is the fourth; only a blank or comment-only preamble before a
// leading "---" is not a document.
func splitDocuments(data []byte) [][]byte {
	var docs [][]byte
	start := 0
	for off := 0; off < len(data); {
		end := bytes.IndexByte(data[off:], '\n')
		if end < 0 {
			end = len(data)
		} else {
			end += off
		}
		line := bytes.TrimRight(data[off:end], "\r")
		if bytes.Equal(line, []byte("---")) || bytes.HasPrefix(line, []byte("--- ")) || bytes.HasPrefix(line, []byte("---\t")) {
			docs = append(docs, data[start:off])
			start = off + 3 // keep what follows "---" on the line
		}
		off = end + 1
	}
	docs = append(docs, data[min(start, len(data)):])
	if len(docs) > 1 && blank(docs[0]) {
		docs = docs[1:]
	}
	return docs
}

// blank reports whether a document holds only white space and comments.
func blank(doc []byte) bool {
	for line := range bytes.Lines(doc) {
		line = bytes.TrimSpace(line)
		if len(line) > 0 && line[0] != '#' {
			return false
		}
	}
	return true
}

// document decodes one YAML document into the Input.
type document struct {
	file   string
	number int
	in     *translator.Input
	notes  *[]Note
}

type typeMeta struct {
	APIVersion string          `json:"apiVersion"`
	Kind       string          `json:"kind"`
	Items      json.RawMessage `json:"items"`
	Metadata   struct {
		Name      string `json:"name"`
		Namespace string `json:"namespace"`
	} `json:"metadata"`
}

func (d *document) decode(raw []byte) error {
	j, err := yaml.YAMLToJSON(raw)
	if err != nil {
		return err
	}
	j = bytes.TrimSpace(j)
	if len(j) == 0 || bytes.Equal(j, []byte("null")) {
		return nil // an empty document, or only comments
	}
	return d.object(j, "")
}

// object decodes one object; item is "" or " item N" inside a List.
func (d *document) object(j []byte, item string) error {
	var tm typeMeta
	if err := sigsjson.UnmarshalCaseSensitivePreserveInts(j, &tm); err != nil {
		return fmt.Errorf("%snot a Kubernetes object: %v", prefix(item), err)
	}
	if tm.Kind == "" {
		return fmt.Errorf("%sobject has no kind", prefix(item))
	}
	if tm.Kind == "List" || (strings.HasSuffix(tm.Kind, "List") && len(tm.Items) > 0) {
		var items []json.RawMessage
		if err := json.Unmarshal(tm.Items, &items); err != nil && len(tm.Items) > 0 {
			return fmt.Errorf("%s.items: %v", tm.Kind, err)
		}
		for i, it := range items {
			if err := d.object(it, fmt.Sprintf("item %d", i+1)); err != nil {
				return err
			}
		}
		return nil
	}
	target := d.target(tm.APIVersion, tm.Kind)
	if target == nil {
		d.note("%sskipping %s %s: %s", prefix(item), gvk(tm), objectName(tm), skipReason(tm.APIVersion, tm.Kind))
		return nil
	}
	return d.strict(j, target, tm, item)
}

func prefix(item string) string {
	if item == "" {
		return ""
	}
	return item + ": "
}

func gvk(tm typeMeta) string {
	if tm.APIVersion == "" {
		return tm.Kind
	}
	return tm.APIVersion + " " + tm.Kind
}

func objectName(tm typeMeta) string {
	if tm.Metadata.Namespace != "" {
		return tm.Metadata.Namespace + "/" + tm.Metadata.Name
	}
	return tm.Metadata.Name
}

func (d *document) note(format string, args ...any) {
	*d.notes = append(*d.notes, Note{File: d.file, Document: d.number, Message: fmt.Sprintf(format, args...)})
}

// strict decodes into the typed object as the API server does: field names
// are case-sensitive. An unknown or duplicated field is a note, not an
// error: manifests written for a newer API still translate, but a typo
// ("pathtype") does not pass silently.
func (d *document) strict(j []byte, target *decodeTarget, tm typeMeta, item string) error {
	obj := target.new()
	strictErrs, err := sigsjson.UnmarshalStrict(j, obj)
	if err != nil {
		return fmt.Errorf("%s%s %s: %v", prefix(item), tm.Kind, objectName(tm), err)
	}
	for _, se := range strictErrs {
		d.note("%s%s %s: %v (ignored)", prefix(item), tm.Kind, objectName(tm), se)
	}
	target.add(obj)
	return nil
}

// decodeTarget creates and files one kind of object.
type decodeTarget struct {
	new func() any
	add func(any)
}

// target returns how to decode apiVersion/kind, or nil when fairway does not
// translate it. Namespaced objects get DefaultNamespace when they name none.
func (d *document) target(apiVersion, kind string) *decodeTarget {
	in := d.in
	switch apiVersion + " " + kind {
	case "v1 Service":
		return typed(func(o *corev1.Service) { defaultNS(&o.Namespace); in.Services = append(in.Services, o) })
	case "discovery.k8s.io/v1 EndpointSlice":
		return typed(func(o *discoveryv1.EndpointSlice) {
			defaultNS(&o.Namespace)
			in.EndpointSlices = append(in.EndpointSlices, o)
		})
	case "networking.k8s.io/v1 Ingress":
		return typed(func(o *networkingv1.Ingress) { defaultNS(&o.Namespace); in.Ingresses = append(in.Ingresses, o) })
	case "networking.k8s.io/v1 IngressClass":
		return typed(func(o *networkingv1.IngressClass) { in.IngressClasses = append(in.IngressClasses, o) })
	case "v1 Secret":
		return typed(func(o *corev1.Secret) {
			defaultNS(&o.Namespace)
			mergeStringData(o)
			in.Secrets = append(in.Secrets, o)
		})
	case "v1 Node":
		return typed(func(o *corev1.Node) { in.Nodes = append(in.Nodes, o) })
	case "v1 Namespace":
		return typed(func(o *corev1.Namespace) { in.Namespaces = append(in.Namespaces, o) })
	}
	return d.gatewayTarget(apiVersion, kind)
}

func typed[T any](add func(*T)) *decodeTarget {
	return &decodeTarget{new: func() any { return new(T) }, add: func(o any) { add(o.(*T)) }}
}

func defaultNS(ns *string) {
	if *ns == "" {
		*ns = DefaultNamespace
	}
}

// mergeStringData does what the API server does on write: stringData is
// write-only and lands in data, overriding it.
func mergeStringData(s *corev1.Secret) {
	if len(s.StringData) == 0 {
		return
	}
	if s.Data == nil {
		s.Data = map[string][]byte{}
	}
	for k, v := range s.StringData {
		s.Data[k] = []byte(v)
	}
	s.StringData = nil
}
