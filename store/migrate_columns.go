package store

import (
	"fmt"
	"strings"

	"gorm.io/gorm"
	"gorm.io/gorm/schema"
)

// widenColumns grows Postgres varchar columns whose declared size went up
// since the table was created. AutoMigrate of the Postgres driver does not
// (it sees varchar(64) and varchar(128) as the same type), and a value that
// fits the new size but not the old one fails at insert time. Columns are
// only ever widened, which Postgres does without rewriting the table.
func widenColumns(tx *gorm.DB, rows ...any) error {
	for _, row := range rows {
		stmt := &gorm.Statement{DB: tx}
		if err := stmt.Parse(row); err != nil {
			return err
		}
		types, err := tx.Migrator().ColumnTypes(row)
		if err != nil {
			return err
		}
		for _, ct := range types {
			field := stmt.Schema.LookUpField(ct.Name())
			if field == nil || field.DataType != schema.String || field.Size <= 0 {
				continue
			}
			name := strings.ToLower(ct.DatabaseTypeName())
			if name != "varchar" && name != "character varying" {
				continue
			}
			if length, ok := ct.Length(); ok && length > 0 && length < int64(field.Size) {
				sql := fmt.Sprintf("ALTER TABLE %q ALTER COLUMN %q TYPE varchar(%d)", stmt.Schema.Table, field.DBName, field.Size)
				if err := tx.Exec(sql).Error; err != nil {
					return err
				}
			}
		}
	}
	return nil
}
