package restore

import "testing"

// TestNewDatabase: a path without a type is an SQLite file; a database
// name is checked for its type, so no name can carry SQL.
func TestNewDatabase(t *testing.T) {
	for _, tc := range []struct {
		typ, name, wantType string
		ok                  bool
	}{
		{"", "shop_drill", "", true},
		{"postgres", "shop_drill", TypePostgres, true},
		{"", "/tmp/app.db", TypeSQLite, true},
		{"", "app.db", TypeSQLite, true},
		{"sqlite", "plain", TypeSQLite, true},
		{"postgres", "a.b", "", false},
		{"", "drop-me", "", false},
		{"", "x; DROP DATABASE y", "", false},
		{"oracle", "shop", "", false},
	} {
		db, err := NewDatabase(tc.typ, tc.name)
		if (err == nil) != tc.ok || (err == nil && (db.Type != tc.wantType || db.Name != tc.name)) {
			t.Errorf("NewDatabase(%q, %q) = %+v, %v", tc.typ, tc.name, db, err)
		}
	}
}
