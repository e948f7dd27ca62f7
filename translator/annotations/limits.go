package annotations

import (
	"errors"
	"strconv"
	"strings"
	"time"

	"github.com/fairwayhq/fairway/translator/policy"
)

// limitsEntries: timeouts, body size and retries. Values follow
// ingress-nginx: timeouts are whole seconds, sizes are nginx sizes
// ("8k", "1m", "0" for no limit), tries count the first one.
var limitsEntries = []Entry{
	{Key: "proxy-read-timeout", Parse: func(v string, r *policy.Route) error {
		d, err := parseSeconds(v)
		r.Timeouts.Read = d
		return err
	}},
	{Key: "proxy-send-timeout", Parse: func(v string, r *policy.Route) error {
		d, err := parseSeconds(v)
		r.Timeouts.Send = d
		return err
	}},
	{Key: "proxy-body-size", Parse: func(v string, r *policy.Route) error {
		s, err := parseSize(v)
		if err != nil {
			return err
		}
		r.BodyLimit = &s
		return nil
	}},
	{Key: "proxy-next-upstream-tries", Parse: func(v string, r *policy.Route) error {
		n, err := strconv.ParseUint(strings.TrimSpace(v), 10, 32)
		if err != nil {
			return errors.New("want a number of tries (0 for as many as fairway allows)")
		}
		r.Retries = &policy.Retries{Attempts: uint32(n)}
		return nil
	}},
}

// maxTimeout keeps a timeout within what Envoy's Duration and any sane
// configuration hold: a day, well past a WebSocket's usual 3600 s.
const maxTimeout = 24 * time.Hour

// parseSeconds reads a timeout as ingress-nginx writes it: whole seconds.
// 0 is refused: nginx would time out at once, while Envoy would read it
// as "never", the opposite of what was written. On error it returns 0,
// fairway's default.
func parseSeconds(v string) (time.Duration, error) {
	n, err := strconv.ParseUint(strings.TrimSpace(v), 10, 32)
	if err != nil {
		return 0, errors.New("want whole seconds, such as 60")
	}
	d := time.Duration(n) * time.Second
	if n == 0 || d > maxTimeout {
		return 0, errors.New("want between 1 and 86400 seconds")
	}
	return d, nil
}

// sizeUnits are nginx's size suffixes, either case.
var sizeUnits = map[byte]policy.Size{'k': 1 << 10, 'm': 1 << 20, 'g': 1 << 30}

// maxSize is the largest size read: nginx's own limit is its off_t, far
// above any body a front door should take; 1 TiB keeps the product well
// inside an int64.
const maxSize policy.Size = 1 << 40

// parseSize reads an nginx size: a number of bytes, or of KiB, MiB or GiB
// with the suffix k, m or g.
func parseSize(v string) (policy.Size, error) {
	v = strings.TrimSpace(v)
	unit := policy.Size(1)
	if n := len(v); n > 0 {
		if u, ok := sizeUnits[v[n-1]|0x20]; ok {
			unit, v = u, v[:n-1]
		}
	}
	n, err := strconv.ParseUint(v, 10, 64)
	if err != nil {
		return 0, errors.New(`want a size such as "8k", "1m" or "0" for no limit`)
	}
	if policy.Size(n) > maxSize/unit {
		return 0, errors.New("want at most 1024g")
	}
	return policy.Size(n) * unit, nil
}
