package mcpserver

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"slices"

	"github.com/modelcontextprotocol/go-sdk/auth"
)

// maxInspect bounds how much of a request body the guard reads; go-sdk
// applies its own limit to the whole body.
const maxInspect = 4 << 20

// scopeGuard runs after auth.RequireBearerToken: it reads the JSON-RPC
// body, and for each tools/call checks the scopes of the TokenInfo that
// RequireBearerToken put in the context against the tool's, answering 403
// insufficient_scope at the HTTP level (MCP authorization, scope challenge
// handling) before go-sdk sees the request.
func (s *Server) scopeGuard(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w = unwrap(w)
		if r.Method == http.MethodPost && r.Body != nil {
			head, err := io.ReadAll(io.LimitReader(r.Body, maxInspect))
			if err != nil {
				http.Error(w, "unreadable body", http.StatusBadRequest)
				return
			}
			r.Body = struct {
				io.Reader
				io.Closer
			}{io.MultiReader(bytes.NewReader(head), r.Body), r.Body}
			info := auth.TokenInfoFromContext(r.Context())
			for _, name := range toolCalls(head) {
				need := toolScopes(name)
				for _, sc := range need {
					if info == nil || !slices.Contains(info.Scopes, sc) {
						s.insufficientScope(w, need)
						return
					}
				}
				s.stats.add(func(st *Stats) {
					st.ToolCalls[name]++
					st.RequestsAtToolCall = st.Requests
				})
			}
		}
		next.ServeHTTP(w, r)
	})
}

type rpcMessage struct {
	Method string `json:"method"`
	Params struct {
		Name string `json:"name"`
	} `json:"params"`
}

// toolCalls returns the tool names of the tools/call requests in a JSON-RPC
// message or batch. Anything unparsable is left to go-sdk to reject.
func toolCalls(body []byte) []string {
	body = bytes.TrimSpace(body)
	var msgs []rpcMessage
	if len(body) > 0 && body[0] == '[' {
		_ = json.Unmarshal(body, &msgs)
	} else {
		var m rpcMessage
		if json.Unmarshal(body, &m) == nil {
			msgs = append(msgs, m)
		}
	}
	var names []string
	for _, m := range msgs {
		if m.Method == "tools/call" {
			names = append(names, m.Params.Name)
		}
	}
	return names
}
