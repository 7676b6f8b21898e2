// Parsing the YAML frontmatter of a SKILL.md.
//
// Skill frontmatter is a small YAML mapping (name, description, license,
// metadata, allowed-tools and the like). This parser reads the block-style
// subset such files use: mappings nested by indentation, block sequences,
// plain, single- and double-quoted scalars, and literal/folded block
// scalars. Anything else (flow collections, anchors, aliases, tags,
// duplicate keys) is rejected, so a file the host cannot read exactly is
// refused rather than guessed at.

package main

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"
)

// frontmatterRe matches a leading "---" line, the YAML block, and the
// closing "---" line.
var frontmatterRe = regexp.MustCompile(`^---\r?\n((?s:.*?))\r?\n---[ \t]*(?:\r?\n|$)`)

// parseFrontmatter extracts and parses the frontmatter of a SKILL.md.
func parseFrontmatter(text string) (map[string]any, error) {
	text = strings.TrimPrefix(text, "\ufeff")
	m := frontmatterRe.FindStringSubmatch(text)
	if m == nil {
		return nil, fmt.Errorf("no frontmatter: the file does not start with a ---delimited YAML block")
	}
	p := &yamlParser{lines: strings.Split(strings.ReplaceAll(m[1], "\r\n", "\n"), "\n")}
	v, err := p.parseBlock(0)
	if err != nil {
		return nil, fmt.Errorf("frontmatter: %v", err)
	}
	if p.pos < len(p.lines) {
		return nil, fmt.Errorf("frontmatter: line %d: unexpected indentation", p.pos+1)
	}
	mapping, ok := v.(map[string]any)
	if !ok {
		return nil, fmt.Errorf("frontmatter is not a mapping")
	}
	return mapping, nil
}

// yamlParser reads lines of a block-style YAML document.
type yamlParser struct {
	lines []string
	pos   int
}

// next skips blank and comment lines and returns the indentation and text of
// the next content line; ok is false at the end.
func (p *yamlParser) next() (indent int, text string, ok bool) {
	for p.pos < len(p.lines) {
		line := p.lines[p.pos]
		trimmed := strings.TrimLeft(line, " ")
		if strings.TrimSpace(trimmed) == "" || strings.HasPrefix(trimmed, "#") {
			p.pos++
			continue
		}
		if strings.HasPrefix(trimmed, "\t") {
			return 0, "", false
		}
		return len(line) - len(trimmed), strings.TrimRight(trimmed, " \t"), true
	}
	return 0, "", false
}

// parseBlock parses the mapping or sequence whose lines are indented by at
// least minIndent. An empty block is null.
func (p *yamlParser) parseBlock(minIndent int) (any, error) {
	indent, text, ok := p.next()
	if !ok || indent < minIndent {
		return nil, nil
	}
	if text == "-" || strings.HasPrefix(text, "- ") {
		return p.parseSequence(indent)
	}
	return p.parseMapping(indent)
}

// parseMapping parses "key: value" lines at exactly indent.
func (p *yamlParser) parseMapping(indent int) (map[string]any, error) {
	out := map[string]any{}
	for {
		ind, text, ok := p.next()
		if !ok || ind < indent {
			return out, nil
		}
		if ind > indent {
			return nil, fmt.Errorf("line %d: unexpected indentation", p.pos+1)
		}
		key, rest, err := splitKey(text)
		if err != nil {
			return nil, fmt.Errorf("line %d: %v", p.pos+1, err)
		}
		if _, dup := out[key]; dup {
			return nil, fmt.Errorf("line %d: duplicate key %q", p.pos+1, key)
		}
		p.pos++
		v, err := p.parseValue(rest, indent)
		if err != nil {
			return nil, err
		}
		out[key] = v
	}
}

// parseSequence parses "- item" lines at exactly indent.
func (p *yamlParser) parseSequence(indent int) ([]any, error) {
	out := []any{}
	for {
		ind, text, ok := p.next()
		if !ok || ind < indent {
			return out, nil
		}
		if ind > indent || !(text == "-" || strings.HasPrefix(text, "- ")) {
			return nil, fmt.Errorf("line %d: expected a sequence item", p.pos+1)
		}
		rest := strings.TrimSpace(strings.TrimPrefix(text, "-"))
		if _, _, err := splitKey(rest); err == nil && !strings.HasPrefix(rest, `"`) && !strings.HasPrefix(rest, "'") {
			return nil, fmt.Errorf("line %d: mappings inside sequences are not supported", p.pos+1)
		}
		p.pos++
		v, err := p.parseValue(rest, indent)
		if err != nil {
			return nil, err
		}
		out = append(out, v)
	}
}

// parseValue parses what follows "key:" or "-": an inline scalar, a block
// scalar, or (when empty) a nested block on the following lines.
func (p *yamlParser) parseValue(rest string, parentIndent int) (any, error) {
	line := p.pos // the line after the key, 1-based
	if strings.HasPrefix(rest, "#") {
		rest = ""
	}
	switch {
	case rest == "":
		// A sequence may sit at the key's own indentation.
		if ind, text, ok := p.next(); ok && ind == parentIndent && (text == "-" || strings.HasPrefix(text, "- ")) {
			return p.parseSequence(ind)
		}
		return p.parseBlock(parentIndent + 1)
	case strings.HasPrefix(rest, "|") || strings.HasPrefix(rest, ">"):
		return p.parseBlockScalar(rest, parentIndent)
	case strings.ContainsAny(rest[:1], "[{&*!%@`"):
		return nil, fmt.Errorf("line %d: unsupported YAML (flow collection, anchor, alias, tag or reserved indicator)", line)
	case rest[0] == '"':
		return parseDoubleQuoted(rest, line)
	case rest[0] == '\'':
		return parseSingleQuoted(rest, line)
	}
	// A plain scalar may continue on more-indented lines; they are folded
	// into one line with single spaces.
	text := stripComment(rest)
	for {
		ind, cont, ok := p.next()
		if !ok || ind <= parentIndent {
			break
		}
		text += " " + stripComment(cont)
		p.pos++
	}
	if strings.Contains(text, ": ") || strings.HasSuffix(text, ":") {
		return nil, fmt.Errorf("line %d: \": \" inside a plain scalar (quote the value)", line)
	}
	return resolvePlain(text), nil
}

// parseBlockScalar parses a literal (|) or folded (>) block scalar with an
// optional chomping indicator (- strip, + keep; default clip).
func (p *yamlParser) parseBlockScalar(header string, parentIndent int) (string, error) {
	style, chomp := header[0], ""
	if ind := strings.TrimSpace(header[1:]); ind != "" && !strings.HasPrefix(ind, "#") {
		if ind != "-" && ind != "+" {
			return "", fmt.Errorf("line %d: unsupported block scalar header %q", p.pos, header)
		}
		chomp = ind
	}
	var body []string
	indent := -1
	for p.pos < len(p.lines) {
		line := p.lines[p.pos]
		trimmed := strings.TrimLeft(line, " ")
		if trimmed == "" {
			body = append(body, "")
			p.pos++
			continue
		}
		ind := len(line) - len(trimmed)
		if indent < 0 {
			indent = ind
		}
		if ind <= parentIndent || ind < indent {
			break
		}
		body = append(body, line[indent:])
		p.pos++
	}
	// Trailing blank lines belong to the chomping, not to the content.
	trailing := 0
	for len(body) > 0 && body[len(body)-1] == "" {
		body = body[:len(body)-1]
		trailing++
	}
	var text string
	if style == '|' {
		text = strings.Join(body, "\n")
	} else {
		var b strings.Builder
		// Folding: a line break between two text lines becomes a space; each
		// blank line becomes one line break.
		for i, l := range body {
			switch {
			case l == "":
				b.WriteString("\n")
			case i > 0 && body[i-1] != "":
				b.WriteString(" ")
			}
			b.WriteString(l)
		}
		text = b.String()
	}
	switch {
	case len(body) == 0:
		return "", nil
	case chomp == "-":
		return text, nil
	case chomp == "+":
		return text + "\n" + strings.Repeat("\n", trailing), nil
	default:
		return text + "\n", nil
	}
}

// splitKey splits "key: rest" (or "key:" at the end of the line).
func splitKey(text string) (key, rest string, err error) {
	i := strings.Index(text, ": ")
	if i < 0 {
		if !strings.HasSuffix(text, ":") {
			return "", "", fmt.Errorf("expected \"key: value\"")
		}
		i = len(text) - 1
	}
	key = strings.TrimSpace(text[:i])
	switch {
	case key == "":
		return "", "", fmt.Errorf("empty key")
	case strings.ContainsAny(key[:1], "[{&*!%@`?|>"):
		return "", "", fmt.Errorf("unsupported key %q", key)
	case key[0] == '"' || key[0] == '\'':
		return "", "", fmt.Errorf("quoted keys are not supported")
	}
	return key, strings.TrimSpace(text[i+1:]), nil
}

// stripComment removes a " #" comment from a plain scalar.
func stripComment(s string) string {
	if i := strings.Index(s, " #"); i >= 0 {
		s = s[:i]
	}
	return strings.TrimSpace(s)
}

// intRe and floatRe are the YAML 1.2 core schema number forms.
var (
	intRe   = regexp.MustCompile(`^[-+]?[0-9]+$`)
	floatRe = regexp.MustCompile(`^[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?$`)
)

// resolvePlain gives a plain scalar its YAML 1.2 core schema type: null,
// boolean, number (as float64, like encoding/json) or string.
func resolvePlain(s string) any {
	switch s {
	case "", "~", "null", "Null", "NULL":
		return nil
	case "true", "True", "TRUE":
		return true
	case "false", "False", "FALSE":
		return false
	}
	if intRe.MatchString(s) || floatRe.MatchString(s) {
		if f, err := strconv.ParseFloat(s, 64); err == nil {
			return f
		}
	}
	return s
}

// parseSingleQuoted parses a single-quoted scalar that ends on its line.
func parseSingleQuoted(s string, line int) (string, error) {
	var b strings.Builder
	for i := 1; i < len(s); i++ {
		if s[i] != '\'' {
			b.WriteByte(s[i])
			continue
		}
		if i+1 < len(s) && s[i+1] == '\'' {
			b.WriteByte('\'')
			i++
			continue
		}
		if rest := stripComment(s[i+1:]); rest != "" {
			return "", fmt.Errorf("line %d: text after quoted scalar", line)
		}
		return b.String(), nil
	}
	return "", fmt.Errorf("line %d: unterminated or multi-line quoted scalar", line)
}

// doubleQuoteEscapes maps the single-character escapes of double-quoted
// YAML scalars.
var doubleQuoteEscapes = map[byte]string{
	'0': "\x00", 'a': "\a", 'b': "\b", 't': "\t", '\t': "\t", 'n': "\n",
	'v': "\v", 'f': "\f", 'r': "\r", 'e': "\x1b", ' ': " ", '"': "\"",
	'/': "/", '\\': "\\", 'N': "\u0085", '_': "\u00a0", 'L': "\u2028", 'P': "\u2029",
}

// parseDoubleQuoted parses a double-quoted scalar that ends on its line.
func parseDoubleQuoted(s string, line int) (string, error) {
	var b strings.Builder
	for i := 1; i < len(s); i++ {
		switch c := s[i]; c {
		case '"':
			if rest := stripComment(s[i+1:]); rest != "" {
				return "", fmt.Errorf("line %d: text after quoted scalar", line)
			}
			return b.String(), nil
		case '\\':
			if i+1 >= len(s) {
				return "", fmt.Errorf("line %d: multi-line quoted scalars are not supported", line)
			}
			i++
			if e, ok := doubleQuoteEscapes[s[i]]; ok {
				b.WriteString(e)
				continue
			}
			width := map[byte]int{'x': 2, 'u': 4, 'U': 8}[s[i]]
			if width == 0 || i+width >= len(s) {
				return "", fmt.Errorf("line %d: bad escape \\%c", line, s[i])
			}
			r, err := strconv.ParseUint(s[i+1:i+1+width], 16, 32)
			if err != nil {
				return "", fmt.Errorf("line %d: bad escape \\%s", line, s[i:i+1+width])
			}
			b.WriteRune(rune(r))
			i += width
		default:
			b.WriteByte(c)
		}
	}
	return "", fmt.Errorf("line %d: unterminated or multi-line quoted scalar", line)
}
