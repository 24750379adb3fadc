package atomicfile

import (
	"errors"
	"os"
	"path/filepath"
	"testing"
)

func TestAtomicFile(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "out")

	// Aborted: nothing left.
	a, err := Create(p, false)
	if err != nil {
		t.Fatal(err)
	}
	a.Write([]byte("partial"))
	if _, err := os.Stat(p); !errors.Is(err, os.ErrNotExist) {
		t.Fatal("the final path exists before Commit")
	}
	a.Abort()
	if ents, _ := os.ReadDir(dir); len(ents) != 0 {
		t.Fatalf("left behind: %v", ents)
	}

	// Committed: the content, alone.
	a, _ = Create(p, false)
	a.Write([]byte("one"))
	if err := a.Commit(); err != nil {
		t.Fatal(err)
	}
	a.Abort() // no-op after Commit
	if b, _ := os.ReadFile(p); string(b) != "one" {
		t.Fatalf("content %q", b)
	}

	// Existing file: refused up front, and at Commit if it appeared since.
	if _, err := Create(p, false); !errors.Is(err, ErrExists) {
		t.Fatalf("create over an existing file: %v", err)
	}
	q := filepath.Join(dir, "late")
	a, _ = Create(q, false)
	os.WriteFile(q, []byte("someone else"), 0o600)
	if err := a.Commit(); !errors.Is(err, ErrExists) {
		t.Fatalf("commit over a file that appeared: %v", err)
	}
	if b, _ := os.ReadFile(q); string(b) != "someone else" {
		t.Fatalf("clobbered: %q", b)
	}

	// Overwrite asked for.
	a, _ = Create(p, true)
	a.Write([]byte("two"))
	if err := a.Commit(); err != nil {
		t.Fatal(err)
	}
	if b, _ := os.ReadFile(p); string(b) != "two" {
		t.Fatalf("content %q", b)
	}
	if ents, _ := os.ReadDir(dir); len(ents) != 2 {
		t.Fatalf("directory: %v", ents)
	}
}

func TestWriteFile(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "state.json")
	for _, content := range []string{"one", "two, longer", ""} {
		if err := WriteFile(p, []byte(content), 0o640); err != nil {
			t.Fatal(err)
		}
		b, err := os.ReadFile(p)
		if err != nil || string(b) != content {
			t.Fatalf("content %q, %v; want %q", b, err, content)
		}
		fi, _ := os.Stat(p)
		if fi.Mode().Perm() != 0o640 {
			t.Errorf("mode %v, want 0640", fi.Mode().Perm())
		}
		if ents, _ := os.ReadDir(dir); len(ents) != 1 {
			t.Fatalf("left behind: %v", ents)
		}
	}
	// A directory that does not exist: an error, nothing written.
	if err := WriteFile(filepath.Join(dir, "no", "such"), []byte("x"), 0o600); err == nil {
		t.Error("wrote into a missing directory")
	}
}
