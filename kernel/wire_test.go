package kernel

import (
	"bytes"
	"encoding/json"
	"errors"
	"testing"
)

func TestEncodeDecode(t *testing.T) {
	key := []byte("secret")
	m, err := newMessage("sess", "execute_request", map[string]any{"code": "1+1"})
	if err != nil {
		t.Fatal(err)
	}
	m.Identities = [][]byte{[]byte("id1")}
	frames, err := m.encode(key)
	if err != nil {
		t.Fatal(err)
	}
	// Frame layout: identity, delimiter, signature, header, parent, metadata, content.
	const sigAt, headerAt, contentAt = 2, 3, 6
	tamper := func(i int, b []byte) [][]byte {
		out := append([][]byte(nil), frames...)
		out[i] = b
		return out
	}
	tests := []struct {
		name    string
		frames  [][]byte
		key     []byte
		wantErr error // nil: must decode; errBadSig: must be a signature error
		wantAny bool  // any (non-signature) error expected
	}{
		{name: "good", frames: frames, key: key},
		{name: "wrong key", frames: frames, key: []byte("other"), wantErr: ErrBadSignature},
		{name: "tampered header", frames: tamper(headerAt, []byte(`{"msg_id":"x"}`)), key: key, wantErr: ErrBadSignature},
		{name: "tampered content", frames: tamper(contentAt, []byte(`{"code":"rm -rf"}`)), key: key, wantErr: ErrBadSignature},
		{name: "non-hex signature", frames: tamper(sigAt, []byte("zz")), key: key, wantErr: ErrBadSignature},
		{name: "empty signature", frames: tamper(sigAt, nil), key: key, wantErr: ErrBadSignature},
		{name: "no key skips verification", frames: tamper(sigAt, nil), key: nil},
		{name: "no delimiter", frames: [][]byte{[]byte("a"), []byte("b")}, key: key, wantAny: true},
		{name: "too few frames", frames: frames[:5], key: key, wantAny: true},
		{name: "bad json without key", frames: tamper(headerAt, []byte("{")), key: nil, wantAny: true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := decode(tc.frames, tc.key)
			switch {
			case tc.wantErr != nil:
				if !errors.Is(err, tc.wantErr) {
					t.Fatalf("decode error = %v, want %v", err, tc.wantErr)
				}
			case tc.wantAny:
				if err == nil || errors.Is(err, ErrBadSignature) {
					t.Fatalf("decode error = %v, want a malformed-message error", err)
				}
			default:
				if err != nil {
					t.Fatalf("decode: %v", err)
				}
				if got.Header.MsgID != m.Header.MsgID || got.Header.MsgType != "execute_request" {
					t.Errorf("header = %+v, want %+v", got.Header, m.Header)
				}
				if len(got.Identities) != 1 || !bytes.Equal(got.Identities[0], []byte("id1")) {
					t.Errorf("identities = %q", got.Identities)
				}
				var c map[string]string
				if err := json.Unmarshal(got.Content, &c); err != nil || c["code"] != "1+1" {
					t.Errorf("content = %s (%v)", got.Content, err)
				}
			}
		})
	}
}

func TestEmptyParentHeaderIsEmptyObject(t *testing.T) {
	m, err := newMessage("s", "kernel_info_request", map[string]any{})
	if err != nil {
		t.Fatal(err)
	}
	frames, err := m.encode(nil)
	if err != nil {
		t.Fatal(err)
	}
	if got := string(frames[3]); got != "{}" {
		t.Errorf("parent header = %s, want {}", got)
	}
	if got := string(frames[2]); !bytes.Contains([]byte(got), []byte(`"version":"5.3"`)) {
		t.Errorf("header %s lacks protocol version 5.3", got)
	}
}

func FuzzDecode(f *testing.F) {
	key := []byte("k")
	m, _ := newMessage("s", "status", map[string]any{"execution_state": "idle"})
	frames, _ := m.encode(key)
	f.Add(bytes.Join(frames, []byte{0}), true)
	f.Add([]byte("<IDS|MSG>\x00\x00{}\x00{}\x00{}\x00{}"), false)
	f.Add([]byte(""), false)
	f.Fuzz(func(t *testing.T, data []byte, withKey bool) {
		k := key
		if !withKey {
			k = nil
		}
		got, err := decode(bytes.Split(data, []byte{0}), k)
		if err == nil && got == nil {
			t.Fatal("nil message without error")
		}
		if err == nil && withKey {
			// A verified message must re-encode to the same signature.
			again, eerr := got.encode(k)
			if eerr != nil {
				t.Fatalf("re-encode: %v", eerr)
			}
			if _, derr := decode(again, k); derr != nil {
				t.Fatalf("re-decode of re-encoded message: %v", derr)
			}
		}
	})
}
