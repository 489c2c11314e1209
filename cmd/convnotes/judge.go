package main

import (
	"flag"
	"fmt"
	"math"
	"regexp"
	"strconv"
	"strings"

	"github.com/convnotes/convnotes/gomlx_models/reproduce"
)

func init() {
	commands["judge"] = command{"judge one row: a claim about measured numbers, by the verdict function every table uses", judgeCmd}
}

const judgeUsage = `usage: convnotes judge --claim CLAIM --a A [--b B] [--close TOL] [--unit U] [--paired] [--seeds S]

Judges a claim with reproduce.Judge, the function behind every verdict of convnotes, and prints the verdict,
the estimate with its 95% interval, and the reason.

CLAIM (spaces are ignored; X, T are numbers):
  a<b  a>b          a is below / above b (Welch t on a − b; paired t with --paired)
  a=b±T             a and b agree within T
  a<X  a>X  a=X±T   a against a number (a paper's, say)
  a/b>X  a/b<X      the ratio of paired seeds (geometric mean, t on log ratios)
  |a|<=T            a deviation within T: a mechanism shown (verdict "shown")

A and B (a measurement):
  3.64±0.19  (or 3.64+-0.19)  a value with its standard error (normal interval)
  1.2,1.4,1.3                 one value per seed (t interval over seeds); seeds 1, 2, … unless --seeds
                              (with --seeds, a single value is one seed's: no interval)
  3.64                        an exact value (a count, or a paper's number)

--close TOL states the looser tolerance that turns "not reproduced" into "close".

Example: convnotes judge --claim 'a<b' --a 3.64±0.19 --b 3.70±0.19   (SDAE vs SAE test error: inconclusive)
`

func judgeCmd(args []string) error {
	fs := flag.NewFlagSet("judge", flag.ContinueOnError)
	claim := fs.String("claim", "", "the claim, e.g. 'a<b', 'a>1', 'a=28±0.5', 'a/b>1', '|a|<=1e-5'")
	a := fs.String("a", "", "the first measurement: 3.64±0.19, 1.2,1.4,1.3 or 3.64")
	b := fs.String("b", "", "the second measurement, for claims that compare a with b")
	closeTol := fs.Float64("close", 0, "a looser tolerance the row states: within it, a claim that fails is *close*")
	unit := fs.String("unit", "", "unit printed after numbers (%, points, ×)")
	paired := fs.Bool("paired", false, "a and b are per-seed values of the same seeds, in the same order: compare them seed by seed")
	seeds := fs.String("seeds", "", "the seeds of per-seed values, e.g. 1,2,3 (default 1, 2, …)")
	fs.Usage = func() {
		fmt.Fprint(fs.Output(), judgeUsage)
		fs.PrintDefaults()
	}
	rest, err := parseInterleaved(fs, args)
	if err != nil {
		return err
	}
	if len(rest) > 0 {
		return fmt.Errorf("%w: judge takes flags only, got %q", errUsage, rest)
	}
	j, quantity, err := judgeRow(judgeInput{claim: *claim, a: *a, b: *b, close: *closeTol, unit: *unit, paired: *paired, seeds: *seeds})
	if err != nil {
		return fmt.Errorf("%w: %v", errUsage, err)
	}
	fmt.Print(describeJudgement(j, quantity))
	return nil
}

// judgeInput is one row to judge, as the command line gives it.
type judgeInput struct {
	claim, a, b, seeds string
	close              float64
	unit               string
	paired             bool
}

var (
	claimRE = regexp.MustCompile(`^(?:(a)(<|>)(b)|(a)=(b)±(.+)|(a)(<|>)([^ab±]+)|(a)=([^ab±]+)±(.+)|(a)/(b)(<|>)(.+)|\|a\|<=(.+))$`)
	pmRE    = regexp.MustCompile(`^([^±]+)±([^±]+)$`)
)

// judgeRow parses a row and judges it; quantity names what was judged ("a − b", "a", "a/b").
func judgeRow(in judgeInput) (j reproduce.Judgement, quantity string, err error) {
	fail := func(err error) (reproduce.Judgement, string, error) { return reproduce.Judgement{}, "", err }
	claim := strings.ReplaceAll(strings.ReplaceAll(in.claim, " ", ""), "+-", "±")
	if claim == "" {
		return fail(fmt.Errorf("--claim is missing"))
	}
	m := claimRE.FindStringSubmatch(claim)
	if m == nil {
		return fail(fmt.Errorf("claim %q is not one of a<b, a>b, a=b±T, a<X, a>X, a=X±T, a/b<X, a/b>X, |a|<=T", in.claim))
	}
	seeds, err := parseSeeds(in.seeds)
	if err != nil {
		return fail(err)
	}
	a, err := parseEstimate("a", in.a, seeds)
	if err != nil {
		return fail(err)
	}
	needB := m[1] != "" || m[4] != "" || m[13] != ""
	var b reproduce.Estimate
	if needB {
		if b, err = parseEstimate("b", in.b, seeds); err != nil {
			return fail(err)
		}
	} else if in.b != "" {
		return fail(fmt.Errorf("claim %q does not use b, but --b is given", in.claim))
	}
	if in.paired && !needB {
		return fail(fmt.Errorf("--paired needs a claim that compares a with b"))
	}
	var c reproduce.Claim
	est, quantity := a, "a"
	switch {
	case m[1] != "": // a<b, a>b
		c, quantity = above(m[2] == ">", 0), "a − b"
		if est, err = difference(a, b, in.paired); err != nil {
			return fail(err)
		}
	case m[4] != "": // a=b±T
		tol, err := number("tolerance", m[6])
		if err != nil {
			return fail(err)
		}
		c, quantity = reproduce.Equals(0, tol), "a − b"
		if est, err = difference(a, b, in.paired); err != nil {
			return fail(err)
		}
	case m[7] != "": // a<X, a>X
		x, err := number("bound", m[9])
		if err != nil {
			return fail(err)
		}
		c = above(m[8] == ">", x)
	case m[10] != "": // a=X±T
		x, err := number("paper's number", m[11])
		if err != nil {
			return fail(err)
		}
		tol, err := number("tolerance", m[12])
		if err != nil {
			return fail(err)
		}
		c = reproduce.Equals(x, tol)
	case m[13] != "": // a/b<X, a/b>X
		x, err := number("bound", m[16])
		if err != nil {
			return fail(err)
		}
		c, quantity = above(m[15] == ">", x), "a/b"
		if est, err = reproduce.PairedRatio(a, b); err != nil {
			return fail(fmt.Errorf("a/b needs per-seed values of the same seeds for a and b: %w", err))
		}
	default: // |a|<=T
		tol, err := number("tolerance", m[17])
		if err != nil {
			return fail(err)
		}
		c, quantity = reproduce.Holds(tol), "|a|"
	}
	if in.close < 0 || math.IsNaN(in.close) {
		return fail(fmt.Errorf("--close %g must be ≥ 0", in.close))
	}
	if in.close > 0 {
		c = c.OrClose(in.close)
	}
	return reproduce.Judge(c.In(in.unit), est), quantity, nil
}

func above(greater bool, x float64) reproduce.Claim {
	if greater {
		return reproduce.Above(x)
	}
	return reproduce.Below(x)
}

// difference is a − b: Welch's, or seed by seed with paired.
func difference(a, b reproduce.Estimate, paired bool) (reproduce.Estimate, error) {
	if !paired {
		return reproduce.Difference(a, b), nil
	}
	d, err := reproduce.PairedDifference(a, b)
	if err != nil {
		return d, fmt.Errorf("--paired needs per-seed values of the same seeds for a and b: %w", err)
	}
	return d, nil
}

// parseEstimate reads a measurement: "m±se", "v1,v2,…" (one per seed) or "v".
func parseEstimate(name, s string, seeds []int64) (reproduce.Estimate, error) {
	s = strings.ReplaceAll(strings.ReplaceAll(s, " ", ""), "+-", "±")
	switch {
	case s == "":
		return reproduce.Estimate{}, fmt.Errorf("--%s is missing", name)
	case strings.Contains(s, "±"):
		m := pmRE.FindStringSubmatch(s)
		if m == nil {
			return reproduce.Estimate{}, fmt.Errorf("--%s %q: want MEAN±SE", name, s)
		}
		mean, err := number("--"+name+" mean", m[1])
		if err != nil {
			return reproduce.Estimate{}, err
		}
		se, err := number("--"+name+" standard error", m[2])
		if err != nil {
			return reproduce.Estimate{}, err
		}
		if se < 0 {
			return reproduce.Estimate{}, fmt.Errorf("--%s: standard error %g is negative", name, se)
		}
		return reproduce.MeanSE(mean, se), nil
	case strings.Contains(s, ",") || seeds != nil:
		parts := strings.Split(s, ",")
		vals := make([]float64, len(parts))
		for i, p := range parts {
			v, err := number(fmt.Sprintf("--%s value %d", name, i+1), p)
			if err != nil {
				return reproduce.Estimate{}, err
			}
			vals[i] = v
		}
		ss := seeds
		if ss == nil {
			ss = make([]int64, len(vals))
			for i := range ss {
				ss[i] = int64(i + 1)
			}
		}
		if len(ss) != len(vals) {
			return reproduce.Estimate{}, fmt.Errorf("--%s has %d values for %d seeds", name, len(vals), len(ss))
		}
		return reproduce.Seeded(ss, vals)
	}
	v, err := number("--"+name, s)
	if err != nil {
		return reproduce.Estimate{}, err
	}
	return reproduce.Exact(v), nil
}

func parseSeeds(s string) ([]int64, error) {
	if strings.TrimSpace(s) == "" {
		return nil, nil
	}
	var out []int64
	for _, p := range strings.Split(s, ",") {
		v, err := strconv.ParseInt(strings.TrimSpace(p), 10, 64)
		if err != nil {
			return nil, fmt.Errorf("--seeds: %q is not an integer", p)
		}
		out = append(out, v)
	}
	return out, nil
}

// number parses a finite number, accepting a true minus sign.
func number(what, s string) (float64, error) {
	v, err := strconv.ParseFloat(strings.Replace(strings.TrimSpace(s), "−", "-", 1), 64)
	if err != nil || math.IsNaN(v) || math.IsInf(v, 0) {
		return 0, fmt.Errorf("%s %q is not a finite number", what, s)
	}
	return v, nil
}

// describeJudgement prints the verdict on the first line, then the claim, the estimate of quantity and the reason.
func describeJudgement(j reproduce.Judgement, quantity string) string {
	e := j.Estimate
	g := func(v float64) string { return strings.Replace(strconv.FormatFloat(v, 'g', 4, 64), "-", "−", 1) }
	var b strings.Builder
	claim := quantity + " " + j.Claim.String()
	if j.Claim.Kind == reproduce.Identity {
		claim = j.Claim.String()
	}
	fmt.Fprintf(&b, "%s\n  claim:    %s\n  estimate: %s = %s", j.Verdict, claim, quantity, g(e.Mean))
	if len(e.Values) > 1 {
		fmt.Fprintf(&b, " ± %s (sd)", g(e.SD))
	}
	b.WriteString(j.Claim.Unit)
	switch {
	case math.IsInf(e.Lo, 0) || math.IsInf(e.Hi, 0):
		fmt.Fprintf(&b, ", no interval (%s)", e.Method)
	default:
		fmt.Fprintf(&b, ", 95%% CI [%s, %s] (%s)", g(e.Lo), g(e.Hi), e.Method)
	}
	if s := e.SeedList(); s != "" {
		fmt.Fprintf(&b, "; %s", s)
	}
	fmt.Fprintf(&b, "\n  reason:   %s\n", j.Reason)
	return b.String()
}
