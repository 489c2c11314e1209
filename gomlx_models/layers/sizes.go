package layers

// Output sizes of convolution and pooling windows (Dumoulin & Visin 2016, §2), used to assert the shapes the
// papers state.

// ValidSize is the output length of a VALID (unpadded) convolution or pooling window: ⌈(n−f+1)/s⌉ for input
// length n, window f and stride s, or 0 when the window does not fit (f > n).
func ValidSize(n, f, s int) int {
	if n < f || f < 1 || s < 1 {
		return 0
	}
	return ceilDiv(n-f+1, s)
}

// SameSize is the output length of a SAME convolution: ⌈n/s⌉, whatever the window.
func SameSize(n, s int) int {
	if n < 1 || s < 1 {
		return 0
	}
	return ceilDiv(n, s)
}

// PaddedSize is the general form ⌊(n + p_before + p_after − f)/s⌋ + 1 (Dumoulin & Visin 2016, relationship 6
// with p on each side), or 0 when the window does not fit the padded input.
func PaddedSize(n, f, s, before, after int) int {
	if n+before+after < f || f < 1 || s < 1 {
		return 0
	}
	return (n+before+after-f)/s + 1
}

// SamePads is the padding (before, after) that SAME adds to an axis for a window f in GoMLX (and in the project
// layers): f−1 in total, ⌊(f−1)/2⌋ before and the rest after. TensorFlow pads less for strides > 1 but gets the
// same ⌈n/s⌉ output.
func SamePads(f int) (before, after int) { return (f - 1) / 2, f / 2 }

func ceilDiv(a, b int) int { return (a + b - 1) / b }
