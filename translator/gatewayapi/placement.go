package gatewayapi

import (
	"slices"
	"strings"

	"k8s.io/apimachinery/pkg/types"
)

// A Resolver keeps the HTTPRules it placed, so that a listener's rules
// are mostly the same pointers from one resolve to the next: the back
// end compares them by pointer, and the precedence order of a listener's
// rules is the last one's with the gone rules taken out and the fresh
// ones merged in, rather than a sort of all of them.

// listenerKey names a listener across resolves: its Gateway and its
// place in spec.listeners.
type listenerKey struct {
	gateway types.NamespacedName
	index   int
}

func keyOf(l *listener) listenerKey {
	return listenerKey{nn(l.gw.obj.Namespace, l.gw.obj.Name), l.index}
}

// placedSet is a route's rules placed on one listener with hostnames,
// and the resolve that last used them.
type placedSet struct {
	on    listenerKey
	hosts string
	rules []*HTTPRule
	used  uint64
}

// placedRules are the HTTPRules of a route's lowered rules on one
// listener with hostnames hosts: the memo's when the route was placed
// there before, else new ones, made in one block. The rules' slices and
// policy are shared (the hostnames by the placement's rules, the backends
// with the lowered rule), and only read.
func (r *resolver) placedRules(l *lowered, obj Object, on *listener, hosts []string) []*HTTPRule {
	key, hk := keyOf(on), strings.Join(hosts, "\x00")
	if len(hosts) == 0 && hosts != nil {
		hk = "\x01" // no hostnames, which is not nil (any)
	}
	for i := range l.placed {
		if p := &l.placed[i]; p.on == key && p.hosts == hk {
			p.used = r.epoch()
			return p.rules
		}
	}
	out := make([]*HTTPRule, len(l.rules))
	block := make([]HTTPRule, len(l.rules))
	hosts = slices.Clone(hosts)
	for i, lr := range l.rules {
		block[i] = HTTPRule{
			Route: obj, Rule: lr.rule, Match: lr.match, Hostnames: hosts,
			Path: lr.path, Request: lr.request, Policy: lr.policy,
			Backends: lr.backends.valid, Invalid: lr.backends.invalid, GRPC: lr.grpc,
		}
		out[i] = &block[i]
	}
	if r.memo != nil {
		l.placed = append(l.placed, placedSet{on: key, hosts: hk, rules: out, used: r.epoch()})
		if _, ordered := r.memo.sorted[key]; ordered { // else the listener's rules are sorted anew
			if r.fresh == nil {
				r.fresh = map[*listener][]*HTTPRule{}
			}
			r.fresh[on] = append(r.fresh[on], out...)
		}
	}
	return out
}

func (r *resolver) epoch() uint64 {
	if r.memo == nil {
		return 0
	}
	return r.memo.epoch
}

// dropPlaced notes every rule a memo entry placed as gone.
func (r *resolver) dropPlaced(l *lowered) {
	for _, p := range l.placed {
		r.noteGone(p.rules)
	}
}

func (r *resolver) noteGone(rules []*HTTPRule) {
	if r.gone == nil {
		r.gone = map[*HTTPRule]bool{}
	}
	for _, rule := range rules {
		r.gone[rule] = true
	}
}

// sortRules puts a listener's rules in precedence order. ComparePrecedence
// orders the distinct rules of one listener totally (a route is placed on
// a listener once, and its rules and matches are numbered), so the
// last order with the gone rules cut out and the fresh ones spliced in
// is the order a sort gives. The last order's rules that are not gone
// were all placed on the listener again: when the counts do not add up,
// something else moved, and the rules are sorted anew.
func (r *resolver) sortRules(l *listener) []*HTTPRule {
	rules := l.model.HTTP
	if r.memo == nil {
		slices.SortStableFunc(rules, ComparePrecedence)
		return rules
	}
	key := keyOf(l)
	prev, ok := r.memo.sorted[key]
	var out []*HTTPRule
	if ok && len(rules) > 0 {
		out = splice(prev, r.gone, r.fresh[l], len(rules))
	}
	if len(out) != len(rules) {
		out = rules
		slices.SortStableFunc(out, ComparePrecedence)
	}
	if r.sorted == nil {
		r.sorted = map[listenerKey][]*HTTPRule{}
	}
	r.sorted[key] = out
	return out
}

// splice is sorted (in precedence order) without the gone rules and with
// fresh ones, found by binary search, so that a change of one route
// among 10k compares a few dozen rules rather than every one, and the
// unchanged runs are copied whole. size is the capacity to give it.
func splice(sorted []*HTTPRule, gone map[*HTTPRule]bool, fresh []*HTTPRule, size int) []*HTTPRule {
	var cut []int
	for rule := range gone { // the gone rules of every listener: only this one's are found here
		if i, found := slices.BinarySearchFunc(sorted, rule, ComparePrecedence); found && sorted[i] == rule {
			cut = append(cut, i)
		}
	}
	slices.Sort(cut)
	slices.SortFunc(fresh, ComparePrecedence)
	at := make([]int, len(fresh)) // each fresh rule goes before sorted[at[i]]
	for i, rule := range fresh {
		at[i], _ = slices.BinarySearchFunc(sorted, rule, ComparePrecedence)
	}
	out := make([]*HTTPRule, 0, size)
	for i, c, f := 0, 0, 0; ; {
		stop := len(sorted)
		if c < len(cut) {
			stop = min(stop, cut[c])
		}
		if f < len(at) {
			stop = min(stop, at[f])
		}
		out, i = append(out, sorted[i:stop]...), stop
		for ; f < len(at) && at[f] == i; f++ {
			out = append(out, fresh[f])
		}
		switch {
		case c < len(cut) && cut[c] == i:
			i, c = i+1, c+1
		case i == len(sorted):
			return out
		}
	}
}
