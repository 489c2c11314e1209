package reproduce

import (
	"fmt"
	"math"
	"strings"
)

// Verdict says how what we measured bears on the paper's claim. [Judge] is the one function that gives one.
type Verdict string

// Verdicts.
const (
	// Reproduced: the paper's direction or number holds, with the 95% interval clear of the opposite.
	Reproduced Verdict = "reproduced"
	// Close: the paper's claim does not hold as stated, but the whole interval is within the numeric tolerance
	// the row states.
	Close Verdict = "close"
	// Inconclusive: the interval includes no effect (or straddles the paper's tolerance): neither the claim nor
	// its opposite is shown.
	Inconclusive Verdict = "inconclusive"
	// NotReproduced: the interval excludes the paper's claim.
	NotReproduced Verdict = "not reproduced"
	// Shown: a mechanism or identity with no paper number, demonstrated (its check passed).
	Shown Verdict = "shown"
	// Failed: the experiment did not run to the end.
	Failed Verdict = "error"
)

// ClaimKind is the form of a paper's claim about a measured quantity.
type ClaimKind int

// Claim kinds.
const (
	// Greater: the quantity exceeds Ref (a difference above 0, a speed-up above 1, an accuracy above a bound).
	Greater ClaimKind = iota + 1
	// Less: the quantity is below Ref.
	Less
	// Near: the quantity is the paper's number Ref, within Tol (its printed precision, or a stated agreement).
	Near
	// Identity: a mechanism without a paper number; the quantity is a deviation that must stay within Tol.
	Identity
)

// Claim is what a row judges: the paper's statement about one measured quantity.
type Claim struct {
	Kind ClaimKind
	// Ref is the bound (Greater, Less) or the paper's number (Near).
	Ref float64
	// Tol is the agreement tolerance of Near and Identity.
	Tol float64
	// CloseTol, when positive, is a looser tolerance the row states: a claim that does not hold, with the whole
	// interval within CloseTol of Ref (beyond Ref on the wrong side for Greater and Less), is *close*.
	CloseTol float64
	// Unit is appended to numbers in the verdict's reason ("%", " points", "×").
	Unit string
}

// Above claims the quantity exceeds ref.
func Above(ref float64) Claim { return Claim{Kind: Greater, Ref: ref} }

// Below claims the quantity is under ref.
func Below(ref float64) Claim { return Claim{Kind: Less, Ref: ref} }

// Equals claims the quantity is the paper's number ref, within tol.
func Equals(ref, tol float64) Claim { return Claim{Kind: Near, Ref: ref, Tol: math.Abs(tol)} }

// Holds claims a mechanism: the deviation measured (an absolute difference, a count of mismatches) is at most tol.
func Holds(tol float64) Claim { return Claim{Kind: Identity, Tol: math.Abs(tol)} }

// OrClose states the looser tolerance for a *close* verdict.
func (c Claim) OrClose(tol float64) Claim { c.CloseTol = math.Abs(tol); return c }

// In sets the unit the verdict's reason prints after numbers.
func (c Claim) In(unit string) Claim { c.Unit = unit; return c }

// String says the claim in words, e.g. "> 0 points" or "= 28 ± 0.5%".
func (c Claim) String() string {
	g := func(v float64) string { return strings.Replace(fmt.Sprintf("%.4g", v), "-", "−", 1) + c.Unit }
	var s string
	switch c.Kind {
	case Greater:
		s = "> " + g(c.Ref)
	case Less:
		s = "< " + g(c.Ref)
	case Near:
		s = fmt.Sprintf("= %s ± %s", g(c.Ref), g(c.Tol))
	case Identity:
		s = "deviation ≤ " + g(c.Tol)
	default:
		return "no claim"
	}
	if c.CloseTol > 0 {
		s += fmt.Sprintf(" (close: within %s)", g(c.CloseTol))
	}
	return s
}

// Judgement is a verdict with what it was reached from.
type Judgement struct {
	Verdict  Verdict  `json:"verdict"`
	Claim    Claim    `json:"claim"`
	Estimate Estimate `json:"estimate"`
	// Indicative marks a judgement from the quick profile's reduced data, steps or seeds.
	Indicative bool `json:"indicative,omitempty"`
	// Reason says in one line why: the interval against the claim.
	Reason string `json:"reason"`
}

// Label is the verdict as a table prints it: "inconclusive", or "reproduced (indicative)" in the quick profile.
func (j Judgement) Label() string {
	if j.Verdict == "" {
		return "—"
	}
	if j.Indicative {
		return string(j.Verdict) + " (indicative)"
	}
	return string(j.Verdict)
}

// Judge is the verdict function every table shares: `convnotes reproduce`, the notebooks' closing tables and
// the README all call it. Given the claim and what we measured:
//
//   - Greater / Less: *reproduced* when the 95% interval lies wholly beyond Ref on the claimed side,
//     *not reproduced* when it lies wholly on the other side (beyond or at Ref), *inconclusive* when it
//     contains Ref;
//   - Near: *reproduced* when the interval lies within Ref ± Tol, *not reproduced* when it lies wholly outside,
//     *inconclusive* when it straddles an edge;
//   - Identity: *shown* when the whole interval of the deviation is within Tol, *not reproduced* otherwise;
//   - a claim with a stated CloseTol turns *not reproduced* (and, for Near, *inconclusive*) into *close* when the
//     whole interval is within CloseTol of Ref.
//
// An estimate with an unbounded interval (one seed, no known error) is never *reproduced* nor *not
// reproduced*: it is *inconclusive*.
func Judge(c Claim, e Estimate) Judgement {
	j := Judgement{Claim: c, Estimate: e}
	lo, hi := e.Lo, e.Hi
	f := func(v float64) string { return strings.Replace(fmt.Sprintf("%.4g", v), "-", "−", 1) + c.Unit }
	interval := fmt.Sprintf("95%% interval [%s, %s]", f(lo), f(hi))
	if lo == hi {
		interval = "exact value " + f(lo)
	}
	if math.IsNaN(lo) || math.IsNaN(hi) || math.IsNaN(e.Mean) {
		j.Verdict, j.Reason = Inconclusive, "the estimate is not a number"
		return j
	}
	switch c.Kind {
	case Greater, Less:
		beyond, opposite := lo > c.Ref, hi <= c.Ref
		side, other := "above", "at or below"
		if c.Kind == Less {
			beyond, opposite = hi < c.Ref, lo >= c.Ref
			side, other = "below", "at or above"
		}
		switch {
		case math.IsInf(lo, -1) && math.IsInf(hi, 1):
			j.Verdict, j.Reason = Inconclusive, "no interval ("+e.Method+"): cannot tell the claim from its opposite"
		case beyond:
			j.Verdict, j.Reason = Reproduced, fmt.Sprintf("%s lies %s %s", interval, side, f(c.Ref))
		case opposite:
			j.Verdict, j.Reason = NotReproduced, fmt.Sprintf("%s lies %s %s", interval, other, f(c.Ref))
			if c.CloseTol > 0 && (c.Kind == Greater && lo >= c.Ref-c.CloseTol || c.Kind == Less && hi <= c.Ref+c.CloseTol) {
				j.Verdict, j.Reason = Close, j.Reason+fmt.Sprintf(", within the stated %s of it", f(c.CloseTol))
			}
		default:
			j.Verdict, j.Reason = Inconclusive, fmt.Sprintf("%s contains %s", interval, f(c.Ref))
		}
	case Near:
		a, b := c.Ref-c.Tol, c.Ref+c.Tol
		band := fmt.Sprintf("%s ± %s", f(c.Ref), f(c.Tol))
		switch {
		case math.IsInf(lo, -1) && math.IsInf(hi, 1):
			j.Verdict, j.Reason = Inconclusive, "no interval ("+e.Method+")"
		case lo >= a && hi <= b:
			j.Verdict, j.Reason = Reproduced, fmt.Sprintf("%s lies within %s", interval, band)
		case hi < a || lo > b:
			j.Verdict, j.Reason = NotReproduced, fmt.Sprintf("%s lies outside %s", interval, band)
		default:
			j.Verdict, j.Reason = Inconclusive, fmt.Sprintf("%s straddles the edge of %s", interval, band)
		}
		if j.Verdict != Reproduced && c.CloseTol > 0 && lo >= c.Ref-c.CloseTol && hi <= c.Ref+c.CloseTol {
			j.Verdict, j.Reason = Close, j.Reason+fmt.Sprintf(", within the stated %s ± %s", f(c.Ref), f(c.CloseTol))
		}
	case Identity:
		if math.Max(math.Abs(lo), math.Abs(hi)) <= c.Tol {
			j.Verdict, j.Reason = Shown, fmt.Sprintf("deviation %s ≤ %s", f(math.Max(math.Abs(lo), math.Abs(hi))), f(c.Tol))
		} else {
			j.Verdict, j.Reason = NotReproduced, fmt.Sprintf("deviation up to %s exceeds %s", f(math.Max(math.Abs(lo), math.Abs(hi))), f(c.Tol))
		}
	default:
		j.Verdict, j.Reason = Failed, "no claim to judge"
	}
	return j
}

// Judge is [Judge] marked indicative in the quick profile.
func (e *Env) Judge(c Claim, est Estimate) Judgement {
	j := Judge(c, est)
	j.Indicative = e.Quick
	return j
}

// JudgeSteps judges an ordering step by step: for i = 1 … len(ests)−1 the paired difference ests[i] − ests[i−1]
// against claim(i). It returns each step's judgement (combine them with [AllOf]) and difference.
func (e *Env) JudgeSteps(ests []Estimate, claim func(i int) Claim) ([]Judgement, []Estimate, error) {
	if len(ests) < 2 {
		return nil, nil, fmt.Errorf("an ordering needs two estimates or more, got %d", len(ests))
	}
	js := make([]Judgement, 0, len(ests)-1)
	diffs := make([]Estimate, 0, len(ests)-1)
	for i := 1; i < len(ests); i++ {
		d, err := PairedDifference(ests[i], ests[i-1])
		if err != nil {
			return nil, nil, fmt.Errorf("step %d of an ordering: %w", i, err)
		}
		js = append(js, e.Judge(claim(i), d))
		diffs = append(diffs, d)
	}
	return js, diffs, nil
}

// rank orders verdicts from the weakest to the strongest support for a claim.
var rank = map[Verdict]int{Failed: 0, NotReproduced: 1, Inconclusive: 2, Close: 3, Reproduced: 4, Shown: 5}

// AllOf judges a row that makes several claims at once (a checkerboard for k = 3 *and* none for k = 4): its
// verdict is the weakest of theirs, with that judgement's claim and estimate, and every reason.
func AllOf(js ...Judgement) Judgement {
	if len(js) == 0 {
		return Judgement{Verdict: Failed, Reason: "no claim to judge"}
	}
	w := js[0]
	reasons := make([]string, len(js))
	for i, j := range js {
		reasons[i] = j.Reason
		if rank[j.Verdict] < rank[w.Verdict] {
			w = j
		}
		w.Indicative = w.Indicative || j.Indicative
	}
	w.Reason = strings.Join(reasons, "; ")
	return w
}

// Provided makes j *inconclusive* when a precondition of its measurement failed (runs stopped before their loss
// went flat, a sample smaller than the design needs): what was measured then neither supports nor refutes the
// claim. why says what failed; a judgement whose precondition held (ok) is returned unchanged, and so is a
// *shown*, *inconclusive* or *error* one.
func (j Judgement) Provided(ok bool, why string) Judgement {
	if ok {
		return j
	}
	switch j.Verdict {
	case Reproduced, NotReproduced, Close:
		j.Reason = fmt.Sprintf("%s, so the measurement cannot judge the claim (it would be %s: %s)", why, j.Verdict, j.Reason)
		j.Verdict = Inconclusive
	}
	return j
}
