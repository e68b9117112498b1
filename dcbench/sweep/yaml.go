package sweep

import (
	"fmt"
	"strconv"
	"strings"
)

// parseYAML parses the small YAML subset a sweep spec needs into map[string]any / []any /
// scalars: block mappings and block sequences by indentation (spaces only), flow sequences
// [a, b] and flow mappings {k: v} on one line, plain and quoted scalars (numbers, true/false,
// null/~), and # comments. Anchors, tags, multi-line scalars and multiple documents are
// refused with the line number.
func parseYAML(src []byte) (any, error) {
	var lines []yline
	for i, raw := range strings.Split(strings.ReplaceAll(string(src), "\r\n", "\n"), "\n") {
		text := stripComment(raw)
		if strings.TrimSpace(text) == "" {
			continue
		}
		if strings.TrimSpace(text) == "---" && len(lines) == 0 {
			continue
		}
		trimmed := strings.TrimLeft(text, " ")
		if strings.HasPrefix(trimmed, "\t") || strings.HasPrefix(text, "\t") {
			return nil, fmt.Errorf("line %d: tabs are not allowed for indentation", i+1)
		}
		lines = append(lines, yline{no: i + 1, indent: len(text) - len(trimmed), text: strings.TrimRight(trimmed, " ")})
	}
	if len(lines) == 0 {
		return map[string]any{}, nil
	}
	p := &yparser{lines: lines}
	v, err := p.block(lines[0].indent)
	if err != nil {
		return nil, err
	}
	if p.i < len(p.lines) {
		l := p.lines[p.i]
		return nil, fmt.Errorf("line %d: unexpected indentation or content %q", l.no, l.text)
	}
	return v, nil
}

type yline struct {
	no, indent int
	text       string
}

type yparser struct {
	lines []yline
	i     int
}

func isSeqItem(s string) bool { return s == "-" || strings.HasPrefix(s, "- ") }

// block parses the mapping or sequence whose lines start at the given indentation.
func (p *yparser) block(indent int) (any, error) {
	if isSeqItem(p.lines[p.i].text) {
		return p.sequence(indent)
	}
	return p.mapping(indent)
}

func (p *yparser) sequence(indent int) (any, error) {
	var out []any
	for p.i < len(p.lines) {
		l := p.lines[p.i]
		if l.indent < indent {
			break
		}
		if l.indent > indent {
			return nil, fmt.Errorf("line %d: unexpected indentation", l.no)
		}
		if !isSeqItem(l.text) {
			return nil, fmt.Errorf("line %d: expected a list item \"- ...\", got %q", l.no, l.text)
		}
		item := strings.TrimLeft(strings.TrimPrefix(l.text, "-"), " ")
		if item == "" { // the item is the nested block below
			p.i++
			if p.i >= len(p.lines) || p.lines[p.i].indent <= indent {
				out = append(out, nil)
				continue
			}
			v, err := p.block(p.lines[p.i].indent)
			if err != nil {
				return nil, err
			}
			out = append(out, v)
			continue
		}
		if _, _, isKey := splitKey(item); isKey && !strings.HasPrefix(item, "[") && !strings.HasPrefix(item, "{") {
			// "- key: value" starts a mapping whose lines are indented like "key".
			p.lines[p.i] = yline{no: l.no, indent: indent + (len(l.text) - len(item)), text: item}
			v, err := p.mapping(p.lines[p.i].indent)
			if err != nil {
				return nil, err
			}
			out = append(out, v)
			continue
		}
		v, err := flowValue(item, l.no)
		if err != nil {
			return nil, err
		}
		out = append(out, v)
		p.i++
	}
	return out, nil
}

func (p *yparser) mapping(indent int) (any, error) {
	out := map[string]any{}
	for p.i < len(p.lines) {
		l := p.lines[p.i]
		if l.indent < indent {
			break
		}
		if l.indent > indent {
			return nil, fmt.Errorf("line %d: unexpected indentation", l.no)
		}
		if isSeqItem(l.text) {
			return nil, fmt.Errorf("line %d: a list item where a \"key: value\" was expected", l.no)
		}
		key, rest, ok := splitKey(l.text)
		if !ok {
			return nil, fmt.Errorf("line %d: expected \"key: value\", got %q", l.no, l.text)
		}
		if _, dup := out[key]; dup {
			return nil, fmt.Errorf("line %d: key %q given twice", l.no, key)
		}
		p.i++
		if rest != "" {
			v, err := flowValue(rest, l.no)
			if err != nil {
				return nil, err
			}
			out[key] = v
			continue
		}
		// Nested block: more indented, or a sequence at the same indentation.
		if p.i < len(p.lines) && (p.lines[p.i].indent > indent || p.lines[p.i].indent == indent && isSeqItem(p.lines[p.i].text)) {
			v, err := p.block(p.lines[p.i].indent)
			if err != nil {
				return nil, err
			}
			out[key] = v
		} else {
			out[key] = nil
		}
	}
	return out, nil
}

// splitKey splits "key: rest" (the colon outside quotes and brackets, followed by a space or
// the end).
func splitKey(s string) (key, rest string, ok bool) {
	depth, quote := 0, byte(0)
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case quote != 0:
			if c == quote {
				quote = 0
			}
		case c == '"' || c == '\'':
			quote = c
		case c == '[' || c == '{':
			depth++
		case c == ']' || c == '}':
			depth--
		case c == ':' && depth == 0 && (i+1 == len(s) || s[i+1] == ' '):
			key = strings.TrimSpace(s[:i])
			if uq, err := unquote(key); err == nil {
				key = uq
			}
			return key, strings.TrimSpace(s[i+1:]), key != ""
		}
	}
	return "", "", false
}

// stripComment removes a # comment (at the start or after a space, outside quotes).
func stripComment(s string) string {
	quote := byte(0)
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case quote != 0:
			if c == quote {
				quote = 0
			}
		case c == '"' || c == '\'':
			quote = c
		case c == '#' && (i == 0 || s[i-1] == ' ' || s[i-1] == '\t'):
			return s[:i]
		}
	}
	return s
}

func unquote(s string) (string, error) {
	if len(s) >= 2 && s[0] == '"' && s[len(s)-1] == '"' {
		return strconv.Unquote(s)
	}
	if len(s) >= 2 && s[0] == '\'' && s[len(s)-1] == '\'' {
		return strings.ReplaceAll(s[1:len(s)-1], "''", "'"), nil
	}
	return s, fmt.Errorf("not quoted")
}

// flowValue parses a value on one line: a flow sequence or mapping, or a scalar.
func flowValue(s string, line int) (any, error) {
	switch s[0] {
	case '|', '>':
		return nil, fmt.Errorf("line %d: multi-line strings (| and >) are not supported", line)
	case '&', '*', '!':
		return nil, fmt.Errorf("line %d: anchors, aliases and tags are not supported", line)
	}
	f := &flow{s: s, line: line}
	v, err := f.value()
	if err != nil {
		return nil, err
	}
	f.space()
	if f.i < len(f.s) {
		return nil, fmt.Errorf("line %d: unexpected %q after the value", line, f.s[f.i:])
	}
	return v, nil
}

type flow struct {
	s    string
	i    int
	line int
}

func (f *flow) space() {
	for f.i < len(f.s) && f.s[f.i] == ' ' {
		f.i++
	}
}

func (f *flow) errorf(format string, args ...any) error {
	return fmt.Errorf("line %d: %s", f.line, fmt.Sprintf(format, args...))
}

func (f *flow) value() (any, error) {
	f.space()
	if f.i >= len(f.s) {
		return nil, f.errorf("missing value")
	}
	switch f.s[f.i] {
	case '[':
		f.i++
		var out []any
		for {
			f.space()
			if f.i < len(f.s) && f.s[f.i] == ']' {
				f.i++
				if out == nil {
					out = []any{}
				}
				return out, nil
			}
			v, err := f.value()
			if err != nil {
				return nil, err
			}
			out = append(out, v)
			f.space()
			if f.i < len(f.s) && f.s[f.i] == ',' {
				f.i++
				continue
			}
			if f.i < len(f.s) && f.s[f.i] == ']' {
				continue
			}
			return nil, f.errorf("unterminated list %q: expected , or ]", f.s)
		}
	case '{':
		f.i++
		out := map[string]any{}
		for {
			f.space()
			if f.i < len(f.s) && f.s[f.i] == '}' {
				f.i++
				return out, nil
			}
			start := f.i
			for f.i < len(f.s) && f.s[f.i] != ':' {
				f.i++
			}
			if f.i >= len(f.s) {
				return nil, f.errorf("expected \"key: value\" in %q", f.s)
			}
			key := strings.TrimSpace(f.s[start:f.i])
			if uq, err := unquote(key); err == nil {
				key = uq
			}
			f.i++
			v, err := f.value()
			if err != nil {
				return nil, err
			}
			out[key] = v
			f.space()
			if f.i < len(f.s) && f.s[f.i] == ',' {
				f.i++
				continue
			}
			if f.i < len(f.s) && f.s[f.i] == '}' {
				continue
			}
			return nil, f.errorf("unterminated mapping %q: expected , or }", f.s)
		}
	case '"', '\'':
		q := f.s[f.i]
		start := f.i
		f.i++
		for f.i < len(f.s) {
			if f.s[f.i] == '\\' && q == '"' {
				f.i += 2
				continue
			}
			if f.s[f.i] == q {
				if q == '\'' && f.i+1 < len(f.s) && f.s[f.i+1] == '\'' {
					f.i += 2
					continue
				}
				f.i++
				s, err := unquote(f.s[start:f.i])
				if err != nil {
					return nil, f.errorf("bad quoted string %s", f.s[start:f.i])
				}
				return s, nil
			}
			f.i++
		}
		return nil, f.errorf("unterminated string %s", f.s[start:])
	}
	start := f.i
	for f.i < len(f.s) && !strings.ContainsRune(",]}", rune(f.s[f.i])) {
		f.i++
	}
	return scalar(strings.TrimSpace(f.s[start:f.i])), nil
}

// scalar converts a plain scalar: null, booleans, integers, floats, else the string.
func scalar(s string) any {
	switch strings.ToLower(s) {
	case "null", "~", "":
		return nil
	case "true":
		return true
	case "false":
		return false
	}
	if i, err := strconv.ParseInt(s, 10, 64); err == nil {
		return i
	}
	if x, err := strconv.ParseFloat(s, 64); err == nil {
		return x
	}
	return s
}
