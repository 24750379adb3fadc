package agent

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/putonly/putonly/backup"
	"github.com/putonly/putonly/internal/atomicfile"
)

// StateDir is where the gate's cache and the daemon's state file live
// unless the config says: $PUTONLY_STATE_DIR, else systemd's
// StateDirectory= ($STATE_DIRECTORY), else /var/lib/putonly as root, else
// $XDG_STATE_HOME/putonly (~/.local/state/putonly).
func StateDir() string {
	if d := os.Getenv("PUTONLY_STATE_DIR"); d != "" {
		return d
	}
	if d := os.Getenv("STATE_DIRECTORY"); d != "" {
		return strings.Split(d, ":")[0]
	}
	if os.Geteuid() == 0 {
		return "/var/lib/putonly"
	}
	if d := os.Getenv("XDG_STATE_HOME"); d != "" {
		return filepath.Join(d, "putonly")
	}
	if home, err := os.UserHomeDir(); err == nil {
		return filepath.Join(home, ".local", "state", "putonly")
	}
	return filepath.Join(os.TempDir(), "putonly-"+fmt.Sprint(os.Getuid()))
}

// DefaultStatePath is state.json in $PUTONLY_STATE_DIR, else in systemd's
// StateDirectory= ($STATE_DIRECTORY), else backup.DefaultStateFile as root,
// else $XDG_STATE_HOME/putonly (~/.local/state/putonly): where the
// self-test keeps its cache.
func DefaultStatePath() string {
	dir := os.Getenv("PUTONLY_STATE_DIR")
	if dir == "" && os.Getenv("STATE_DIRECTORY") != "" {
		dir = strings.Split(os.Getenv("STATE_DIRECTORY"), ":")[0]
	}
	if dir == "" && os.Geteuid() == 0 {
		return backup.DefaultStateFile
	}
	if dir == "" {
		dir = os.Getenv("XDG_STATE_HOME")
		if dir == "" {
			if home, err := os.UserHomeDir(); err == nil {
				dir = filepath.Join(home, ".local", "state")
			}
		}
		dir = filepath.Join(dir, "putonly")
	}
	return filepath.Join(dir, "state.json")
}

func (g *Gate) statePath() string {
	dir := g.o.StateDir
	if dir == "" {
		dir = StateDir()
	}
	return filepath.Join(dir, "selftest.json")
}

// gateCacheEntry is one self-test result; Rights lists what the key could
// do that it must not (empty: passed).
type gateCacheEntry struct {
	Time   time.Time `json:"time"`
	Rights []string  `json:"rights,omitempty"`
}

func readGateCache(path, id string) (gateCacheEntry, bool) {
	all := map[string]gateCacheEntry{}
	data, err := os.ReadFile(path)
	if err != nil || json.Unmarshal(data, &all) != nil {
		return gateCacheEntry{}, false
	}
	e, ok := all[id]
	return e, ok
}

// writeGateCache records e under id, dropping entries older than a week,
// and replaces the file atomically.
func writeGateCache(path, id string, e gateCacheEntry) error {
	all := map[string]gateCacheEntry{}
	if data, err := os.ReadFile(path); err == nil {
		_ = json.Unmarshal(data, &all) // a damaged cache is rebuilt
	}
	for k, old := range all {
		if time.Since(old.Time) > 7*24*time.Hour {
			delete(all, k)
		}
	}
	all[id] = e
	data, err := json.MarshalIndent(all, "", "  ")
	if err != nil {
		return err
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return err
	}
	return atomicfile.WriteFile(path, append(data, '\n'), 0o600)
}
