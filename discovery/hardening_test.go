package discovery_test

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/mcpauth/mcpauth/discovery"
	"github.com/mcpauth/mcpauth/internal/oauthtest"
	"github.com/mcpauth/mcpauth/internal/urlcheck"
)

func hPRM(serverURL string) http.HandlerFunc {
	return func(w http.ResponseWriter, _ *http.Request) {
		oauthtest.WriteJSON(w, http.StatusOK, map[string]any{"resource": serverURL, "authorization_servers": []string{"https://as.example"}})
	}
}

// TestFetcher_SSRF1_Redirects: discovery never follows a redirect from
// https to http (even on loopback), to a target with userinfo, or more
// than urlcheck.MaxRedirects times, whatever the caller's CheckRedirect;
// each refusal is a *urlcheck.RedirectError.
func TestFetcher_SSRF1_Redirects(t *testing.T) {
	tlsSrv := oauthtest.NewTLSServer(t)
	plain := oauthtest.NewServer(t)
	serverURL := tlsSrv.URL + "/mcp"
	plain.Handle("/prm", hPRM(serverURL))
	f := &discovery.Fetcher{Client: &http.Client{
		Transport:     tlsSrv.TLSTransport(nil),
		CheckRedirect: func(*http.Request, []*http.Request) error { return nil },
	}}
	cases := map[string]struct {
		handler http.HandlerFunc
		reason  string
	}{
		"https to http": {oauthtest.RedirectTo(plain.URL+"/prm", http.StatusFound), "leaves https"},
		"userinfo":      {oauthtest.RedirectTo(strings.Replace(tlsSrv.URL, "://", "://u:pw@", 1)+"/prm", http.StatusFound), "userinfo"},
		"loop":          {oauthtest.RedirectTo("/.well-known/oauth-protected-resource/mcp", http.StatusFound), "stopped after 5 redirects"},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			tlsSrv.Handle("/.well-known/oauth-protected-resource/mcp", tc.handler)
			_, err := f.ResourceMetadata(context.Background(), serverURL, "")
			var re *urlcheck.RedirectError
			if !errors.As(err, &re) || !strings.Contains(re.Reason, tc.reason) {
				t.Fatalf("err = %v, want a redirect refused because %s", err, tc.reason)
			}
			if strings.Contains(err.Error(), ":pw@") {
				t.Errorf("the error shows the userinfo: %v", err)
			}
		})
	}
	if n := plain.Total(); n != 0 {
		t.Errorf("the http server received %d requests", n)
	}
	tlsSrv.Handle("/.well-known/oauth-protected-resource/mcp", oauthtest.RedirectTo("/prm", http.StatusFound))
	tlsSrv.Handle("/prm", hPRM(serverURL))
	if _, err := f.ResourceMetadata(context.Background(), serverURL, ""); err != nil {
		t.Errorf("same-origin https redirect: %v", err)
	}
}

// TestFetcher_Bounded: each metadata request carries a deadline whatever
// the caller's context and client; Timeout ends a document that trickles;
// a gigabyte document is refused after MaxBytes.
func TestFetcher_Bounded(t *testing.T) {
	srv := oauthtest.NewServer(t)
	serverURL := srv.URL + "/mcp"
	srv.Handle("/.well-known/oauth-protected-resource/mcp", hPRM(serverURL))
	d := &oauthtest.Deadlines{}
	if _, err := (&discovery.Fetcher{Client: &http.Client{Transport: d}}).ResourceMetadata(context.Background(), serverURL, ""); err != nil {
		t.Fatal(err)
	}
	if n, all := d.Bounded(); n != 1 || !all {
		t.Errorf("%d requests, with a deadline: %v", n, all)
	}
	srv.Handle("/.well-known/oauth-protected-resource/mcp", oauthtest.Trickle(`{"resource":`))
	_, err := (&discovery.Fetcher{Timeout: 100 * time.Millisecond}).ResourceMetadata(context.Background(), serverURL, "")
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("trickle: %v", err)
	}
	g := &oauthtest.Giant{Prefix: `{"resource":"`, Size: oauthtest.GiB}
	srv.Handle("/.well-known/oauth-protected-resource/mcp", g.ServeHTTP)
	_, err = (&discovery.Fetcher{}).ResourceMetadata(context.Background(), serverURL, "")
	var de *discovery.DocumentError
	if !errors.As(err, &de) || !strings.Contains(de.Reason, "larger than") {
		t.Errorf("giant: %v", err)
	}
	// An error status is not read beyond a few kilobytes either.
	g404 := &oauthtest.Giant{Status: http.StatusNotFound, Size: oauthtest.GiB}
	srv.Handle("/.well-known/oauth-protected-resource/mcp", g404.ServeHTTP)
	srv.Handle("/.well-known/oauth-protected-resource", g404.ServeHTTP)
	if _, err := (&discovery.Fetcher{}).ResourceMetadata(context.Background(), serverURL, ""); !errors.Is(err, discovery.ErrNoResourceMetadata) {
		t.Errorf("giant 404s: %v", err)
	}
}

// TestParseChallenges_PRM2_TooLarge: a header beyond MaxChallengeBytes is
// refused whole, not parsed.
func TestParseChallenges_PRM2_TooLarge(t *testing.T) {
	huge := `Bearer resource_metadata="https://mcp.example.com/prm", scope="` + strings.Repeat("a ", discovery.MaxChallengeBytes) + `"`
	cs, err := discovery.ParseChallenges([]string{huge})
	var ce *discovery.ChallengeError
	if cs != nil || !errors.As(err, &ce) || !errors.Is(err, discovery.ErrChallengeTooLarge) || len(ce.Header) > 256 {
		t.Fatalf("ParseChallenges = %v, %v", cs, err)
	}
	// Several values count together.
	half := `Bearer scope="` + strings.Repeat("b", discovery.MaxChallengeBytes/2) + `"`
	if _, err := discovery.ParseChallenges([]string{half, half}); !errors.Is(err, discovery.ErrChallengeTooLarge) {
		t.Errorf("two halves: %v", err)
	}
	if _, err := discovery.ParseChallenges([]string{half}); err != nil {
		t.Errorf("one half: %v", err)
	}
}
