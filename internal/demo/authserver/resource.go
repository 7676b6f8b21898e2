package authserver

import (
	"slices"

	"github.com/zitadel/oidc/v3/pkg/oidc"
)

// checkResource validates the RFC 8707 resource parameters of a request:
// at most one (this server binds a token to a single audience), and it must
// be one of the configured resources, compared byte for byte. It returns ""
// when none was sent.
func (s *storage) checkResource(values []string) (string, error) {
	switch len(values) {
	case 0:
		return "", nil
	case 1:
	default:
		return "", invalidTarget("only one resource parameter is supported")
	}
	s.mu.Lock()
	ok := slices.Contains(s.resources, values[0])
	s.mu.Unlock()
	if !ok {
		return "", invalidTarget("the resource is not served by this authorization server")
	}
	return values[0], nil
}

// invalidTarget is the RFC 8707 §2 error.
func invalidTarget(desc string) *oidc.Error {
	return oidc.ErrInvalidTarget().WithDescription("%s", desc)
}
