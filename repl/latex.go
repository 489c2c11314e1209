package repl

import (
	"strings"
	"unicode"
)

// texSymbols maps TeX commands to the Unicode text they stand for.
var texSymbols = map[string]string{
	"alpha": "α", "beta": "β", "gamma": "γ", "delta": "δ", "epsilon": "ε", "varepsilon": "ε", "zeta": "ζ",
	"eta": "η", "theta": "θ", "vartheta": "ϑ", "iota": "ι", "kappa": "κ", "lambda": "λ", "mu": "μ", "nu": "ν",
	"xi": "ξ", "pi": "π", "rho": "ρ", "sigma": "σ", "tau": "τ", "upsilon": "υ", "phi": "φ", "varphi": "φ",
	"chi": "χ", "psi": "ψ", "omega": "ω", "Gamma": "Γ", "Delta": "Δ", "Theta": "Θ", "Lambda": "Λ", "Xi": "Ξ",
	"Pi": "Π", "Sigma": "Σ", "Upsilon": "Υ", "Phi": "Φ", "Psi": "Ψ", "Omega": "Ω", "ell": "ℓ",
	"times": "×", "cdot": "·", "ast": "∗", "div": "÷", "pm": "±", "mp": "∓", "circ": "∘", "odot": "⊙",
	"otimes": "⊗", "oplus": "⊕", "sum": "∑", "prod": "∏", "int": "∫", "partial": "∂", "nabla": "∇",
	"infty": "∞", "approx": "≈", "sim": "∼", "simeq": "≃", "propto": "∝", "equiv": "≡", "ne": "≠", "neq": "≠",
	"le": "≤", "leq": "≤", "ge": "≥", "geq": "≥", "ll": "≪", "gg": "≫", "in": "∈", "notin": "∉",
	"subset": "⊂", "subseteq": "⊆", "cup": "∪", "cap": "∩", "forall": "∀", "exists": "∃", "neg": "¬",
	"wedge": "∧", "vee": "∨", "to": "→", "rightarrow": "→", "leftarrow": "←", "Rightarrow": "⇒",
	"Leftarrow": "⇐", "leftrightarrow": "↔", "mapsto": "↦", "gets": "←", "dots": "…", "ldots": "…",
	"cdots": "⋯", "vdots": "⋮", "lfloor": "⌊", "rfloor": "⌋", "lceil": "⌈", "rceil": "⌉", "langle": "⟨",
	"rangle": "⟩", "lVert": "‖", "rVert": "‖", "Vert": "‖", "|": "‖", "mid": "|", "top": "ᵀ", "intercal": "ᵀ",
	"prime": "′", "deg": "°", "quad": "  ", "qquad": "    ", ",": " ", ";": " ", ":": " ", ">": " ", " ": " ",
	"!": "", "{": "{", "}": "}", "%": "%", "_": "_", "&": "&", "#": "#", "$": "$", "\\": "; ",
	"log": "log", "ln": "ln", "exp": "exp", "max": "max", "min": "min", "arg": "arg", "argmax": "argmax",
	"argmin": "argmin", "sin": "sin", "cos": "cos", "tan": "tan", "tanh": "tanh", "det": "det", "lim": "lim",
	"sup": "sup", "inf": "inf", "dim": "dim",
}

// texIgnored are sizing and layout commands that print nothing themselves.
var texIgnored = map[string]bool{"left": true, "right": true, "big": true, "Big": true, "bigg": true,
	"Bigg": true, "bigl": true, "bigr": true, "Bigl": true, "Bigr": true, "displaystyle": true,
	"textstyle": true, "limits": true, "nolimits": true}

// texFonts print their argument as it is (the terminal has one font).
var texFonts = map[string]bool{"mathrm": true, "text": true, "textrm": true, "operatorname": true,
	"mathbf": true, "textbf": true, "mathit": true, "textit": true, "boldsymbol": true, "mathsf": true,
	"mathtt": true, "texttt": true, "emph": true, "mathcal": true, "mathrel": true, "mathop": true, "mbox": true}

// texAccents put a combining mark on their argument.
var texAccents = map[string]string{"hat": "\u0302", "widehat": "\u0302", "bar": "\u0304", "overline": "\u0305",
	"tilde": "\u0303", "widetilde": "\u0303", "vec": "\u20d7", "dot": "\u0307", "ddot": "\u0308"}

// blackboard maps \mathbb letters.
var blackboard = map[rune]string{'R': "ℝ", 'N': "ℕ", 'Z': "ℤ", 'Q': "ℚ", 'C': "ℂ", 'E': "𝔼", 'P': "ℙ"}

var (
	superscripts = scriptMap("0123456789+-=()nixyzabcdefghjklmoprstuvwABDEGHIJKLMNOPRTUVW′ᵀ∗−",
		"⁰¹²³⁴⁵⁶⁷⁸⁹⁺⁻⁼⁽⁾ⁿⁱˣʸᶻᵃᵇᶜᵈᵉᶠᵍʰʲᵏˡᵐᵒᵖʳˢᵗᵘᵛʷᴬᴮᴰᴱᴳᴴᴵᴶᴷᴸᴹᴺᴼᴾᴿᵀᵁⱽᵂ′ᵀ*⁻")
	subscripts = scriptMap("0123456789+-=()aehijklmnoprstuvxβγρφχ−", "₀₁₂₃₄₅₆₇₈₉₊₋₌₍₎ₐₑₕᵢⱼₖₗₘₙₒₚᵣₛₜᵤᵥₓᵦᵧᵨᵩᵪ₋")
)

// scriptMap pairs the runes of from with those of to.
func scriptMap(from, to string) map[rune]rune {
	f, t := []rune(from), []rune(to)
	m := make(map[rune]rune, len(f))
	for i, r := range f {
		m[r] = t[i]
	}
	return m
}

// texToText renders TeX math as readable Unicode text: Greek letters and operators as symbols, sub- and
// superscripts as Unicode scripts where every character has one (else as _(…) and ^(…)), \frac{a}{b} as a/b
// (parenthesized when a or b is more than one symbol), \sqrt{x} as √x, fonts and sizing dropped.
func texToText(src string) string {
	p := &texParser{s: []rune(src)}
	return strings.TrimSpace(p.seq(false))
}

// texParser is a recursive-descent reader of TeX math.
type texParser struct {
	s []rune
	i int
}

// seq reads atoms up to the end, or up to the closing brace of a group.
func (p *texParser) seq(group bool) string {
	var b strings.Builder
	for p.i < len(p.s) {
		c := p.s[p.i]
		switch {
		case c == '}':
			p.i++
			if group {
				return b.String()
			}
		case c == '{':
			p.i++
			b.WriteString(p.seq(true))
		case c == '^' || c == '_':
			p.i++
			b.WriteString(script(p.arg(), c == '^'))
		case c == '\\':
			b.WriteString(p.command())
		case c == '~':
			p.i++
			b.WriteByte(' ')
		case c == '&':
			p.i++
			b.WriteByte(' ')
		case c == '*':
			p.i++
			b.WriteString("∗")
		case c == '-' && (p.i+1 >= len(p.s) || p.s[p.i+1] != '-'):
			p.i++
			b.WriteString("−")
		case unicode.IsSpace(c):
			p.i++
			if s := b.String(); s != "" && !strings.HasSuffix(s, " ") {
				b.WriteByte(' ')
			}
		default:
			p.i++
			b.WriteRune(c)
		}
	}
	return b.String()
}

// arg reads a command's or a script's argument: a group, a command, or one character.
func (p *texParser) arg() string {
	for p.i < len(p.s) && unicode.IsSpace(p.s[p.i]) {
		p.i++
	}
	if p.i >= len(p.s) {
		return ""
	}
	switch c := p.s[p.i]; c {
	case '{':
		p.i++
		return p.seq(true)
	case '\\':
		return p.command()
	default:
		p.i++
		if c == '-' {
			return "−"
		}
		return string(c)
	}
}

// command reads a command at p.i (a backslash) and its arguments.
func (p *texParser) command() string {
	p.i++ // the backslash
	start := p.i
	for p.i < len(p.s) && unicode.IsLetter(p.s[p.i]) && p.s[p.i] < unicode.MaxASCII {
		p.i++
	}
	if p.i == start && p.i < len(p.s) { // a one-character command: \, \{ \\ …
		p.i++
	}
	name := string(p.s[start:p.i])
	switch {
	case name == "frac" || name == "tfrac" || name == "dfrac":
		num, den := p.arg(), p.arg()
		return wrapTerm(num) + "/" + wrapTerm(den)
	case name == "sqrt":
		index := ""
		if p.i < len(p.s) && p.s[p.i] == '[' {
			end := strings.IndexRune(string(p.s[p.i:]), ']')
			if end > 0 {
				index = string(p.s[p.i+1 : p.i+end])
				p.i += end + 1
			}
		}
		return script(index, true) + "√" + wrapTerm(p.arg())
	case name == "mathbb":
		var b strings.Builder
		for _, r := range p.arg() {
			if s, ok := blackboard[r]; ok {
				b.WriteString(s)
			} else {
				b.WriteRune(r)
			}
		}
		return b.String()
	case name == "begin" || name == "end":
		p.arg() // the environment's name
		return " "
	case texFonts[name]:
		return p.arg()
	case texAccents[name] != "":
		a := p.arg()
		if len([]rune(a)) == 1 {
			return a + texAccents[name]
		}
		return a + "\u0305"
	case texIgnored[name]:
		if p.i < len(p.s) && p.s[p.i] == '.' { // \left. and \right. print nothing
			p.i++
		}
		return ""
	}
	if s, ok := texSymbols[name]; ok {
		return s
	}
	return name
}

// wrapTerm parenthesizes a fraction's part unless it is a single symbol or number.
func wrapTerm(s string) string {
	s = strings.TrimSpace(s)
	simple := true
	for _, r := range s {
		if !unicode.IsLetter(r) && !unicode.IsDigit(r) && r != '.' && !unicode.Is(unicode.Mn, r) {
			simple = false
			break
		}
	}
	if simple && s != "" {
		return s
	}
	return "(" + s + ")"
}

// script renders s as a superscript (up) or subscript: Unicode script characters where every rune has one,
// otherwise ^x, ^(…), _x or _(…).
func script(s string, up bool) string {
	s = strings.ReplaceAll(strings.TrimSpace(s), " ", "")
	if s == "" {
		return ""
	}
	m, mark := subscripts, "_"
	if up {
		m, mark = superscripts, "^"
	}
	var b strings.Builder
	for _, r := range s {
		t, ok := m[r]
		if !ok {
			if len([]rune(s)) == 1 {
				return mark + s
			}
			return mark + "(" + s + ")"
		}
		b.WriteRune(t)
	}
	return b.String()
}
