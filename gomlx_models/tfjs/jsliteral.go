package tfjs

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"
)

// Bundles such as nsfwjs ship model.json and the weight shards as browserify modules: a UMD preamble, then
// `….exports={modelTopology:…}` (a JavaScript object literal written by a minifier: unquoted keys, `!0`/`!1` for
// true/false, numbers like `.5`) or `….exports="<base64>"`. The reader below accepts exactly the literal subset
// such a module exports — objects, arrays, strings, numbers, true/false/!0/!1, null and `void 0` — and nothing
// that would need a JavaScript interpreter.

// exportRE finds the module export that holds the data: an object, array or string literal assigned to exports.
var exportRE = regexp.MustCompile(`\bexports\s*=\s*[{\["']`)

// exportedLiteral returns the value of the first `exports = <literal>` in a JavaScript module.
func exportedLiteral(src []byte) (any, error) {
	loc := exportRE.FindIndex(src)
	if loc == nil {
		return nil, fmt.Errorf("no `exports = {…}` or `exports = \"…\"` literal found (not a browserify model bundle)")
	}
	p := &literalParser{src: src, pos: loc[1] - 1}
	v, err := p.value(0)
	if err != nil {
		return nil, err
	}
	return v, nil
}

// maxLiteralDepth bounds the nesting of objects and arrays (Keras topologies nest about 10 deep).
const maxLiteralDepth = 200

type literalParser struct {
	src []byte
	pos int
}

func (p *literalParser) errorf(format string, args ...any) error {
	return fmt.Errorf("JavaScript literal at byte %d: %s", p.pos, fmt.Sprintf(format, args...))
}

func (p *literalParser) skipSpace() {
	for p.pos < len(p.src) {
		switch c := p.src[p.pos]; {
		case c == ' ' || c == '\t' || c == '\n' || c == '\r':
			p.pos++
		case c == '/' && p.pos+1 < len(p.src) && p.src[p.pos+1] == '*':
			end := strings.Index(string(p.src[p.pos+2:]), "*/")
			if end < 0 {
				p.pos = len(p.src)
				return
			}
			p.pos += end + 4
		case c == '/' && p.pos+1 < len(p.src) && p.src[p.pos+1] == '/':
			for p.pos < len(p.src) && p.src[p.pos] != '\n' {
				p.pos++
			}
		default:
			return
		}
	}
}

func (p *literalParser) hasPrefix(s string) bool {
	return strings.HasPrefix(string(p.src[p.pos:min(len(p.src), p.pos+len(s))]), s)
}

// value parses one literal: object, array, string, number, boolean, null or undefined (as nil).
func (p *literalParser) value(depth int) (any, error) {
	if depth > maxLiteralDepth {
		return nil, p.errorf("nested deeper than %d", maxLiteralDepth)
	}
	p.skipSpace()
	if p.pos >= len(p.src) {
		return nil, p.errorf("unexpected end of input")
	}
	switch c := p.src[p.pos]; {
	case c == '{':
		return p.object(depth)
	case c == '[':
		return p.array(depth)
	case c == '"' || c == '\'':
		return p.str()
	case c == '!':
		switch {
		case p.hasPrefix("!0"):
			p.pos += 2
			return true, nil
		case p.hasPrefix("!1"):
			p.pos += 2
			return false, nil
		}
		return nil, p.errorf("unsupported expression after '!'")
	case c == '-' || c == '+' || c == '.' || (c >= '0' && c <= '9'):
		return p.number()
	}
	for _, kw := range []struct {
		word string
		v    any
	}{{"true", true}, {"false", false}, {"null", nil}, {"void 0", nil}} {
		if p.hasPrefix(kw.word) && !p.identByteAt(p.pos+len(kw.word)) {
			p.pos += len(kw.word)
			return kw.v, nil
		}
	}
	return nil, p.errorf("unexpected %q", p.src[p.pos])
}

func (p *literalParser) identByteAt(i int) bool {
	if i >= len(p.src) {
		return false
	}
	c := p.src[i]
	return c == '_' || c == '$' || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')
}

func (p *literalParser) object(depth int) (any, error) {
	p.pos++ // '{'
	obj := make(map[string]any)
	for {
		p.skipSpace()
		if p.pos >= len(p.src) {
			return nil, p.errorf("unterminated object")
		}
		if p.src[p.pos] == '}' {
			p.pos++
			return obj, nil
		}
		var key string
		switch c := p.src[p.pos]; {
		case c == '"' || c == '\'':
			s, err := p.str()
			if err != nil {
				return nil, err
			}
			key = s
		case c >= '0' && c <= '9':
			n, err := p.number()
			if err != nil {
				return nil, err
			}
			key = strconv.FormatFloat(n, 'g', -1, 64)
		default:
			start := p.pos
			for p.identByteAt(p.pos) {
				p.pos++
			}
			if start == p.pos {
				return nil, p.errorf("expected an object key, got %q", c)
			}
			key = string(p.src[start:p.pos])
		}
		p.skipSpace()
		if p.pos >= len(p.src) || p.src[p.pos] != ':' {
			return nil, p.errorf("expected ':' after key %q", key)
		}
		p.pos++
		v, err := p.value(depth + 1)
		if err != nil {
			return nil, err
		}
		obj[key] = v
		p.skipSpace()
		if p.pos < len(p.src) && p.src[p.pos] == ',' {
			p.pos++
			continue
		}
		if p.pos < len(p.src) && p.src[p.pos] == '}' {
			p.pos++
			return obj, nil
		}
		return nil, p.errorf("expected ',' or '}' in object")
	}
}

func (p *literalParser) array(depth int) (any, error) {
	p.pos++ // '['
	arr := []any{}
	for {
		p.skipSpace()
		if p.pos >= len(p.src) {
			return nil, p.errorf("unterminated array")
		}
		if p.src[p.pos] == ']' {
			p.pos++
			return arr, nil
		}
		v, err := p.value(depth + 1)
		if err != nil {
			return nil, err
		}
		arr = append(arr, v)
		p.skipSpace()
		if p.pos < len(p.src) && p.src[p.pos] == ',' {
			p.pos++
			continue
		}
		if p.pos < len(p.src) && p.src[p.pos] == ']' {
			p.pos++
			return arr, nil
		}
		return nil, p.errorf("expected ',' or ']' in array")
	}
}

// str parses a single- or double-quoted string with JavaScript escapes.
func (p *literalParser) str() (string, error) {
	quote := p.src[p.pos]
	p.pos++
	start := p.pos
	// Fast path: no escapes (the multi-megabyte base64 shards).
	for i := p.pos; i < len(p.src); i++ {
		switch p.src[i] {
		case quote:
			p.pos = i + 1
			return string(p.src[start:i]), nil
		case '\\', '\n':
			i = len(p.src)
		}
	}
	var b strings.Builder
	for p.pos < len(p.src) {
		c := p.src[p.pos]
		switch {
		case c == quote:
			p.pos++
			return b.String(), nil
		case c == '\n':
			return "", p.errorf("newline in string")
		case c != '\\':
			b.WriteByte(c)
			p.pos++
			continue
		}
		p.pos++
		if p.pos >= len(p.src) {
			break
		}
		e := p.src[p.pos]
		p.pos++
		switch e {
		case 'n':
			b.WriteByte('\n')
		case 't':
			b.WriteByte('\t')
		case 'r':
			b.WriteByte('\r')
		case 'b':
			b.WriteByte('\b')
		case 'f':
			b.WriteByte('\f')
		case 'v':
			b.WriteByte('\v')
		case '0':
			b.WriteByte(0)
		case 'x', 'u':
			n := 2
			if e == 'u' {
				n = 4
			}
			if p.pos+n > len(p.src) {
				return "", p.errorf("short \\%c escape", e)
			}
			r, err := strconv.ParseUint(string(p.src[p.pos:p.pos+n]), 16, 32)
			if err != nil {
				return "", p.errorf("bad \\%c escape", e)
			}
			p.pos += n
			b.WriteRune(rune(r))
		case '\n':
		default:
			b.WriteByte(e)
		}
	}
	return "", p.errorf("unterminated string")
}

// number parses a JavaScript numeric literal (decimal, with optional sign, leading '.', exponent; or hex).
func (p *literalParser) number() (float64, error) {
	start := p.pos
	if p.src[p.pos] == '-' || p.src[p.pos] == '+' {
		p.pos++
	}
	if p.hasPrefix("0x") || p.hasPrefix("0X") {
		p.pos += 2
		hs := p.pos
		for p.pos < len(p.src) && strings.IndexByte("0123456789abcdefABCDEF", p.src[p.pos]) >= 0 {
			p.pos++
		}
		v, err := strconv.ParseUint(string(p.src[hs:p.pos]), 16, 64)
		if err != nil {
			return 0, p.errorf("bad hex number %q", p.src[start:p.pos])
		}
		if p.src[start] == '-' {
			return -float64(v), nil
		}
		return float64(v), nil
	}
	for p.pos < len(p.src) {
		c := p.src[p.pos]
		if (c >= '0' && c <= '9') || c == '.' || c == 'e' || c == 'E' ||
			((c == '-' || c == '+') && (p.src[p.pos-1] == 'e' || p.src[p.pos-1] == 'E')) {
			p.pos++
			continue
		}
		break
	}
	text := string(p.src[start:p.pos])
	v, err := strconv.ParseFloat(text, 64)
	if err != nil {
		return 0, p.errorf("bad number %q", text)
	}
	return v, nil
}
