package authserver

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/zitadel/oidc/v3/pkg/oidc"
)

// Client ID Metadata Documents (draft-ietf-oauth-client-id-metadata-document):
// a client_id that is a URL names a JSON document of client metadata served
// at that URL.
const (
	cimdMaxBytes = 16 << 10
	cimdTimeout  = 5 * time.Second
)

type cimdEntry struct {
	c       *client
	expires time.Time
}

// cimdCache fetches and caches metadata documents.
type cimdCache struct {
	http *http.Client
	mu   sync.Mutex
	m    map[string]cimdEntry
}

func newCIMDCache() *cimdCache {
	return &cimdCache{
		http: &http.Client{
			Timeout: cimdTimeout,
			// A redirect would serve the document from another URL than the
			// client_id; refuse it.
			CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
		},
		m: map[string]cimdEntry{},
	}
}

func isCIMDClientID(id string) bool {
	return strings.HasPrefix(id, "https://") || strings.HasPrefix(id, "http://")
}

// resolveCIMD returns the client a metadata document URL describes.
func (s *storage) resolveCIMD(ctx context.Context, id string) (*client, error) {
	s.cimd.mu.Lock()
	e, ok := s.cimd.m[id]
	s.cimd.mu.Unlock()
	if ok && time.Now().Before(e.expires) {
		return e.c, nil
	}
	if err := s.checkCIMDURL(id); err != nil {
		return nil, err
	}
	s.stats.add(func(st *Stats) { st.CIMDFetches++ })
	doc, err := s.fetchCIMD(ctx, id)
	if err != nil {
		return nil, err
	}
	c, err := s.cimdClient(id, doc)
	if err != nil {
		return nil, err
	}
	s.cimd.mu.Lock()
	s.cimd.m[id] = cimdEntry{c: c, expires: time.Now().Add(s.cfg.CIMDCacheTTL)}
	s.cimd.mu.Unlock()
	return c, nil
}

// checkCIMDURL: https with a path, no fragment or credentials, no dot
// segments; http only on a loopback IP literal unless CIMDHTTPSOnly.
func (s *storage) checkCIMDURL(id string) error {
	u, err := url.Parse(id)
	if err != nil {
		return errors.New("client_id is not a URL")
	}
	if u.Fragment != "" || strings.Contains(id, "#") || u.User != nil {
		return errors.New("client_id URL must not carry a fragment or credentials")
	}
	if u.Path == "" || u.Path == "/" {
		return errors.New("client_id URL must have a path")
	}
	for _, seg := range strings.Split(u.Path, "/") {
		if seg == "." || seg == ".." {
			return errors.New("client_id URL must not contain dot segments")
		}
	}
	switch {
	case u.Scheme == "https" && u.Host != "":
		return nil
	case u.Scheme == "http" && !s.cfg.CIMDHTTPSOnly:
		if ip := net.ParseIP(u.Hostname()); ip != nil && ip.IsLoopback() {
			return nil
		}
	}
	return errors.New("client_id URL must be https (http only on a loopback address)")
}

func (s *storage) fetchCIMD(ctx context.Context, id string) ([]byte, error) {
	ctx, cancel := context.WithTimeout(ctx, cimdTimeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, id, nil)
	if err != nil {
		return nil, err
	}
	req.Header.Set("Accept", "application/json")
	resp, err := s.cimd.http.Do(req)
	if err != nil {
		return nil, fmt.Errorf("fetch: %w", err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("fetch: status %d", resp.StatusCode)
	}
	body, err := io.ReadAll(io.LimitReader(resp.Body, cimdMaxBytes+1))
	if err != nil {
		return nil, fmt.Errorf("fetch: %w", err)
	}
	if len(body) > cimdMaxBytes {
		return nil, fmt.Errorf("document larger than %d bytes", cimdMaxBytes)
	}
	return body, nil
}

// cimdClient validates a document: client_id equal to the URL byte for byte,
// client_name and redirect_uris present, no shared secret.
func (s *storage) cimdClient(id string, body []byte) (*client, error) {
	var doc struct {
		ClientID     string `json:"client_id"`
		ClientSecret string `json:"client_secret"`
		ClientMetadata
	}
	if err := json.Unmarshal(body, &doc); err != nil {
		return nil, fmt.Errorf("document is not JSON client metadata: %v", err)
	}
	if doc.ClientID != id {
		return nil, fmt.Errorf("client_id %q in the document differs from its URL", doc.ClientID)
	}
	if doc.ClientName == "" {
		return nil, errors.New("client_name is required")
	}
	if doc.ClientSecret != "" {
		return nil, errors.New("a metadata document must not carry a client_secret")
	}
	switch oidc.AuthMethod(doc.TokenEndpointAuthMethod) {
	case "", oidc.AuthMethodNone:
	default:
		return nil, fmt.Errorf("token_endpoint_auth_method %q is not supported for metadata documents", doc.TokenEndpointAuthMethod)
	}
	app := "web"
	if len(doc.RedirectURIs) > 0 && !slices.ContainsFunc(doc.RedirectURIs, notLoopbackHTTP) {
		app = "native"
	}
	md, merr := s.normalize(doc.ClientMetadata, oidc.AuthMethodNone, app)
	if merr != nil {
		return nil, merr
	}
	return s.newClient(id, md, [32]byte{}, true), nil
}

func notLoopbackHTTP(raw string) bool {
	u, err := url.Parse(raw)
	return err != nil || u.Scheme != "http" || !isLoopbackHost(u.Hostname())
}
