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

// fullManifest has every field set, so that the round trip covers each;
// TestFullManifestIsFull fails when a field is added without a value here.
func fullManifest() *Manifest {
	m := testManifest()
	m.SourceType, m.SourceDatabase, m.DumpFormat, m.ServerVersion = "postgres", "shop", "pg_dump custom 1.15", "15.8"
	m.Postgres = &PostgresBase{
		StartLSN: "0/2000028", StartWALFile: "000000010000000000000002", CheckpointLSN: "0/2000060", Timeline: 1,
		StopLSN: "0/2000138", StopWALFile: "000000010000000000000002", StopTimeline: 1,
		StartTime: "2026-11-26 02:15:00 UTC", Label: "putonly", Tablespaces: true,
		BackupLabel: "START WAL LOCATION: 0/2000028 (file 000000010000000000000002)\n",
	}
	return m
}

func TestFullManifestIsFull(t *testing.T) {
	var check func(path string, v reflect.Value)
	check = func(path string, v reflect.Value) {
		for i := range v.NumField() {
			f, name := v.Field(i), path+v.Type().Field(i).Name
			if f.IsZero() && name != "DumpExitStatus" { // 0 is the only status a manifest records
				t.Errorf("fullManifest leaves %s unset: give it a value so the round trip covers it", name)
			}
			if f.Kind() == reflect.Pointer && !f.IsNil() && f.Elem().Kind() == reflect.Struct {
				check(name+".", f.Elem())
			}
		}
	}
	check("", reflect.ValueOf(*fullManifest()))
}

func TestManifestRoundTrip(t *testing.T) {
	id, err := age.GenerateX25519Identity()
	if err != nil {
		t.Fatal(err)
	}
	want := fullManifest()
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
