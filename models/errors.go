// Package models holds the checkout domain: its types, its rules and its error
// kinds. It does no I/O, so every other package may depend on it.
package models

import (
	"errors"
	"fmt"
)

// Kind classifies an error by what the caller should do about it. The API maps
// each kind to an HTTP status in exactly one place (api/errors.go).
type Kind string

const (
	KindInvalid         Kind = "invalid"          // the request is malformed or breaks a rule
	KindNotFound        Kind = "not_found"        // no such thing, or not visible to the caller
	KindConflict        Kind = "conflict"         // the thing exists but is in the wrong state
	KindForbidden       Kind = "forbidden"        // authenticated but not allowed
	KindUnauthorized    Kind = "unauthorized"     // no or bad credentials
	KindPaymentDeclined Kind = "payment_declined" // the card issuer said no
	KindSoldOut         Kind = "sold_out"         // not enough stock
	KindUnavailable     Kind = "unavailable"      // a dependency is down; try again later
	KindInternal        Kind = "internal"         // a bug or an unexpected failure
)

// Error is the error type of the domain. Code is a stable, machine-readable
// string a client can switch on; Message is for humans.
type Error struct {
	Kind    Kind
	Code    string
	Message string
	Err     error // optional cause, never shown to clients
}

func (e *Error) Error() string {
	if e.Err != nil {
		return fmt.Sprintf("%s: %s: %v", e.Code, e.Message, e.Err)
	}
	return fmt.Sprintf("%s: %s", e.Code, e.Message)
}

func (e *Error) Unwrap() error { return e.Err }

// Is lets errors.Is(err, models.ErrNotFound) match any error of the same kind.
func (e *Error) Is(target error) bool {
	t, ok := target.(*Error)
	return ok && t.Code == "" && t.Kind == e.Kind
}

// Sentinels for errors.Is checks by kind.
var (
	ErrInvalid         = &Error{Kind: KindInvalid}
	ErrNotFound        = &Error{Kind: KindNotFound}
	ErrConflict        = &Error{Kind: KindConflict}
	ErrForbidden       = &Error{Kind: KindForbidden}
	ErrUnauthorized    = &Error{Kind: KindUnauthorized}
	ErrPaymentDeclined = &Error{Kind: KindPaymentDeclined}
	ErrSoldOut         = &Error{Kind: KindSoldOut}
	ErrUnavailable     = &Error{Kind: KindUnavailable}
)

// Errorf builds a domain error of the given kind and code.
func Errorf(kind Kind, code, format string, args ...any) *Error {
	return &Error{Kind: kind, Code: code, Message: fmt.Sprintf(format, args...)}
}

// Invalid is shorthand for an invalid-input error.
func Invalid(code, format string, args ...any) *Error {
	return Errorf(KindInvalid, code, format, args...)
}

// NotFound is shorthand for a not-found error.
func NotFound(what string) *Error {
	return Errorf(KindNotFound, "not_found", "%s not found", what)
}

// Conflict is shorthand for a wrong-state error.
func Conflict(code, format string, args ...any) *Error {
	return Errorf(KindConflict, code, format, args...)
}

// ErrorKind returns the kind of err, KindInternal when it carries none.
func ErrorKind(err error) Kind {
	var e *Error
	if errors.As(err, &e) {
		return e.Kind
	}
	return KindInternal
}
