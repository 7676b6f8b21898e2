// Sample values derived from JSON Schemas: the arguments this unattended
// client passes to tools, and the answers its simulated user gives to form
// elicitations.

package main

import (
	"context"
	"encoding/json"
	"log"
	"slices"

	"github.com/modelcontextprotocol/go-sdk/mcp"
)

// objectSchema is the part of an object schema this file reads.
type objectSchema struct {
	Properties map[string]map[string]any `json:"properties"`
	Required   []string                  `json:"required"`
}

// decodeObjectSchema reads an object schema given as any JSON-compatible
// value (a map, json.RawMessage, or a struct that marshals to JSON).
func decodeObjectSchema(schema any) (objectSchema, error) {
	var out objectSchema
	if schema == nil {
		return out, nil
	}
	err := remarshal(schema, &out)
	return out, err
}

// remarshal converts a JSON-compatible value into out by way of JSON.
func remarshal(in, out any) error {
	raw, err := json.Marshal(in)
	if err != nil {
		return err
	}
	return json.Unmarshal(raw, out)
}

// sampleArguments builds arguments for a tool call from the tool's input
// schema: one value for every required property, chosen by sampleValue.
// Optional properties are left out.
func sampleArguments(tool *mcp.Tool) (map[string]any, error) {
	schema, err := decodeObjectSchema(tool.InputSchema)
	if err != nil {
		return nil, err
	}
	args := map[string]any{}
	for _, name := range schema.Required {
		args[name] = sampleValue(schema.Properties[name])
	}
	return args, nil
}

// sampleValue picks a value that satisfies a simple property schema: its
// const, default, or first enum value when there is one, else a fixed value
// of its type.
func sampleValue(prop map[string]any) any {
	if v, ok := prop["const"]; ok {
		return v
	}
	if v, ok := prop["default"]; ok {
		return v
	}
	if enum, ok := prop["enum"].([]any); ok && len(enum) > 0 {
		return enum[0]
	}
	switch prop["type"] {
	case "integer", "number":
		return 1
	case "boolean":
		return true
	case "array":
		return []any{}
	case "object":
		return map[string]any{}
	case "null":
		return nil
	default:
		return "example"
	}
}

// acceptingUser stands in for a person answering elicitation requests: it
// accepts every form, leaves fields that have a default empty (the client
// then fills in the schema default, SEP-1034), confirms yes/no questions, and
// gives sample values for the other required fields. It declines URL-mode
// elicitations, since nobody is there to open a browser.
func acceptingUser(_ context.Context, req *mcp.ElicitRequest) (*mcp.ElicitResult, error) {
	if req.Params.Mode == "url" {
		log.Printf("elicitation %q asks to open %s: declined (no user)", req.Params.Message, req.Params.URL)
		return &mcp.ElicitResult{Action: "decline"}, nil
	}
	schema, err := decodeObjectSchema(req.Params.RequestedSchema)
	if err != nil {
		return nil, err
	}
	content := map[string]any{}
	for name, prop := range schema.Properties {
		switch {
		case prop["default"] != nil:
			// Left empty: the default applies.
		case prop["type"] == "boolean":
			content[name] = true
		case slices.Contains(schema.Required, name):
			content[name] = sampleValue(prop)
		}
	}
	log.Printf("elicitation %q: accepted with %v", req.Params.Message, content)
	return &mcp.ElicitResult{Action: "accept", Content: content}, nil
}
