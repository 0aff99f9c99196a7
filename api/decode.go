package api

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"mime"
	"net/http"
	"reflect"
	"strings"

	"github.com/gin-gonic/gin"

	"github.com/buybutton/checkout/models"
)

// decodeJSON reads the request body as exactly one JSON object into dst,
// refusing unknown fields, trailing data and bodies over the size limit.
// Every failure is a client mistake (4xx).
func decodeJSON(c *gin.Context, dst any) error {
	if !hasBody(c.Request) {
		return models.Invalid(codeMalformedJSON, "request body is required")
	}
	if err := checkContentType(c.Request); err != nil {
		return err
	}
	raw, err := io.ReadAll(c.Request.Body)
	if err != nil {
		var tooLarge *http.MaxBytesError
		if errors.As(err, &tooLarge) {
			return models.Invalid(codeBodyTooLarge, "request body must be at most %d bytes", tooLarge.Limit)
		}
		return models.Invalid(codeMalformedJSON, "request body could not be read")
	}
	return decodeBytes(raw, dst)
}

// decodeOptionalJSON is decodeJSON for endpoints whose body may be absent.
func decodeOptionalJSON(c *gin.Context, dst any) error {
	if !hasBody(c.Request) {
		return nil
	}
	return decodeJSON(c, dst)
}

func decodeBytes(raw []byte, dst any) error {
	trimmed := bytes.TrimSpace(raw)
	if len(trimmed) == 0 {
		return models.Invalid(codeMalformedJSON, "request body is required")
	}
	// json.Decoder accepts null and leaves dst untouched; the API wants an object.
	if trimmed[0] != '{' {
		return models.Invalid(codeMalformedJSON, "request body must be a JSON object")
	}
	dec := json.NewDecoder(bytes.NewReader(trimmed))
	dec.DisallowUnknownFields()
	if err := dec.Decode(dst); err != nil {
		return jsonError(err)
	}
	if _, err := dec.Token(); err != io.EOF {
		return models.Invalid(codeMalformedJSON, "request body must hold a single JSON object")
	}
	return checkText(reflect.ValueOf(dst), "", false)
}

// codeInvalidText refuses control characters in a request's text.
const codeInvalidText = "invalid_text"

// checkText walks every string of a decoded body and refuses control and
// bidirectional-override characters (models.ForbiddenTextRune): all text a
// client sends may end up in a merchant's terminal, a label printer, a log
// or another person's screen. A field tagged text:"multiline" may hold line
// breaks. Done here, every handler's body gets it, present and future.
func checkText(v reflect.Value, path string, multiline bool) error {
	switch v.Kind() {
	case reflect.Pointer, reflect.Interface:
		if v.IsNil() {
			return nil
		}
		return checkText(v.Elem(), path, multiline)
	case reflect.String:
		if _, bad := models.ForbiddenTextRune(v.String(), multiline); bad {
			return models.Invalid(codeInvalidText, "%s must not contain control or bidirectional-override characters", fieldName(path))
		}
	case reflect.Struct:
		t := v.Type()
		for i := range t.NumField() {
			f := t.Field(i)
			if !f.IsExported() {
				continue
			}
			name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
			if name == "" {
				name = f.Name
			}
			if err := checkText(v.Field(i), joinPath(path, name), f.Tag.Get("text") == "multiline"); err != nil {
				return err
			}
		}
	case reflect.Slice, reflect.Array:
		for i := range v.Len() {
			if err := checkText(v.Index(i), path, multiline); err != nil {
				return err
			}
		}
	case reflect.Map:
		iter := v.MapRange()
		for iter.Next() {
			if err := checkText(iter.Key(), path, false); err != nil {
				return err
			}
			if err := checkText(iter.Value(), path, multiline); err != nil {
				return err
			}
		}
	}
	return nil
}

func joinPath(path, name string) string {
	if path == "" {
		return name
	}
	return path + "." + name
}

func fieldName(path string) string {
	if path == "" {
		return "text"
	}
	return path
}

// jsonError explains a decoding failure without echoing the client's data.
func jsonError(err error) error {
	var syntax *json.SyntaxError
	var typ *json.UnmarshalTypeError
	switch {
	case errors.As(err, &syntax):
		return models.Invalid(codeMalformedJSON, "malformed JSON at byte %d", syntax.Offset)
	case errors.As(err, &typ):
		field := typ.Field
		if field == "" {
			field = "value"
		}
		return models.Invalid(codeMalformedJSON, "%s must be a JSON %s", field, jsonKind(typ.Type.Kind().String()))
	case strings.HasPrefix(err.Error(), "json: unknown field "):
		return models.Invalid(codeUnknownField, "%s", strings.TrimPrefix(err.Error(), "json: "))
	case errors.Is(err, io.ErrUnexpectedEOF), errors.Is(err, io.EOF):
		return models.Invalid(codeMalformedJSON, "request body ends early")
	default:
		return models.Invalid(codeMalformedJSON, "malformed JSON")
	}
}

func jsonKind(goKind string) string {
	switch goKind {
	case "int", "int8", "int16", "int32", "int64", "uint", "uint8", "uint16", "uint32", "uint64", "float32", "float64":
		return "number in range"
	case "struct", "map":
		return "object"
	case "slice", "array":
		return "array"
	case "bool":
		return "boolean"
	default:
		return goKind
	}
}

// hasBody reports whether the client sent (or announced) a body.
func hasBody(r *http.Request) bool {
	return r.ContentLength > 0 || (r.ContentLength < 0 && r.Body != nil && r.Body != http.NoBody)
}

// checkContentType insists on application/json (any charset parameter must be UTF-8).
func checkContentType(r *http.Request) error {
	ct := r.Header.Get("Content-Type")
	if ct == "" {
		return models.Invalid(codeUnsupportedMediaType, "Content-Type must be application/json")
	}
	mt, params, err := mime.ParseMediaType(ct)
	if err != nil || mt != "application/json" {
		return models.Invalid(codeUnsupportedMediaType, "Content-Type must be application/json")
	}
	if cs, ok := params["charset"]; ok && !strings.EqualFold(cs, "utf-8") {
		return models.Invalid(codeUnsupportedMediaType, "charset must be utf-8")
	}
	return nil
}
