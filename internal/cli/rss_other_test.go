//go:build !linux

package cli

import "testing"

func peakRSS(b *testing.B, _ int) int64 {
	b.Skip("peak RSS is measured on Linux only")
	return 0
}
