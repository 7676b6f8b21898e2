//go:build !unix

package cli

import "io"

// pollableInput returns in as it is: only Unix pipes are made pollable.
func pollableInput(in io.Reader) (io.Reader, func()) { return in, func() {} }
