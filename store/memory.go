package store

import (
	"context"
	"sync"
)

// Memory is a Store held in process memory. Its zero value is ready to use.
type Memory struct {
	mu      sync.Mutex
	records map[Key]*Record
}

// NewMemory returns an empty in-memory store.
func NewMemory() *Memory { return &Memory{} }

// Load implements Store.
func (m *Memory) Load(_ context.Context, key Key) (*Record, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	r, ok := m.records[key]
	if !ok {
		return nil, ErrNotFound
	}
	return r.Clone(), nil
}

// List implements Store.
func (m *Memory) List(context.Context) ([]*Record, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	out := make([]*Record, 0, len(m.records))
	for _, r := range m.records {
		out = append(out, r.Clone())
	}
	return out, nil
}

// Update implements Store. fn runs with the store locked.
func (m *Memory) Update(_ context.Context, key Key, fn func(*Record) (*Record, error)) (*Record, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	next, err := fn(m.records[key].Clone())
	if err != nil {
		return nil, err
	}
	if next == nil {
		delete(m.records, key)
		return nil, nil
	}
	next = next.Clone()
	next.Key = key
	if m.records == nil {
		m.records = make(map[Key]*Record)
	}
	m.records[key] = next
	return next.Clone(), nil
}

// Delete implements Store.
func (m *Memory) Delete(_ context.Context, key Key) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	delete(m.records, key)
	return nil
}
