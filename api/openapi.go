package api

import (
	"embed"
	"net/http"

	"github.com/gin-gonic/gin"
)

// The document is written by hand next to the handlers it describes, so a
// route change and its documentation arrive in one diff; openapi_test.go
// fails when the router and the document disagree.
//
//go:embed openapi.yaml
var openAPIFiles embed.FS

const (
	openAPIFile = "openapi.yaml"
	// openAPIContentType is the media type registered for YAML (RFC 9512).
	openAPIContentType = "application/yaml"
)

// openAPIDocument is read once: the embedded file cannot change at run time.
var openAPIDocument = mustReadEmbedded(openAPIFiles, openAPIFile)

func mustReadEmbedded(fs embed.FS, name string) []byte {
	b, err := fs.ReadFile(name)
	if err != nil {
		panic("api: embedded " + name + " is missing: " + err.Error())
	}
	return b
}

// OpenAPI returns the API's OpenAPI 3.1 document (YAML).
func OpenAPI() []byte { return append([]byte(nil), openAPIDocument...) }

// serveOpenAPI answers GET /openapi.yaml. The document is public: it holds no
// secrets, and clients generate their code from it.
func serveOpenAPI(c *gin.Context) {
	c.Data(http.StatusOK, openAPIContentType, openAPIDocument)
}
