// Command floorproxy is the floor of the proxy benchmarks: the least a
// separate process can do to forward stdio to Streamable HTTP. It reads a
// line, posts it with a fixed bearer token, copies the data lines of the
// answer to stdout, and reads the next line: no authorization flow, no
// JSON, no concurrency, no GET stream. It is good for the benchmark's echo
// calls on an initialized 2025-11-25 session and for nothing else.
//
//	MCPAUTH_FLOOR_TOKEN=... floorproxy SERVER_URL
package main

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"net/http"
	"os"
	"strings"
)

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "floorproxy:", err)
		os.Exit(1)
	}
}

func run() error {
	if len(os.Args) != 2 {
		return fmt.Errorf("usage: MCPAUTH_FLOOR_TOKEN=... floorproxy SERVER_URL")
	}
	url, auth := os.Args[1], "Bearer "+os.Getenv("MCPAUTH_FLOOR_TOKEN")
	in := bufio.NewScanner(os.Stdin)
	in.Buffer(nil, 1<<20)
	session := ""
	for in.Scan() {
		req, err := http.NewRequest(http.MethodPost, url, bytes.NewReader(bytes.Clone(in.Bytes())))
		if err != nil {
			return err
		}
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Accept", "application/json, text/event-stream")
		req.Header.Set("Authorization", auth)
		if session != "" {
			req.Header.Set("Mcp-Session-Id", session)
			req.Header.Set("Mcp-Protocol-Version", "2025-11-25")
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			return err
		}
		if s := resp.Header.Get("Mcp-Session-Id"); s != "" {
			session = s
		}
		body := bufio.NewReader(resp.Body)
		for {
			line, err := body.ReadString('\n')
			if data, ok := strings.CutPrefix(line, "data: "); ok {
				if _, err := os.Stdout.WriteString(data); err != nil {
					return err
				}
			}
			if err != nil {
				break
			}
		}
		_, _ = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
	}
	return in.Err()
}
