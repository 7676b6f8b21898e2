package mcpserver

import (
	"maps"
	"sync"
)

// Stats is a snapshot of the server's counters.
type Stats struct {
	Requests     int            // HTTP requests to the MCP endpoint
	PRMRequests  int            // GETs of the protected resource metadata
	Unauthorized int            // 401 answers
	Forbidden    int            // 403 answers (insufficient scope)
	ToolCalls    map[string]int // tools/call requests let through, by tool name
	// RequestsAtToolCall is Requests when the latest tools/call was let
	// through: the requests a client had made by then, that one included.
	RequestsAtToolCall int
}

type counters struct {
	mu sync.Mutex
	s  Stats
}

func (c *counters) add(f func(*Stats)) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.s.ToolCalls == nil {
		c.s.ToolCalls = map[string]int{}
	}
	f(&c.s)
}

func (c *counters) snapshot() Stats {
	c.mu.Lock()
	defer c.mu.Unlock()
	s := c.s
	s.ToolCalls = maps.Clone(c.s.ToolCalls)
	if s.ToolCalls == nil {
		s.ToolCalls = map[string]int{}
	}
	return s
}
