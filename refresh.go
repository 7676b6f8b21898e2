package mcpauth

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/mcpauth/mcpauth/discovery"
	"github.com/mcpauth/mcpauth/store"
	"github.com/mcpauth/mcpauth/token"
)

// refreshTimeout bounds one refresh, which all concurrent callers share.
const refreshTimeout = 30 * time.Second

// errGrantGone means the stored grant can no longer be refreshed; the
// tokens were dropped and a new authorization is needed.
var errGrantGone = errors.New("the stored grant is no longer valid; a new login is needed")

// refresh exchanges rec's refresh token for a new access token (RFC 6749
// §6) with the resource (RES-1). However many goroutines ask at once, one
// refresh runs (singleflight); and since it runs inside the store's
// Update, a process sharing the store waits, then finds the new token
// instead of replaying a rotated refresh token. The new refresh token is
// stored before the new access token is used.
func (t *Transport) refresh(ctx context.Context, rec *store.Record) (*token.Token, error) {
	key, sent := rec.Key, rec.Token.AccessToken
	v, err, _ := t.flight.Do("refresh\x00"+key.Issuer, func() (any, error) {
		ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), refreshTimeout)
		defer cancel()
		var (
			result   *token.Token
			afterErr error
		)
		updated, err := t.store.Update(ctx, key, func(cur *store.Record) (*store.Record, error) {
			if cur == nil || cur.Token == nil {
				afterErr = errGrantGone
				return cur, nil
			}
			if cur.Token.AccessToken != sent && cur.Token.Fresh(t.now()) {
				result = cur.Token // refreshed meanwhile, by this process or another
				return cur, nil
			}
			if !cur.Token.CanRefresh() || cur.ServerMetadata == nil || cur.Client == nil {
				afterErr = errGrantGone
				return cur, nil
			}
			tok, err := t.refreshRecord(ctx, cur)
			switch {
			case err == nil:
				cur.Token, cur.UpdatedAt, result = tok, t.now(), tok
				return cur, nil
			case tokenErrorCode(err, "invalid_grant"):
				// The grant is revoked or expired: drop the tokens, keep
				// the registration.
				cur.Token = nil
				afterErr = fmt.Errorf("%w: %w", errGrantGone, err)
				return cur, nil
			case tokenErrorCode(err, "invalid_client", "unauthorized_client"):
				// The server no longer knows this client: drop the
				// registration too, so the next login registers afresh.
				cur.Token, cur.Client = nil, nil
				afterErr = fmt.Errorf("%w: %w", errGrantGone, err)
				return cur, nil
			default:
				// A 5xx or a network error: keep everything for a retry.
				return nil, err
			}
		})
		if err != nil {
			return nil, fmt.Errorf("mcpauth: refreshing the access token: %w", err)
		}
		t.setCurrent(updated)
		if afterErr != nil {
			return nil, afterErr
		}
		t.emit(Event{Kind: EventRefresh, Token: describeToken(result, t), Message: tokenMessage("access token refreshed", result, t)})
		return result, nil
	})
	if err != nil {
		return nil, err
	}
	return v.(*token.Token), nil
}

// refreshRecord makes the refresh request for rec, sending the resource
// unless the issuer is known to reject it; on a rejection it retries once
// without and remembers that in rec.
func (t *Transport) refreshRecord(ctx context.Context, rec *store.Record) (*token.Token, error) {
	ep, err := t.endpoint(rec.ServerMetadata, rec.Client)
	if err != nil {
		return nil, err
	}
	resource := rec.CanonicalResource
	if rec.OmitResourceOnRefresh {
		resource = ""
	}
	tok, err := ep.Refresh(ctx, rec.Token, resource)
	if err != nil && resource != "" && rejectsResource(err) {
		t.log.Debug("mcpauth: the authorization server rejected resource on refresh; retrying without it", "issuer", rec.Issuer)
		if tok, err = ep.Refresh(ctx, rec.Token, ""); err == nil {
			rec.OmitResourceOnRefresh = true
		}
	}
	return tok, err
}

// rejectsResource reports a token error that objects to the resource
// parameter: RFC 8707's invalid_target, or Microsoft Entra's AADSTS9010010.
func rejectsResource(err error) bool {
	var te *token.Error
	return errors.As(err, &te) && (te.Code == "invalid_target" || strings.Contains(te.Description, "AADSTS9010010"))
}

func tokenErrorCode(err error, codes ...string) bool {
	var te *token.Error
	if !errors.As(err, &te) {
		return false
	}
	for _, c := range codes {
		if te.Code == c {
			return true
		}
	}
	return false
}

// Token returns a valid access token for the server, refreshing it if
// needed. It never starts an interactive authorization: when a person
// must log in, it returns a *LoginRequiredError.
func (t *Transport) Token(ctx context.Context) (*token.Token, error) {
	tok, err := t.tokenForRequest(ctx)
	if err != nil {
		return nil, err
	}
	if tok == nil {
		return nil, &LoginRequiredError{ServerURL: t.serverURL, Reason: "no valid stored credentials"}
	}
	return tok, nil
}

// Login authorizes afresh, whatever is stored, and returns the new token.
// Discovery starts from the well-known locations, as no challenge is at
// hand.
func (t *Transport) Login(ctx context.Context) (*token.Token, error) {
	return t.authorizeShared(ctx, discovery.Challenge{Params: map[string]string{}}, nil)
}
