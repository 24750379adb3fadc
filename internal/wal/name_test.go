package wal

import (
	"strings"
	"testing"
)

func TestParseName(t *testing.T) {
	for _, c := range []struct {
		file     string
		kind     Kind
		tli      uint32
		log, seg uint32
	}{
		{"000000010000000000000001", Segment, 1, 0, 1},
		{"0000000A00000012000000FF", Segment, 10, 0x12, 0xFF},
		{"00000002.history", History, 2, 0, 0},
		{"000000010000000000000002.00000028.backup", Backup, 1, 0, 2},
		{"000000010000000000000005.partial", Partial, 1, 0, 5},
	} {
		n, err := ParseName(c.file)
		if err != nil || n.Kind != c.kind || n.Timeline != c.tli || n.Log != c.log || n.Seg != c.seg || n.File != c.file {
			t.Errorf("%s: %+v, %v", c.file, n, err)
		}
	}
	for _, bad := range []string{"", "00000001000000000000001", "0000000100000000000000010", "000000010000000000000001.gz",
		"00000000.history", "000000000000000000000001", "0000000g0000000000000001", "00000001000000000000000a",
		"../000000010000000000000001", "archive_status", "000000010000000000000002.backup"} {
		if n, err := ParseName(bad); err == nil {
			t.Errorf("%q parsed: %+v", bad, n)
		}
	}
}

func TestSegmentArithmetic(t *testing.T) {
	n, _ := ParseName("0000000100000001000000FF")
	if got := n.SegNo(DefaultSegmentSize); got != 0x1FF {
		t.Fatalf("segno %x", got)
	}
	if got := SegmentName(1, 0x1FF+1, DefaultSegmentSize); got != "000000010000000200000000" {
		t.Fatalf("next %s", got)
	}
	// 64 MiB segments: 64 per log file.
	if got := SegmentName(3, 64, 64<<20); got != "000000030000000100000000" {
		t.Fatalf("64MiB %s", got)
	}
	l, err := ParseLSN("16/B374D848")
	if err != nil || l.String() != "16/B374D848" || SegmentName(1, l.SegNo(0), 0) != "0000000100000016000000B3" {
		t.Fatalf("lsn %v %v", l, err)
	}
	for _, bad := range []string{"", "1", "/1", "1/", "x/1", "100000000/0"} {
		if _, err := ParseLSN(bad); err == nil {
			t.Errorf("ParseLSN(%q) accepted", bad)
		}
	}
}

func TestKeyRoundTrip(t *testing.T) {
	digest := strings.Repeat("ab", 32)
	for _, prefix := range []string{"", "db1/", "a/b/backups-"} {
		for _, file := range []string{"000000010000000000000001", "00000002.history", "000000010000000000000002.00000028.backup", "000000010000000000000005.partial"} {
			for _, comp := range []bool{true, false} {
				n, _ := ParseName(file)
				k := Key(prefix, "shop", n, digest, comp)
				o, ok := ParseKey(k)
				if !ok || o.Name != n || o.SHA256 != digest || o.Compressed() != comp || o.Dir != Dir(prefix, "shop") || !strings.HasPrefix(k, o.Dir) {
					t.Errorf("%s: %+v %v", k, o, ok)
				}
			}
		}
	}
	for _, bad := range []string{
		"db1/shop/2026/01/01/shop-20260101T000000Z-01234567.dump.zst.age",
		"db1/shop/wal/000000010000000000000001.zst.age",
		"db1/shop/wal/000000010000000000000001." + digest + ".zst",
		"db1/shop/wal/000000010000000000000001." + strings.ToUpper(digest) + ".age",
		"db1/shop/wal/sub/000000010000000000000001." + digest + ".age",
		"db1/shop/wal/junk." + digest + ".age",
	} {
		if o, ok := ParseKey(bad); ok {
			t.Errorf("%s parsed: %+v", bad, o)
		}
	}
}
