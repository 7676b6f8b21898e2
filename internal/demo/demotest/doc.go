// Package demotest drives the demo authorization server from tests: a
// scripted browser that follows an authorization URL through the consent
// page, and a one-call authorization code flow built on golang.org/x/oauth2.
// It talks to loopback servers only.
package demotest
