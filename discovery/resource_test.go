package discovery_test

import (
	"context"
	"errors"
	"net/http"
	"reflect"
	"strings"
	"testing"

	"github.com/mcpauth/mcpauth/discovery"
	"github.com/mcpauth/mcpauth/internal/oauthtest"
)

// TestResourceMetadataURLs_PRM3: the challenge's URL first, then the
// path-inserted well-known URI, then the root one, without duplicates.
func TestResourceMetadataURLs_PRM3(t *testing.T) {
	tests := []struct {
		name, server, hint string
		want               []string
	}{
		{
			name:   "path, no hint",
			server: "https://host/public/mcp",
			want:   []string{"https://host/.well-known/oauth-protected-resource/public/mcp", "https://host/.well-known/oauth-protected-resource"},
		},
		{
			name:   "hint first",
			server: "https://host/public/mcp",
			hint:   "https://meta.example/prm",
			want:   []string{"https://meta.example/prm", "https://host/.well-known/oauth-protected-resource/public/mcp", "https://host/.well-known/oauth-protected-resource"},
		},
		{
			name:   "hint equal to a well-known URI is not repeated",
			server: "https://host/mcp",
			hint:   "https://host/.well-known/oauth-protected-resource/mcp",
			want:   []string{"https://host/.well-known/oauth-protected-resource/mcp", "https://host/.well-known/oauth-protected-resource"},
		},
		{
			name:   "root server URL has one well-known URI",
			server: "https://host/",
			want:   []string{"https://host/.well-known/oauth-protected-resource"},
		},
		{
			name:   "no path",
			server: "https://host",
			want:   []string{"https://host/.well-known/oauth-protected-resource"},
		},
		{
			name:   "terminating slash, query and fragment dropped; port kept",
			server: "https://host:8443/mcp/?session=1",
			want:   []string{"https://host:8443/.well-known/oauth-protected-resource/mcp", "https://host:8443/.well-known/oauth-protected-resource"},
		},
		{
			name:   "escaped path kept escaped",
			server: "http://127.0.0.1:9/a%2Fb/mcp",
			want:   []string{"http://127.0.0.1:9/.well-known/oauth-protected-resource/a%2Fb/mcp", "http://127.0.0.1:9/.well-known/oauth-protected-resource"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := discovery.ResourceMetadataURLs(tt.server, tt.hint)
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("ResourceMetadataURLs(%q, %q)\n got %q\nwant %q", tt.server, tt.hint, got, tt.want)
			}
		})
	}
}

// TestResourceMetadataURLs_RDR1_RefusesInsecureServerURL: the MCP server
// URL itself must be https or loopback http.
func TestResourceMetadataURLs_RDR1_RefusesInsecureServerURL(t *testing.T) {
	for _, u := range []string{"http://mcp.example.com/mcp", "ftp://h/x", "/relative", "javascript:alert(1)"} {
		if _, err := discovery.ResourceMetadataURLs(u, ""); err == nil {
			t.Errorf("ResourceMetadataURLs(%q) accepted", u)
		}
	}
}

// prmDoc serves a protected resource metadata document.
func prmDoc(doc map[string]any) http.HandlerFunc {
	return func(w http.ResponseWriter, _ *http.Request) { oauthtest.WriteJSON(w, http.StatusOK, doc) }
}

// appShell is a single-page site's answer to any path: its front page.
func appShell(w http.ResponseWriter, _ *http.Request) {
	w.Header().Set("Content-Type", "text/html")
	_, _ = w.Write([]byte("<!doctype html><p>app shell</p>"))
}

func status(code int) http.HandlerFunc {
	return func(w http.ResponseWriter, _ *http.Request) { http.Error(w, http.StatusText(code), code) }
}

// TestFetcherResourceMetadata_PRM3 runs discovery against a recording
// server and checks which URLs were requested, in order.
func TestFetcherResourceMetadata_PRM3(t *testing.T) {
	const (
		inserted = "/.well-known/oauth-protected-resource/public/mcp"
		root     = "/.well-known/oauth-protected-resource"
		named    = "/custom/prm.json"
	)
	tests := []struct {
		name      string
		routes    map[string]http.HandlerFunc
		hint      bool // name the custom URL in the challenge
		wantPaths []string
		wantFound string // path the metadata was found at; "" for an error
		wantNoPRM bool   // ErrNoResourceMetadata expected
		wantCode  int    // StatusError code expected
	}{
		{
			name:      "challenge-named URL used first",
			routes:    map[string]http.HandlerFunc{named: nil, inserted: nil, root: nil},
			hint:      true,
			wantPaths: []string{named},
			wantFound: named,
		},
		{
			name:      "path-inserted before root",
			routes:    map[string]http.HandlerFunc{inserted: nil, root: nil},
			wantPaths: []string{inserted},
			wantFound: inserted,
		},
		{
			name:      "found only at the root",
			routes:    map[string]http.HandlerFunc{root: nil},
			wantPaths: []string{inserted, root},
			wantFound: root,
		},
		{
			name:      "challenge-named URL 404 falls back to the well-known URIs",
			routes:    map[string]http.HandlerFunc{named: status(404), root: nil},
			hint:      true,
			wantPaths: []string{named, inserted, root},
			wantFound: root,
		},
		{
			name:      "any 4xx falls through",
			routes:    map[string]http.HandlerFunc{inserted: status(403), root: nil},
			wantPaths: []string{inserted, root},
			wantFound: root,
		},
		{
			name:      "5xx on path-inserted stops discovery",
			routes:    map[string]http.HandlerFunc{inserted: status(500), root: nil},
			wantPaths: []string{inserted},
			wantCode:  500,
		},
		{
			name:      "5xx on challenge-named URL stops discovery",
			routes:    map[string]http.HandlerFunc{named: status(503), inserted: nil, root: nil},
			hint:      true,
			wantPaths: []string{named},
			wantCode:  503,
		},
		{
			name:      "nothing anywhere",
			routes:    map[string]http.HandlerFunc{},
			wantPaths: []string{inserted, root},
			wantNoPRM: true,
		},
		{
			// A site that answers every path with its front page.
			name:      "HTML with 200 at path-inserted falls through",
			routes:    map[string]http.HandlerFunc{inserted: appShell, root: nil},
			wantPaths: []string{inserted, root},
			wantFound: root,
		},
		{
			name:      "HTML with 200 everywhere: no metadata",
			routes:    map[string]http.HandlerFunc{inserted: appShell, root: appShell},
			wantPaths: []string{inserted, root},
			wantNoPRM: true,
		},
		{
			name: "a JSON document that is not an object stops discovery",
			routes: map[string]http.HandlerFunc{inserted: func(w http.ResponseWriter, _ *http.Request) {
				oauthtest.WriteJSON(w, http.StatusOK, []string{"a"})
			}, root: nil},
			wantPaths: []string{inserted},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := oauthtest.NewServer(t)
			serverURL := srv.URL + "/public/mcp"
			for p, h := range tt.routes {
				if h == nil {
					h = prmDoc(map[string]any{"resource": serverURL, "authorization_servers": []string{"https://as.example"}})
				}
				srv.Handle(p, h)
			}
			hint := ""
			if tt.hint {
				hint = srv.URL + named
			}
			var probes []discovery.Probe
			f := &discovery.Fetcher{Trace: func(p discovery.Probe) { probes = append(probes, p) }}
			md, err := f.ResourceMetadata(context.Background(), serverURL, hint)

			if got := srv.Paths(); !reflect.DeepEqual(got, tt.wantPaths) {
				t.Errorf("requested %q, want %q", got, tt.wantPaths)
			}
			if len(probes) != len(tt.wantPaths) {
				t.Errorf("%d probes traced, want %d", len(probes), len(tt.wantPaths))
			}
			switch {
			case tt.wantFound != "":
				if err != nil {
					t.Fatalf("ResourceMetadata: %v", err)
				}
				if md.URL != srv.URL+tt.wantFound || md.Resource != serverURL {
					t.Errorf("found at %s with resource %s", md.URL, md.Resource)
				}
			case tt.wantNoPRM:
				if !errors.Is(err, discovery.ErrNoResourceMetadata) {
					t.Errorf("err = %v, want ErrNoResourceMetadata", err)
				}
			default:
				if err == nil || errors.Is(err, discovery.ErrNoResourceMetadata) {
					t.Fatalf("err = %v, want a failure that is not ErrNoResourceMetadata", err)
				}
				var se *discovery.StatusError
				if tt.wantCode != 0 && (!errors.As(err, &se) || se.StatusCode != tt.wantCode) {
					t.Errorf("err = %v, want a *StatusError %d", err, tt.wantCode)
				}
			}
		})
	}
}

// TestFetcherResourceMetadata_PRM3_NoFallbackOnNetworkError: a
// challenge-named URL that cannot be reached (connection refused) stops
// discovery; the well-known URIs are not tried, since the document may
// well exist at the named URL.
func TestFetcherResourceMetadata_PRM3_NoFallbackOnNetworkError(t *testing.T) {
	srv := oauthtest.NewServer(t)
	serverURL := srv.URL + "/mcp"
	srv.Handle("/.well-known/oauth-protected-resource/mcp", prmDoc(map[string]any{"resource": serverURL, "authorization_servers": []string{"https://as.example"}}))

	_, err := (&discovery.Fetcher{}).ResourceMetadata(context.Background(), serverURL, oauthtest.ClosedURL(t)+"/prm")
	if err == nil {
		t.Fatal("discovery succeeded through the fallback after a network error")
	}
	if errors.Is(err, discovery.ErrNoResourceMetadata) {
		t.Errorf("err = %v: a network error is not 'no metadata'", err)
	}
	if n := srv.Total(); n != 0 {
		t.Errorf("%d requests to the well-known URIs after a network error, want 0: %q", n, srv.Paths())
	}

	// The same for the server's own well-known URI: an unreachable server
	// is not a server without metadata.
	_, err = (&discovery.Fetcher{}).ResourceMetadata(context.Background(), oauthtest.ClosedURL(t)+"/mcp", "")
	if err == nil || errors.Is(err, discovery.ErrNoResourceMetadata) {
		t.Errorf("unreachable server: err = %v, want a network error", err)
	}
}

// TestFetcherResourceMetadata_PRM4_ResourceMismatch: a document naming
// another resource is refused with *ResourceMismatchError, and discovery
// stops there (no fallback to a document that might match).
func TestFetcherResourceMetadata_PRM4_ResourceMismatch(t *testing.T) {
	srv := oauthtest.NewServer(t)
	serverURL := srv.URL + "/mcp"
	other := oauthtest.NewServer(t)
	srv.Handle("/.well-known/oauth-protected-resource/mcp", prmDoc(map[string]any{"resource": other.URL + "/mcp", "authorization_servers": []string{"https://as.example"}}))
	srv.Handle("/.well-known/oauth-protected-resource", prmDoc(map[string]any{"resource": serverURL, "authorization_servers": []string{"https://as.example"}}))

	_, err := (&discovery.Fetcher{}).ResourceMetadata(context.Background(), serverURL, "")
	var rm *discovery.ResourceMismatchError
	if !errors.As(err, &rm) {
		t.Fatalf("err = %v, want *ResourceMismatchError", err)
	}
	if rm.Resource != other.URL+"/mcp" || rm.ServerURL != serverURL || rm.MetadataURL != srv.URL+"/.well-known/oauth-protected-resource/mcp" {
		t.Errorf("error fields: %+v", rm)
	}
	if !strings.Contains(err.Error(), rm.Resource) || !strings.Contains(err.Error(), serverURL) {
		t.Errorf("message names neither resource: %s", err)
	}
	if n := srv.Count("/.well-known/oauth-protected-resource"); n != 0 {
		t.Errorf("root metadata fetched %d times after a mismatch", n)
	}
}

// TestResourceMatches_PRM4 pins the matching rule: same origin (scheme
// and host case-insensitive, default port ignored), path equal or a
// parent on a segment boundary, terminating slash ignored.
func TestResourceMatches_PRM4(t *testing.T) {
	tests := []struct {
		resource, server string
		want             bool
	}{
		{"https://h/mcp", "https://h/mcp", true},
		{"https://h/mcp/", "https://h/mcp", true},
		{"https://h/mcp", "https://h/mcp/", true},
		{"HTTPS://H/mcp", "https://h/mcp", true},
		{"https://h:443/mcp", "https://h/mcp", true},
		{"https://h", "https://h/mcp", true},
		{"https://h/", "https://h/mcp", true},
		{"https://h/api", "https://h/api/mcp", true},

		{"https://h/MCP", "https://h/mcp", false}, // paths are case-sensitive
		{"https://h/mc", "https://h/mcp", false},  // not on a segment boundary
		{"https://h/mcp/sub", "https://h/mcp", false},
		{"https://h/other", "https://h/mcp", false},
		{"http://h/mcp", "https://h/mcp", false},
		{"https://h:8443/mcp", "https://h/mcp", false},
		{"https://evil/mcp", "https://h/mcp", false},
		{"https://h.evil/mcp", "https://h/mcp", false},
		{"https://h/mcp?x=1", "https://h/mcp", false},
		{"https://h/mcp#f", "https://h/mcp", false},
		{"/mcp", "https://h/mcp", false},
		{"", "https://h/mcp", false},
	}
	for _, tt := range tests {
		if got := discovery.ResourceMatches(tt.resource, tt.server); got != tt.want {
			t.Errorf("ResourceMatches(%q, %q) = %v, want %v", tt.resource, tt.server, got, tt.want)
		}
	}
}

// TestFetcherResourceMetadata_PRM1_Validation: documents that cannot be
// used are refused with a *DocumentError naming the URL.
func TestFetcherResourceMetadata_PRM1_Validation(t *testing.T) {
	tests := []struct {
		name string
		doc  func(serverURL string) any
	}{
		{"resource missing", func(string) any { return map[string]any{"authorization_servers": []string{"https://as.example"}} }},
		{"javascript: authorization server", func(s string) any {
			return map[string]any{"resource": s, "authorization_servers": []string{"javascript:alert(1)"}}
		}},
		{"plain http authorization server", func(s string) any {
			return map[string]any{"resource": s, "authorization_servers": []string{"http://as.example"}}
		}},
		{"not an object", func(string) any { return []string{"a"} }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := oauthtest.NewServer(t)
			serverURL := srv.URL + "/mcp"
			doc := tt.doc(serverURL)
			srv.Handle("/.well-known/oauth-protected-resource/mcp", func(w http.ResponseWriter, _ *http.Request) {
				oauthtest.WriteJSON(w, http.StatusOK, doc)
			})
			_, err := (&discovery.Fetcher{}).ResourceMetadata(context.Background(), serverURL, "")
			var de *discovery.DocumentError
			if !errors.As(err, &de) {
				t.Fatalf("err = %v, want *DocumentError", err)
			}
			if !strings.Contains(err.Error(), srv.URL+"/.well-known/oauth-protected-resource/mcp") {
				t.Errorf("error does not name the document URL: %s", err)
			}
		})
	}
}

// TestFetcher_SSRF1_RedirectsStayOnOrigin: discovery follows a redirect
// within the origin but refuses one to another origin.
func TestFetcher_SSRF1_RedirectsStayOnOrigin(t *testing.T) {
	srv := oauthtest.NewServer(t)
	other := oauthtest.NewServer(t)
	serverURL := srv.URL + "/mcp"
	good := prmDoc(map[string]any{"resource": serverURL, "authorization_servers": []string{"https://as.example"}})
	other.Handle("/prm", good)
	srv.Handle("/moved", good)

	srv.Handle("/.well-known/oauth-protected-resource/mcp", func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, "/moved", http.StatusFound)
	})
	md, err := (&discovery.Fetcher{}).ResourceMetadata(context.Background(), serverURL, "")
	if err != nil || md.Resource != serverURL {
		t.Fatalf("same-origin redirect: %v", err)
	}

	srv.Handle("/.well-known/oauth-protected-resource/mcp", func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, other.URL+"/prm", http.StatusFound)
	})
	if _, err := (&discovery.Fetcher{}).ResourceMetadata(context.Background(), serverURL, ""); err == nil {
		t.Fatal("cross-origin redirect followed")
	}
	if n := other.Total(); n != 0 {
		t.Errorf("the other origin received %d requests", n)
	}
}

// TestFetcher_MaxBytes: a document larger than the limit is refused.
func TestFetcher_MaxBytes(t *testing.T) {
	srv := oauthtest.NewServer(t)
	serverURL := srv.URL + "/mcp"
	srv.Handle("/.well-known/oauth-protected-resource/mcp", prmDoc(map[string]any{
		"resource": serverURL, "authorization_servers": []string{"https://as.example"}, "resource_name": strings.Repeat("x", 2000)}))
	_, err := (&discovery.Fetcher{MaxBytes: 1000}).ResourceMetadata(context.Background(), serverURL, "")
	var de *discovery.DocumentError
	if !errors.As(err, &de) || !strings.Contains(de.Reason, "larger than") {
		t.Errorf("err = %v, want a size DocumentError", err)
	}
}
