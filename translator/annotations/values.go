package annotations

import (
	"errors"
	"strconv"
)

// parseBool reads a flag as ingress-nginx does: Go's ParseBool (true,
// false, 1, 0, t, f, in any case), with no spaces around it.
func parseBool(v string) (bool, error) {
	b, err := strconv.ParseBool(v)
	if err != nil {
		return false, errors.New(`want "true" or "false"`)
	}
	return b, nil
}
