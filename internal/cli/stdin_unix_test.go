//go:build unix

package cli

import (
	"io"
	"os"
	"syscall"
	"testing"
	"time"
)

func isNonblock(t *testing.T, fd int) bool {
	t.Helper()
	flags, _, errno := syscall.Syscall(syscall.SYS_FCNTL, uintptr(fd), syscall.F_GETFL, 0)
	if errno != 0 {
		t.Fatal(errno)
	}
	return flags&syscall.O_NONBLOCK != 0
}

// A blocking pipe is read through the poller, and done puts its mode
// back, even with a read waiting: the read ends, done does not hang.
func TestPollableInput(t *testing.T) {
	var p [2]int
	if err := syscall.Pipe(p[:]); err != nil {
		t.Fatal(err)
	}
	r, w := os.NewFile(uintptr(p[0]), "r"), os.NewFile(uintptr(p[1]), "w")
	defer r.Close()
	defer w.Close()
	if isNonblock(t, p[0]) {
		t.Fatal("syscall.Pipe gave a non-blocking pipe")
	}
	in, done := pollableInput(r)
	if in == io.Reader(r) {
		t.Fatal("a pipe was not made pollable")
	}
	if !isNonblock(t, p[0]) {
		t.Error("the pipe is not non-blocking while in use")
	}
	if _, err := w.WriteString("line\n"); err != nil {
		t.Fatal(err)
	}
	buf := make([]byte, 16)
	if n, err := in.Read(buf); err != nil || string(buf[:n]) != "line\n" {
		t.Fatalf("read %q, %v", buf[:n], err)
	}
	readErr := make(chan error, 1)
	go func() {
		_, err := in.Read(buf) // nothing comes: waits in the poller
		readErr <- err
	}()
	time.Sleep(20 * time.Millisecond)
	finished := make(chan struct{})
	go func() { done(); close(finished) }()
	select {
	case <-finished:
	case <-time.After(5 * time.Second):
		t.Fatal("done hung while a read was waiting")
	}
	if err := <-readErr; err == nil {
		t.Error("the waiting read did not end")
	}
	if isNonblock(t, p[0]) {
		t.Error("the pipe was left non-blocking")
	}

	// A terminal or a regular file is left alone.
	f, err := os.CreateTemp(t.TempDir(), "stdin")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if in, done := pollableInput(f); in != io.Reader(f) {
		t.Error("a regular file was wrapped")
	} else {
		done()
	}
}
