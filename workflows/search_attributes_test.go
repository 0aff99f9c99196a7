package workflows

import (
	"testing"

	"github.com/stretchr/testify/assert"
	enumspb "go.temporal.io/api/enums/v1"
)

// The CLI declaration and the typed keys must name the same attributes with
// the same types, or upserts fail on a real server.
func TestSearchAttributesAgree(t *testing.T) {
	cliType := map[enumspb.IndexedValueType]string{
		enumspb.INDEXED_VALUE_TYPE_KEYWORD: "Keyword",
		enumspb.INDEXED_VALUE_TYPE_INT:     "Int",
	}
	declared := map[string]string{}
	for _, sa := range SearchAttributes {
		declared[sa.Name] = sa.Type
	}
	schema := SearchAttributesSchema()
	assert.Equal(t, len(SearchAttributes), schema.Size())
	for key := range schema.GetUntypedValues() {
		assert.Equal(t, cliType[key.GetValueType()], declared[key.GetName()], key.GetName())
	}
}
