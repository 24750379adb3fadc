// Package atomicfile writes files that appear complete or not at all: a
// restored database, an audit report, the agent's state file and its key
// gate cache. It is the one place that knows the dance (temporary file in
// the same directory, fsync, rename or link, fsync of the directory).
package atomicfile

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
)

// File is an output file that appears complete or not at all: it is
// written as a hidden temporary file in the same directory, and Commit
// flushes it to disk and renames it into place. Until Commit, nothing is at
// the final path; Abort removes the temporary file.
type File struct {
	*os.File
	path      string
	overwrite bool
	done      bool
}

// ErrExists is returned by Commit when the output exists and overwriting
// was not asked for.
var ErrExists = errors.New("output file exists")

// Create starts writing path. With overwrite false, Commit fails
// rather than replace an existing file (checked first here, so a restore
// does not download gigabytes to fail at the end, and again at Commit).
// The file is created with mode 0600: it holds a database.
func Create(path string, overwrite bool) (*File, error) {
	if !overwrite {
		if _, err := os.Lstat(path); err == nil {
			return nil, fmt.Errorf("%s: %w\n\thint: choose another name, remove it, or pass --force", path, ErrExists)
		}
	}
	dir, base := filepath.Split(path)
	if dir == "" {
		dir = "."
	}
	f, err := os.CreateTemp(dir, "."+base+".putonly-*.tmp")
	if err != nil {
		return nil, fmt.Errorf("create output: %w", err)
	}
	return &File{File: f, path: path, overwrite: overwrite}, nil
}

// Commit syncs the data, closes the file and moves it to its path, then
// syncs the directory so the rename survives a crash. On error the
// temporary file is removed and nothing is at the path (or the old file is
// still there).
func (a *File) Commit() error {
	if a.done {
		return errors.New("atomic file already committed or aborted")
	}
	a.done = true
	tmp := a.File.Name()
	err := a.File.Sync()
	if cerr := a.File.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		os.Remove(tmp)
		return fmt.Errorf("write %s: %w", a.path, err)
	}
	if a.overwrite {
		err = os.Rename(tmp, a.path)
	} else {
		// link fails if the path appeared meanwhile: never clobber.
		err = os.Link(tmp, a.path)
		switch {
		case errors.Is(err, fs.ErrExist):
			err = ErrExists
		case err != nil:
			// No hard links on this filesystem: check, then rename.
			if _, serr := os.Lstat(a.path); serr == nil {
				err = ErrExists
			} else {
				err = os.Rename(tmp, a.path)
			}
		}
		os.Remove(tmp)
	}
	if err != nil {
		os.Remove(tmp)
		return fmt.Errorf("move into place %s: %w", a.path, err)
	}
	if d, err := os.Open(filepath.Dir(a.path)); err == nil {
		err = d.Sync()
		d.Close()
		if err != nil {
			return fmt.Errorf("sync directory of %s: %w", a.path, err)
		}
	}
	return nil
}

// Abort closes and removes the temporary file. It is safe to call after
// Commit (it does nothing), so `defer f.Abort()` is the usual pattern.
func (a *File) Abort() {
	if a.done {
		return
	}
	a.done = true
	a.File.Close()
	os.Remove(a.File.Name())
}

// WriteFile replaces path with data, atomically: readers see the old file
// or the new one, whole. The file gets mode perm.
func WriteFile(path string, data []byte, perm os.FileMode) error {
	f, err := Create(path, true)
	if err != nil {
		return err
	}
	defer f.Abort()
	if _, err := f.Write(data); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err := f.Chmod(perm); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	return f.Commit()
}
