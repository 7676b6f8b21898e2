// Command client is the MCP client that the official conformance harness
// (@modelcontextprotocol/conformance) drives.
//
// The harness starts one mock server per scenario and runs
//
//	client <server-url>
//
// with the scenario named in MCP_CONFORMANCE_SCENARIO, the protocol version to
// speak in MCP_CONFORMANCE_PROTOCOL_VERSION and, for scenarios that need extra
// inputs, a JSON object in MCP_CONFORMANCE_CONTEXT. The client does what the
// scenario asks of an ordinary MCP client, exits 0 when that worked, and exits
// non-zero with a message on stderr when it did not (or when it refused, which
// is the expected outcome of some scenarios).
//
// Every auth/* scenario is handed to runAuthScenario (auth.go), which drives
// the mcpauth transport; everything else is implemented in this package on the
// official Go SDK.
package main

import (
	"context"
	"encoding/json"
	"fmt"
	"log"
	"os"
	"slices"
	"strings"
	"time"
)

// scenarioTimeout bounds one client run. The harness kills the client after
// 30 s by default; stopping a little earlier gives a readable error instead.
const scenarioTimeout = 25 * time.Second

// scenarioFunc runs one scenario against the mock server at serverURL.
type scenarioFunc func(ctx context.Context, serverURL string, env *scenarioEnv) error

// scenarioEnv is what the harness tells the client besides the server URL.
type scenarioEnv struct {
	// Name is the scenario name (MCP_CONFORMANCE_SCENARIO).
	Name string
	// ProtocolVersion is the MCP revision to speak
	// (MCP_CONFORMANCE_PROTOCOL_VERSION); empty means the SDK's latest.
	ProtocolVersion string
	// Context is the decoded MCP_CONFORMANCE_CONTEXT, nil when unset.
	Context map[string]any
}

// scenarios maps every non-auth client scenario of the harness to its
// implementation. auth/* scenarios are dispatched separately (see dispatch).
var scenarios = map[string]scenarioFunc{
	"initialize":                          runInitialize,
	"tools_call":                          runToolsCall,
	"elicitation-sep1034-client-defaults": runElicitationDefaults,
	"sse-retry":                           runSSERetry,
	"request-metadata":                    runRequestMetadata,
	"sep-2322-client-request-state":       runRequestState,
	"http-standard-headers":               runStandardHeaders,
	"http-custom-headers":                 runCustomHeaders,
	"http-invalid-tool-headers":           runInvalidToolHeaders,
	"json-schema-ref-no-deref":            runSchemaRefNoDeref,
	"json-schema-2020-12-preservation":    runSchemaPreservation,
	"sep-2640-client-no-prefetch":         runSkillsBrowse,
	"sep-2640-client-verify-digest":       runSkillsLoad,
	"sep-2640-client-verify-size":         runSkillsLoad,
	"sep-2640-client-verify-frontmatter":  runSkillsLoad,
}

func main() {
	log.SetFlags(0)
	log.SetPrefix("conformance-client: ")

	if len(os.Args) < 2 {
		fail("usage: %s <server-url> (scenario in MCP_CONFORMANCE_SCENARIO)", os.Args[0])
	}
	// The harness appends the URL as the last argument.
	serverURL := os.Args[len(os.Args)-1]

	env, err := readEnv()
	if err != nil {
		fail("%v", err)
	}

	ctx, cancel := context.WithTimeout(context.Background(), scenarioTimeout)
	defer cancel()

	if err := dispatch(ctx, serverURL, env); err != nil {
		cancel()
		fail("scenario %q: %v", env.Name, err)
	}
}

// dispatch runs the scenario named in env.
func dispatch(ctx context.Context, serverURL string, env *scenarioEnv) error {
	if strings.HasPrefix(env.Name, "auth/") {
		return runAuthScenario(ctx, serverURL, env.Name, env.Context)
	}
	run, ok := scenarios[env.Name]
	if !ok {
		return fmt.Errorf("unknown scenario; known: auth/* and %s", strings.Join(knownScenarios(), ", "))
	}
	return run(ctx, serverURL, env)
}

// readEnv decodes the harness's environment variables.
func readEnv() (*scenarioEnv, error) {
	env := &scenarioEnv{
		Name:            os.Getenv("MCP_CONFORMANCE_SCENARIO"),
		ProtocolVersion: os.Getenv("MCP_CONFORMANCE_PROTOCOL_VERSION"),
	}
	if env.Name == "" {
		return nil, fmt.Errorf("MCP_CONFORMANCE_SCENARIO is not set")
	}
	if raw := os.Getenv("MCP_CONFORMANCE_CONTEXT"); raw != "" {
		if err := json.Unmarshal([]byte(raw), &env.Context); err != nil {
			return nil, fmt.Errorf("MCP_CONFORMANCE_CONTEXT is not a JSON object: %v", err)
		}
	}
	return env, nil
}

// knownScenarios lists the non-auth scenario names, sorted.
func knownScenarios() []string {
	names := make([]string, 0, len(scenarios))
	for name := range scenarios {
		names = append(names, name)
	}
	slices.Sort(names)
	return names
}

// fail prints a message to stderr and exits with status 1.
func fail(format string, args ...any) {
	log.Printf(format, args...)
	os.Exit(1)
}
