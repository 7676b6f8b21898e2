package store

import (
	"context"
	"fmt"
	"path/filepath"
	"sync"
	"time"

	"github.com/gofrs/flock"
)

// lockRetry is how often a lock held by another process is tried again.
const lockRetry = 5 * time.Millisecond

// procLocks holds one semaphore per lock file path for this process. An
// flock is tied to an open file, and on some systems (fcntl locks) to the
// process, so it alone does not keep two goroutines, or two stores on one
// directory, apart.
var procLocks struct {
	sync.Mutex
	m map[string]chan struct{}
}

// fileLock is a lock on a lock file, held across processes with flock(2)
// (LockFileEx on Windows) and within this process with a semaphore. It is
// what makes Update atomic across processes. The lock file is never
// removed: removing a lock file races with a process that has just opened
// it.
type fileLock struct {
	path string
	sem  chan struct{}
}

func newFileLock(path string) *fileLock {
	path = filepath.Clean(path)
	procLocks.Lock()
	defer procLocks.Unlock()
	if procLocks.m == nil {
		procLocks.m = make(map[string]chan struct{})
	}
	sem, ok := procLocks.m[path]
	if !ok {
		sem = make(chan struct{}, 1)
		procLocks.m[path] = sem
	}
	return &fileLock{path: path, sem: sem}
}

// lock waits for the lock, shared or exclusive across processes, until ctx
// is done. The returned func releases it.
func (l *fileLock) lock(ctx context.Context, shared bool) (unlock func(), err error) {
	select {
	case l.sem <- struct{}{}:
	case <-ctx.Done():
		return nil, fmt.Errorf("mcpauth store: waiting for lock %s: %w", l.path, ctx.Err())
	}
	fl := flock.New(l.path, flock.SetPermissions(0o600))
	var ok bool
	if shared {
		ok, err = fl.TryRLockContext(ctx, lockRetry)
	} else {
		ok, err = fl.TryLockContext(ctx, lockRetry)
	}
	if err == nil && !ok {
		err = ctx.Err()
	}
	if err != nil {
		_ = fl.Close()
		<-l.sem
		return nil, fmt.Errorf("mcpauth store: waiting for lock %s: %w", l.path, err)
	}
	return func() {
		_ = fl.Unlock()
		<-l.sem
	}, nil
}
