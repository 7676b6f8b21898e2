package mcpserver

import (
	"context"
	"fmt"
	"time"

	"github.com/modelcontextprotocol/go-sdk/auth"
	"github.com/modelcontextprotocol/go-sdk/mcp"
)

// toolScopes is the scope each tool needs; unknown tools need the base
// scope only (go-sdk answers them with an error).
func toolScopes(name string) []string {
	if name == "write-note" {
		return []string{ScopeRead, ScopeWrite}
	}
	return []string{ScopeRead}
}

// WhoAmI is the structured result of the whoami tool.
type WhoAmI struct {
	Subject   string    `json:"subject"`
	ClientID  string    `json:"client_id,omitempty"`
	Scopes    []string  `json:"scopes"`
	ExpiresAt time.Time `json:"expires_at"`
}

type echoInput struct {
	Text string `json:"text" jsonschema:"the text to send back"`
}

type noteInput struct {
	Text string `json:"text" jsonschema:"the note to store"`
}

type noteOutput struct {
	Count int `json:"count"`
}

func (s *Server) addTools(srv *mcp.Server) {
	mcp.AddTool(srv, &mcp.Tool{Name: "whoami", Description: "Who the access token speaks for, and its scopes (needs mcp:read)."}, s.whoami)
	mcp.AddTool(srv, &mcp.Tool{Name: "echo", Description: "Echo text back; when the call carries a progress token, first sends a notifications/progress (needs mcp:read)."}, s.echo)
	mcp.AddTool(srv, &mcp.Tool{Name: "write-note", Description: "Store a note (needs mcp:write)."}, s.writeNote)
}

func (s *Server) whoami(ctx context.Context, req *mcp.CallToolRequest, _ struct{}) (*mcp.CallToolResult, WhoAmI, error) {
	var out WhoAmI
	ti := auth.TokenInfoFromContext(ctx) // the SSE transport: the stream's token
	if req.Extra != nil && req.Extra.TokenInfo != nil {
		ti = req.Extra.TokenInfo // Streamable HTTP: this request's token
	}
	if ti != nil {
		out = WhoAmI{Subject: ti.UserID, Scopes: ti.Scopes, ExpiresAt: ti.Expiration}
		out.ClientID, _ = ti.Extra["client_id"].(string)
	}
	return nil, out, nil
}

func (s *Server) echo(ctx context.Context, req *mcp.CallToolRequest, in echoInput) (*mcp.CallToolResult, any, error) {
	if tok := req.Params.GetProgressToken(); tok != nil {
		if err := req.Session.NotifyProgress(ctx, &mcp.ProgressNotificationParams{ProgressToken: tok, Progress: 1, Total: 1, Message: "echoing"}); err != nil {
			return nil, nil, err
		}
	}
	return &mcp.CallToolResult{Content: []mcp.Content{&mcp.TextContent{Text: in.Text}}}, nil, nil
}

func (s *Server) writeNote(_ context.Context, _ *mcp.CallToolRequest, in noteInput) (*mcp.CallToolResult, noteOutput, error) {
	s.notesMu.Lock()
	defer s.notesMu.Unlock()
	s.notes = append(s.notes, in.Text)
	return &mcp.CallToolResult{Content: []mcp.Content{&mcp.TextContent{Text: fmt.Sprintf("stored note %d", len(s.notes))}}},
		noteOutput{Count: len(s.notes)}, nil
}
