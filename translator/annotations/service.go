package annotations

import (
	"errors"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/fairwayhq/fairway/translator/policy"
)

// ServiceEntry is one annotation of a LoadBalancer Service, read under
// FairwayPrefix only (ingress-nginx has no Service annotations).
type ServiceEntry struct {
	Key string
	// Parse sets the annotation's fields of s from its value, or says why
	// the value is malformed.
	Parse func(value string, s *policy.Service) error
}

// serviceEntries are the Service annotations. None guards access (the
// source ranges are a Service field and a service.beta.kubernetes.io/
// annotation, read by the translator), so a malformed value is ignored
// and its default applies.
var serviceEntries = []ServiceEntry{
	{Key: "proxy-protocol", Parse: func(v string, s *policy.Service) error {
		switch v {
		case "v1":
			s.ProxyProtocol = 1
		case "v2":
			s.ProxyProtocol = 2
		default:
			return errors.New(`want "v1" or "v2"`)
		}
		return nil
	}},
	{Key: "tcp-idle-timeout", Parse: func(v string, s *policy.Service) error {
		d, err := parseDuration(v, time.Second, 7*24*time.Hour)
		s.IdleTimeout = d
		return err
	}},
	{Key: "max-connections", Parse: func(v string, s *policy.Service) error {
		n, err := parseCount(v, 1<<31)
		s.MaxConnections = n
		return err
	}},
	{Key: "health-check", Parse: func(v string, s *policy.Service) error {
		if v != "tcp" {
			return errors.New(`want "tcp"`)
		}
		s.HealthCheck.TCP = true
		return nil
	}},
	{Key: "health-check-interval", Parse: func(v string, s *policy.Service) error {
		d, err := parseDuration(v, 100*time.Millisecond, 5*time.Minute)
		s.HealthCheck.Interval = d
		return err
	}},
	{Key: "health-check-timeout", Parse: func(v string, s *policy.Service) error {
		d, err := parseDuration(v, 100*time.Millisecond, time.Minute)
		s.HealthCheck.Timeout = d
		return err
	}},
	{Key: "health-check-healthy-threshold", Parse: func(v string, s *policy.Service) error {
		n, err := parseCount(v, 100)
		s.HealthCheck.Healthy = n
		return err
	}},
	{Key: "health-check-unhealthy-threshold", Parse: func(v string, s *policy.Service) error {
		n, err := parseCount(v, 100)
		s.HealthCheck.Unhealthy = n
		return err
	}},
	// The address pool reads this one (translator's allocation); it is
	// listed so that it is never reported as unsupported.
	{Key: "address-sharing-key", Parse: func(string, *policy.Service) error { return nil }},
}

var serviceTable = func() map[string]ServiceEntry {
	t := make(map[string]ServiceEntry, len(serviceEntries))
	for _, e := range serviceEntries {
		if _, dup := t[e.Key]; dup {
			panic("annotations: two Service entries for " + e.Key)
		}
		t[e.Key] = e
	}
	return t
}()

// ServiceKeys are the implemented Service keys, sorted, without a prefix.
func ServiceKeys() []string { return slices.Sorted(maps.Keys(serviceTable)) }

// ParseService reads a LoadBalancer Service's fairway.dev/ annotations.
// A malformed value is an Invalid finding and leaves its field at the
// default; an unknown fairway.dev/ key is Unsupported. Keys of other
// prefixes are other controllers' and are not looked at.
func ParseService(annotations map[string]string) (policy.Service, []Finding) {
	var s policy.Service
	var found []Finding
	var keys []string
	for full := range annotations {
		if k, ok := strings.CutPrefix(full, FairwayPrefix); ok {
			keys = append(keys, k)
		}
	}
	slices.Sort(keys)
	for _, key := range keys {
		full, value := FairwayPrefix+key, annotations[FairwayPrefix+key]
		e, ok := serviceTable[key]
		if !ok {
			found = append(found, Finding{Key: full, Kind: Unsupported, Message: "fairway does not implement this annotation on a Service; it is ignored"})
			continue
		}
		if err := e.Parse(value, &s); err != nil {
			found = append(found, Finding{Key: full, Kind: Invalid, Message: fmt.Sprintf("%q: %v; the default applies", value, err)})
		}
	}
	return s, append(found, healthSettingsAlone(annotations, &s)...)
}

// healthSettingsAlone reports the health check's settings given without
// the check itself: they tune nothing, and silence would suggest they do.
func healthSettingsAlone(annotations map[string]string, s *policy.Service) []Finding {
	if s.HealthCheck.TCP {
		return nil
	}
	var found []Finding
	for _, key := range []string{"health-check-healthy-threshold", "health-check-interval", "health-check-timeout", "health-check-unhealthy-threshold"} {
		if _, ok := annotations[FairwayPrefix+key]; ok {
			found = append(found, Finding{Key: FairwayPrefix + key, Kind: Invalid,
				Message: "applies only with " + FairwayPrefix + "health-check: tcp; it is ignored"})
		}
	}
	s.HealthCheck = policy.HealthCheck{}
	return found
}

// parseDuration reads a duration as Go writes it ("90s", "1m30s") or as
// whole seconds ("90"), between min and max.
func parseDuration(v string, min, max time.Duration) (time.Duration, error) {
	d, err := time.ParseDuration(v)
	if n, nerr := strconv.ParseUint(v, 10, 32); nerr == nil {
		d, err = time.Duration(n)*time.Second, nil
	}
	if err != nil {
		return 0, fmt.Errorf("want a duration such as 30s or 5m")
	}
	if d < min || d > max {
		return 0, fmt.Errorf("want between %v and %v", min, max)
	}
	return d, nil
}

// parseCount reads a whole number from 1 to max.
func parseCount(v string, max uint64) (uint32, error) {
	n, err := strconv.ParseUint(v, 10, 32)
	if err != nil || n < 1 || n > max {
		return 0, fmt.Errorf("want a whole number from 1 to %d", max)
	}
	return uint32(n), nil
}
