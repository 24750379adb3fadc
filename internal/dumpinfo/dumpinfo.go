// Package dumpinfo tells what a dump is from its first bytes: which tool
// wrote it, in which format, from which database and server version. The
// agent records it in the manifest at dump time; the restore side uses it
// to pick a target and to check a drill against what the dump contains.
//
// It reads only the head of the stream (HeadSize bytes are plenty for every
// format it knows), so it costs nothing on the write path.
package dumpinfo

import (
	"bytes"
	"encoding/binary"
	"regexp"
	"strings"
)

// HeadSize is how many leading bytes Sniff needs at most.
const HeadSize = 64 << 10

// Formats a dump can be in.
const (
	PGCustom  = "pg_dump custom" // pg_dump -Fc: restored with pg_restore
	PGSQL     = "pg_dump sql"    // pg_dump plain SQL, for psql
	PGCluster = "pg_dumpall sql" // pg_dumpall: \connect to each database
	MySQLSQL  = "mysqldump sql"  // mysqldump / mariadb-dump
	SQLiteSQL = "sqlite3 .dump"
	MongoDB   = "mongodump archive"
	Unknown   = ""
)

// Info is what the head of a dump says about it. Fields the format does
// not carry are empty.
type Info struct {
	Format        string `json:"format,omitempty"`
	Database      string `json:"database,omitempty"`       // as the dump names it
	ServerVersion string `json:"server_version,omitempty"` // of the server dumped
	ToolVersion   string `json:"tool_version,omitempty"`   // of the dump program
}

// SourceType is the putonly source type whose tools restore the format:
// postgres, mysql, sqlite, mongodb, or "" when unknown.
func (i Info) SourceType() string {
	switch i.Format {
	case PGCustom, PGSQL, PGCluster:
		return "postgres"
	case MySQLSQL:
		return "mysql"
	case SQLiteSQL:
		return "sqlite"
	case MongoDB:
		return "mongodb"
	}
	return ""
}

// SQL says the dump is SQL text fed to a client (psql, mariadb, sqlite3).
func (i Info) SQL() bool {
	switch i.Format {
	case PGSQL, PGCluster, MySQLSQL, SQLiteSQL:
		return true
	}
	return false
}

var (
	pgDumpedFrom = regexp.MustCompile(`(?m)^-- Dumped from database version (.+)$`)
	pgDumpedBy   = regexp.MustCompile(`(?m)^-- Dumped by pg_dump(?:all)? version (.+)$`)
	myServer     = regexp.MustCompile(`(?m)^-- Server version\s+(.+)$`)
	myDatabase   = regexp.MustCompile(`(?m)^-- Host: .*Database: (.*)$`)
	myTool       = regexp.MustCompile(`(?m)^-- (?:MySQL|MariaDB) dump (.+)$`)
)

// mongoMagic starts every mongodump --archive stream (little-endian
// 0x8199e26d).
var mongoMagic = []byte{0x6d, 0xe2, 0x99, 0x81}

// Sniff identifies a dump from its head (up to HeadSize bytes; fewer when
// the dump is shorter).
func Sniff(head []byte) Info {
	switch {
	case bytes.HasPrefix(head, []byte("PGDMP")):
		return pgCustomHeader(head)
	case bytes.HasPrefix(head, mongoMagic):
		return Info{Format: MongoDB}
	}
	text := string(head)
	firstLines := text
	if len(firstLines) > 4096 {
		firstLines = firstLines[:4096]
	}
	sub := func(re *regexp.Regexp) string {
		if m := re.FindStringSubmatch(firstLines); m != nil {
			return strings.TrimSpace(m[1])
		}
		return ""
	}
	switch {
	case strings.HasPrefix(text, "--\n-- PostgreSQL database cluster dump"):
		return Info{Format: PGCluster, ServerVersion: sub(pgDumpedFrom), ToolVersion: sub(pgDumpedBy)}
	case strings.HasPrefix(text, "--\n-- PostgreSQL database dump"):
		return Info{Format: PGSQL, ServerVersion: sub(pgDumpedFrom), ToolVersion: sub(pgDumpedBy)}
	case strings.HasPrefix(text, "-- MySQL dump") || strings.HasPrefix(text, "-- MariaDB dump") ||
		strings.HasPrefix(text, "/*M!999999\\- enable the sandbox mode */"):
		return Info{Format: MySQLSQL, ServerVersion: sub(myServer), Database: sub(myDatabase), ToolVersion: sub(myTool)}
	case strings.HasPrefix(text, "PRAGMA foreign_keys=OFF;\nBEGIN TRANSACTION;"):
		return Info{Format: SQLiteSQL}
	}
	return Info{}
}

// pgCustomHeader reads the header pg_dump -Fc writes before its table of
// contents (pg_backup_archiver.c, WriteHead): "PGDMP", the archive version
// (3 bytes), int size, offset size, format, the compression (one byte from
// 1.15 on, an int before), the creation time (7 ints), then the database
// name, the server's version and pg_dump's version as strings. An int is a
// sign byte and intSize little-endian bytes; a string is an int length
// (negative: NULL) and the bytes.
func pgCustomHeader(b []byte) Info {
	info := Info{Format: PGCustom}
	if len(b) < 11 {
		return info
	}
	vmaj, vmin := b[5], b[6]
	intSize := int(b[8])
	if intSize < 1 || intSize > 8 {
		return info
	}
	p := 11 // after magic(5), version(3), intSize, offSize, format
	readInt := func() (int64, bool) {
		if p+1+intSize > len(b) {
			return 0, false
		}
		neg := b[p] != 0
		var buf [8]byte
		copy(buf[:], b[p+1:p+1+intSize])
		p += 1 + intSize
		v := int64(binary.LittleEndian.Uint64(buf[:]))
		if neg {
			v = -v
		}
		return v, true
	}
	readStr := func() (string, bool) {
		n, ok := readInt()
		if !ok || n > 1<<16 || p+int(max(n, 0)) > len(b) {
			return "", false
		}
		if n < 0 {
			return "", true
		}
		s := string(b[p : p+int(n)])
		p += int(n)
		return s, true
	}
	if vmaj != 1 || vmin < 10 {
		return info // too old to carry the versions; still custom format
	}
	if vmin >= 15 {
		p++ // compression algorithm, one byte
	} else if _, ok := readInt(); !ok {
		return info
	}
	for range 7 {
		if _, ok := readInt(); !ok {
			return info
		}
	}
	var ok bool
	if info.Database, ok = readStr(); !ok {
		return info
	}
	if info.ServerVersion, ok = readStr(); !ok {
		return info
	}
	info.ToolVersion, _ = readStr()
	return info
}

// Recorder keeps the first HeadSize bytes written to it; it is a tee for
// the dump stream.
type Recorder struct{ buf []byte }

func (r *Recorder) Write(p []byte) (int, error) {
	if room := HeadSize - len(r.buf); room > 0 {
		r.buf = append(r.buf, p[:min(room, len(p))]...)
	}
	return len(p), nil
}

// Info sniffs what was recorded.
func (r *Recorder) Info() Info { return Sniff(r.buf) }
