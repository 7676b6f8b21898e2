//go:build !unix

package cli

import (
	"os/exec"
	"testing"
)

func maxRSS(b *testing.B, _ *exec.Cmd) int64 {
	b.Skip("peak RSS is measured on unix only")
	return 0
}
