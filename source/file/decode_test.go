package file

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestDecodeMultiDocumentAndList(t *testing.T) {
	data := `
# leading comment
apiVersion: v1
kind: Service
metadata: {name: a}
spec: {ports: [{port: 80}]}
---
---
# an empty document above, comments only here
---
apiVersion: v1
kind: List
items:
- apiVersion: networking.k8s.io/v1
  kind: Ingress
  metadata: {name: i, namespace: web}
- apiVersion: v1
  kind: ConfigMap
  metadata: {name: cm}
---
apiVersion: v1
kind: ServiceList
items:
- apiVersion: v1
  kind: Service
  metadata: {name: b, namespace: other}
`
	in, notes, err := Decode("x.yaml", []byte(data))
	if err != nil {
		t.Fatal(err)
	}
	if len(in.Services) != 2 || in.Services[0].Name != "a" || in.Services[1].Name != "b" {
		t.Fatalf("services = %+v", in.Services)
	}
	if in.Services[0].Namespace != DefaultNamespace || in.Services[1].Namespace != "other" {
		t.Errorf("namespaces = %q, %q; want default, other", in.Services[0].Namespace, in.Services[1].Namespace)
	}
	if len(in.Ingresses) != 1 || in.Ingresses[0].Namespace != "web" {
		t.Errorf("ingresses = %+v", in.Ingresses)
	}
	if len(notes) != 1 || !strings.Contains(notes[0].String(), "x.yaml: document 4: item 2: skipping v1 ConfigMap cm") {
		t.Errorf("notes = %v, want one note skipping the ConfigMap in document 4", notes)
	}
}

func TestDecodeJSON(t *testing.T) {
	in, _, err := Decode("x.json", []byte(`{"apiVersion":"v1","kind":"Node","metadata":{"name":"n1"}}`))
	if err != nil || len(in.Nodes) != 1 || in.Nodes[0].Name != "n1" || in.Nodes[0].Namespace != "" {
		t.Fatalf("in = %+v, err = %v", in, err)
	}
}

func TestDecodeErrorsNameTheDocument(t *testing.T) {
	cases := map[string]string{
		"yaml syntax":   "apiVersion: v1\nkind: Service\nmetadata: {name: a}\n---\napiVersion: v1\nkind: Service\nmetadata: {name: [b\n",
		"no kind":       "apiVersion: v1\nkind: Service\nmetadata: {name: a}\n---\nmetadata: {name: b}\n",
		"not an object": "apiVersion: v1\nkind: Service\nmetadata: {name: a}\n---\n- just\n- a list\n",
		"wrong type":    "apiVersion: v1\nkind: Service\nmetadata: {name: a}\n---\napiVersion: v1\nkind: Service\nmetadata: {name: b}\nspec: {ports: [{port: eighty}]}\n",
	}
	for name, data := range cases {
		_, _, err := Decode("bad.yaml", []byte(data))
		var pe *ParseError
		if !errors.As(err, &pe) {
			t.Errorf("%s: err = %v, want a ParseError", name, err)
			continue
		}
		if pe.File != "bad.yaml" || pe.Document != 2 || !strings.HasPrefix(err.Error(), "bad.yaml: document 2: ") {
			t.Errorf("%s: err = %q, want it to name bad.yaml document 2", name, err)
		}
	}
}

func TestDecodeUnknownFieldIsANote(t *testing.T) {
	data := "apiVersion: networking.k8s.io/v1\nkind: Ingress\nmetadata: {name: i}\nspec:\n  rules:\n  - http:\n      paths:\n      - path: /\n        pathtype: Prefix\n"
	in, notes, err := Decode("i.yaml", []byte(data))
	if err != nil || len(in.Ingresses) != 1 {
		t.Fatalf("in = %+v, err = %v", in, err)
	}
	if len(notes) != 1 || !strings.Contains(notes[0].Message, `unknown field "spec.rules[0].http.paths[0].pathtype"`) {
		t.Errorf("notes = %v, want a note about the unknown field pathtype", notes)
	}
}

func TestDecodeSecretStringData(t *testing.T) {
	data := "apiVersion: v1\nkind: Secret\nmetadata: {name: s}\ntype: kubernetes.io/tls\ndata: {tls.crt: Y2VydA==, tls.key: b2xk}\nstringData: {tls.key: new}\n"
	in, _, err := Decode("s.yaml", []byte(data))
	if err != nil {
		t.Fatal(err)
	}
	s := in.Secrets[0]
	if string(s.Data["tls.crt"]) != "cert" || string(s.Data["tls.key"]) != "new" || s.StringData != nil {
		t.Errorf("secret data = %q, stringData = %v; want stringData merged over data", s.Data, s.StringData)
	}
}

func TestLoadDirectory(t *testing.T) {
	dir := t.TempDir()
	write := func(name, content string) {
		p := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	svc := func(name, port string) string {
		return "apiVersion: v1\nkind: Service\nmetadata: {name: " + name + "}\nspec: {ports: [{port: " + port + "}]}\n"
	}
	write("a.yaml", svc("a", "1"))
	write("sub/deeper/b.yml", svc("b", "2"))
	write("c.json", `{"apiVersion":"v1","kind":"Service","metadata":{"name":"c"}}`)
	write("z.yaml", svc("a", "9"))
	write("notes.txt", "not: read")
	write(".hidden.yaml", svc("hidden", "3"))
	write(".git/config.yaml", svc("git", "4"))

	in, notes, err := Load(dir)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, s := range in.Services {
		names = append(names, s.Name)
	}
	if got := strings.Join(names, ","); got != "a,c,b" {
		t.Errorf("services = %s, want a,c,b (lexical file order, sub/ after c.json)", got)
	}
	if in.Services[0].Spec.Ports[0].Port != 9 {
		t.Errorf("service a has port %d, want 9 from the later definition", in.Services[0].Spec.Ports[0].Port)
	}
	if len(notes) != 1 || !strings.Contains(notes[0].Message, "Service default/a is defined more than once") {
		t.Errorf("notes = %v", notes)
	}

	if _, _, err := Load(filepath.Join(dir, "missing")); err == nil {
		t.Error("Load of a missing path succeeded")
	}
	one, _, err := Load(filepath.Join(dir, "notes.txt"))
	if err == nil || len(one.Services) != 0 {
		t.Errorf("a file named directly is read whatever its extension: err = %v", err)
	}
}

func TestSplitDocumentsNumbering(t *testing.T) {
	cases := map[string]int{
		"a: 1\n":                         1,
		"---\na: 1\n":                    1, // a leading separator starts document 1
		"# c\n---\na: 1\n---\nb: 2\n":    2,
		"a: 1\n---\n---\nb: 2\n":         3, // the empty document in between counts
		"a: 1\n--- \nb: 2\r\n---\r\nc\n": 3,
		"a: '---'\nb: |\n  ---x\n":       1,
	}
	for in, want := range cases {
		if got := len(splitDocuments([]byte(in))); got != want {
			t.Errorf("splitDocuments(%q) gives %d documents, want %d", in, got, want)
		}
	}
}
