// Package wal names PostgreSQL write-ahead log files and the objects putonly
// archives them as. The agent (putonly wal-push) writes these names and the
// restore side (wal-fetch, point-in-time recovery, the audit) reads them;
// both import this package, so the layout has one owner.
//
// A WAL object is content-addressed:
//
//	<prefix><job>/wal/<WAL file name>.<SHA-256 of the plaintext, hex>.<ext>
//
// ext is "zst.age" (zstd, then age) or "age". Because the digest is part of
// the key, S3's 412 to If-None-Match: * can only mean that this exact
// content is already archived under that name, so a retried push succeeds
// without reading anything, and a different file under the same WAL name
// lands beside the first instead of being refused or overwriting it.
package wal

import (
	"errors"
	"fmt"
	"regexp"
	"strconv"
	"strings"
)

// Kind is what a WAL file name names.
type Kind int

// The files PostgreSQL's archiver hands to archive_command.
const (
	Segment Kind = iota + 1 // 000000010000000000000001
	History                 // 00000002.history: the timeline's parents
	Backup                  // 000000010000000000000002.00000028.backup: a base backup's start and stop
	Partial                 // 000000010000000000000005.partial: the last segment of a timeline left at promotion
)

func (k Kind) String() string {
	switch k {
	case Segment:
		return "segment"
	case History:
		return "history"
	case Backup:
		return "backup"
	case Partial:
		return "partial"
	}
	return "unknown"
}

// Name is a parsed WAL file name.
type Name struct {
	File     string // the file name, as PostgreSQL wrote it
	Kind     Kind
	Timeline uint32
	// Log and Seg are the two halves of the segment number (Segment,
	// Backup, Partial): the name's second and third 8 hex digits.
	Log, Seg uint32
}

var (
	segmentRE = regexp.MustCompile(`^([0-9A-F]{8})([0-9A-F]{8})([0-9A-F]{8})$`)
	historyRE = regexp.MustCompile(`^([0-9A-F]{8})\.history$`)
	backupRE  = regexp.MustCompile(`^([0-9A-F]{8})([0-9A-F]{8})([0-9A-F]{8})\.[0-9A-F]{8}\.backup$`)
	partialRE = regexp.MustCompile(`^([0-9A-F]{8})([0-9A-F]{8})([0-9A-F]{8})\.partial$`)
)

// ErrNotWAL means a file name is none of the names PostgreSQL archives.
var ErrNotWAL = errors.New("not a WAL file name (want a segment such as 000000010000000000000001, a TTTTTTTT.history, a .backup or a .partial file)")

// ParseName reads a WAL file name (the base name, as %f gives it).
func ParseName(file string) (Name, error) {
	hex32 := func(s string) uint32 {
		v, _ := strconv.ParseUint(s, 16, 32)
		return uint32(v)
	}
	n := Name{File: file}
	var m []string
	switch {
	case segmentRE.MatchString(file):
		m, n.Kind = segmentRE.FindStringSubmatch(file), Segment
	case backupRE.MatchString(file):
		m, n.Kind = backupRE.FindStringSubmatch(file), Backup
	case partialRE.MatchString(file):
		m, n.Kind = partialRE.FindStringSubmatch(file), Partial
	case historyRE.MatchString(file):
		m := historyRE.FindStringSubmatch(file)
		n.Kind, n.Timeline = History, hex32(m[1])
		if n.Timeline == 0 {
			return Name{}, fmt.Errorf("%q: %w", file, ErrNotWAL)
		}
		return n, nil
	default:
		return Name{}, fmt.Errorf("%q: %w", file, ErrNotWAL)
	}
	n.Timeline, n.Log, n.Seg = hex32(m[1]), hex32(m[2]), hex32(m[3])
	if n.Timeline == 0 {
		return Name{}, fmt.Errorf("%q: %w (timeline 0)", file, ErrNotWAL)
	}
	return n, nil
}

// SegmentFile is the file name of the segment that holds this name's
// position (for a .backup or .partial file, the segment it belongs to).
func (n Name) SegmentFile() string {
	return fmt.Sprintf("%08X%08X%08X", n.Timeline, n.Log, n.Seg)
}

// DefaultSegmentSize is initdb's default --wal-segsize.
const DefaultSegmentSize = 16 << 20

// SegNo is the segment's number for a WAL segment size, in bytes (a power
// of two from 1 MiB to 1 GiB).
func (n Name) SegNo(segSize int64) uint64 {
	return uint64(n.Log)*segmentsPerLog(segSize) + uint64(n.Seg)
}

func segmentsPerLog(segSize int64) uint64 {
	if segSize <= 0 {
		segSize = DefaultSegmentSize
	}
	return 0x100000000 / uint64(segSize)
}

// SegmentName is the file name of segment segno on timeline tli.
func SegmentName(tli uint32, segno uint64, segSize int64) string {
	per := segmentsPerLog(segSize)
	return fmt.Sprintf("%08X%08X%08X", tli, uint32(segno/per), uint32(segno%per))
}

// LSN is a WAL position, written X/Y in hex as PostgreSQL does.
type LSN uint64

func (l LSN) String() string { return fmt.Sprintf("%X/%X", uint64(l)>>32, uint32(l)) }

// ParseLSN reads "16/B374D848".
func ParseLSN(s string) (LSN, error) {
	hi, lo, ok := strings.Cut(strings.TrimSpace(s), "/")
	if !ok {
		return 0, fmt.Errorf("invalid LSN %q: want X/Y in hex, such as 0/3000028", s)
	}
	h, err1 := strconv.ParseUint(hi, 16, 32)
	l, err2 := strconv.ParseUint(lo, 16, 32)
	if err1 != nil || err2 != nil || hi == "" || lo == "" {
		return 0, fmt.Errorf("invalid LSN %q: want X/Y in hex, such as 0/3000028", s)
	}
	return LSN(h<<32 | l), nil
}

// SegNo is the number of the segment holding l.
func (l LSN) SegNo(segSize int64) uint64 {
	if segSize <= 0 {
		segSize = DefaultSegmentSize
	}
	return uint64(l) / uint64(segSize)
}

// Object is a parsed WAL object key.
type Object struct {
	Key    string
	Dir    string // <prefix><job>/wal/
	Name   Name
	SHA256 string // hex digest of the plaintext
	Ext    string // "zst.age" or "age"
}

// Compressed tells whether the object has a zstd layer under age.
func (o Object) Compressed() bool { return o.Ext == "zst.age" }

// Dir is the prefix every WAL object of a job shares: <prefix><job>/wal/.
func Dir(prefix, job string) string { return prefix + job + "/wal/" }

// Key names the object that archives file with the given plaintext digest
// (hex SHA-256).
func Key(prefix, job string, n Name, sha256Hex string, compressed bool) string {
	ext := "age"
	if compressed {
		ext = "zst.age"
	}
	return Dir(prefix, job) + n.File + "." + sha256Hex + "." + ext
}

var digestRE = regexp.MustCompile(`^[0-9a-f]{64}$`)

// ParseKey reads a WAL object key; ok is false for any other key.
func ParseKey(key string) (Object, bool) {
	dir, file, found := cutLast(key, "/wal/")
	if !found || strings.Contains(file, "/") {
		return Object{}, false
	}
	o := Object{Key: key}
	var rest string
	switch {
	case strings.HasSuffix(file, ".zst.age"):
		o.Ext, rest = "zst.age", strings.TrimSuffix(file, ".zst.age")
	case strings.HasSuffix(file, ".age"):
		o.Ext, rest = "age", strings.TrimSuffix(file, ".age")
	default:
		return Object{}, false
	}
	name, digest, found := cutLast(rest, ".")
	if !found || !digestRE.MatchString(digest) {
		return Object{}, false
	}
	n, err := ParseName(name)
	if err != nil {
		return Object{}, false
	}
	o.Dir, o.Name, o.SHA256 = dir+"/wal/", n, digest
	return o, true
}

func cutLast(s, sep string) (before, after string, found bool) {
	i := strings.LastIndex(s, sep)
	if i < 0 {
		return s, "", false
	}
	return s[:i], s[i+len(sep):], true
}

// ValidDigest tells whether s is a hex SHA-256 as keys carry it.
func ValidDigest(s string) bool { return digestRE.MatchString(s) }

// ShortDigest is the first 12 hex digits, for messages.
func ShortDigest(s string) string {
	if len(s) > 12 {
		return s[:12]
	}
	return s
}
