package translator

import "slices"

// secretReaders ties Secrets to the Ingresses whose parse read one of
// them (an auth-secret's users, a proxy-ssl-secret's CA), one Secret per
// Ingress and concern, so that a Secret's change parses just those
// Ingresses again: one whose Secret became unusable stops being served,
// one whose Secret was mended is served again.
type secretReaders struct {
	by map[nsName][]nsName // Secret -> Ingresses
	of map[nsName]nsName   // Ingress -> Secret
}

func newSecretReaders() secretReaders {
	return secretReaders{by: map[nsName][]nsName{}, of: map[nsName]nsName{}}
}

// set makes the Ingress ik a reader of the Secret k, or of none when
// reads is false.
func (s *secretReaders) set(ik, k nsName, reads bool) {
	if old, ok := s.of[ik]; ok {
		if reads && old == k {
			return
		}
		delete(s.of, ik)
		if rest := slices.DeleteFunc(s.by[old], func(x nsName) bool { return x == ik }); len(rest) == 0 {
			delete(s.by, old)
		} else {
			s.by[old] = rest
		}
	}
	if reads {
		s.of[ik] = k
		s.by[k] = append(s.by[k], ik)
	}
}

// read reports whether any Ingress reads the Secret k.
func (s *secretReaders) read(k nsName) bool { return len(s.by[k]) > 0 }

// reparse parses again the Ingresses that read the Secret k.
func (e *Engine) reparse(s *secretReaders, k nsName) {
	for _, ik := range slices.Clone(s.by[k]) {
		if st := e.ingresses[ik]; st != nil {
			e.ingressChanged(ik, st.obj, st.obj)
		}
	}
}
