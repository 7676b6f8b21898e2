package scope

// Source names the rule that chose the base scopes of a [Selection].
type Source string

// The sources of a selection, in the priority order of SCP-1.
const (
	// FromChallenge: the scope parameter of the WWW-Authenticate challenge
	// (RFC 6750 §3), authoritative for the operation (SCP-2).
	FromChallenge Source = "challenge"
	// FromStepUp: the scopes requested before united with a 403
	// insufficient_scope challenge (SEP-2350, STEP-1).
	FromStepUp Source = "step-up"
	// FromResourceMetadata: every value of the protected resource
	// metadata's scopes_supported (RFC 9728 §2).
	FromResourceMetadata Source = "resource-metadata"
	// FromConfigured: the scope the application configured for its client.
	FromConfigured Source = "configured"
	// Omitted: no rule applied, so the scope parameter is left out and the
	// authorization server applies its default (RFC 6749 §3.3).
	Omitted Source = "omitted"
)

// Input is what [Select] decides from. Every field may be empty.
type Input struct {
	// Challenge holds the scope parameter of the WWW-Authenticate
	// challenge that triggered authorization, if any.
	Challenge []string
	// Previous holds the scopes requested by the last authorization for the
	// same resource. When set together with Challenge, the request is a
	// step-up and the two are united (SEP-2350).
	Previous []string
	// ResourceScopes is the protected resource metadata's scopes_supported.
	ResourceScopes []string
	// ServerScopes is the authorization server metadata's scopes_supported
	// (RFC 8414 §2).
	ServerScopes []string
	// Configured is the scope the application configured for its client
	// (the client metadata's scope, RFC 7591 §2).
	Configured []string
	// GrantTypes are the grant types the client is registered for: the
	// client metadata's grant_types as sent or as returned by the
	// authorization server. Empty means unknown, which (unlike RFC 7591's
	// default for a registration request) does not count as holding
	// refresh_token: a pre-registered client that declares nothing is
	// never augmented.
	GrantTypes []string
}

// Selection is the result of [Select].
type Selection struct {
	// Scopes to request, in order. Nil means: omit the scope parameter.
	Scopes []string
	// Source is the rule that chose the base scopes.
	Source Source
	// OfflineAccessAdded reports that offline_access was appended by
	// SEP-2207's rule (REF-3), not taken from the base.
	OfflineAccessAdded bool
	// OfflineAccessDropped reports that the base listed offline_access
	// but the conditions of REF-3 do not hold, so it was removed.
	OfflineAccessDropped bool
}

// Omit reports whether the scope parameter must be left out.
func (s Selection) Omit() bool { return len(s.Scopes) == 0 }

// String formats the scopes as a scope parameter value.
func (s Selection) String() string { return Join(s.Scopes) }

// PromptConsent reports whether the authorization request must carry
// prompt=consent: whenever offline_access is requested, since an OpenID
// provider ignores offline_access otherwise (OpenID Connect Core 1.0 §11,
// REF-4).
func (s Selection) PromptConsent() bool { return Contains(s.Scopes, OfflineAccess) }

// Select chooses the scopes of an authorization request.
//
// The base follows the MCP scope selection strategy (SCP-1, SCP-2, STEP-1):
//  1. the challenge's scope, united with the previously requested scopes
//     when those are given (a step-up after 403 insufficient_scope);
//  2. else every value of the resource metadata's scopes_supported;
//  3. else the scope configured for the client;
//  4. else nothing: the parameter is omitted.
//
// Then SEP-2207 (REF-3): offline_access is appended when the authorization
// server lists it in scopes_supported, the client's grant types include
// refresh_token, and the base is not empty; it is never added twice. When
// those conditions do not hold, an offline_access that the base carried
// anyway (a resource that wrongly lists it, SRV-2207) is removed, since
// requesting a scope the authorization server does not offer fails.
func Select(in Input) Selection {
	var sel Selection
	challenge := Normalize(in.Challenge)
	switch {
	case len(challenge) > 0 && len(Normalize(in.Previous)) > 0:
		sel.Scopes, sel.Source = Union(in.Previous, challenge), FromStepUp
	case len(challenge) > 0:
		sel.Scopes, sel.Source = challenge, FromChallenge
	case len(Normalize(in.ResourceScopes)) > 0:
		sel.Scopes, sel.Source = Normalize(in.ResourceScopes), FromResourceMetadata
	case len(Normalize(in.Configured)) > 0:
		sel.Scopes, sel.Source = Normalize(in.Configured), FromConfigured
	default:
		return Selection{Source: Omitted}
	}

	baseHadOffline := Contains(sel.Scopes, OfflineAccess)
	if len(Without(sel.Scopes, OfflineAccess)) == 0 {
		// offline_access alone is no request for access: REF-3 adds it
		// only beside another scope.
		return Selection{Source: Omitted, OfflineAccessDropped: baseHadOffline}
	}
	canRefresh := Contains(Normalize(in.ServerScopes), OfflineAccess) &&
		Contains(Normalize(in.GrantTypes), RefreshTokenGrant)
	switch {
	case !canRefresh && baseHadOffline:
		sel.Scopes = Without(sel.Scopes, OfflineAccess)
		sel.OfflineAccessDropped = true
	case canRefresh && !baseHadOffline:
		sel.Scopes = append(sel.Scopes, OfflineAccess)
		sel.OfflineAccessAdded = true
	}
	return sel
}
