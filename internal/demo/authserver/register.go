package authserver

import (
	"crypto/sha256"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"time"

	"github.com/zitadel/oidc/v3/pkg/oidc"
)

const maxRegistrationBody = 64 << 10

// Registration is the RFC 7591 §3.2.1 client information response.
type Registration struct {
	ClientID         string `json:"client_id"`
	ClientSecret     string `json:"client_secret,omitempty"`
	ClientIDIssuedAt int64  `json:"client_id_issued_at"`
	// ClientSecretExpiresAt is present when a secret is issued; 0 means it
	// does not expire.
	ClientSecretExpiresAt *int64 `json:"client_secret_expires_at,omitempty"`
	ClientMetadata
}

// RegisterClient registers a client as the registration endpoint would
// (RFC 7591), for tests and pre-registered demo clients. token_endpoint_auth_method
// defaults to client_secret_basic, application_type to web.
func (s *Server) RegisterClient(md ClientMetadata) (*Registration, error) {
	reg, merr := s.store.register(md)
	if merr != nil {
		return nil, merr
	}
	return reg, nil
}

// handleRegister is the RFC 7591 §3 registration endpoint.
func (s *Server) handleRegister(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(io.LimitReader(r.Body, maxRegistrationBody+1))
	if err != nil || len(body) > maxRegistrationBody {
		writeJSON(w, http.StatusBadRequest, badMetadata("request body unreadable or too large"))
		return
	}
	var md ClientMetadata
	if err := json.Unmarshal(body, &md); err != nil {
		writeJSON(w, http.StatusBadRequest, badMetadata("request body is not client metadata JSON: %v", err))
		return
	}
	reg, merr := s.store.register(md)
	if merr != nil {
		writeJSON(w, http.StatusBadRequest, merr)
		return
	}
	writeJSON(w, http.StatusCreated, reg)
}

func (st *storage) register(md ClientMetadata) (*Registration, *metadataError) {
	md, merr := st.normalize(md, oidc.AuthMethodBasic, "web")
	if merr != nil {
		return nil, merr
	}
	reg := &Registration{ClientID: "dcr_" + randomString(12), ClientIDIssuedAt: time.Now().Unix(), ClientMetadata: md}
	var hash [32]byte
	if md.TokenEndpointAuthMethod != string(oidc.AuthMethodNone) {
		reg.ClientSecret = randomString(32)
		hash = sha256.Sum256([]byte(reg.ClientSecret))
		never := int64(0)
		reg.ClientSecretExpiresAt = &never
	}
	c := st.newClient(reg.ClientID, md, hash, false)
	st.mu.Lock()
	st.clients[c.id] = c
	st.mu.Unlock()
	st.stats.add(func(s *Stats) { s.Registrations++ })
	st.log.Info("client registered", slog.String("client_id", c.id), slog.String("client_name", md.ClientName),
		slog.String("auth_method", md.TokenEndpointAuthMethod), slog.Any("grant_types", md.GrantTypes), slog.String("scope", md.Scope))
	return reg, nil
}

// writeJSON writes v with the no-store caching RFC 6749 §5.1 and RFC 7591
// §3.2.1 ask for.
func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}
