package data

import "errors"

// FashionOrMNIST loads a Fashion-MNIST split, or MNIST when Fashion-MNIST is not installed (a missing file);
// any other error (a corrupt file) is returned.
func FashionOrMNIST(split Split) (*Images, error) {
	im, err := FashionMNIST(split)
	if err == nil {
		return im, nil
	}
	if mn, err2 := MNIST(split); err2 == nil && errors.Is(err, ErrNotFound) {
		return mn, nil
	}
	return nil, err
}
