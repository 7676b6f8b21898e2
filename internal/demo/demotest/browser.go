package demotest

import (
	"context"
	"fmt"
	"html"
	"io"
	"net/http"
	"net/url"
	"regexp"
	"strings"
)

// Browser follows an authorization URL as a person's browser would: it
// follows redirects within the authorization server, answers the consent
// page with Action, and stops at the first redirect that leaves the server
// (the authorization response to the client), which it returns unvisited.
type Browser struct {
	// Action is the consent button to press: "approve" (default) or "deny".
	Action string
	// Client defaults to a plain client; redirects are never followed
	// automatically.
	Client *http.Client
	// Pages records the HTML of each consent page seen.
	Pages []string
}

var hiddenInput = regexp.MustCompile(`<input type="hidden" name="(\w+)" value="([^"]*)">`)

// Authorize returns the redirect to the client's redirect_uri.
func (b *Browser) Authorize(ctx context.Context, authURL string) (*url.URL, error) {
	client := http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	if b.Client != nil {
		client.Transport = b.Client.Transport
	}
	start, err := url.Parse(authURL)
	if err != nil {
		return nil, err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, authURL, nil)
	if err != nil {
		return nil, err
	}
	for range 10 {
		resp, err := client.Do(req)
		if err != nil {
			return nil, err
		}
		body, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
		resp.Body.Close()
		switch {
		case resp.StatusCode >= 300 && resp.StatusCode < 400:
			loc, err := req.URL.Parse(resp.Header.Get("Location"))
			if err != nil {
				return nil, err
			}
			if loc.Host != start.Host {
				return loc, nil
			}
			if req, err = http.NewRequestWithContext(ctx, http.MethodGet, loc.String(), nil); err != nil {
				return nil, err
			}
		case resp.StatusCode == http.StatusOK && strings.HasPrefix(resp.Header.Get("Content-Type"), "text/html"):
			b.Pages = append(b.Pages, string(body))
			if req, err = b.submit(ctx, req.URL, string(body)); err != nil {
				return nil, err
			}
		default:
			return nil, &HTTPError{Status: resp.StatusCode, Body: strings.TrimSpace(string(body))}
		}
	}
	return nil, fmt.Errorf("demotest: too many redirects")
}

// submit builds the consent form POST.
func (b *Browser) submit(ctx context.Context, page *url.URL, body string) (*http.Request, error) {
	form := url.Values{}
	for _, m := range hiddenInput.FindAllStringSubmatch(body, -1) {
		form.Set(m[1], html.UnescapeString(m[2]))
	}
	if form.Get("id") == "" {
		return nil, fmt.Errorf("demotest: no consent form on %s", page)
	}
	action := b.Action
	if action == "" {
		action = "approve"
	}
	form.Set("action", action)
	target := page.ResolveReference(&url.URL{Path: "/login"})
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, target.String(), strings.NewReader(form.Encode()))
	if err != nil {
		return nil, err
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Origin", page.Scheme+"://"+page.Host)
	req.Header.Set("Sec-Fetch-Site", "same-origin")
	return req, nil
}

// HTTPError is a response the browser could not continue from.
type HTTPError struct {
	Status int
	Body   string
}

func (e *HTTPError) Error() string { return fmt.Sprintf("demotest: HTTP %d: %s", e.Status, e.Body) }
