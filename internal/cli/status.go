package cli

import (
	"cmp"
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/mcpauth/mcpauth/store"
)

// statusEntry is what status shows for one server at one authorization
// server. It has no field that could hold a token or a secret.
type statusEntry struct {
	Server       string     `json:"server"`
	Issuer       string     `json:"issuer"`
	Registration string     `json:"registration,omitempty"` // pre-registered, CIMD or DCR
	ClientID     string     `json:"client_id,omitempty"`
	Scopes       []string   `json:"scopes"`
	State        string     `json:"state"` // valid, expired, none
	ExpiresAt    *time.Time `json:"expires_at,omitempty"`
	RefreshToken bool       `json:"refresh_token"`
	UpdatedAt    *time.Time `json:"updated_at,omitempty"`

	now time.Time
}

// describe summarises rec at now.
func describe(rec *store.Record, now time.Time) statusEntry {
	e := statusEntry{Server: rec.Resource, Issuer: rec.Issuer, Scopes: []string{}, State: "none", now: now}
	if c := rec.Client; c != nil {
		e.Registration, e.ClientID = kindText(c.Kind), c.ID
	}
	if !rec.UpdatedAt.IsZero() {
		t := rec.UpdatedAt.UTC()
		e.UpdatedAt = &t
	}
	if tok := rec.Token; tok != nil && tok.AccessToken != "" {
		if tok.Scope != nil {
			e.Scopes = tok.Scope
		}
		e.RefreshToken = tok.RefreshToken != ""
		e.State = "valid"
		if !tok.Expiry.IsZero() {
			t := tok.Expiry.UTC()
			e.ExpiresAt = &t
			if !now.Before(tok.Expiry) {
				e.State = "expired"
			}
		}
	}
	return e
}

// expiryText says when the access token expires, for a person.
func (e statusEntry) expiryText() string {
	switch {
	case e.State == "none":
		return "none held"
	case e.ExpiresAt == nil:
		return "held, no expiry given"
	case e.State == "expired":
		s := fmt.Sprintf("expired %s ago (%s)", roundDur(e.now.Sub(*e.ExpiresAt)), e.ExpiresAt.Local().Format(time.DateTime))
		if e.RefreshToken {
			s += "; will be refreshed on next use"
		}
		return s
	}
	return fmt.Sprintf("valid, expires in %s (%s)", roundDur(e.ExpiresAt.Sub(e.now)), e.ExpiresAt.Local().Format(time.DateTime))
}

func roundDur(d time.Duration) time.Duration {
	switch {
	case d > time.Hour:
		return d.Round(time.Minute)
	case d > time.Minute:
		return d.Round(time.Second)
	}
	return d.Round(time.Second)
}

func newStatusCmd(f *Factory) *cobra.Command {
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "status [server-url]",
		Short: "Show the servers you are logged in to",
		Long: `Show, for each MCP server with stored credentials (or the one named), the
authorization server, how this client is registered there (pre-registered,
CIMD or DCR), the scopes granted, when the access token expires, and whether
a refresh token is held. Tokens are never printed; status makes no network
request.`,
		Args: rangeArgs(0, 1, "server URL"),
		RunE: func(cmd *cobra.Command, args []string) error {
			var serverURL string
			if len(args) == 1 {
				var err error
				if serverURL, err = serverArg(cmd, args[0]); err != nil {
					return err
				}
			}
			return f.runStatus(cmd.Context(), serverURL, asJSON)
		},
	}
	cmd.Flags().BoolVar(&asJSON, "json", false, "print JSON")
	return cmd
}

func (f *Factory) runStatus(ctx context.Context, serverURL string, asJSON bool) error {
	s, err := f.settings()
	if err != nil {
		return err
	}
	st, err := f.openStore(ctx, s)
	if err != nil {
		return err
	}
	recs, err := st.List(ctx)
	if err != nil {
		return err
	}
	now := time.Now()
	entries := []statusEntry{}
	for _, r := range recs {
		if serverURL == "" || r.Resource == serverURL {
			entries = append(entries, describe(r, now))
		}
	}
	slices.SortFunc(entries, func(a, b statusEntry) int {
		return cmp.Or(strings.Compare(a.Server, b.Server), strings.Compare(a.Issuer, b.Issuer))
	})
	ios := f.IOStreams
	if asJSON {
		enc := json.NewEncoder(ios.Out)
		enc.SetIndent("", "  ")
		return enc.Encode(entries)
	}
	if len(entries) == 0 {
		if serverURL != "" {
			ios.Errf("Not logged in to %s.\nTo log in, run:  mcpauth login %s", serverURL, serverURL)
		} else {
			ios.Errf("Not logged in to any MCP server.\nTo log in, run:  mcpauth login <server-url>")
		}
		return &silentError{code: ExitError}
	}
	cs := ios.Colors()
	for i, e := range entries {
		if i > 0 {
			fmt.Fprintln(ios.Out)
		}
		mark := cs.Green("✓")
		switch {
		case e.State == "none" || (e.State == "expired" && !e.RefreshToken):
			mark = cs.Red("✗")
		case e.State == "expired":
			mark = cs.Yellow("!")
		}
		fmt.Fprintf(ios.Out, "%s %s\n", mark, cs.Bold(e.Server))
		fmt.Fprintf(ios.Out, "  Authorization server: %s\n", e.Issuer)
		if e.Registration != "" {
			fmt.Fprintf(ios.Out, "  Registration:         %s (client id %s)\n", e.Registration, e.ClientID)
		}
		fmt.Fprintf(ios.Out, "  Scopes granted:       %s\n", orNone(strings.Join(e.Scopes, " ")))
		fmt.Fprintf(ios.Out, "  Access token:         %s\n", e.expiryText())
		fmt.Fprintf(ios.Out, "  Refresh token:        %s\n", yesNo(e.RefreshToken))
		if e.State == "none" || (e.State == "expired" && !e.RefreshToken) {
			fmt.Fprintf(ios.Out, "  To log in again, run: mcpauth login %s\n", e.Server)
		}
	}
	return nil
}
