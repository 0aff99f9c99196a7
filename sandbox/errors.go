package sandbox

import (
	"encoding/json"
	"fmt"
	"net/http"
)

// Stripe error types, as stripe-go's ErrorType decodes them.
const (
	typeAPI            = "api_error"
	typeCard           = "card_error"
	typeIdempotency    = "idempotency_error"
	typeInvalidRequest = "invalid_request_error"
)

// apiError is Stripe's error object. It is both the Go error the handlers
// return and the JSON body (wrapped in {"error": …}) the client decodes.
type apiError struct {
	status int
	// refused marks an error raised before execution (parameter
	// validation): Stripe keeps no idempotent answer for it.
	refused bool

	Type          string          `json:"type"`
	Code          string          `json:"code,omitempty"`
	DeclineCode   string          `json:"decline_code,omitempty"`
	Message       string          `json:"message"`
	Param         string          `json:"param,omitempty"`
	DocURL        string          `json:"doc_url,omitempty"`
	Charge        string          `json:"charge,omitempty"`
	PaymentIntent json.RawMessage `json:"payment_intent,omitempty"`
	PaymentMethod json.RawMessage `json:"payment_method,omitempty"`
}

func (e *apiError) Error() string { return e.Type + ": " + e.Message }

// MarshalJSON wraps the error the way Stripe's responses do.
func (e *apiError) MarshalJSON() ([]byte, error) {
	type plain apiError
	return json.Marshal(struct {
		Error *plain `json:"error"`
	}{(*plain)(e)})
}

func errorf(status int, typ, code, param, format string, args ...any) *apiError {
	e := &apiError{status: status, Type: typ, Code: code, Param: param, Message: fmt.Sprintf(format, args...)}
	if code != "" {
		e.DocURL = "https://stripe.com/docs/error-codes/" + code
	}
	return e
}

func invalid(param, format string, args ...any) *apiError {
	return refusedBeforeExecution(errorf(http.StatusBadRequest, typeInvalidRequest, "", param, format, args...))
}

func missingParam(param string) *apiError {
	return refusedBeforeExecution(errorf(http.StatusBadRequest, typeInvalidRequest, "parameter_missing", param, "Missing required param: %s.", param))
}

func noSuch(kind, param, id string) *apiError {
	return refusedBeforeExecution(errorf(http.StatusNotFound, typeInvalidRequest, "resource_missing", param, "No such %s: '%s'", kind, id))
}

func refusedBeforeExecution(e *apiError) *apiError {
	e.refused = true
	return e
}

func unexpectedState(format string, args ...any) *apiError {
	return errorf(http.StatusBadRequest, typeInvalidRequest, "payment_intent_unexpected_state", "", format, args...)
}

func internalError() *apiError {
	return errorf(http.StatusInternalServerError, typeAPI, "", "",
		"An unknown error occurred. The sandbox was told to fail this request.")
}

func unrecognizedURL(r *http.Request) *apiError {
	return errorf(http.StatusNotFound, typeInvalidRequest, "", "",
		"Unrecognized request URL (%s: %s). Please see https://stripe.com/docs or we can help at https://support.stripe.com/.",
		r.Method, r.URL.Path)
}

// result turns a handler outcome into the (status, body) pair routes return.
func result(status int, v any, err *apiError) (int, any) {
	if err != nil {
		return err.status, err
	}
	return status, v
}

func encode(v any) []byte {
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		// Every body is built from plain structs and maps; failing here is a bug.
		panic(fmt.Sprintf("sandbox: encoding response: %v", err))
	}
	return b
}

func writeResponse(w http.ResponseWriter, status int, v any) { writeRaw(w, status, encode(v)) }

func writeRaw(w http.ResponseWriter, status int, body []byte) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_, _ = w.Write(body)
}

// noSuchParam is a missing object named by a parameter: Stripe answers 400
// there, and 404 only for a missing object in the path.
func noSuchParam(kind, param, id string) *apiError {
	e := noSuch(kind, param, id)
	e.status = http.StatusBadRequest
	return e
}
