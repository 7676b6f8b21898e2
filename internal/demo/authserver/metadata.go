package authserver

import (
	"encoding/json"
	"net/http"

	"github.com/zitadel/oidc/v3/pkg/oidc"
	"github.com/zitadel/oidc/v3/pkg/op"
)

// handleMetadata serves the same document at the RFC 8414 §3 and the
// OpenID Connect Discovery 1.0 §4 well-known URIs. It starts from op's
// discovery document, narrows it to what this server supports, and adds the
// fields op has no slot for.
func (s *Server) handleMetadata(w http.ResponseWriter, r *http.Request) {
	d := op.CreateDiscoveryConfig(r.Context(), s.provider, s.store)
	d.ScopesSupported = s.cfg.supportedScopes()
	d.ResponseTypesSupported = []string{string(oidc.ResponseTypeCode)}
	d.ResponseModesSupported = []string{string(oidc.ResponseModeQuery)}
	d.GrantTypesSupported = []oidc.GrantType{oidc.GrantTypeCode}
	if !s.cfg.DisableRefreshTokens {
		d.GrantTypesSupported = append(d.GrantTypesSupported, oidc.GrantTypeRefreshToken)
	}
	d.CodeChallengeMethodsSupported = []oidc.CodeChallengeMethod{oidc.CodeChallengeMethodS256}
	methods := []oidc.AuthMethod{oidc.AuthMethodNone, oidc.AuthMethodBasic, oidc.AuthMethodPost}
	d.TokenEndpointAuthMethodsSupported = methods
	d.RevocationEndpointAuthMethodsSupported = methods
	d.TokenEndpointAuthSigningAlgValuesSupported = nil
	d.RevocationEndpointAuthSigningAlgValuesSupported = nil
	d.RequestObjectSigningAlgValuesSupported = nil
	d.IntrospectionEndpointAuthSigningAlgValuesSupported = nil
	d.ClaimsSupported = []string{"iss", "sub", "aud", "exp", "iat", "auth_time", "nonce", "amr", "at_hash", "c_hash",
		"azp", "client_id", "scope", "jti", "name", "preferred_username"}
	d.DeviceAuthorizationEndpoint = ""
	d.CheckSessionIframe = ""
	d.EndSessionEndpoint = ""
	// RFC 7591 §3 and the client ID metadata document draft.
	d.RegistrationEndpoint = s.issuer + "/register"
	d.ClientIDMetadataDocumentSupported = true

	raw, err := json.Marshal(d)
	if err != nil {
		http.Error(w, "metadata", http.StatusInternalServerError)
		return
	}
	var m map[string]any
	if err := json.Unmarshal(raw, &m); err != nil {
		http.Error(w, "metadata", http.StatusInternalServerError)
		return
	}
	// RFC 9207 §3: every authorization response carries iss.
	m["authorization_response_iss_parameter_supported"] = true
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(m)
}
