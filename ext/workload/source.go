package workload

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
)

// maxJWTBytes bounds a workload JWT read from a file.
const maxJWTBytes = 64 << 10

// A Source returns the workload's current JWT. It is called for every
// token request, so a credential the platform rotates (a Kubernetes
// projected service account token, a SPIFFE JWT-SVID) is always read
// fresh.
type Source func(ctx context.Context) (string, error)

// File returns a Source that reads the JWT from the file at path, such as
// /var/run/secrets/tokens/mcp-token, on each call; surrounding white space
// is ignored. Errors name the path, never the contents.
func File(path string) Source {
	return func(context.Context) (string, error) {
		f, err := os.Open(path)
		if err != nil {
			return "", fmt.Errorf("reading the workload JWT: %w", err)
		}
		defer f.Close()
		b, err := io.ReadAll(io.LimitReader(f, maxJWTBytes+1))
		if err != nil {
			return "", fmt.Errorf("reading the workload JWT from %s: %w", path, err)
		}
		if len(b) > maxJWTBytes {
			return "", fmt.Errorf("the workload JWT file %s is larger than %d bytes", path, maxJWTBytes)
		}
		jwt := strings.TrimSpace(string(b))
		if jwt == "" {
			return "", fmt.Errorf("the workload JWT file %s is empty", path)
		}
		return jwt, nil
	}
}

// Static returns a Source that always returns jwt, for a credential the
// application obtained itself.
func Static(jwt string) Source {
	return func(context.Context) (string, error) {
		if jwt == "" {
			return "", errors.New("the workload JWT is empty")
		}
		return jwt, nil
	}
}
