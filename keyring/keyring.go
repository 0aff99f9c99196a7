// Package keyring seals small secrets (buyer PII at rest, Temporal payloads)
// with AES-256-GCM under named keys, so keys can be rotated without
// re-encrypting everything at once: every sealed value names the key that
// sealed it, new values are always sealed under the active key, and old
// values stay readable as long as their key is still in the ring.
//
// # Spec format
//
// A ring is configured from one string (env CHECKOUT_ENCRYPTION_KEYS):
//
//	active=k2;k1=<base64 of 32 bytes>;k2=<base64 of 32 bytes>
//
// Entries are separated by ';' (surrounding spaces ignored). "active" names the
// key new values are sealed with; every other entry is "<id>=<key>". Ids are
// 1–64 characters from [A-Za-z0-9_.-] ("active" is reserved). Keys are
// standard or URL-safe base64, padded or not, and must decode to exactly 32
// bytes. Generate makes a fresh one-key spec; `openssl rand -base64 32` makes a
// key by hand.
//
// # Rotation
//
//  1. Add a new key and make it active: "active=k2;k1=…;k2=…". Deploy.
//  2. Re-seal stored values for which NeedsRotation reports true (open, seal).
//  3. Once nothing sealed under k1 remains (including Temporal histories
//     still within retention), drop k1 from the spec.
//
// # Sealed format
//
// Binary (Seal/Open, Temporal payloads):
//
//	0x01 | len(id) (1 byte) | id | nonce (12 bytes) | ciphertext+tag
//
// Text (SealString/OpenString, database columns):
//
//	v1:<id>:<base64url, unpadded, of nonce|ciphertext+tag>
//
// The version byte and key id are authenticated together with the caller's
// associated data, so a value cannot be relabelled to another key, and the
// text and binary forms of one value are interchangeable.
package keyring

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"slices"
	"strings"
)

const (
	// KeySize is the only accepted key length: AES-256.
	KeySize = 32

	version1  = 0x01
	nonceSize = 12
	maxIDLen  = 64
	activeKey = "active"
)

// ErrMalformed reports a sealed value that is not in a format this package
// writes (truncated, wrong version, bad text form).
var ErrMalformed = errors.New("keyring: malformed sealed value")

// ErrUnknownKey reports a sealed value whose key id is not in the ring, most
// often because the key was removed before all values were re-sealed.
var ErrUnknownKey = errors.New("keyring: unknown key id")

// ErrDecrypt reports a sealed value that failed authentication: tampered
// with, sealed with different associated data, or under a different key with
// the same id.
var ErrDecrypt = errors.New("keyring: decryption failed")

// Ring holds the keys of one spec. It is safe for concurrent use.
type Ring struct {
	active string
	aeads  map[string]cipher.AEAD
}

// Parse builds a ring from a spec (see the package doc for the format).
func Parse(spec string) (*Ring, error) {
	if strings.TrimSpace(spec) == "" {
		return nil, errors.New("keyring: empty key spec")
	}
	r := &Ring{aeads: map[string]cipher.AEAD{}}
	for _, entry := range strings.Split(spec, ";") {
		entry = strings.TrimSpace(entry)
		if entry == "" {
			continue
		}
		name, value, ok := strings.Cut(entry, "=")
		name, value = strings.TrimSpace(name), strings.TrimSpace(value)
		if !ok || name == "" || value == "" {
			// A malformed entry may be a bare key (its '=' padding looks
			// like a separator): never echo it.
			return nil, errors.New("keyring: key spec entry is not \"<id>=<base64 key>\"")
		}
		if name == activeKey {
			if r.active != "" {
				return nil, errors.New("keyring: \"active\" given twice")
			}
			r.active = value
			continue
		}
		if err := checkID(name); err != nil {
			return nil, err
		}
		if _, dup := r.aeads[name]; dup {
			return nil, fmt.Errorf("keyring: key id %q given twice", name)
		}
		key, err := decodeKey(value)
		if err != nil {
			return nil, fmt.Errorf("keyring: key %q: %w", name, err)
		}
		aead, err := newAEAD(key)
		if err != nil {
			return nil, fmt.Errorf("keyring: key %q: %w", name, err)
		}
		r.aeads[name] = aead
	}
	if len(r.aeads) == 0 {
		return nil, errors.New("keyring: no keys in spec")
	}
	if r.active == "" {
		return nil, errors.New("keyring: no \"active=<id>\" entry in spec")
	}
	if _, ok := r.aeads[r.active]; !ok {
		return nil, fmt.Errorf("keyring: active key id %q is not among the keys", r.active)
	}
	return r, nil
}

// Generate returns a spec with one fresh random key, for development and as a
// starting point for production.
func Generate() (string, error) {
	key := make([]byte, KeySize)
	if _, err := rand.Read(key); err != nil {
		return "", fmt.Errorf("keyring: generate key: %w", err)
	}
	return "active=k1;k1=" + base64.StdEncoding.EncodeToString(key), nil
}

// ActiveID is the id of the key new values are sealed with.
func (r *Ring) ActiveID() string { return r.active }

// IDs lists the key ids in the ring, sorted.
func (r *Ring) IDs() []string {
	ids := make([]string, 0, len(r.aeads))
	for id := range r.aeads {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	return ids
}

// String names the keys but never shows key material, so a ring that ends up
// in a log line or error is harmless.
func (r *Ring) String() string {
	return fmt.Sprintf("keyring(active=%s, keys=%v)", r.active, r.IDs())
}

// GoString keeps %#v from printing the struct fields.
func (r *Ring) GoString() string { return r.String() }

// Seal encrypts plaintext under the active key with a random nonce. The same
// associatedData must be given to Open; use it to bind a value to its place
// (table and column, purpose) so it cannot be copied elsewhere.
func (r *Ring) Seal(plaintext, associatedData []byte) ([]byte, error) {
	aead := r.aeads[r.active]
	head := header(r.active)
	out := make([]byte, len(head)+nonceSize, len(head)+nonceSize+len(plaintext)+aead.Overhead())
	copy(out, head)
	nonce := out[len(head):]
	if _, err := rand.Read(nonce); err != nil {
		return nil, fmt.Errorf("keyring: nonce: %w", err)
	}
	return aead.Seal(out, nonce, plaintext, authData(head, associatedData)), nil
}

// Open decrypts a value made by Seal with any key still in the ring.
func (r *Ring) Open(sealed, associatedData []byte) ([]byte, error) {
	id, rest, err := splitHeader(sealed)
	if err != nil {
		return nil, err
	}
	aead, ok := r.aeads[id]
	if !ok {
		return nil, fmt.Errorf("%w %q", ErrUnknownKey, id)
	}
	if len(rest) < nonceSize+aead.Overhead() {
		return nil, ErrMalformed
	}
	head := sealed[:len(sealed)-len(rest)]
	plain, err := aead.Open(nil, rest[:nonceSize], rest[nonceSize:], authData(head, associatedData))
	if err != nil {
		return nil, ErrDecrypt
	}
	return plain, nil
}

// KeyID returns the id of the key a sealed value was made with.
func KeyID(sealed []byte) (string, error) {
	id, _, err := splitHeader(sealed)
	return id, err
}

// NeedsRotation reports whether sealed was made under a key other than the
// active one. Malformed values report false: re-sealing cannot fix them.
func (r *Ring) NeedsRotation(sealed []byte) bool {
	id, err := KeyID(sealed)
	return err == nil && id != r.active
}

// checkID does not echo the id: a mistyped spec can put key material there.
func checkID(id string) error {
	if len(id) == 0 || len(id) > maxIDLen {
		return fmt.Errorf("keyring: key ids must be 1–%d characters", maxIDLen)
	}
	for _, c := range id {
		ok := c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_' || c == '-' || c == '.'
		if !ok {
			return errors.New("keyring: key ids may only use letters, digits, '_', '-', '.'")
		}
	}
	return nil
}

// decodeKey accepts every common base64 flavour, because keys come from
// different tools (openssl, Go, shells) and the alphabet is unambiguous.
func decodeKey(s string) ([]byte, error) {
	var key []byte
	var err error
	for _, enc := range []*base64.Encoding{base64.StdEncoding, base64.RawStdEncoding, base64.URLEncoding, base64.RawURLEncoding} {
		if key, err = enc.DecodeString(s); err == nil {
			break
		}
	}
	if err != nil {
		return nil, errors.New("not valid base64")
	}
	if len(key) != KeySize {
		return nil, fmt.Errorf("decodes to %d bytes, want %d", len(key), KeySize)
	}
	return key, nil
}

func newAEAD(key []byte) (cipher.AEAD, error) {
	block, err := aes.NewCipher(key)
	if err != nil {
		return nil, err
	}
	return cipher.NewGCM(block)
}

func header(id string) []byte {
	return append([]byte{version1, byte(len(id))}, id...)
}

func splitHeader(sealed []byte) (id string, rest []byte, err error) {
	if len(sealed) < 2 || sealed[0] != version1 {
		return "", nil, ErrMalformed
	}
	n := int(sealed[1])
	if n == 0 || len(sealed) < 2+n {
		return "", nil, ErrMalformed
	}
	return string(sealed[2 : 2+n]), sealed[2+n:], nil
}

// authData prefixes the caller's data with the header. The header is
// self-delimiting (its length is in its second byte), so the concatenation
// is unambiguous.
func authData(head, associatedData []byte) []byte {
	ad := make([]byte, 0, len(head)+len(associatedData))
	return append(append(ad, head...), associatedData...)
}
