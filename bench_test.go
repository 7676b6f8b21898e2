package mcpauth_test

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"golang.org/x/oauth2"

	"github.com/mcpauth/mcpauth"
	"github.com/mcpauth/mcpauth/store"
	"github.com/mcpauth/mcpauth/token"
)

// BenchmarkRoundTrip measures the per-request overhead of the transport
// with a valid stored token against a bare http.Transport, in one run, on
// loopback. Compare the two sub-benchmarks' ns/op and allocs/op.
func BenchmarkRoundTrip(b *testing.B) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.Copy(io.Discard, r.Body)
		w.Header().Set("Content-Type", "application/json")
		io.WriteString(w, `{"jsonrpc":"2.0","id":1,"result":{}}`)
	}))
	defer srv.Close()
	url := srv.URL + "/mcp"
	body := `{"jsonrpc":"2.0","id":1,"method":"tools/list"}`

	base := &http.Transport{MaxIdleConnsPerHost: 16}
	defer base.CloseIdleConnections()

	st := store.NewMemory()
	now := time.Now()
	_, err := st.Update(context.Background(), store.Key{Resource: url, Issuer: "http://127.0.0.1:1"}, func(*store.Record) (*store.Record, error) {
		return &store.Record{Token: &token.Token{
			Token:    oauth2.Token{AccessToken: "benchmark-access-token", TokenType: "Bearer", Expiry: now.Add(24 * time.Hour)},
			Issuer:   "http://127.0.0.1:1",
			IssuedAt: now,
		}}, nil
	})
	if err != nil {
		b.Fatal(err)
	}
	tr, err := mcpauth.NewTransport(url, mcpauth.Config{Base: base, Store: st})
	if err != nil {
		b.Fatal(err)
	}

	run := func(b *testing.B, rt http.RoundTripper) {
		b.ReportAllocs()
		for b.Loop() {
			req, _ := http.NewRequest(http.MethodPost, url, strings.NewReader(body))
			req.Header.Set("Content-Type", "application/json")
			resp, err := rt.RoundTrip(req)
			if err != nil {
				b.Fatal(err)
			}
			io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			if resp.StatusCode != http.StatusOK {
				b.Fatalf("status %d", resp.StatusCode)
			}
		}
	}
	b.Run("bare", func(b *testing.B) { run(b, base) })
	b.Run("mcpauth", func(b *testing.B) { run(b, tr) })
}
