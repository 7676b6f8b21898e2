// Package replay makes HTTP requests sendable more than once, as a
// transport that answers a 401, a 403 or a DPoP nonce challenge by sending
// the request again must.
package replay

import (
	"bytes"
	"io"
	"net/http"
)

// Request returns req with a GetBody, buffering a body that has none (and
// closing the original, as a RoundTripper must). A request without a
// body, or that has a GetBody already, is returned as it is.
func Request(req *http.Request) (*http.Request, error) {
	if req.Body == nil || req.Body == http.NoBody || req.GetBody != nil {
		return req, nil
	}
	buf, err := io.ReadAll(req.Body)
	req.Body.Close()
	if err != nil {
		return nil, err
	}
	r := req.Clone(req.Context())
	r.GetBody = func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(buf)), nil }
	r.Body, _ = r.GetBody()
	return r, nil
}
