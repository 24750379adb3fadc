package layout

import (
	"bytes"
	"reflect"
	"strings"
	"testing"
	"time"

	"filippo.io/age"
)

func testManifest() *Manifest {
	return &Manifest{
		Format: ManifestFormat, Tool: ManifestTool, Version: "v1.2.3", Job: "shop", Host: "db1",
		Bucket: "b", Key: "db1/shop/2026/11/26/shop-20261126T021500Z-3f2a9c1e.dump.zst.age",
		Source: []string{"pg_dump", "-Fc", "shop"}, DumpExitStatus: 0,
		Start: time.Date(2026, 11, 26, 2, 15, 0, 0, time.UTC), End: time.Date(2026, 11, 26, 2, 16, 1, 5e8, time.UTC),
		PlaintextSize: 1 << 30, PlaintextSHA256: strings.Repeat("ab", 32),
		Compression: "zstd-default", CompressedSize: 1 << 28, Encryption: "age",
		RecipientTypes: []string{"X25519"}, CiphertextSize: 1<<28 + 4096, Parts: 17,
		ChecksumAlgorithm: "CRC64NVME", ChecksumType: "FULL_OBJECT", Checksum: "AAAAAAAAAAA=", SSE: "AES256",
	}
}

func TestManifestRoundTrip(t *testing.T) {
	id, err := age.GenerateX25519Identity()
	if err != nil {
		t.Fatal(err)
	}
	want := testManifest()
	body, err := EncodeManifest(want)
	if err != nil {
		t.Fatal(err)
	}
	got, err := DecodeManifest(bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("DecodeManifest(EncodeManifest(m)) = %+v, want %+v", got, want)
	}

	// Encrypted, as stored.
	var ct bytes.Buffer
	w, err := age.Encrypt(&ct, id.Recipient())
	if err != nil {
		t.Fatal(err)
	}
	w.Write(body)
	w.Close()
	got, err = ReadManifest(bytes.NewReader(ct.Bytes()), id)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("ReadManifest = %+v, want %+v", got, want)
	}
	other, _ := age.GenerateX25519Identity()
	if _, err := ReadManifest(bytes.NewReader(ct.Bytes()), other); err == nil {
		t.Error("another identity read the manifest")
	}
}

// EncodeManifest always writes a manifest its reader accepts.
func TestEncodeManifestSetsFormat(t *testing.T) {
	m := testManifest()
	m.Format, m.Tool = 0, ""
	body, err := EncodeManifest(m)
	if err != nil {
		t.Fatal(err)
	}
	if m.Format != 0 {
		t.Error("EncodeManifest changed its argument")
	}
	if _, err := DecodeManifest(bytes.NewReader(body)); err != nil {
		t.Fatal(err)
	}
}

func TestDecodeManifestRefuses(t *testing.T) {
	for name, body := range map[string]string{
		"other tool":     `{"format": 1, "tool": "restic"}`,
		"newer format":   `{"format": 2, "tool": "putonly"}`,
		"no format":      `{"tool": "putonly"}`,
		"not json":       `shop.dump`,
		"empty":          ``,
		"truncated":      `{"format": 1, "tool": "putonly", "job": "sh`,
		"wrong type":     `{"format": "1", "tool": "putonly"}`,
		"beyond the cap": `{"format": 1, "tool": "putonly", "host": "` + strings.Repeat("x", maxManifest) + `"}`,
	} {
		if m, err := DecodeManifest(strings.NewReader(body)); err == nil {
			t.Errorf("%s: accepted %+v", name, m)
		}
	}
}

// A newer agent may add fields; this reader still reads the ones it knows.
func TestDecodeManifestUnknownField(t *testing.T) {
	m, err := DecodeManifest(strings.NewReader(`{"format": 1, "tool": "putonly", "job": "shop", "added_later": {"x": 1}}`))
	if err != nil {
		t.Fatal(err)
	}
	if m.Job != "shop" {
		t.Errorf("job %q", m.Job)
	}
}
