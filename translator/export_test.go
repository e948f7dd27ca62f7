package translator

import "testing"

// SetParallelMin sets the batch size from which work is split across
// cores, for tests; it returns the previous value.
func SetParallelMin(n int) int {
	prev := parallelMin
	parallelMin = n
	return prev
}

// CompareOutputs reports how two Outputs differ ("" when they do not).
func CompareOutputs(a, b Output) string { return compareOutputs(a, b) }

// CheckAll is the full reference check that Check's counting stands for.
func CheckAll(s *ResourceSet) error { return s.checkAll() }

// CheckHTTPSSplit holds the https chains' tables of in to the single https
// table's answers (or 421), returning how many requests it compared.
func CheckHTTPSSplit(t *testing.T, label string, in Input, opts Options) int {
	return checkSplit(t, label, in, opts)
}

// RedirectForms counts the hosts whose plain side is compact: those in
// the shared redirect virtual host, and those that keep only the ACME
// challenges and one redirect.
func RedirectForms(o Output) (shared, acme int) {
	for _, st := range o.engine.hosts {
		switch st.form {
		case plainFormRedirect:
			shared++
		case plainFormACME:
			acme++
		}
	}
	return shared, acme
}

// CheckSplitSameHost holds the https split's per-host tables to the single
// table's answers, for the workload test in package translator_test.
var CheckSplitSameHost = checkSplitSameHost
