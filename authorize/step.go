package authorize

import (
	"context"
	"fmt"
	"io"
	"net/http"
)

// A Step is the person's part of an authorization: it takes the person to
// the authorization URL and brings back the redirect. [Loopback] is the
// implementation for desktop and command-line clients.
type Step interface {
	// Start prepares to receive a redirect. preferred is the redirect URI
	// an earlier registration used, which the step reuses when it can so
	// the registration still fits; "" means none.
	Start(ctx context.Context, preferred string) (Session, error)
}

// A Session is one pending authorization.
type Session interface {
	// RedirectURI is the redirect_uri to register and to send.
	RedirectURI() string
	// Wait takes the person to authURL and waits for the redirect. It
	// passes the response to verify, shows the person the outcome, and
	// returns verify's result.
	Wait(ctx context.Context, authURL string, verify func(Response) (string, error)) (string, error)
	// Close releases the session's resources. It is safe to call twice.
	Close() error
}

// HeadlessOpener returns an Open function for [Loopback] that fetches the
// authorization URL with hc and follows its redirects, as a browser would
// when the authorization server approves without showing a page (the
// conformance harness's mock server, or the demo server in headless mode).
// It never runs a shell or a browser.
func HeadlessOpener(hc *http.Client) func(ctx context.Context, authURL string) error {
	if hc == nil {
		hc = http.DefaultClient
	}
	return func(ctx context.Context, authURL string) error {
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, authURL, nil)
		if err != nil {
			return err
		}
		resp, err := hc.Do(req)
		if err != nil {
			return fmt.Errorf("headless authorization: %w", err)
		}
		defer resp.Body.Close()
		_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 1<<20))
		return nil
	}
}
