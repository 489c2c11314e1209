package repl

import (
	"regexp"
	"strings"
)

// style holds the ANSI sequences used to render text; all empty for plain text.
type style struct {
	bold, dim, italic, under, reset string
}

// plainStyle renders without escape sequences (pipes, files, tests).
var plainStyle = style{}

// ansiStyle renders with ANSI attributes (terminals).
var ansiStyle = style{bold: "\x1b[1m", dim: "\x1b[2m", italic: "\x1b[3m", under: "\x1b[4m", reset: "\x1b[0m"}

var (
	mdHeading  = regexp.MustCompile(`^(#{1,6})\s+(.*?)\s*#*\s*$`)
	mdBullet   = regexp.MustCompile(`^(\s*)[-*+]\s+(.*)$`)
	mdNumbered = regexp.MustCompile(`^(\s*)(\d+)[.)]\s+(.*)$`)
	mdFence    = regexp.MustCompile("^\\s*(```|~~~)\\s*([\\w+-]*)")
	mdBold     = regexp.MustCompile(`\*\*([^*]+)\*\*|__([^_]+)__`)
	mdItalic   = regexp.MustCompile(`(^|[^*\w])\*([^*\s][^*]*)\*`)
	mdCode     = regexp.MustCompile("`([^`]+)`")
	mdLink     = regexp.MustCompile(`!?\[([^\]]*)\]\(([^)\s]+)[^)]*\)`)
	mdRule     = regexp.MustCompile(`^\s*([-*_])(\s*[-*_]){2,}\s*$`)
)

// renderMarkdown turns a markdown cell into readable terminal text:
// headings stand out (underlined for levels 1–2), lists get bullets, code
// blocks are indented, links show their target, and LaTeX ($…$, $$…$$) is
// rendered as Unicode text (texToText). Paragraphs and list items are wrapped
// to width; a list item's continuation lines, in the source and when
// wrapped, keep the item's indentation.
func renderMarkdown(src string, st style, width int) string {
	var out []string
	var para []string
	prefix := "" // first-line prefix of the paragraph or list item in para
	flush := func() {
		if len(para) > 0 {
			out = append(out, wrap(strings.Join(para, " "), width, prefix)...)
			para, prefix = nil, ""
		}
	}
	lines := strings.Split(strings.ReplaceAll(src, "\r\n", "\n"), "\n")
	inFence, inMath := false, false
	for _, line := range lines {
		trimmed := strings.TrimSpace(line)
		if m := mdFence.FindStringSubmatch(line); m != nil {
			flush()
			if !inFence && m[2] != "" {
				out = append(out, st.dim+"    ("+m[2]+")"+st.reset)
			}
			inFence = !inFence
			continue
		}
		if inFence {
			out = append(out, "    "+line)
			continue
		}
		if trimmed == "$$" || (strings.HasPrefix(trimmed, "$$") && !strings.HasSuffix(trimmed[2:], "$$")) ||
			(inMath && strings.HasSuffix(trimmed, "$$")) {
			flush()
			if math := texToText(strings.Trim(trimmed, "$")); math != "" {
				out = append(out, "    "+math)
			}
			inMath = !inMath
			continue
		}
		if inMath || (len(trimmed) > 4 && strings.HasPrefix(trimmed, "$$") && strings.HasSuffix(trimmed, "$$")) {
			flush()
			out = append(out, "    "+texToText(strings.Trim(trimmed, "$")))
			continue
		}
		item := prefix != ""
		switch {
		case trimmed == "":
			flush()
			if len(out) > 0 && out[len(out)-1] != "" {
				out = append(out, "")
			}
		case mdHeading.MatchString(trimmed):
			flush()
			m := mdHeading.FindStringSubmatch(trimmed)
			text := inline(m[2], plainStyle)
			if len(out) > 0 && out[len(out)-1] != "" {
				out = append(out, "")
			}
			switch len(m[1]) {
			case 1:
				out = append(out, st.bold+strings.ToUpper(text)+st.reset, strings.Repeat("=", runeLen(text)))
			case 2:
				out = append(out, st.bold+text+st.reset, strings.Repeat("-", runeLen(text)))
			default:
				out = append(out, st.bold+st.under+text+st.reset)
			}
		case mdRule.MatchString(trimmed):
			flush()
			out = append(out, strings.Repeat("─", min(width, 40)))
		case mdBullet.MatchString(line):
			flush()
			m := mdBullet.FindStringSubmatch(line)
			prefix = strings.Repeat(" ", len(m[1])) + "  • "
			para = append(para, inline(m[2], st))
		case mdNumbered.MatchString(line):
			flush()
			m := mdNumbered.FindStringSubmatch(line)
			prefix = strings.Repeat(" ", len(m[1])) + "  " + m[2] + ". "
			para = append(para, inline(m[3], st))
		case item && !strings.HasPrefix(trimmed, "|"):
			para = append(para, inline(trimmed, st)) // the item's text goes on
		case strings.HasPrefix(trimmed, "|"), strings.HasPrefix(trimmed, ">"), strings.HasPrefix(line, "    "):
			flush() // tables, quotes and indented code keep their layout
			out = append(out, inline(line, st))
		default:
			para = append(para, inline(trimmed, st))
		}
	}
	flush()
	for len(out) > 0 && out[len(out)-1] == "" {
		out = out[:len(out)-1]
	}
	return strings.Join(out, "\n")
}

// mdMath matches inline TeX, $…$: no space inside either dollar, and no digit right after the closing one
// (so "$5 and $10" stays text).
var mdMath = regexp.MustCompile(`\$([^\s$](?:[^$\n]*[^\s$])?)\$([^\d]|$)`)

// inline renders inline math, emphasis, inline code and links.
func inline(s string, st style) string {
	s = mdMath.ReplaceAllStringFunc(s, func(m string) string {
		g := mdMath.FindStringSubmatch(m)
		return texToText(g[1]) + g[2]
	})
	s = mdLink.ReplaceAllStringFunc(s, func(m string) string {
		g := mdLink.FindStringSubmatch(m)
		if strings.HasPrefix(m, "!") {
			return "[image: " + g[1] + " <" + g[2] + ">]"
		}
		if g[1] == g[2] || g[1] == "" {
			return "<" + g[2] + ">"
		}
		return g[1] + " <" + g[2] + ">"
	})
	s = mdBold.ReplaceAllStringFunc(s, func(m string) string {
		g := mdBold.FindStringSubmatch(m)
		return st.bold + g[1] + g[2] + st.reset
	})
	s = mdItalic.ReplaceAllString(s, "${1}"+st.italic+"${2}"+st.reset)
	if st.bold != "" {
		s = mdCode.ReplaceAllString(s, st.dim+"`$1`"+st.reset)
	}
	return s
}

// wrap word-wraps text to width columns; the first line starts with
// prefix and the next ones with as many spaces.
func wrap(text string, width int, prefix string) []string {
	words := strings.Fields(text)
	pad := strings.Repeat(" ", runeLen(prefix))
	var lines []string
	cur := prefix
	curLen := runeLen(prefix)
	empty := true
	for _, w := range words {
		wl := visibleLen(w)
		if !empty && curLen+1+wl > width {
			lines = append(lines, cur)
			cur, curLen, empty = pad, runeLen(pad), true
		}
		if !empty {
			cur += " "
			curLen++
		}
		cur += w
		curLen += wl
		empty = false
	}
	if !empty || len(lines) == 0 {
		lines = append(lines, cur)
	}
	return lines
}

// runeLen is the number of runes of s.
func runeLen(s string) int { return len([]rune(s)) }

// ansiSeq matches ANSI escape sequences.
var ansiSeq = regexp.MustCompile(`\x1b\[[0-9;?]*[ -/]*[@-~]`)

// visibleLen is the number of runes of s without ANSI sequences.
func visibleLen(s string) int { return runeLen(ansiSeq.ReplaceAllString(s, "")) }
