package mcpserver

import (
	"fmt"
	"net/http"
	"strings"
)

// challengeWriter completes the WWW-Authenticate challenges that
// auth.RequireBearerToken writes (resource_metadata and scope) with the
// RFC 6750 §3.1 error code: invalid_token on a 401 for a presented token,
// insufficient_scope on a 403. It also counts them. Requests that pass
// authentication get the underlying writer back (see unwrap), so streaming
// responses never go through it.
type challengeWriter struct {
	http.ResponseWriter
	hadToken bool
	s        *Server
	wrote    bool
}

func (c *challengeWriter) WriteHeader(code int) {
	if !c.wrote {
		c.wrote = true
		c.complete(code)
	}
	c.ResponseWriter.WriteHeader(code)
}

func (c *challengeWriter) Write(b []byte) (int, error) {
	if !c.wrote {
		c.WriteHeader(http.StatusOK)
	}
	return c.ResponseWriter.Write(b)
}

func (c *challengeWriter) complete(code int) {
	var errCode string
	switch {
	case code == http.StatusUnauthorized:
		c.s.stats.add(func(st *Stats) { st.Unauthorized++ })
		if c.hadToken {
			errCode = "invalid_token"
		}
	case code == http.StatusForbidden:
		c.s.stats.add(func(st *Stats) { st.Forbidden++ })
		errCode = "insufficient_scope"
	}
	h := c.Header()
	if ch := h.Get("WWW-Authenticate"); errCode != "" && strings.HasPrefix(ch, "Bearer ") && !strings.Contains(ch, "error=") {
		h.Set("WWW-Authenticate", fmt.Sprintf("Bearer error=%q, %s", errCode, strings.TrimPrefix(ch, "Bearer ")))
	}
}

// unwrap returns the writer under a challengeWriter.
func unwrap(w http.ResponseWriter) http.ResponseWriter {
	if c, ok := w.(*challengeWriter); ok {
		return c.ResponseWriter
	}
	return w
}

// withChallenges wraps the bearer-protected handler.
func (s *Server) withChallenges(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.stats.add(func(st *Stats) { st.Requests++ })
		next.ServeHTTP(&challengeWriter{ResponseWriter: w, hadToken: r.Header.Get("Authorization") != "", s: s}, r)
	})
}

// insufficientScope answers 403 with an RFC 6750 §3.1 challenge naming every
// scope the operation needs (MCP step-up authorization); never
// offline_access (SRV-2207).
func (s *Server) insufficientScope(w http.ResponseWriter, need []string) {
	s.stats.add(func(st *Stats) { st.Forbidden++ })
	w.Header().Set("WWW-Authenticate", fmt.Sprintf("Bearer error=%q, scope=%q, resource_metadata=%q, error_description=%q",
		"insufficient_scope", strings.Join(need, " "), s.prmURL, "this tool needs "+strings.Join(need, " ")))
	http.Error(w, "insufficient scope", http.StatusForbidden)
}
