// The ext-auth extension scenarios: each sets up its extension on the
// mcpauth configuration, from what the harness hands over in
// MCP_CONFORMANCE_CONTEXT.

package main

import (
	"context"
	"fmt"

	"github.com/mcpauth/mcpauth"
	"github.com/mcpauth/mcpauth/ext/clientcredentials"
	"github.com/mcpauth/mcpauth/ext/dpop"
	"github.com/mcpauth/mcpauth/ext/idjag"
	"github.com/mcpauth/mcpauth/ext/jwtauth"
	"github.com/mcpauth/mcpauth/ext/workload"
	"github.com/mcpauth/mcpauth/registration"
	"github.com/mcpauth/mcpauth/store"
	"github.com/mcpauth/mcpauth/token"
)

// configureExtension sets cfg up for the extension scenario named, and
// leaves it alone for every other scenario. The pre-registered client the
// harness hands over is already in cfg.PreRegistered.
func configureExtension(ctx context.Context, serverURL, scenario string, confCtx map[string]any, cfg *mcpauth.Config) error {
	str := func(k string) string { s, _ := confCtx[k].(string); return s }
	switch scenario {
	case "auth/client-credentials-basic":
		// SEP-1046 with client_secret_basic: a pre-registered
		// confidential client, no browser.
		cfg.Step = nil
		cfg.Grant = clientcredentials.Grant{}
		return setAuthMethod(cfg, registration.AuthClientSecretBasic)

	case "auth/client-credentials-jwt":
		// SEP-1046 with private_key_jwt (RFC 7523 §2.2).
		key, err := jwtauth.ParseKey([]byte(str("private_key_pem")), str("signing_algorithm"))
		if err != nil {
			return fmt.Errorf("the client's private key: %w", err)
		}
		cfg.Step = nil
		cfg.ClientAuth = (&jwtauth.Method{Key: key}).ClientAuth
		cfg.Grant = clientcredentials.Grant{}
		return setAuthMethod(cfg, registration.AuthPrivateKeyJWT)

	case "auth/enterprise-managed-authorization":
		// SEP-990: the ID Token from single sign-on is exchanged at the
		// IdP for an ID-JAG, presented at the authorization server with
		// the pre-registered client's secret.
		idToken := str("idp_id_token")
		cfg.Step = nil
		cfg.Grant = &idjag.Grant{
			IdP: &idjag.IdP{
				TokenEndpoint: str("idp_token_endpoint"),
				Issuer:        str("idp_issuer"),
				Auth:          token.None{ClientID: str("idp_client_id")},
			},
			SubjectToken: func(context.Context) (string, error) { return idToken, nil },
		}
		return setAuthMethod(cfg, registration.AuthClientSecretBasic)

	case "auth/wif-jwt-bearer":
		// SEP-1933: the workload's JWT with the JWT bearer grant.
		cfg.Step = nil
		cfg.Grant = &workload.Grant{Source: workload.Static(str("valid_jwt"))}
		return nil

	case "auth/dpop", "auth/dpop-nonce":
		// SEP-1932: the authorization code flow as usual, every token
		// and MCP request with a proof, the key kept with the tokens.
		key, st, err := dpop.LoadOrCreateKey(ctx, store.NewMemory(), serverURL)
		if err != nil {
			return err
		}
		d := dpop.NewTransport(key, cfg.Base)
		cfg.Store = st
		cfg.Base = d
		cfg.HTTPClient = d.Client()
		return nil
	}
	return nil
}

// setAuthMethod records the token endpoint authentication method of the
// pre-registered client the harness handed over.
func setAuthMethod(cfg *mcpauth.Config, method string) error {
	if len(cfg.PreRegistered) == 0 {
		return fmt.Errorf("the harness handed over no client_id")
	}
	for issuer, c := range cfg.PreRegistered {
		c.AuthMethod = method
		cfg.PreRegistered[issuer] = c
	}
	return nil
}
