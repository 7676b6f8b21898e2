package store

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
)

// CorruptError reports stored state that cannot be read. The store leaves
// it as it is, so that nothing it may still hold, such as a refresh token,
// is lost by an overwrite; Fix tells the user how to start over. Neither
// field holds any of the stored content.
type CorruptError struct {
	// Where names the file or keyring item.
	Where string
	// Reason says what is wrong with it.
	Reason string
	// Fix says what to do.
	Fix string
}

func (e *CorruptError) Error() string {
	return fmt.Sprintf("mcpauth store: %s is corrupt (%s) and was left untouched; %s", e.Where, e.Reason, e.Fix)
}

// FormatError reports state written in a format newer than this version
// of mcpauth reads. It is left untouched.
type FormatError struct {
	Where     string
	Version   int // the format found
	Supported int // the newest format this version reads
}

func (e *FormatError) Error() string {
	return fmt.Sprintf("mcpauth store: %s is in format version %d, newer than the %d this mcpauth reads; upgrade mcpauth",
		e.Where, e.Version, e.Supported)
}

// decodeReason describes why stored JSON did not decode without quoting
// any of it: the errors of encoding/json and time.Time may contain a piece
// of the input, which may be a token.
func decodeReason(err error) string {
	var syntax *json.SyntaxError
	var typ *json.UnmarshalTypeError
	switch {
	case errors.As(err, &syntax):
		return fmt.Sprintf("invalid JSON at byte %d", syntax.Offset)
	case errors.As(err, &typ):
		return fmt.Sprintf("field %q has the wrong type", typ.Field)
	case errors.Is(err, io.ErrUnexpectedEOF), errors.Is(err, io.EOF):
		return "truncated JSON"
	default:
		return "a field holds an invalid value"
	}
}
