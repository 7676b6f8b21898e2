package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/mcpauth/mcpauth/discovery"
	"github.com/mcpauth/mcpauth/internal/urlcheck"
	"github.com/mcpauth/mcpauth/registration"
	"github.com/mcpauth/mcpauth/scope"
)

// Check levels.
const (
	levelPass = "pass"
	levelWarn = "warn"
	levelFail = "fail"
	levelNote = "note"
)

// inspectReport is what inspect found. Its JSON form is stable output.
type inspectReport struct {
	Server               string                      `json:"server"`
	Probes               []inspectProbe              `json:"probes"`
	Challenge            *challengeReport            `json:"challenge,omitempty"`
	ResourceMetadataURL  string                      `json:"resource_metadata_url,omitempty"`
	ResourceMetadata     *discovery.ResourceMetadata `json:"resource_metadata,omitempty"`
	AuthorizationServers []serverReport              `json:"authorization_servers"`
	Checks               []inspectCheck              `json:"checks"`
	Scope                *scopeReport                `json:"scope,omitempty"`
	Registration         string                      `json:"registration,omitempty"`
	RefreshToken         *refreshReport              `json:"refresh_token,omitempty"`
	Summary              map[string]int              `json:"summary"`

	primary *discovery.ServerMetadata
}

type inspectProbe struct {
	Step   string `json:"step"`
	Method string `json:"method"`
	URL    string `json:"url"`
	Status int    `json:"status,omitempty"`
	Result string `json:"result"`
}

type challengeReport struct {
	Status           int    `json:"status"`
	Header           string `json:"www_authenticate,omitempty"`
	Scheme           string `json:"scheme,omitempty"`
	ResourceMetadata string `json:"resource_metadata,omitempty"`
	Scope            string `json:"scope,omitempty"`
	Error            string `json:"error,omitempty"`
}

type serverReport struct {
	Issuer   string                    `json:"issuer"`
	Metadata *discovery.ServerMetadata `json:"metadata,omitempty"`
	Error    string                    `json:"error,omitempty"`
}

type inspectCheck struct {
	ID      string `json:"id"`
	Level   string `json:"level"`
	Message string `json:"message"`
}

type scopeReport struct {
	Scopes        []string `json:"scopes"`
	Source        string   `json:"source"`
	Rule          string   `json:"rule"`
	Explanation   string   `json:"explanation"`
	PromptConsent bool     `json:"prompt_consent"`
	// LoginScopes is what `mcpauth login`, which has no challenge at hand,
	// would request, when it differs.
	LoginScopes []string `json:"login_scopes,omitempty"`
}

type refreshReport struct {
	Expected string `json:"expected"` // yes, likely, maybe, no
	Reason   string `json:"reason"`
}

func newInspectCmd(f *Factory) *cobra.Command {
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "inspect <server-url>",
		Short: "Diagnose an MCP server's authorization setup, without logging in",
		Long: `Probe an MCP server the way a client does before it logs in, and check what
it finds against the MCP authorization rules (IDs as in the spec summary):

  - an unauthenticated initialize, for the 401 and its WWW-Authenticate
    challenge (PRM-2, PRM-3);
  - the protected resource metadata (PRM-1, PRM-3, PRM-4, SRV-2207);
  - the authorization server metadata (ASM-1..3, PKCE-1, ISS-1, REG-2, RDR-1);
  - the scope a client would request, and the rule that chose it (SCP-1,
    REF-3, REF-4), and whether a refresh token can be expected.

It exits with status 1 when a check fails.`,
		Args: exactArgs("server URL"),
		RunE: func(cmd *cobra.Command, args []string) error {
			serverURL, err := serverArg(cmd, args[0])
			if err != nil {
				return err
			}
			return f.runInspect(cmd.Context(), serverURL, asJSON)
		},
	}
	cmd.Flags().BoolVar(&asJSON, "json", false, "print JSON")
	return cmd
}

func (f *Factory) runInspect(ctx context.Context, serverURL string, asJSON bool) error {
	s, err := f.settings()
	if err != nil {
		return err
	}
	r := &inspectReport{Server: serverURL, Probes: []inspectProbe{}, AuthorizationServers: []serverReport{}, Checks: []inspectCheck{}}
	hc := f.oauthClient()
	f.inspectChallenge(ctx, hc, r)

	fetcher := &discovery.Fetcher{Client: hc, Trace: func(p discovery.Probe) {
		result := "ok"
		if p.Err != nil {
			result = p.Err.Error()
		}
		r.Probes = append(r.Probes, inspectProbe{Step: p.Document, Method: http.MethodGet, URL: p.URL, Status: p.Status, Result: result})
	}}
	issuers := f.inspectResource(ctx, fetcher, r)
	legacy := r.ResourceMetadata == nil
	for i, iss := range issuers {
		if i == 5 {
			r.check("AS-1", levelNote, fmt.Sprintf("only the first 5 of %d authorization servers were inspected", len(issuers)))
			break
		}
		sr := serverReport{Issuer: iss}
		md, err := fetcher.ServerMetadata(ctx, iss)
		if err != nil && legacy && errors.Is(err, discovery.ErrNoServerMetadata) {
			md, err = discovery.DefaultServerMetadata(serverURL)
			r.check("PRM-5", levelNote, "no authorization server metadata at the server's origin either: clients use the 2025-03-26 default endpoints /authorize, /token and /register there")
		}
		if err != nil {
			sr.Error = err.Error()
			r.serverError(iss, err)
		} else {
			sr.Metadata = md
			if r.primary == nil {
				r.primary = md
			}
		}
		r.AuthorizationServers = append(r.AuthorizationServers, sr)
	}
	if md := r.primary; md != nil {
		f.inspectServer(md, s, r)
		f.inspectScope(md, s, r)
	}

	r.Summary = map[string]int{levelPass: 0, levelWarn: 0, levelFail: 0, levelNote: 0}
	for _, c := range r.Checks {
		r.Summary[c.Level]++
	}
	if asJSON {
		enc := json.NewEncoder(f.IOStreams.Out)
		enc.SetIndent("", "  ")
		if err := enc.Encode(r); err != nil {
			return err
		}
	} else {
		f.printInspect(r)
	}
	if r.Summary[levelFail] > 0 {
		return &silentError{code: ExitError}
	}
	return nil
}

func (r *inspectReport) check(id, level, msg string) {
	r.Checks = append(r.Checks, inspectCheck{ID: id, Level: level, Message: msg})
}

// initializeBody is the unauthenticated initialize inspect sends to get
// the server's challenge.
const initializeBody = `{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-11-25","capabilities":{},"clientInfo":{"name":"mcpauth-inspect","version":"1"}}}`

// inspectChallenge POSTs an initialize without a token and records the
// answer and its challenge (PRM-2, PRM-3).
func (f *Factory) inspectChallenge(ctx context.Context, hc *http.Client, r *inspectReport) {
	probe := inspectProbe{Step: "initialize without a token", Method: http.MethodPost, URL: r.Server}
	defer func() { r.Probes = append(r.Probes, probe) }()
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, r.Server, strings.NewReader(initializeBody))
	if err != nil {
		probe.Result = err.Error()
		r.check("PRM-2", levelFail, "could not build the initialize request: "+err.Error())
		return
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "application/json, text/event-stream")
	resp, err := hc.Do(req)
	if err != nil {
		probe.Result = err.Error()
		r.check("PRM-2", levelFail, "the MCP server did not answer: "+err.Error())
		return
	}
	// Never wait for a stream: the status and headers are all inspect needs.
	if !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/event-stream") {
		_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	}
	resp.Body.Close()
	probe.Status = resp.StatusCode
	if sid := resp.Header.Get("Mcp-Session-Id"); sid != "" {
		f.endSession(hc, r.Server, sid)
	}

	values := resp.Header.Values("WWW-Authenticate")
	ch := &challengeReport{Status: resp.StatusCode, Header: strings.Join(values, ", ")}
	r.Challenge = ch
	switch {
	case resp.StatusCode == http.StatusUnauthorized:
	case resp.StatusCode >= 200 && resp.StatusCode < 300:
		probe.Result = "answered without authorization"
		r.check("PRM-2", levelNote, fmt.Sprintf("the server answered an unauthenticated initialize with %d: it does not require authorization for it (some servers only protect some operations)", resp.StatusCode))
		return
	default:
		probe.Result = "unexpected status"
		r.check("PRM-2", levelWarn, fmt.Sprintf("the server answered an unauthenticated initialize with %d %s, not 401: clients cannot learn where to authorize from it, and fall back to the well-known metadata URLs", resp.StatusCode, http.StatusText(resp.StatusCode)))
		return
	}
	if len(values) == 0 {
		probe.Result = "401 without WWW-Authenticate"
		r.check("PRM-2", levelWarn, "401 without a WWW-Authenticate header: clients must guess the metadata location (well-known URIs, PRM-3) and get no scope hint")
		return
	}
	cs, perr := discovery.ParseChallenges(values)
	c, ok := cs.Bearer()
	if perr != nil {
		r.check("PRM-2", levelFail, "the WWW-Authenticate header does not parse: "+perr.Error())
	}
	if !ok {
		probe.Result = "401 without a Bearer challenge"
		r.check("PRM-2", levelFail, fmt.Sprintf("401 with WWW-Authenticate %q, which has no Bearer (or DPoP) challenge", ch.Header))
		return
	}
	ch.Scheme, ch.ResourceMetadata, ch.Scope, ch.Error = c.Scheme, c.ResourceMetadata(), strings.Join(c.Scope(), " "), c.Error()
	probe.Result = c.Scheme + " challenge"
	if perr == nil {
		r.check("PRM-2", levelPass, "401 with a "+c.Scheme+" challenge")
	}
	if ch.ResourceMetadata != "" {
		r.check("PRM-3", levelPass, "the challenge names resource_metadata "+ch.ResourceMetadata)
	} else {
		r.check("PRM-3", levelNote, "the challenge names no resource_metadata: clients fall back to the well-known URIs")
	}
	if scope.Contains(c.Scope(), scope.OfflineAccess) {
		r.check("SRV-2207", levelWarn, "the challenge's scope includes offline_access: a resource never requires refresh tokens; leave the choice to the client and authorization server")
	}
}

// endSession deletes a session an unauthenticated initialize created.
func (f *Factory) endSession(hc *http.Client, serverURL, sid string) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodDelete, serverURL, nil)
	if err != nil {
		return
	}
	req.Header.Set("Mcp-Session-Id", sid)
	if resp, err := hc.Do(req); err == nil {
		resp.Body.Close()
	}
}

// inspectResource fetches and checks the protected resource metadata
// (PRM-1, PRM-3, PRM-4) and returns the issuers to inspect.
func (f *Factory) inspectResource(ctx context.Context, fetcher *discovery.Fetcher, r *inspectReport) []string {
	hint := ""
	if r.Challenge != nil {
		hint = r.Challenge.ResourceMetadata
	}
	prm, err := fetcher.ResourceMetadata(ctx, r.Server, hint)
	var mismatch *discovery.ResourceMismatchError
	switch {
	case errors.As(err, &mismatch):
		r.check("PRM-4", levelFail, fmt.Sprintf("the protected resource metadata at %s names resource %q, which does not match %s: clients must refuse to authorize (RFC 9728 §3.3)", mismatch.MetadataURL, mismatch.Resource, r.Server))
		return nil
	case errors.Is(err, discovery.ErrNoResourceMetadata):
		origin, oerr := discovery.Origin(r.Server)
		if oerr != nil {
			r.check("PRM-1", levelFail, oerr.Error())
			return nil
		}
		r.check("PRM-1", levelWarn, "no protected resource metadata (RFC 9728) at any well-known location: clients fall back to MCP 2025-03-26 behaviour and treat "+origin+" as the authorization server (PRM-5)")
		return []string{origin}
	case err != nil:
		r.check("PRM-1", levelFail, "the protected resource metadata could not be used: "+err.Error())
		var ue *urlcheck.Error
		if errors.As(err, &ue) {
			r.check("RDR-1", levelFail, ue.Error())
		}
		return nil
	}
	r.ResourceMetadata, r.ResourceMetadataURL = prm, prm.URL
	r.check("PRM-1", levelPass, "protected resource metadata found at "+prm.URL)
	r.check("PRM-4", levelPass, fmt.Sprintf("its resource %s matches the server URL", prm.Resource))
	if len(prm.AuthorizationServers) == 0 {
		r.check("PRM-1", levelFail, "the protected resource metadata lists no authorization_servers: there is nowhere to authorize")
	}
	if len(prm.AuthorizationServers) > 1 {
		r.check("AS-1", levelNote, fmt.Sprintf("%d authorization servers are listed; the choice is the client's (most SDKs take the first)", len(prm.AuthorizationServers)))
	}
	switch {
	case scope.Contains(prm.ScopesSupported, scope.OfflineAccess):
		r.check("SRV-2207", levelWarn, "scopes_supported of the protected resource metadata lists offline_access: a resource never requires refresh tokens, and clients that request every listed scope will ask for it even where the authorization server does not offer it")
	case len(prm.ScopesSupported) == 0:
		r.check("SCP-1", levelNote, "the protected resource metadata lists no scopes_supported: clients request the challenge's scope, else omit scope")
	}
	return prm.AuthorizationServers
}

// serverError records why an authorization server's metadata was not
// usable.
func (r *inspectReport) serverError(issuer string, err error) {
	var mismatch *discovery.IssuerMismatchError
	var ue *urlcheck.Error
	switch {
	case errors.As(err, &mismatch):
		r.check("ASM-3", levelFail, fmt.Sprintf("the metadata at %s has issuer %q, not %q: clients must not use it", mismatch.MetadataURL, mismatch.Issuer, mismatch.Want))
	case errors.As(err, &ue):
		r.check("RDR-1", levelFail, fmt.Sprintf("authorization server %s: %v (endpoints must be https, http only on loopback)", issuer, ue))
	case errors.Is(err, discovery.ErrNoServerMetadata):
		r.check("ASM-1", levelFail, fmt.Sprintf("no authorization server metadata for %s at the RFC 8414 or OpenID Connect Discovery locations (ASM-2)", issuer))
	default:
		r.check("ASM-1", levelFail, fmt.Sprintf("the metadata of authorization server %s could not be used: %v", issuer, err))
	}
}

// inspectServer checks the metadata of the authorization server a client
// would use.
func (f *Factory) inspectServer(md *discovery.ServerMetadata, s *settings, r *inspectReport) {
	if !md.Synthesized {
		r.check("ASM-3", levelPass, fmt.Sprintf("authorization server metadata for %s found at %s, issuer identical", md.Issuer, md.URL))
	}
	switch {
	case md.Synthesized:
		r.check("PKCE-1", levelNote, "no metadata to check PKCE support against; clients assume S256")
	case slices.Contains(md.CodeChallengeMethodsSupported, "S256"):
		r.check("PKCE-1", levelPass, "PKCE with S256 is supported")
	case len(md.CodeChallengeMethodsSupported) == 0:
		r.check("PKCE-1", levelFail, "the metadata has no code_challenge_methods_supported: MCP clients must refuse to proceed without it")
	default:
		r.check("PKCE-1", levelFail, fmt.Sprintf("code_challenge_methods_supported lists %q but not S256", md.CodeChallengeMethodsSupported))
	}
	if !md.Synthesized {
		if md.AuthorizationResponseIssParameterSupported {
			r.check("ISS-1", levelPass, "the authorization response carries iss (RFC 9207): clients can detect mix-up attacks")
		} else {
			r.check("ISS-1", levelWarn, "authorization_response_iss_parameter_supported is not true: clients cannot require iss, which leaves them open to mix-up attacks (RFC 9207)")
		}
	}
	if md.AuthorizationEndpoint == "" {
		r.check("ASM-1", levelFail, "the metadata has no authorization_endpoint")
	}
	if len(md.GrantTypesSupported) > 0 && !slices.Contains(md.GrantTypesSupported, "authorization_code") {
		r.check("ASM-1", levelFail, fmt.Sprintf("grant_types_supported %q lacks authorization_code", md.GrantTypesSupported))
	}
	for _, e := range []struct{ role, url string }{{"jwks_uri", md.JWKSURI}} {
		if e.url == "" {
			continue
		}
		if _, err := urlcheck.HTTPSOrLoopback(e.role, e.url); err != nil {
			r.check("RDR-1", levelFail, err.Error())
		}
	}

	_, pre := s.clients[md.Issuer]
	pre = pre || (s.flagClient != nil && (s.flagIssuer == "" || s.flagIssuer == md.Issuer))
	switch {
	case pre:
		r.Registration = "pre-registered"
		r.check("REG-2", levelPass, "a pre-registered client is configured for "+md.Issuer)
	case md.ClientIDMetadataDocumentSupported && s.file.ClientIDMetadataURL != "":
		r.Registration = "CIMD"
		r.check("REG-2", levelPass, "client ID metadata documents are supported; the configured document "+s.file.ClientIDMetadataURL+" would be used")
	case md.ClientIDMetadataDocumentSupported && md.RegistrationEndpoint != "":
		r.Registration = "DCR"
		r.check("REG-2", levelPass, "client ID metadata documents and dynamic client registration are supported (mcpauth uses DCR unless client_id_metadata_url is configured)")
	case md.ClientIDMetadataDocumentSupported:
		r.Registration = "none"
		r.check("REG-2", levelWarn, "only client ID metadata documents are supported: configure client_id_metadata_url, or a pre-registered client (--client-id)")
	case md.RegistrationEndpoint != "":
		r.Registration = "DCR"
		r.check("REG-2", levelNote, "dynamic client registration only, no client ID metadata documents: DCR is deprecated in MCP, and every client install registers anew")
	default:
		r.Registration = "none"
		r.check("REG-1", levelFail, "neither client ID metadata documents nor dynamic client registration: clients need a pre-registered client id (--client-id, or the configuration file)")
	}
	if !md.Synthesized {
		if md.RevocationEndpoint != "" {
			r.check("RFC7009", levelPass, "a revocation endpoint is offered: logout can revoke tokens")
		} else {
			r.check("RFC7009", levelNote, "no revocation_endpoint: logout can only forget tokens locally")
		}
	}
}

// inspectScope reports the scope a client would request (SCP-1, REF-3,
// REF-4) and whether a refresh token can be expected.
func (f *Factory) inspectScope(md *discovery.ServerMetadata, s *settings, r *inspectReport) {
	grants := registration.Metadata{}.Defaults(!s.file.DisableRefresh).GrantTypes
	if pre, ok := s.clients[md.Issuer]; ok {
		grants = pre.GrantTypes
	}
	in := scope.Input{
		ResourceScopes: nil,
		ServerScopes:   md.ScopesSupported,
		Configured:     s.file.Scopes,
		GrantTypes:     grants,
	}
	if r.ResourceMetadata != nil {
		in.ResourceScopes = r.ResourceMetadata.ScopesSupported
	}
	login := scope.Select(in)
	if r.Challenge != nil {
		in.Challenge = scope.Parse(r.Challenge.Scope)
	}
	sel := scope.Select(in)
	sr := &scopeReport{Scopes: sel.Scopes, Source: string(sel.Source), PromptConsent: sel.PromptConsent()}
	if sr.Scopes == nil {
		sr.Scopes = []string{}
	}
	switch sel.Source {
	case scope.FromChallenge:
		sr.Rule, sr.Explanation = "SCP-1", "the scope of the WWW-Authenticate challenge"
	case scope.FromResourceMetadata:
		sr.Rule, sr.Explanation = "SCP-1", "all of the protected resource metadata's scopes_supported (the challenge names none)"
	case scope.FromConfigured:
		sr.Rule, sr.Explanation = "SCP-1", "the scopes configured for this client (neither challenge nor metadata names any)"
	default:
		sr.Rule, sr.Explanation = "SCP-1", "no scope is known: the scope parameter is omitted and the authorization server applies its default"
	}
	switch {
	case sel.OfflineAccessAdded:
		sr.Rule += ", REF-3, REF-4"
		sr.Explanation += "; offline_access added because the authorization server offers it and the client registers the refresh_token grant, sent with prompt=consent"
	case sel.OfflineAccessDropped:
		sr.Rule += ", SRV-2207"
		sr.Explanation += "; offline_access removed: the authorization server does not offer it, or the client cannot use refresh tokens"
	}
	if !slices.Equal(login.Scopes, sel.Scopes) {
		sr.LoginScopes = login.Scopes
		if sr.LoginScopes == nil {
			sr.LoginScopes = []string{}
		}
	}
	r.Scope = sr

	offered := scope.Contains(md.ScopesSupported, scope.OfflineAccess)
	refreshGrant := slices.Contains(md.GrantTypesSupported, "refresh_token")
	clientCan := slices.Contains(grants, registration.GrantRefreshToken)
	rr := &refreshReport{}
	switch {
	case !clientCan:
		rr.Expected, rr.Reason = "no", "this client is configured without the refresh_token grant"
	case sel.PromptConsent() && refreshGrant:
		rr.Expected, rr.Reason = "yes", "offline_access is offered and will be requested with prompt=consent, and the refresh_token grant is listed (the authorization server still decides, REF-5)"
	case sel.PromptConsent() && len(md.GrantTypesSupported) == 0:
		rr.Expected, rr.Reason = "likely", "offline_access is offered and will be requested with prompt=consent; grant_types_supported is not published"
	case sel.PromptConsent():
		rr.Expected, rr.Reason = "no", fmt.Sprintf("offline_access is offered, but grant_types_supported %q lacks refresh_token", md.GrantTypesSupported)
	case offered:
		rr.Expected, rr.Reason = "no", "offline_access is offered but would not be requested (no other scope to request alongside it)"
	case refreshGrant:
		rr.Expected, rr.Reason = "maybe", "the refresh_token grant is listed but no offline_access scope: whether refresh tokens are issued is the authorization server's choice"
	default:
		rr.Expected, rr.Reason = "unlikely", "neither offline_access nor the refresh_token grant is advertised: expect a browser login whenever the access token expires"
	}
	r.RefreshToken = rr
}

// printInspect writes the report for a person.
func (f *Factory) printInspect(r *inspectReport) {
	cs := f.IOStreams.Colors()
	var b bytes.Buffer
	fmt.Fprintf(&b, "%s %s\n\n", cs.Bold("Inspecting"), r.Server)

	fmt.Fprintln(&b, cs.Bold("Probes"))
	for _, p := range r.Probes {
		status := "---"
		if p.Status != 0 {
			status = fmt.Sprint(p.Status)
		}
		result := p.Result
		if result == "ok" {
			result = cs.Green(result)
		}
		fmt.Fprintf(&b, "  %-6s %s  %s  %s\n", p.Method, status, p.URL, cs.Gray("("+p.Step+")"))
		if p.Result != "ok" {
			fmt.Fprintf(&b, "         %s\n", result)
		}
	}
	if ch := r.Challenge; ch != nil && ch.Header != "" {
		fmt.Fprintf(&b, "\n%s\n  %s\n", cs.Bold("Challenge (WWW-Authenticate)"), ch.Header)
	}
	if prm := r.ResourceMetadata; prm != nil {
		fmt.Fprintf(&b, "\n%s %s\n", cs.Bold("Protected resource metadata"), cs.Gray(r.ResourceMetadataURL))
		field(&b, "resource", prm.Resource)
		field(&b, "authorization_servers", strings.Join(prm.AuthorizationServers, " "))
		field(&b, "scopes_supported", strings.Join(prm.ScopesSupported, " "))
		if prm.ResourceName != "" {
			field(&b, "resource_name", prm.ResourceName)
		}
	}
	for _, sr := range r.AuthorizationServers {
		md := sr.Metadata
		if md == nil {
			continue
		}
		where := md.URL
		if md.Synthesized {
			where = "(no metadata; 2025-03-26 defaults)"
		}
		fmt.Fprintf(&b, "\n%s %s %s\n", cs.Bold("Authorization server"), md.Issuer, cs.Gray(where))
		field(&b, "authorization_endpoint", md.AuthorizationEndpoint)
		field(&b, "token_endpoint", md.TokenEndpoint)
		field(&b, "registration_endpoint", orNone(md.RegistrationEndpoint))
		field(&b, "revocation_endpoint", orNone(md.RevocationEndpoint))
		field(&b, "code_challenge_methods", orNone(strings.Join(md.CodeChallengeMethodsSupported, " ")))
		field(&b, "iss parameter (RFC 9207)", supported(md.AuthorizationResponseIssParameterSupported))
		field(&b, "client ID metadata docs", supported(md.ClientIDMetadataDocumentSupported))
		field(&b, "scopes_supported", orNone(strings.Join(md.ScopesSupported, " ")))
		field(&b, "grant_types_supported", orNone(strings.Join(md.GrantTypesSupported, " ")))
	}

	fmt.Fprintf(&b, "\n%s\n", cs.Bold("Checks"))
	for _, c := range r.Checks {
		fmt.Fprintf(&b, "  %s %-9s %s\n", levelLabel(cs, c.Level), c.ID, c.Message)
	}
	if sr := r.Scope; sr != nil {
		fmt.Fprintf(&b, "\n%s\n", cs.Bold("Scope a client would request"))
		scopes := strings.Join(sr.Scopes, " ")
		if scopes == "" {
			scopes = "(scope parameter omitted)"
		}
		fmt.Fprintf(&b, "  %s\n  %s %s\n", cs.Cyan(scopes), cs.Gray(sr.Rule+":"), sr.Explanation)
		if sr.LoginScopes != nil {
			fmt.Fprintf(&b, "  %s %s\n", cs.Gray("mcpauth login, with no challenge at hand, requests:"), orNone(strings.Join(sr.LoginScopes, " ")))
		}
	}
	if r.Registration != "" {
		fmt.Fprintf(&b, "\n%s %s\n", cs.Bold("Registration:"), r.Registration)
	}
	if rr := r.RefreshToken; rr != nil {
		fmt.Fprintf(&b, "%s %s — %s\n", cs.Bold("Refresh token expected:"), rr.Expected, rr.Reason)
	}
	fmt.Fprintf(&b, "\n%d passed, %d warnings, %d failed, %d notes\n",
		r.Summary[levelPass], r.Summary[levelWarn], r.Summary[levelFail], r.Summary[levelNote])
	_, _ = f.IOStreams.Out.Write(b.Bytes())
}

func field(b *bytes.Buffer, name, value string) {
	fmt.Fprintf(b, "  %-25s %s\n", name+":", value)
}

func supported(b bool) string {
	if b {
		return "supported"
	}
	return "not supported"
}

func levelLabel(cs Palette, level string) string {
	switch level {
	case levelPass:
		return cs.Green("PASS")
	case levelWarn:
		return cs.Yellow("WARN")
	case levelFail:
		return cs.Red("FAIL")
	}
	return cs.Cyan("NOTE")
}
