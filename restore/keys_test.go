package restore

import (
	"bytes"
	"errors"
	"testing"
	"time"

	"filippo.io/age"
)

func TestParseKey(t *testing.T) {
	ts := time.Date(2026, 11, 26, 2, 15, 0, 0, time.UTC)
	for _, tc := range []struct {
		key          string
		ok           bool
		prefix, job  string
		ext          string
		compressionc Compression
	}{
		{"db1/shop/2026/11/26/shop-20261126T021500Z-3f2a9c1e.dump.zst.age", true, "db1/", "shop", "dump.zst.age", CompressionZstd},
		{"shop/2026/11/26/shop-20261126T021500Z-3f2a9c1e.sql.age", true, "", "shop", "sql.age", CompressionNone},
		{"a/b/backups-my-db.1/2026/11/26/my-db.1-20261126T021500Z-00000000.archive.zst.age", true, "a/b/backups-", "my-db.1", "archive.zst.age", CompressionZstd},
		{"db1/shop/2026/11/26/shop-20261126T021500Z-3f2a9c1e.dump.zst.age.manifest.json.age", false, "", "", "", ""},
		{"db1/shop/2026/11/27/shop-20261126T021500Z-3f2a9c1e.dump.zst.age", false, "", "", "", ""}, // day disagrees
		{"db1/wiki/2026/11/26/shop-20261126T021500Z-3f2a9c1e.dump.zst.age", false, "", "", "", ""}, // job disagrees
		{"db1/shop/2026/11/26/shop-20261126T021500Z-3f2a9c1.dump.zst.age", false, "", "", "", ""},  // 7 hex
		{"db1/shop/2026/11/26/shop-20261126T021500Z-3f2a9c1e.dump.zst", false, "", "", "", ""},     // not encrypted
		{"shop-20261126T021500Z-3f2a9c1e.dump.zst.age", false, "", "", "", ""},
		{"README", false, "", "", "", ""},
	} {
		b, ok := ParseKey(tc.key)
		if ok != tc.ok {
			t.Errorf("%s: ok %v", tc.key, ok)
			continue
		}
		if !ok {
			continue
		}
		if b.Prefix != tc.prefix || b.Job != tc.job || b.Ext != tc.ext || !b.Time.Equal(ts) || b.Compression() != tc.compressionc {
			t.Errorf("%s: %+v", tc.key, b)
		}
	}
}

// TestDecryptDetectsZstd: auto detection by the magic bytes, and plaintext
// that is not zstd passes through.
func TestDecryptDetectsZstd(t *testing.T) {
	id, _ := age.GenerateX25519Identity()
	enc := func(p []byte) []byte {
		var b bytes.Buffer
		w, _ := age.Encrypt(&b, id.Recipient())
		w.Write(p)
		w.Close()
		return b.Bytes()
	}
	// "hello\n" compressed by zstd 1.5 (with checksum).
	zst := []byte{0x28, 0xb5, 0x2f, 0xfd, 0x04, 0x58, 0x31, 0x00, 0x00, 0x68, 0x65, 0x6c, 0x6c, 0x6f, 0x0a, 0x53, 0x88, 0xbd, 0x91}
	for _, tc := range []struct {
		name string
		in   []byte
		c    Compression
		want string
		comp Compression
	}{
		{"auto-zstd", zst, CompressionAuto, "hello\n", CompressionZstd},
		{"auto-plain", []byte("plain"), CompressionAuto, "plain", CompressionNone},
		{"auto-empty", nil, CompressionAuto, "", CompressionNone},
		{"auto-short", []byte{0x28}, CompressionAuto, "\x28", CompressionNone},
		{"forced-none", zst, CompressionNone, string(zst), CompressionNone},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var out bytes.Buffer
			st, err := Decrypt(&out, bytes.NewReader(enc(tc.in)), []age.Identity{id}, tc.c)
			if err != nil {
				t.Fatal(err)
			}
			if out.String() != tc.want || st.Compression != tc.comp || st.PlaintextBytes != int64(len(tc.want)) {
				t.Fatalf("got %q, %+v", out.String(), st)
			}
		})
	}
	var out bytes.Buffer
	if _, err := Decrypt(&out, bytes.NewReader(enc([]byte("not zstd"))), []age.Identity{id}, CompressionZstd); !errors.Is(err, ErrCorrupt) {
		t.Fatalf("forced zstd on plain text: %v", err)
	}
	if _, err := Decrypt(&out, bytes.NewReader([]byte("not age at all")), []age.Identity{id}, CompressionAuto); !errors.Is(err, ErrCorrupt) {
		t.Fatalf("not an age file: %v", err)
	}
}

// TestDecryptTruncatedAtChunkBoundary: without a manifest, age itself
// catches a ciphertext cut exactly between two 64 KiB chunks (the last
// chunk carries a flag), and a cut anywhere else.
func TestDecryptTruncatedAtChunkBoundary(t *testing.T) {
	id, _ := age.GenerateX25519Identity()
	var ct bytes.Buffer
	w, _ := age.Encrypt(&ct, id.Recipient())
	w.Write(bytes.Repeat([]byte("x"), 3*64<<10+5))
	w.Close()
	b := ct.Bytes()
	mac := bytes.Index(b, []byte("\n--- "))
	payload := mac + bytes.IndexByte(b[mac+1:], '\n') + 2 + 16 // header, nonce
	const chunk = 64<<10 + 16                                  // plaintext chunk + tag
	for _, cut := range []int{payload, payload + chunk, payload + 2*chunk, payload + 3*chunk, len(b) - 1, payload + 100} {
		var out bytes.Buffer
		if _, err := Decrypt(&out, bytes.NewReader(b[:cut]), []age.Identity{id}, CompressionNone); !errors.Is(err, ErrCorrupt) {
			t.Errorf("cut at %d of %d: %v", cut, len(b), err)
		}
	}
	var out bytes.Buffer
	if _, err := Decrypt(&out, bytes.NewReader(b), []age.Identity{id}, CompressionNone); err != nil || out.Len() != 3*64<<10+5 {
		t.Fatalf("whole: %v, %d bytes", err, out.Len())
	}
}
