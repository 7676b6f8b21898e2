package oauthtest

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"sync"
)

// Page is a page the [Browser] landed on at the end of an authorization:
// normally the client's loopback redirect page.
type Page struct {
	URL    string
	Status int
	Body   string
}

// Browser stands in for a person's browser as the Open function of an
// authorize.Loopback: it records every URL it is asked to open, follows
// the authorization server's redirects, and visits the redirect to the
// client, recording the page the client shows. It never runs a shell.
type Browser struct {
	// Client sends the requests; nil means a new plain client. Redirects
	// are followed by hand.
	Client *http.Client

	mu     sync.Mutex
	opened []string
	pages  []Page
	busy   sync.WaitGroup
}

// Open implements authorize.Loopback's Open. It fails when the
// authorization server answers without redirecting, so that the client's
// wait ends at once.
//
// Like a real browser, it carries on when the client stops waiting: its
// requests ignore ctx's cancellation. Call [Browser.Wait] before reading
// [Browser.Pages].
func (b *Browser) Open(ctx context.Context, authURL string) error {
	b.mu.Lock()
	b.opened = append(b.opened, authURL)
	b.busy.Add(1)
	b.mu.Unlock()
	defer b.busy.Done()
	ctx = context.WithoutCancel(ctx)

	var hc http.Client
	if b.Client != nil {
		hc.Transport = b.Client.Transport
	}
	hc.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }

	start, err := url.Parse(authURL)
	if err != nil {
		return err
	}
	next := authURL
	for range 10 {
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, next, nil)
		if err != nil {
			return err
		}
		resp, err := hc.Do(req)
		if err != nil {
			return err
		}
		body, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
		resp.Body.Close()
		if req.URL.Host != start.Host {
			// The client's redirect page.
			b.mu.Lock()
			b.pages = append(b.pages, Page{URL: next, Status: resp.StatusCode, Body: string(body)})
			b.mu.Unlock()
			return nil
		}
		if resp.StatusCode < 300 || resp.StatusCode > 399 {
			return fmt.Errorf("oauthtest.Browser: %s answered %d without redirecting", req.URL.Redacted(), resp.StatusCode)
		}
		loc, err := req.URL.Parse(resp.Header.Get("Location"))
		if err != nil {
			return err
		}
		next = loc.String()
	}
	return fmt.Errorf("oauthtest.Browser: too many redirects from %s", authURL)
}

// Opened returns the URLs the browser was asked to open.
func (b *Browser) Opened() []string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return append([]string(nil), b.opened...)
}

// Wait waits until every Open has finished.
func (b *Browser) Wait() { b.busy.Wait() }

// Pages returns the client pages the browser landed on. Call
// [Browser.Wait] first: Open may still be reading a page when the client
// has its answer.
func (b *Browser) Pages() []Page {
	b.mu.Lock()
	defer b.mu.Unlock()
	return append([]Page(nil), b.pages...)
}
