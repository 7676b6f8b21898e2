package mcpauth

import (
	"context"
	"errors"
	"fmt"

	"github.com/mcpauth/mcpauth/discovery"
	"github.com/mcpauth/mcpauth/store"
)

// chooseServer picks one of the authorization servers a resource lists
// (AS-1) and returns its metadata. In order of preference: one this client
// already holds credentials for; one with a pre-registered client; the
// first that supports client ID metadata documents (when one is
// configured); the first with dynamic registration; the first listed.
// Metadata is fetched only as far as the choice needs it.
func (t *Transport) chooseServer(ctx context.Context, issuers []string) (*discovery.ServerMetadata, error) {
	if len(issuers) == 1 {
		return t.fetcher.ServerMetadata(ctx, issuers[0])
	}
	for _, iss := range issuers {
		rec, err := t.store.Load(ctx, store.Key{Resource: t.serverURL, Issuer: iss})
		if err == nil && rec.Token != nil && (rec.Token.Fresh(t.now()) || rec.Token.CanRefresh()) {
			return t.chose(ctx, iss, "credentials for it are already held")
		}
	}
	for _, iss := range issuers {
		if _, ok := t.cfg.PreRegistered[iss]; ok {
			return t.chose(ctx, iss, "a pre-registered client is configured for it")
		}
	}
	var (
		all      = make([]*discovery.ServerMetadata, len(issuers))
		firstErr error
	)
	for i, iss := range issuers {
		md, err := t.fetcher.ServerMetadata(ctx, iss)
		if err != nil {
			t.log.Debug("mcpauth: authorization server unusable", "issuer", iss, "err", err)
			firstErr = cmpErr(firstErr, err)
			continue
		}
		all[i] = md
		if t.cfg.ClientIDMetadataURL != "" && md.ClientIDMetadataDocumentSupported {
			t.log.Debug("mcpauth: chose authorization server", "issuer", iss, "reason", "first to support client ID metadata documents")
			return md, nil
		}
	}
	for _, md := range all {
		if md != nil && md.RegistrationEndpoint != "" {
			t.log.Debug("mcpauth: chose authorization server", "issuer", md.Issuer, "reason", "first with dynamic client registration")
			return md, nil
		}
	}
	for _, md := range all {
		if md != nil {
			t.log.Debug("mcpauth: chose authorization server", "issuer", md.Issuer, "reason", "first usable listed")
			return md, nil
		}
	}
	return nil, fmt.Errorf("none of the %d authorization servers is usable: %w", len(issuers), firstErr)
}

func (t *Transport) chose(ctx context.Context, issuer, reason string) (*discovery.ServerMetadata, error) {
	t.log.Debug("mcpauth: chose authorization server", "issuer", issuer, "reason", reason)
	return t.fetcher.ServerMetadata(ctx, issuer)
}

func cmpErr(first, next error) error {
	if first != nil {
		return first
	}
	if next == nil {
		return errors.New("unknown error")
	}
	return next
}
