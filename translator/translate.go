package translator

// translation is the scope of one piece of work inside the engine: the
// Problems it finds and the clusters it uses are kept with what it built,
// so that rebuilding the piece replaces exactly those.
type translation struct {
	opts     Options
	idx      *index
	problems problems
	// clusters are the Service ports that the piece routes to, one entry
	// per use: pieces are small, and acquiring and releasing the same list
	// keeps the counts right without a set.
	clusters []clusterUse
	// referenced are the Services it names, existing or not, so that a
	// Service appearing later rebuilds it.
	referenced []nsName
}

// clusterUse is one use of a cluster.
type clusterUse struct {
	key  clusterKey
	name string
}

func (e *Engine) scope() *translation {
	return &translation{opts: e.opts, idx: e.idx}
}

// Translate computes the fleet's Envoy resources from in. It never fails:
// whatever is wrong with an object becomes a Problem on that object, and the
// rest of the config is built as if the object were not there. Options
// should pass Validate; zero fields take their defaults.
//
// It is a cold Engine: the same code that serves incremental updates.
func Translate(in Input, opts Options) Result {
	e := NewEngine(opts)
	e.Sync(in)
	return e.Output().Result()
}
