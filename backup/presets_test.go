package backup

import (
	"slices"
	"testing"
)

// A single-database mysql dump must not name its database: with
// --databases it carries CREATE DATABASE and USE, and loading it into a
// scratch database writes over the source instead.
func TestMySQLPresetNamesNoDatabase(t *testing.T) {
	argv, err := SourceConfig{Type: SourceMySQL, Database: "shop", Binary: "mariadb-dump", Args: []string{"--host=db1"}}.argv()
	if err != nil {
		t.Fatal(err)
	}
	if slices.Contains(argv, "--databases") || argv[len(argv)-2] != "shop" || argv[len(argv)-1] != "--host=db1" {
		t.Fatalf("argv %q", argv)
	}
	all, err := SourceConfig{Type: SourceMySQL, All: true, Binary: "mariadb-dump"}.argv()
	if err != nil || !slices.Contains(all, "--all-databases") {
		t.Fatalf("all: %q %v", all, err)
	}
}
