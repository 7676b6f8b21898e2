package authserver

import (
	"bytes"
	"net/http"
	"net/url"
	"strings"
)

// bufferedResponse holds a response produced by op so the server can adjust
// it before it is sent.
type bufferedResponse struct {
	header http.Header
	status int
	body   bytes.Buffer
}

func newBufferedResponse() *bufferedResponse {
	return &bufferedResponse{header: http.Header{}, status: http.StatusOK}
}

func (b *bufferedResponse) Header() http.Header         { return b.header }
func (b *bufferedResponse) Write(p []byte) (int, error) { return b.body.Write(p) }
func (b *bufferedResponse) WriteHeader(code int)        { b.status = code }

// location returns the redirect target, if the response is a redirect.
func (b *bufferedResponse) location() string {
	if b.status < 300 || b.status > 399 {
		return ""
	}
	return b.header.Get("Location")
}

// flushWithIss sends b to w, adding the RFC 9207 iss parameter when b is an
// authorization response redirect (success or error) to the client.
func (s *Server) flushWithIss(w http.ResponseWriter, b *bufferedResponse) {
	if loc := b.location(); loc != "" && !strings.HasPrefix(loc, s.issuer+"/") {
		b.header.Set("Location", withIss(loc, s.issuer))
		b.body.Reset() // http.Redirect's note names the old URL
	}
	for k, v := range b.header {
		w.Header()[k] = v
	}
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(b.status)
	_, _ = w.Write(b.body.Bytes())
}

// withIss adds iss to the query of an authorization response (RFC 9207 §2);
// only the query response mode is supported.
func withIss(loc, issuer string) string {
	u, err := url.Parse(loc)
	if err != nil {
		return loc
	}
	q := u.Query()
	if q.Get("code") == "" && q.Get("error") == "" {
		return loc
	}
	q.Set("iss", issuer)
	u.RawQuery = q.Encode()
	return u.String()
}
