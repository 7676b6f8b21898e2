package authserver

import (
	"context"
	"errors"
	"log/slog"
	"slices"
	"sync"
	"time"

	"github.com/zitadel/oidc/v3/pkg/oidc"
	"github.com/zitadel/oidc/v3/pkg/op"
)

const (
	authRequestTTL = 10 * time.Minute
	// codeTTL bounds the authorization code's life (RFC 6749 §4.1.2
	// recommends at most 10 minutes; a minute is plenty for a loopback flow).
	codeTTL = time.Minute
)

// usedCodeMemory is how long a redeemed code is remembered, to detect a
// replay.
const usedCodeMemory = time.Hour

var errNotFound = errors.New("not found")

// usedCode is a redeemed authorization code.
type usedCode struct {
	grantID string
	at      time.Time
}

// storage is the in-memory op.Storage. One mutex guards everything; the
// server is for demos and tests.
type storage struct {
	cfg    Config
	key    *signingKey
	stats  *counters
	log    *slog.Logger
	cimd   *cimdCache
	issuer string

	mu           sync.Mutex
	resources    []string
	atLifetime   time.Duration
	clients      map[string]*client
	authRequests map[string]*authRequest
	codes        map[string]string // live code -> auth request id
	usedCodes    map[string]usedCode
	refresh      map[string]*refreshRecord
	grants       map[string]*grantRecord
	accessTokens map[string]*accessRecord
}

var (
	_ op.Storage                        = (*storage)(nil)
	_ op.CanSetUserinfoFromRequest      = (*storage)(nil)
	_ op.CanGetPrivateClaimsFromRequest = (*storage)(nil)
)

func newStorage(cfg Config, issuer string, key *signingKey, stats *counters) *storage {
	s := &storage{
		cfg:          cfg,
		key:          key,
		stats:        stats,
		log:          cfg.Logger,
		issuer:       issuer,
		resources:    slices.Clone(cfg.Resources),
		atLifetime:   cfg.AccessTokenLifetime,
		clients:      map[string]*client{},
		authRequests: map[string]*authRequest{},
		codes:        map[string]string{},
		usedCodes:    map[string]usedCode{},
		refresh:      map[string]*refreshRecord{},
		grants:       map[string]*grantRecord{},
		accessTokens: map[string]*accessRecord{},
	}
	s.cimd = newCIMDCache()
	return s
}

// authorizeExtras carries what the authorization endpoint learned beyond
// oidc.AuthRequest (the resource, the offline_access verdict) from the validator
// to CreateAuthRequest, through the request context.
type authorizeExtras struct {
	rawResources []string // the resource parameters as sent
	resource     string   // the validated one

	offlineNote string // why offline_access was dropped, for the consent page
}

type extrasKey struct{}

func withExtras(ctx context.Context, e *authorizeExtras) context.Context {
	return context.WithValue(ctx, extrasKey{}, e)
}

func extrasFrom(ctx context.Context) *authorizeExtras {
	if e, ok := ctx.Value(extrasKey{}).(*authorizeExtras); ok {
		return e
	}
	return &authorizeExtras{}
}

// CreateAuthRequest stores a validated authorization request.
func (s *storage) CreateAuthRequest(ctx context.Context, req *oidc.AuthRequest, _ string) (op.AuthRequest, error) {
	if slices.Contains(req.Prompt, oidc.PromptNone) && !s.cfg.AutoApprove {
		// OpenID Connect Core §3.1.2.6: no interaction allowed, and no session.
		return nil, oidc.ErrLoginRequired()
	}
	ex := extrasFrom(ctx)
	a := &authRequest{
		id:              randomString(18),
		clientID:        req.ClientID,
		redirectURI:     req.RedirectURI,
		state:           req.State,
		nonce:           req.Nonce,
		responseType:    req.ResponseType,
		responseMode:    req.ResponseMode,
		scopes:          slices.Clone(req.Scopes),
		offlineNote:     ex.offlineNote,
		resource:        ex.resource,
		defaultAudience: s.cfg.DefaultResource,
		csrf:            randomString(18),
		created:         time.Now(),
	}
	if req.CodeChallenge != "" {
		a.challenge = &oidc.CodeChallenge{Challenge: req.CodeChallenge, Method: req.CodeChallengeMethod}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.sweepLocked()
	s.authRequests[a.id] = a
	return a.clone(), nil
}

// AuthRequestByID returns a copy of a pending request.
func (s *storage) AuthRequestByID(_ context.Context, id string) (op.AuthRequest, error) {
	a, err := s.authRequest(id)
	if err != nil {
		return nil, err
	}
	return a, nil
}

// authRequest is AuthRequestByID with the concrete type.
func (s *storage) authRequest(id string) (*authRequest, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	a, ok := s.authRequests[id]
	if !ok || time.Since(a.created) > authRequestTTL {
		return nil, errNotFound
	}
	return a.clone(), nil
}

// AuthRequestByCode resolves a code. A code seen before revokes what was
// issued from it (RFC 6749 §4.1.2, OAuth 2.1 §4.1.3).
func (s *storage) AuthRequestByCode(_ context.Context, code string) (op.AuthRequest, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if u, used := s.usedCodes[code]; used {
		s.stats.add(func(st *Stats) { st.CodeReplays++ })
		s.revokeGrantLocked(u.grantID, "authorization code replayed")
		return nil, errors.New("authorization code already used")
	}
	id, ok := s.codes[code]
	if !ok {
		return nil, errNotFound
	}
	a, ok := s.authRequests[id]
	if !ok || time.Since(a.codeIssued) > codeTTL {
		return nil, errors.New("authorization code expired")
	}
	return a.clone(), nil
}

// consumeCode marks a code redeemed; it reports false when another request
// redeemed it first, in which case that grant is revoked.
func (s *storage) consumeCode(code string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	id, ok := s.codes[code]
	if !ok {
		if u, used := s.usedCodes[code]; used {
			s.stats.add(func(st *Stats) { st.CodeReplays++ })
			s.revokeGrantLocked(u.grantID, "authorization code replayed")
		}
		return false
	}
	delete(s.codes, code)
	s.usedCodes[code] = usedCode{grantID: id, at: time.Now()}
	return true
}

// SaveAuthCode records the code op generated for an approved request.
func (s *storage) SaveAuthCode(_ context.Context, id, code string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	a, ok := s.authRequests[id]
	if !ok {
		return errNotFound
	}
	if a.code != "" {
		delete(s.codes, a.code)
	}
	a.code, a.codeIssued = code, time.Now()
	s.codes[code] = id
	return nil
}

// DeleteAuthRequest drops a request once its code has been exchanged.
func (s *storage) DeleteAuthRequest(_ context.Context, id string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if a, ok := s.authRequests[id]; ok && a.code != "" {
		delete(s.codes, a.code)
		if _, ok := s.usedCodes[a.code]; !ok {
			s.usedCodes[a.code] = usedCode{grantID: id, at: time.Now()}
		}
	}
	delete(s.authRequests, id)
	return nil
}

// approve marks a pending request as consented to by the demo user.
func (s *storage) approve(id string) (*authRequest, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	a, ok := s.authRequests[id]
	if !ok || time.Since(a.created) > authRequestTTL {
		return nil, errNotFound
	}
	if a.done {
		return nil, errors.New("authorization request already answered")
	}
	a.done, a.subject, a.authTime = true, s.cfg.Subject, time.Now()
	s.stats.add(func(st *Stats) { st.ConsentApproved++ })
	return a.clone(), nil
}

// deny removes a pending request the user refused.
func (s *storage) deny(id string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.authRequests, id)
	s.stats.add(func(st *Stats) { st.ConsentDenied++ })
}

// sweepLocked drops expired requests and tokens.
func (s *storage) sweepLocked() {
	now := time.Now()
	for id, a := range s.authRequests {
		if now.Sub(a.created) > authRequestTTL {
			delete(s.authRequests, id)
			delete(s.codes, a.code)
		}
	}
	for k, r := range s.refresh {
		if now.After(r.expires) {
			delete(s.refresh, k)
		}
	}
	for k, u := range s.usedCodes {
		if now.Sub(u.at) > usedCodeMemory {
			delete(s.usedCodes, k)
		}
	}
	for k, r := range s.accessTokens {
		if now.After(r.expires) {
			delete(s.accessTokens, k)
		}
	}
}
