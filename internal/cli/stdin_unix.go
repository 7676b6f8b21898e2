//go:build unix

package cli

import (
	"io"
	"os"
	"syscall"
)

// pollableInput returns a reader of in that waits in the runtime's network
// poller instead of a blocking read(2), when in is a pipe or a socket, as
// the stdin an MCP client gives the proxy is. A blocking read parks an OS
// thread per wait, and every message then pays for handing the thread's
// processor back and forth; a pollable descriptor does not. done undoes
// the change: the descriptor's blocking mode belongs to the open file,
// which the process that gave it shares, so it is put back as it was.
//
// Any other reader, a terminal or a file, is returned as it is.
func pollableInput(in io.Reader) (r io.Reader, done func()) {
	noop := func() {}
	f, ok := in.(*os.File)
	if !ok {
		return in, noop
	}
	fi, err := f.Stat()
	if err != nil || fi.Mode()&(os.ModeNamedPipe|os.ModeSocket) == 0 {
		return in, noop
	}
	// The descriptor, read without f.Fd(), which would make it blocking.
	rc, err := f.SyscallConn()
	if err != nil {
		return in, noop
	}
	orig := -1
	if rc.Control(func(fd uintptr) { orig = int(fd) }) != nil || orig < 0 {
		return in, noop
	}
	flags, _, errno := syscall.Syscall(syscall.SYS_FCNTL, uintptr(orig), syscall.F_GETFL, 0)
	if errno != 0 {
		return in, noop
	}
	wasNonblock := flags&syscall.O_NONBLOCK != 0
	// A duplicate, so that closing it leaves the original open; the
	// non-blocking flag belongs to the open file both share.
	fd, err := syscall.Dup(orig)
	if err != nil {
		return in, noop
	}
	syscall.CloseOnExec(fd)
	if err := syscall.SetNonblock(fd, true); err != nil {
		syscall.Close(fd)
		return in, noop
	}
	nf := os.NewFile(uintptr(fd), f.Name())
	return nf, func() {
		// Closing first wakes a read in progress; with the flag put
		// back first, a read could start blocking in the kernel and
		// hold up the close.
		nf.Close()
		_ = syscall.SetNonblock(orig, wasNonblock)
	}
}
