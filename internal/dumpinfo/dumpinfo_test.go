package dumpinfo

import (
	"os"
	"strings"
	"testing"
)

// The dumps were written by the real tools (see restore/testdata/sqlscan).
func TestSniffRealDumps(t *testing.T) {
	for _, tc := range []struct {
		file, format, database, server string
	}{
		{"mysql-single.sql", MySQLSQL, "restorehelper_scan", "10.11"},
		{"mysql-databases.sql", MySQLSQL, "restorehelper_scan", "10.11"},
		{"pg-plain.sql", PGSQL, "", "15."},
		{"pg-custom.dump", PGCustom, "restorehelper_scan", "15."},
		{"sqlite.sql", SQLiteSQL, "", ""},
	} {
		b, err := os.ReadFile("../../restore/testdata/sqlscan/" + tc.file)
		if err != nil {
			t.Fatal(err)
		}
		info := Sniff(b)
		if info.Format != tc.format || info.Database != tc.database || !strings.HasPrefix(info.ServerVersion, tc.server) {
			t.Errorf("%s: %+v", tc.file, info)
		}
		// Every truncation of the head still identifies the format and
		// never panics.
		for n := range min(len(b), 200) {
			Sniff(b[:n])
		}
	}
	if got := Sniff([]byte("hello")); got.Format != Unknown {
		t.Errorf("text: %+v", got)
	}
	if got := Sniff([]byte{0x6d, 0xe2, 0x99, 0x81, 1}); got.Format != MongoDB {
		t.Errorf("mongo: %+v", got)
	}
}

func TestRecorderKeepsOnlyTheHead(t *testing.T) {
	var r Recorder
	r.Write([]byte("--\n-- PostgreSQL database dump\n--\n\n-- Dumped from database version 15.4\n"))
	r.Write(make([]byte, 2*HeadSize))
	if len(r.buf) != HeadSize || r.Info().ServerVersion != "15.4" {
		t.Fatalf("%d bytes, %+v", len(r.buf), r.Info())
	}
}
