package main

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

const (
	dataPath  = "../../../../shared/data/s3-actions.json" // shared/ beside the clone
	classPath = "../../catalogue_class.go"
	genPath   = "../../catalogue_gen.go"
)

func readData(t *testing.T) []byte {
	t.Helper()
	data, err := os.ReadFile(dataPath)
	if errors.Is(err, os.ErrNotExist) {
		t.Skipf("%s is absent: cannot check the catalogue against its data", filepath.Clean(dataPath))
	}
	if err != nil {
		t.Fatal(err)
	}
	return data
}

func readFile(t *testing.T, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestGeneratedUpToDate fails when catalogue_gen.go differs from what the
// data and the class table produce: run `go generate ./policy`.
func TestGeneratedUpToDate(t *testing.T) {
	data := readData(t)
	want, err := generate(data, readFile(t, classPath))
	if err != nil {
		t.Fatalf("generate: %v", err)
	}
	if got := readFile(t, genPath); !bytes.Equal(got, want) {
		t.Fatal("policy/catalogue_gen.go is out of date: run `go generate ./policy` and commit the result")
	}
}

const miniData = `{"source": "test data, 2026-01-01", "service": "s3",
 "actions": [
  {"name": "GetObject", "access_level": "Read", "resources": ["object"], "condition_keys": [], "description": "d"},
  {"name": "PutObject", "access_level": "Write", "resources": ["object"], "condition_keys": ["s3:TlsVersion"], "description": "d"}
 ],
 "condition_keys": [{"name": "s3:TlsVersion", "type": "Numeric"}],
 "operations": [{"name": "UploadPart", "actions": ["s3:PutObject"]}]}`

func classSrc(entries string) []byte {
	return []byte("package policy\n\nvar catClasses = map[string]catClass{\n" + entries + "}\n")
}

func TestGenerateChecksClasses(t *testing.T) {
	tests := []struct {
		name    string
		entries string
		wantErr []string // substrings; none means success
	}{
		{"complete", `"GetObject": {ClassRead, "r."}, "PutObject": {Class: ClassNeeded, Reason: "n."},`, nil},
		{"missing class", `"GetObject": {ClassRead, "r."},`, []string{"s3:PutObject has no class"}},
		{"unknown action", `"GetObject": {ClassRead, "r."}, "PutObject": {ClassNeeded, "n."}, "GetObjekt": {ClassRead, "r."},`,
			[]string{"GetObjekt, which is not an action in the data"}},
		{"both at once", `"GetObject": {ClassRead, "r."}, "GetObjekt": {ClassRead, "r."},`,
			[]string{"s3:PutObject has no class", "GetObjekt, which is not"}},
		{"bad class", `"GetObject": {ClassSecret, "r."}, "PutObject": {ClassNeeded, "n."},`, []string{"class must be one of"}},
		{"empty reason", `"GetObject": {ClassRead, ""}, "PutObject": {ClassNeeded, "n."},`, []string{"reason must be one sentence"}},
		{"twice", `"GetObject": {ClassRead, "r."}, "GetObject": {ClassList, "r."}, "PutObject": {ClassNeeded, "n."},`, []string{"classified twice"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			src, err := generate([]byte(miniData), classSrc(tt.entries))
			if len(tt.wantErr) == 0 {
				if err != nil {
					t.Fatalf("generate: %v", err)
				}
				for _, want := range []string{`Name:          "s3:GetObject"`, "Class:         ClassNeeded", `{"s3:TlsVersion", "Numeric"}`, `Name:    "UploadPart"`} {
					if !bytes.Contains(src, []byte(want)) {
						t.Errorf("generated source lacks %q:\n%s", want, src)
					}
				}
				return
			}
			if err == nil {
				t.Fatal("generate succeeded, want an error")
			}
			for _, want := range tt.wantErr {
				if !strings.Contains(err.Error(), want) {
					t.Errorf("error %q does not contain %q", err, want)
				}
			}
		})
	}
}

// TestRealTableCoversRealData is the check the generator makes, stated as a
// test so a failure names every gap at once.
func TestRealTableCoversRealData(t *testing.T) {
	data := readData(t)
	if _, err := generate(data, readFile(t, classPath)); err != nil {
		t.Fatal(err)
	}
}
