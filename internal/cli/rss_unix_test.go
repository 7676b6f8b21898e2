//go:build unix

package cli

import (
	"os/exec"
	"runtime"
	"syscall"
	"testing"
)

// maxRSS is the peak resident set of an exited process, in KiB.
func maxRSS(b *testing.B, cmd *exec.Cmd) int64 {
	if cmd.ProcessState == nil {
		b.Fatal("the process has not exited")
	}
	ru, ok := cmd.ProcessState.SysUsage().(*syscall.Rusage)
	if !ok {
		b.Skip("no rusage for this process")
	}
	if runtime.GOOS == "darwin" {
		return int64(ru.Maxrss) / 1024 // bytes there
	}
	return int64(ru.Maxrss)
}
