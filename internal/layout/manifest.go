package layout

import (
	"encoding/json"
	"fmt"
	"io"
	"time"

	"filippo.io/age"
)

// Manifest describes one backup; putonly restore checks the restored
// plaintext against it. It is stored, encrypted to the backup's recipients,
// at [ManifestKey] of the backup's key.
//
// Readers accept fields they do not know, so a manifest written by a newer
// agent still verifies with an older restore; a change that older readers
// would misread takes a new [ManifestFormat].
type Manifest struct {
	Format          int       `json:"format"`
	Tool            string    `json:"tool"`
	Version         string    `json:"version"`
	Job             string    `json:"job"`
	Host            string    `json:"host"`
	Bucket          string    `json:"bucket"`
	Key             string    `json:"key"`
	Source          []string  `json:"source"` // argv with secrets redacted
	DumpExitStatus  int       `json:"dump_exit_status"`
	Start           time.Time `json:"start"`
	End             time.Time `json:"end"`
	PlaintextSize   int64     `json:"plaintext_size"`
	PlaintextSHA256 string    `json:"plaintext_sha256"` // hex
	Compression     string    `json:"compression"`
	CompressedSize  int64     `json:"compressed_size"`
	Encryption      string    `json:"encryption"`
	RecipientTypes  []string  `json:"recipient_types"`
	CiphertextSize  int64     `json:"ciphertext_size"`
	Parts           int       `json:"parts"`
	// The checksum S3 verified when it accepted the object.
	ChecksumAlgorithm string `json:"checksum_algorithm"` // CRC64NVME or SHA256
	ChecksumType      string `json:"checksum_type"`      // FULL_OBJECT or COMPOSITE
	Checksum          string `json:"checksum"`           // base64, as S3 reports it
	SSE               string `json:"sse"`

	// What was dumped, so that a restore picks a target of the right kind
	// and refuses one named like the source. Absent from manifests written
	// before putonly recorded them.
	SourceType     string `json:"source_type,omitempty"`     // postgres, mysql, mongodb, sqlite, command
	SourceDatabase string `json:"source_database,omitempty"` // the database dumped, or the SQLite file's path
	DumpFormat     string `json:"dump_format,omitempty"`     // as told by the dump's head (internal/dumpinfo)
	ServerVersion  string `json:"server_version,omitempty"`  // of the server dumped, as the dump records it

	// Postgres describes a PostgreSQL base backup (source mode base), the
	// start of a point-in-time recovery; nil for dumps.
	Postgres *PostgresBase `json:"postgres,omitempty"`
}

// PostgresBase is where a base backup starts and stops in the WAL, read
// from the backup_label and backup_manifest pg_basebackup put in its tar.
// Recovery from it needs every WAL segment from StartWALFile on, and
// replays at least to StopLSN before the cluster is consistent.
type PostgresBase struct {
	StartLSN      string `json:"start_lsn"` // X/Y, as PostgreSQL writes it
	StartWALFile  string `json:"start_wal_file"`
	CheckpointLSN string `json:"checkpoint_lsn,omitempty"`
	Timeline      uint32 `json:"timeline"`
	// StopLSN and StopTimeline come from the backup_manifest's WAL-Ranges
	// (empty when the backup has no manifest, --no-manifest).
	StopLSN      string `json:"stop_lsn,omitempty"`
	StopWALFile  string `json:"stop_wal_file,omitempty"` // for 16 MiB segments
	StopTimeline uint32 `json:"stop_timeline,omitempty"`
	StartTime    string `json:"start_time,omitempty"` // backup_label's START TIME
	Label        string `json:"label,omitempty"`
	// Tablespaces is set when the tar carried a non-empty tablespace_map.
	Tablespaces bool `json:"tablespaces,omitempty"`
	// BackupLabel is the backup_label file as PostgreSQL wrote it.
	BackupLabel string `json:"backup_label"`
}

// ManifestFormat and ManifestTool identify a putonly manifest; every
// manifest written carries them and every reader checks them.
const (
	ManifestFormat = 1
	ManifestTool   = "putonly"
)

// maxManifest bounds what a reader decodes: a manifest is a few hundred
// bytes, and a reader must not be made to buffer a backup.
const maxManifest = 1 << 20

// EncodeManifest writes m as indented JSON, setting its Format and Tool.
// The caller encrypts the result.
func EncodeManifest(m *Manifest) ([]byte, error) {
	c := *m
	c.Format, c.Tool = ManifestFormat, ManifestTool
	return json.MarshalIndent(&c, "", "  ")
}

// DecodeManifest reads a manifest's JSON (decrypted) and checks that it is
// a putonly manifest of a format this version reads.
func DecodeManifest(r io.Reader) (*Manifest, error) {
	var m Manifest
	if err := json.NewDecoder(io.LimitReader(r, maxManifest)).Decode(&m); err != nil {
		return nil, fmt.Errorf("decode manifest: %w", err)
	}
	if m.Format != ManifestFormat || m.Tool != ManifestTool {
		return nil, fmt.Errorf("not a putonly manifest (format %d, tool %q)", m.Format, m.Tool)
	}
	return &m, nil
}

// ReadManifest decrypts and decodes a manifest.
func ReadManifest(r io.Reader, ids ...age.Identity) (*Manifest, error) {
	dr, err := age.Decrypt(r, ids...)
	if err != nil {
		return nil, fmt.Errorf("decrypt manifest: %w", err)
	}
	return DecodeManifest(dr)
}
