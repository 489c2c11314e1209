package data

import "testing"

func TestPadTo(t *testing.T) {
	im := &Images{Name: "toy", N: 2, H: 2, W: 3, C: 2, Labels: []int32{0, 1}, Classes: []string{"a", "b"},
		Pixels: make([]float32, 2*2*3*2)}
	for i := range im.Pixels {
		im.Pixels[i] = float32(i + 1)
	}
	tests := []struct {
		side      int
		top, left int
		wantErr   bool
	}{{4, 1, 0, false}, {5, 1, 1, false}, {3, 0, 0, false}, {2, 0, 0, true}}
	for _, tc := range tests {
		got, err := im.PadTo(tc.side)
		if tc.wantErr {
			if err == nil {
				t.Errorf("PadTo(%d): no error", tc.side)
			}
			continue
		}
		if err != nil {
			t.Fatal(err)
		}
		if got.H != tc.side || got.W != tc.side || got.N != 2 || len(got.Pixels) != 2*tc.side*tc.side*2 {
			t.Fatalf("PadTo(%d): %d×%d×%d, %d values", tc.side, got.N, got.H, got.W, len(got.Pixels))
		}
		var sum, wantSum float32
		for _, v := range got.Pixels {
			sum += v
		}
		for _, v := range im.Pixels {
			wantSum += v
		}
		if sum != wantSum {
			t.Errorf("PadTo(%d): pixel sum %v, want %v (only zeros added)", tc.side, sum, wantSum)
		}
		for i := range 2 {
			for y := range 2 {
				for x := range 3 {
					for c := range 2 {
						g := got.Image(i)[((tc.top+y)*tc.side+tc.left+x)*2+c]
						w := im.Image(i)[(y*3+x)*2+c]
						if g != w {
							t.Fatalf("PadTo(%d): image %d (%d,%d,%d) = %v, want %v", tc.side, i, y, x, c, g, w)
						}
					}
				}
			}
		}
	}
	same := &Images{N: 1, H: 3, W: 3, C: 1, Pixels: make([]float32, 9), Labels: []int32{0}}
	if got, _ := same.PadTo(3); got != same {
		t.Error("PadTo of the same size should return the images as they are")
	}
}
