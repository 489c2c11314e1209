package reproduce

import (
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"
)

// Estimate is a measured quantity with its uncertainty: an exact value (a count, an identity check), one
// measurement with a standard error (a test error on n images), or the mean over several seeds. Lo and Hi bound
// its two-sided 95% interval; an estimate from one seed with no known error has the unbounded interval.
type Estimate struct {
	Mean float64
	// SD is the standard deviation of the per-seed values (0 with fewer than two).
	SD float64
	// SE is the standard error of Mean: 0 for an exact value, +Inf when unknown.
	SE float64
	// DF is the degrees of freedom of SE's t distribution: +Inf for a normal error, 0 for an exact value.
	DF float64
	// Lo and Hi bound the 95% interval of the quantity.
	Lo, Hi float64
	// Seeds and Values are the per-seed measurements behind Mean, when it is a mean over seeds.
	Seeds  []int64
	Values []float64
	// Method says how the interval was obtained, e.g. "t, 2 df" or "Welch t, 3.4 df".
	Method string
}

// Confidence is the coverage of every interval in this package.
const Confidence = 0.95

// Exact is a value with no uncertainty: a count, a parameter total, the deviation of an identity check.
func Exact(v float64) Estimate {
	return Estimate{Mean: v, Lo: v, Hi: v, Method: "exact"}
}

// Single is one measurement of a random quantity (one training run, one timing) with nothing known of its
// spread: its interval is unbounded, so a claim judged on it is *inconclusive*.
func Single(v float64) Estimate {
	return Estimate{Mean: v, SE: math.Inf(1), Lo: math.Inf(-1), Hi: math.Inf(1), Method: "one run: no interval"}
}

// MeanSE is a value with a normally distributed error of standard deviation se (e.g. a published
// "3.64 ± 0.19" whose ± is a standard error); its interval is Mean ± 1.96·se.
func MeanSE(mean, se float64) Estimate {
	se = math.Abs(se)
	h := zQuantile() * se
	return Estimate{Mean: mean, SE: se, DF: math.Inf(1), Lo: mean - h, Hi: mean + h, Method: "normal"}
}

// Proportion is the fraction k/n of n independent trials (an error rate on n test images) with its binomial
// standard error; the interval is Wilson's score interval. It is an error for n ≤ 0 or k outside [0, n].
func Proportion(k, n int) (Estimate, error) {
	if n <= 0 || k < 0 || k > n {
		return Estimate{}, fmt.Errorf("proportion %d/%d: need 0 ≤ k ≤ n and n > 0", k, n)
	}
	p, nf := float64(k)/float64(n), float64(n)
	z := zQuantile()
	den := 1 + z*z/nf
	centre := (p + z*z/(2*nf)) / den
	half := z / den * math.Sqrt(p*(1-p)/nf+z*z/(4*nf*nf))
	return Estimate{Mean: p, SE: math.Sqrt(p * (1 - p) / nf), DF: math.Inf(1), Lo: centre - half, Hi: centre + half,
		Method: fmt.Sprintf("binomial, n = %d", n)}, nil
}

// Seeded is the mean of one value per seed: its standard deviation, its standard error sd/√n and the
// Student-t interval mean ± t(0.975, n−1)·sd/√n. One seed gives an unbounded interval (nothing is known of
// the spread between seeds). Seeds must be distinct and as many as the values; values must be finite.
func Seeded(seeds []int64, values []float64) (Estimate, error) {
	if len(values) == 0 || len(seeds) != len(values) {
		return Estimate{}, fmt.Errorf("seeded estimate: %d seeds for %d values", len(seeds), len(values))
	}
	for i, s := range seeds {
		if slices.Index(seeds, s) != i {
			return Estimate{}, fmt.Errorf("seeded estimate: seed %d appears twice", s)
		}
	}
	for i, v := range values {
		if math.IsNaN(v) || math.IsInf(v, 0) {
			return Estimate{}, fmt.Errorf("seeded estimate: seed %d gave %v", seeds[i], v)
		}
	}
	n := float64(len(values))
	mean := 0.0
	for _, v := range values {
		mean += v
	}
	mean /= n
	e := Estimate{Mean: mean, Seeds: slices.Clone(seeds), Values: slices.Clone(values)}
	if len(values) == 1 {
		e.SE, e.DF, e.Lo, e.Hi = math.Inf(1), 0, math.Inf(-1), math.Inf(1)
		e.Method = "one seed: no interval"
		return e, nil
	}
	ss := 0.0
	for _, v := range values {
		ss += (v - mean) * (v - mean)
	}
	e.SD = math.Sqrt(ss / (n - 1))
	e.SE = e.SD / math.Sqrt(n)
	e.DF = n - 1
	h := tQuantile(e.DF) * e.SE
	e.Lo, e.Hi = mean-h, mean+h
	e.Method = fmt.Sprintf("t, %d df", len(values)-1)
	return e, nil
}

// Difference is a − b for independent estimates: standard errors add in quadrature, with Welch–Satterthwaite
// degrees of freedom when either side is a mean over seeds (a normal interval when both errors are normal,
// none when both are exact). Seeds and values are those of a when both sides ran the same seeds, so that the
// row can list them.
func Difference(a, b Estimate) Estimate {
	d := Estimate{Mean: a.Mean - b.Mean}
	va, vb := a.SE*a.SE, b.SE*b.SE
	d.SE = math.Sqrt(va + vb)
	switch {
	case math.IsInf(d.SE, 1):
		d.DF, d.Lo, d.Hi = 0, math.Inf(-1), math.Inf(1)
		d.Method = "one seed: no interval"
		return d
	case d.SE == 0:
		d.Lo, d.Hi = d.Mean, d.Mean
		d.Method = "exact"
		if len(a.Values) > 1 || len(b.Values) > 1 {
			d.Method = "no spread between seeds"
		}
		return d
	}
	den := 0.0
	for _, s := range []struct{ v, df float64 }{{va, a.DF}, {vb, b.DF}} {
		if s.v > 0 && !math.IsInf(s.df, 1) {
			den += s.v * s.v / s.df
		}
	}
	d.DF = math.Inf(1)
	if den > 0 {
		d.DF = (va + vb) * (va + vb) / den
	}
	h := tQuantile(d.DF) * d.SE
	d.Lo, d.Hi = d.Mean-h, d.Mean+h
	d.Method = "normal"
	if !math.IsInf(d.DF, 1) {
		d.Method = fmt.Sprintf("Welch t, %.1f df", d.DF)
	}
	if slices.Equal(a.Seeds, b.Seeds) {
		d.Seeds = slices.Clone(a.Seeds)
	}
	return d
}

// ErrSeedsDiffer is returned when a paired comparison gets estimates of different seeds.
var ErrSeedsDiffer = errors.New("paired estimates must come from the same seeds in the same order")

// PairedDifference is a − b seed by seed (both arms ran with the same seeds, e.g. the same data order and
// initial weights where the arms share them): the Student-t estimate of the per-seed differences.
func PairedDifference(a, b Estimate) (Estimate, error) {
	if len(a.Values) == 0 || !slices.Equal(a.Seeds, b.Seeds) || len(a.Values) != len(b.Values) {
		return Estimate{}, ErrSeedsDiffer
	}
	diffs := make([]float64, len(a.Values))
	for i := range diffs {
		diffs[i] = a.Values[i] - b.Values[i]
	}
	d, err := Seeded(a.Seeds, diffs)
	if err != nil {
		return Estimate{}, err
	}
	if len(diffs) > 1 {
		d.Method = "paired " + d.Method
	}
	return d, nil
}

// PairedRatio is a / b seed by seed for positive values (a speed-up: steps of one arm over steps of the
// other): the t interval of the mean log ratio, mapped back, so Mean is the geometric mean ratio and Lo, Hi
// bound it. SD is the standard deviation of the per-seed ratios.
func PairedRatio(a, b Estimate) (Estimate, error) {
	if len(a.Values) == 0 || !slices.Equal(a.Seeds, b.Seeds) || len(a.Values) != len(b.Values) {
		return Estimate{}, ErrSeedsDiffer
	}
	logs := make([]float64, len(a.Values))
	ratios := make([]float64, len(a.Values))
	for i := range logs {
		if a.Values[i] <= 0 || b.Values[i] <= 0 {
			return Estimate{}, fmt.Errorf("paired ratio: seed %d has a non-positive value (%g / %g)", a.Seeds[i], a.Values[i], b.Values[i])
		}
		ratios[i] = a.Values[i] / b.Values[i]
		logs[i] = math.Log(ratios[i])
	}
	l, err := Seeded(a.Seeds, logs)
	if err != nil {
		return Estimate{}, err
	}
	r, err := Seeded(a.Seeds, ratios)
	if err != nil {
		return Estimate{}, err
	}
	out := Estimate{Mean: math.Exp(l.Mean), SD: r.SD, SE: l.SE, DF: l.DF, Lo: math.Exp(l.Lo), Hi: math.Exp(l.Hi),
		Seeds: r.Seeds, Values: r.Values, Method: "paired " + l.Method + " on log ratios"}
	if len(logs) == 1 {
		out.Method = l.Method
	}
	return out, nil
}

// Scale multiplies an estimate by k (a fraction into percent: Scale(e, 100)); a negative k swaps the bounds.
func Scale(e Estimate, k float64) Estimate {
	out := e
	out.Mean, out.SD, out.SE = k*e.Mean, math.Abs(k)*e.SD, math.Abs(k)*e.SE
	out.Lo, out.Hi = k*e.Lo, k*e.Hi
	if k < 0 {
		out.Lo, out.Hi = out.Hi, out.Lo
	}
	if e.Values != nil {
		out.Values = make([]float64, len(e.Values))
		for i, v := range e.Values {
			out.Values[i] = k * v
		}
	}
	return out
}

// MeanSD formats an estimate as "3.64 ± 0.19" (mean ± standard deviation over seeds), or "3.64" for a single
// value, with prec decimals and the unit appended ("%", " points").
func (e Estimate) MeanSD(prec int, unit string) string {
	if len(e.Values) > 1 {
		return fmt.Sprintf("%s ± %s%s", num(e.Mean, prec), num(e.SD, prec), unit)
	}
	return num(e.Mean, prec) + unit
}

// CI formats the 95% interval as "95% CI [−0.59, 0.47]", or "no interval" when it is unbounded.
func (e Estimate) CI(prec int) string {
	if math.IsInf(e.Lo, 0) || math.IsInf(e.Hi, 0) {
		return "no interval (" + e.Method + ")"
	}
	return fmt.Sprintf("95%% CI [%s, %s]", num(e.Lo, prec), num(e.Hi, prec))
}

// SeedList formats the seeds as "seeds 1, 2, 3" ("" when the estimate is not a mean over seeds).
func (e Estimate) SeedList() string {
	if len(e.Seeds) == 0 {
		return ""
	}
	s := make([]string, len(e.Seeds))
	for i, v := range e.Seeds {
		s[i] = strconv.FormatInt(v, 10)
	}
	word := "seeds "
	if len(s) == 1 {
		word = "seed "
	}
	return word + strings.Join(s, ", ")
}

// num formats v with prec decimals, using a true minus sign.
func num(v float64, prec int) string {
	return strings.Replace(strconv.FormatFloat(v, 'f', prec, 64), "-", "−", 1)
}

// zQuantile is the standard normal's 0.975 quantile.
func zQuantile() float64 { return 1.959963984540054 }

// tQuantile is the 0.975 quantile of Student's t with df degrees of freedom (df may be fractional, as
// Welch's is; +Inf gives the normal quantile).
func tQuantile(df float64) float64 {
	if math.IsInf(df, 1) || df > 1e7 {
		return zQuantile()
	}
	// Bisection on the upper tail: P(T > t) = I_{df/(df+t²)}(df/2, 1/2) / 2.
	lo, hi := 0.0, 1.0
	for tail(hi, df) > 0.025 {
		hi *= 2
	}
	for range 200 {
		mid := (lo + hi) / 2
		if tail(mid, df) > 0.025 {
			lo = mid
		} else {
			hi = mid
		}
	}
	return (lo + hi) / 2
}

// tail is P(T > t) for Student's t with df degrees of freedom, t ≥ 0.
func tail(t, df float64) float64 {
	return regIncBeta(df/2, 0.5, df/(df+t*t)) / 2
}

// regIncBeta is the regularized incomplete beta function I_x(a, b), by its continued fraction (Lentz's method),
// using the symmetry I_x(a, b) = 1 − I_{1−x}(b, a) where the fraction converges slowly.
func regIncBeta(a, b, x float64) float64 {
	switch {
	case x <= 0:
		return 0
	case x >= 1:
		return 1
	}
	la, _ := math.Lgamma(a)
	lb, _ := math.Lgamma(b)
	lab, _ := math.Lgamma(a + b)
	front := math.Exp(lab - la - lb + a*math.Log(x) + b*math.Log(1-x))
	if x > (a+1)/(a+b+2) {
		return 1 - front*betaFraction(b, a, 1-x)/b
	}
	return front * betaFraction(a, b, x) / a
}

// betaFraction evaluates the continued fraction of the incomplete beta function.
func betaFraction(a, b, x float64) float64 {
	const tiny = 1e-300
	c, d := 1.0, 1-(a+b)*x/(a+1)
	if math.Abs(d) < tiny {
		d = tiny
	}
	d = 1 / d
	f := d
	for m := 1; m <= 500; m++ {
		fm := float64(m)
		for _, num := range []float64{
			fm * (b - fm) * x / ((a + 2*fm - 1) * (a + 2*fm)),
			-(a + fm) * (a + b + fm) * x / ((a + 2*fm) * (a + 2*fm + 1)),
		} {
			d = 1 + num*d
			if math.Abs(d) < tiny {
				d = tiny
			}
			c = 1 + num/c
			if math.Abs(c) < tiny {
				c = tiny
			}
			d = 1 / d
			f *= d * c
		}
		if math.Abs(d*c-1) < 1e-15 {
			break
		}
	}
	return f
}

// jsonFloat is a float64 that survives JSON: ±Inf and NaN (an unbounded interval, a failed measurement) are
// written as the strings "+Inf", "-Inf" and "NaN".
type jsonFloat float64

// MarshalJSON writes finite values as numbers and the others as strings.
func (f jsonFloat) MarshalJSON() ([]byte, error) {
	v := float64(f)
	switch {
	case math.IsInf(v, 1):
		return []byte(`"+Inf"`), nil
	case math.IsInf(v, -1):
		return []byte(`"-Inf"`), nil
	case math.IsNaN(v):
		return []byte(`"NaN"`), nil
	}
	return []byte(strconv.FormatFloat(v, 'g', -1, 64)), nil
}

// UnmarshalJSON reads what MarshalJSON writes.
func (f *jsonFloat) UnmarshalJSON(b []byte) error {
	switch string(b) {
	case `"+Inf"`:
		*f = jsonFloat(math.Inf(1))
	case `"-Inf"`:
		*f = jsonFloat(math.Inf(-1))
	case `"NaN"`:
		*f = jsonFloat(math.NaN())
	default:
		v, err := strconv.ParseFloat(string(b), 64)
		if err != nil {
			return fmt.Errorf("estimate: %s is not a number", b)
		}
		*f = jsonFloat(v)
	}
	return nil
}

// estimateJSON is Estimate's form in JSON (results.json, the closing tables).
type estimateJSON struct {
	Mean   jsonFloat   `json:"mean"`
	SD     jsonFloat   `json:"sd"`
	SE     jsonFloat   `json:"se"`
	DF     jsonFloat   `json:"df"`
	Lo     jsonFloat   `json:"lo"`
	Hi     jsonFloat   `json:"hi"`
	Seeds  []int64     `json:"seeds,omitempty"`
	Values []jsonFloat `json:"values,omitempty"`
	Method string      `json:"method"`
}

// MarshalJSON writes the estimate with its unbounded ends as strings.
func (e Estimate) MarshalJSON() ([]byte, error) {
	j := estimateJSON{Mean: jsonFloat(e.Mean), SD: jsonFloat(e.SD), SE: jsonFloat(e.SE), DF: jsonFloat(e.DF),
		Lo: jsonFloat(e.Lo), Hi: jsonFloat(e.Hi), Seeds: e.Seeds, Method: e.Method}
	for _, v := range e.Values {
		j.Values = append(j.Values, jsonFloat(v))
	}
	return json.Marshal(j)
}

// UnmarshalJSON reads what MarshalJSON writes.
func (e *Estimate) UnmarshalJSON(b []byte) error {
	var j estimateJSON
	if err := json.Unmarshal(b, &j); err != nil {
		return err
	}
	*e = Estimate{Mean: float64(j.Mean), SD: float64(j.SD), SE: float64(j.SE), DF: float64(j.DF), Lo: float64(j.Lo),
		Hi: float64(j.Hi), Seeds: j.Seeds, Method: j.Method}
	for _, v := range j.Values {
		e.Values = append(e.Values, float64(v))
	}
	return nil
}
