package cli

import (
	"bytes"
	"fmt"
	"io"
	"os"
	"strings"
	"sync"
)

// IOStreams are the streams a command reads and writes, injected so that
// every command runs the same way in a terminal and in a test.
//
// Out carries a command's result only (the token of `mcpauth token`, the
// protocol of `mcpauth proxy`, the report of `mcpauth inspect`); ErrOut
// carries everything meant for the person: progress, notices, errors.
type IOStreams struct {
	In     io.ReadCloser
	Out    io.Writer
	ErrOut io.Writer

	// Getenv reads the environment; nil means os.Getenv.
	Getenv func(string) string

	inTTY, outTTY, errTTY bool
	colorForced           *bool

	errMu sync.Mutex
}

// System returns the process's streams, with terminal detection.
func System() *IOStreams {
	return &IOStreams{
		In: os.Stdin, Out: os.Stdout, ErrOut: os.Stderr,
		inTTY: isTerminal(os.Stdin), outTTY: isTerminal(os.Stdout), errTTY: isTerminal(os.Stderr),
	}
}

// Test returns streams over buffers, none of them a terminal. in is what
// the command reads.
func Test(in string) (ios *IOStreams, out, errOut *SyncBuffer) {
	out, errOut = &SyncBuffer{}, &SyncBuffer{}
	return &IOStreams{In: io.NopCloser(strings.NewReader(in)), Out: out, ErrOut: errOut}, out, errOut
}

// SetTerminal marks the streams as terminals or not, for tests.
func (s *IOStreams) SetTerminal(in, out, err bool) { s.inTTY, s.outTTY, s.errTTY = in, out, err }

// SetColor forces colour on or off, whatever the terminal.
func (s *IOStreams) SetColor(on bool) { s.colorForced = &on }

// IsStdinTTY, IsStdoutTTY and IsStderrTTY report whether the stream is a
// terminal.
func (s *IOStreams) IsStdinTTY() bool  { return s.inTTY }
func (s *IOStreams) IsStdoutTTY() bool { return s.outTTY }
func (s *IOStreams) IsStderrTTY() bool { return s.errTTY }

func (s *IOStreams) getenv(k string) string {
	if s.Getenv != nil {
		return s.Getenv(k)
	}
	return os.Getenv(k)
}

// ColorEnabled reports whether Out gets ANSI colours: only on a terminal,
// and never with NO_COLOR set or TERM=dumb (https://no-color.org).
func (s *IOStreams) ColorEnabled() bool {
	if s.colorForced != nil {
		return *s.colorForced
	}
	if s.getenv("NO_COLOR") != "" || s.getenv("TERM") == "dumb" {
		return false
	}
	return s.outTTY
}

// Colors returns a palette for Out: ANSI sequences when colour is
// enabled, plain text otherwise.
func (s *IOStreams) Colors() Palette { return Palette{on: s.ColorEnabled()} }

// errColors returns a palette for ErrOut.
func (s *IOStreams) errColors() Palette {
	if s.colorForced != nil {
		return Palette{on: *s.colorForced}
	}
	return Palette{on: s.errTTY && s.getenv("NO_COLOR") == "" && s.getenv("TERM") != "dumb"}
}

// Errf writes a line for the person to ErrOut. Lines from concurrent
// goroutines (the proxy's) are never interleaved.
func (s *IOStreams) Errf(format string, args ...any) {
	s.errMu.Lock()
	defer s.errMu.Unlock()
	msg := fmt.Sprintf(format, args...)
	if !strings.HasSuffix(msg, "\n") {
		msg += "\n"
	}
	_, _ = io.WriteString(s.ErrOut, msg)
}

// Palette colours text for a terminal.
type Palette struct{ on bool }

func (p Palette) wrap(code, s string) string {
	if !p.on {
		return s
	}
	return "\x1b[" + code + "m" + s + "\x1b[0m"
}

// Bold, Green, Yellow, Red, Cyan and Gray colour s when colour is on.
func (p Palette) Bold(s string) string   { return p.wrap("1", s) }
func (p Palette) Green(s string) string  { return p.wrap("32", s) }
func (p Palette) Yellow(s string) string { return p.wrap("33", s) }
func (p Palette) Red(s string) string    { return p.wrap("31", s) }
func (p Palette) Cyan(s string) string   { return p.wrap("36", s) }
func (p Palette) Gray(s string) string   { return p.wrap("90", s) }

// isTerminal reports whether f is a character device other than the null
// device: a terminal, in practice, without a terminal library.
func isTerminal(f *os.File) bool {
	fi, err := f.Stat()
	if err != nil || fi.Mode()&os.ModeCharDevice == 0 {
		return false
	}
	if null, err := os.Stat(os.DevNull); err == nil && os.SameFile(fi, null) {
		return false
	}
	return true
}

// SyncBuffer is a bytes.Buffer safe for concurrent use, for tests that read
// a command's output while it runs.
type SyncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *SyncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

// String returns what was written so far.
func (b *SyncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// Reset discards what was written.
func (b *SyncBuffer) Reset() {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.buf.Reset()
}
