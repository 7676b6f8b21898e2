package store

import "encoding/json"

// encoded returns r's JSON as stored under key, or nil for a nil record.
// Update compares what fn returns with what it was given this way, and
// skips the write, with its fsyncs or keyring calls, when nothing changed:
// a caller may take the lock only to decide that its token is still good.
// It is computed before fn runs, since fn may change its argument in
// place, slices included.
func encoded(r *Record, key Key) []byte {
	if r == nil {
		return nil
	}
	c := *r
	c.Key = key
	b, err := json.Marshal(&c)
	if err != nil {
		return nil
	}
	return b
}
