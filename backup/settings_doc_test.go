package backup

import (
	"flag"
	"os"
	"strings"
	"testing"
)

var updateREADME = flag.Bool("update-readme", false, "rewrite the README's settings table from the settings table")

const (
	readmeBegin = "<!-- settings: generated from backup/settings.go; go test ./backup -run TestREADMESettings -update-readme -->\n"
	readmeEnd   = "<!-- end settings -->\n"
)

// settingsMarkdown renders the table of job settings for the README.
func settingsMarkdown() string {
	var b strings.Builder
	b.WriteString("| field | flag | default | range | meaning |\n|---|---|---|---|---|\n")
	for _, s := range SettingsTable() {
		flagName := "—"
		if s.Flag != "" {
			flagName = "`--" + s.Flag + "`"
			if s.Daemon {
				flagName += " (daemon)"
			}
			if s.WithConfig {
				flagName += " (also with `--config`)"
			}
		}
		def := s.Default
		if def == "" {
			def = "—"
		}
		meaning := strings.TrimPrefix(strings.ReplaceAll(s.Help, "`", ""), "ad-hoc job: ")
		if meaning == "" {
			meaning = s.Range
		}
		esc := func(v string) string { return strings.ReplaceAll(v, "|", "\\|") }
		b.WriteString("| `" + s.YAML + "` | " + flagName + " | " + esc(def) + " | " + esc(s.Range) + " | " + esc(meaning) + " |\n")
	}
	return b.String()
}

// TestREADMESettings: the README's configuration table is the settings
// table, ranges included.
func TestREADMESettings(t *testing.T) {
	const path = "../README.md"
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	s := string(data)
	i, j := strings.Index(s, readmeBegin), strings.Index(s, readmeEnd)
	if i < 0 || j < i {
		t.Fatalf("%s has no settings table between %q and %q", path, readmeBegin, readmeEnd)
	}
	want := settingsMarkdown()
	if got := s[i+len(readmeBegin) : j]; got != want {
		if *updateREADME {
			if err := os.WriteFile(path, []byte(s[:i+len(readmeBegin)]+want+s[j:]), 0o644); err != nil {
				t.Fatal(err)
			}
			return
		}
		t.Errorf("README settings table is stale; run go test ./backup -run TestREADMESettings -update-readme\nwant:\n%s", want)
	}
}
