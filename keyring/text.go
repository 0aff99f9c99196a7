package keyring

import (
	"encoding/base64"
	"strings"
)

// textPrefix marks the text form; it matches the binary version byte.
const textPrefix = "v1:"

// SealString seals s for a text column: "v1:<key id>:<base64url>". The key id
// stays readable so operators can count values per key during a rotation.
func (r *Ring) SealString(s, associatedData string) (string, error) {
	sealed, err := r.Seal([]byte(s), []byte(associatedData))
	if err != nil {
		return "", err
	}
	id, rest, _ := splitHeader(sealed)
	return textPrefix + id + ":" + base64.RawURLEncoding.EncodeToString(rest), nil
}

// OpenString opens a value made by SealString with the same associated data.
func (r *Ring) OpenString(sealed, associatedData string) (string, error) {
	bin, err := fromText(sealed)
	if err != nil {
		return "", err
	}
	plain, err := r.Open(bin, []byte(associatedData))
	if err != nil {
		return "", err
	}
	return string(plain), nil
}

// NeedsRotationString is NeedsRotation for the text form.
func (r *Ring) NeedsRotationString(sealed string) bool {
	bin, err := fromText(sealed)
	return err == nil && r.NeedsRotation(bin)
}

// fromText rebuilds the binary form, whose header is what Seal authenticated.
func fromText(s string) ([]byte, error) {
	rest, ok := strings.CutPrefix(s, textPrefix)
	if !ok {
		return nil, ErrMalformed
	}
	id, body, ok := strings.Cut(rest, ":")
	if !ok || checkID(id) != nil {
		return nil, ErrMalformed
	}
	data, err := base64.RawURLEncoding.DecodeString(body)
	if err != nil {
		return nil, ErrMalformed
	}
	return append(header(id), data...), nil
}
