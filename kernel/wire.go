package kernel

import (
	"bytes"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"time"
)

// ProtocolVersion is the Jupyter messaging protocol version this client speaks.
const ProtocolVersion = "5.3"

// delimiter separates the ZeroMQ routing identities from the message frames
// in the Jupyter wire protocol.
const delimiter = "<IDS|MSG>"

// ErrBadSignature is returned by message decoding when the HMAC-SHA256
// signature of a received message does not match its frames.
var ErrBadSignature = errors.New("kernel: bad message signature")

// Header is the header (and parent header) of a Jupyter message.
type Header struct {
	MsgID    string `json:"msg_id,omitempty"`
	Session  string `json:"session,omitempty"`
	Username string `json:"username,omitempty"`
	Date     string `json:"date,omitempty"`
	MsgType  string `json:"msg_type,omitempty"`
	Version  string `json:"version,omitempty"`
}

// Message is one Jupyter message, as it travels on the wire:
// identities, then "<IDS|MSG>", signature, header, parent header, metadata,
// content, and optional binary buffers.
type Message struct {
	// Identities are the ZeroMQ routing prefixes (iopub topics on the iopub channel).
	Identities [][]byte
	// Header identifies the message.
	Header Header
	// ParentHeader is the header of the request this message answers (empty for requests).
	ParentHeader Header
	// Metadata is the message metadata dictionary.
	Metadata map[string]any
	// Content is the message-type specific JSON payload.
	Content json.RawMessage
	// Buffers are extra binary frames.
	Buffers [][]byte
}

// newID returns a random 128-bit identifier in hex.
func newID() string {
	var b [16]byte
	if _, err := rand.Read(b[:]); err != nil {
		// crypto/rand never fails on supported platforms; fall back to time.
		return fmt.Sprintf("%032x", time.Now().UnixNano())
	}
	return hex.EncodeToString(b[:])
}

// newMessage returns a request message of type msgType for session, with content marshalled to JSON.
func newMessage(session, msgType string, content any) (*Message, error) {
	raw, err := json.Marshal(content)
	if err != nil {
		return nil, fmt.Errorf("kernel: marshal %s content: %w", msgType, err)
	}
	return &Message{
		Header: Header{
			MsgID:    newID(),
			Session:  session,
			Username: "convnotes",
			Date:     time.Now().UTC().Format(time.RFC3339Nano),
			MsgType:  msgType,
			Version:  ProtocolVersion,
		},
		Metadata: map[string]any{},
		Content:  raw,
	}, nil
}

// sign returns the hex HMAC-SHA256 of the given frames, or "" when key is empty
// (the protocol's "no signing" mode).
func sign(key []byte, frames ...[]byte) []byte {
	if len(key) == 0 {
		return nil
	}
	mac := hmac.New(sha256.New, key)
	for _, f := range frames {
		mac.Write(f)
	}
	out := make([]byte, hex.EncodedLen(mac.Size()))
	hex.Encode(out, mac.Sum(nil))
	return out
}

// encode serializes m into wire frames signed with key.
func (m *Message) encode(key []byte) ([][]byte, error) {
	header, err := json.Marshal(m.Header)
	if err != nil {
		return nil, fmt.Errorf("kernel: marshal header: %w", err)
	}
	parent, err := json.Marshal(m.ParentHeader)
	if err != nil {
		return nil, fmt.Errorf("kernel: marshal parent header: %w", err)
	}
	md := m.Metadata
	if md == nil {
		md = map[string]any{}
	}
	metadata, err := json.Marshal(md)
	if err != nil {
		return nil, fmt.Errorf("kernel: marshal metadata: %w", err)
	}
	content := []byte(m.Content)
	if len(content) == 0 {
		content = []byte("{}")
	}
	frames := make([][]byte, 0, len(m.Identities)+6+len(m.Buffers))
	frames = append(frames, m.Identities...)
	frames = append(frames, []byte(delimiter), sign(key, header, parent, metadata, content),
		header, parent, metadata, content)
	frames = append(frames, m.Buffers...)
	return frames, nil
}

// decode parses wire frames into a Message, verifying the signature with key.
// It returns an error wrapping ErrBadSignature when the signature does not match,
// and a descriptive error for malformed frames.
func decode(frames [][]byte, key []byte) (*Message, error) {
	i := 0
	for i < len(frames) && !bytes.Equal(frames[i], []byte(delimiter)) {
		i++
	}
	if i == len(frames) {
		return nil, fmt.Errorf("kernel: malformed message: no %s delimiter in %d frames", delimiter, len(frames))
	}
	if len(frames) < i+6 {
		return nil, fmt.Errorf("kernel: malformed message: %d frames after delimiter, want at least 5", len(frames)-i-1)
	}
	sig, header, parent, metadata, content := frames[i+1], frames[i+2], frames[i+3], frames[i+4], frames[i+5]
	if len(key) != 0 {
		got := make([]byte, hex.DecodedLen(len(sig)))
		if _, err := hex.Decode(got, sig); err != nil {
			return nil, fmt.Errorf("%w: signature is not hex: %v", ErrBadSignature, err)
		}
		mac := hmac.New(sha256.New, key)
		for _, f := range [][]byte{header, parent, metadata, content} {
			mac.Write(f)
		}
		if !hmac.Equal(mac.Sum(nil), got) {
			return nil, ErrBadSignature
		}
	}
	m := &Message{Identities: frames[:i], Content: json.RawMessage(content)}
	if err := json.Unmarshal(header, &m.Header); err != nil {
		return nil, fmt.Errorf("kernel: malformed header: %w", err)
	}
	if err := json.Unmarshal(parent, &m.ParentHeader); err != nil {
		return nil, fmt.Errorf("kernel: malformed parent header: %w", err)
	}
	if err := json.Unmarshal(metadata, &m.Metadata); err != nil {
		return nil, fmt.Errorf("kernel: malformed metadata: %w", err)
	}
	if !json.Valid(content) {
		return nil, fmt.Errorf("kernel: malformed content of %q message", m.Header.MsgType)
	}
	m.Buffers = frames[i+6:]
	return m, nil
}
