package authserver

import (
	"maps"
	"sync"
)

// Stats is a snapshot of the server's counters, for tests that count
// requests.
type Stats struct {
	AuthorizationRequests int            // GET/POST /authorize
	Registrations         int            // successful RFC 7591 registrations
	CIMDFetches           int            // client ID metadata documents fetched (cache misses)
	TokenRequests         map[string]int // by grant_type
	AccessTokensIssued    int
	RefreshTokensIssued   int // new refresh tokens handed out (code flow and rotation)
	GrantsRevokedForReuse int // grants revoked because a rotated refresh token was replayed
	LostResponseRetries   int // rotated refresh tokens accepted again because their successor was never used
	CodeReplays           int // authorization codes presented a second time
	ConsentApproved       int // approvals, clicked or automatic
	ConsentDenied         int
}

// counters is the mutable side of Stats.
type counters struct {
	mu sync.Mutex
	s  Stats
}

func (c *counters) add(f func(*Stats)) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.s.TokenRequests == nil {
		c.s.TokenRequests = map[string]int{}
	}
	f(&c.s)
}

func (c *counters) snapshot() Stats {
	c.mu.Lock()
	defer c.mu.Unlock()
	s := c.s
	s.TokenRequests = maps.Clone(c.s.TokenRequests)
	if s.TokenRequests == nil {
		s.TokenRequests = map[string]int{}
	}
	return s
}
