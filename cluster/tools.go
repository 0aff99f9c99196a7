package cluster

import (
	"fmt"
	"os"

	"github.com/buybutton/checkout/toolpath"
)

// FindTools finds the programs the cluster runs through the variables the
// Makefile exports (then PATH); see toolpath.
func FindTools() (Tools, error) {
	var t Tools
	for _, tool := range []struct {
		env, name string
		dst       *string
	}{
		{"TEMPORAL_SERVER", "temporal-server", &t.TemporalServer},
		{"TEMPORAL_SQL_TOOL", "temporal-sql-tool", &t.SQLTool},
		{"TEMPORAL_UI_SERVER", "temporal-ui-server", &t.UIServer},
		{"HAPROXY", "haproxy", &t.HAProxy},
	} {
		p, err := toolpath.Find(tool.env, tool.name)
		if err != nil {
			return t, err
		}
		*tool.dst = p
	}
	t.SchemaDir = os.Getenv("TEMPORAL_SCHEMA_DIR")
	if fi, err := os.Stat(t.SchemaDir); err != nil || !fi.IsDir() {
		return t, fmt.Errorf("TEMPORAL_SCHEMA_DIR=%q is not the Temporal server's schema/postgresql/v12 folder (run `make cluster-tools`)", t.SchemaDir)
	}
	return t, nil
}
