package store

import (
	"errors"
	"os"
	"path/filepath"
	"runtime"
	"strconv"

	"github.com/zalando/go-keyring"
)

// secrets is the part of go-keyring the Keyring store uses; tests replace
// it. Get and Delete return keyring.ErrNotFound for a missing item.
type secrets interface {
	Set(service, user, secret string) error
	Get(service, user string) (string, error)
	Delete(service, user string) error
}

// systemSecrets is the operating system's keyring through go-keyring:
// Secret Service over D-Bus on Linux and BSD, Keychain on macOS,
// Credential Manager on Windows.
type systemSecrets struct{}

func (systemSecrets) Set(service, user, secret string) error {
	return keyring.Set(service, user, secret)
}
func (systemSecrets) Get(service, user string) (string, error) {
	return keyring.Get(service, user)
}
func (systemSecrets) Delete(service, user string) error { return keyring.Delete(service, user) }

// itemLimit returns the most bytes one keyring item's secret holds here.
// Windows Credential Manager refuses a secret over 2560 bytes; go-keyring
// hands a macOS secret, base64-encoded, to security(1) in a command line
// of at most 4096 bytes, about 2900 bytes of secret. Secret Service has no
// limit. 0 means no limit.
func itemLimit() int {
	switch runtime.GOOS {
	case "windows", "darwin", "ios":
		return 2048
	}
	return 0
}

// sessionBus reports an error when Secret Service cannot be reached for
// want of a D-Bus session bus. Without one, go-keyring's D-Bus library
// would run dbus-launch, if installed, to start a bus of its own for each
// process, and leave it running.
func sessionBus() error {
	switch runtime.GOOS {
	case "windows", "darwin", "ios", "android", "plan9", "js", "wasip1":
		return nil
	}
	if os.Getenv("DBUS_SESSION_BUS_ADDRESS") != "" {
		return nil
	}
	if _, err := os.Stat(filepath.Join("/run/user", strconv.Itoa(os.Getuid()), "bus")); err == nil {
		return nil
	}
	return errors.New("no D-Bus session bus for Secret Service: DBUS_SESSION_BUS_ADDRESS is not set")
}
