package policy

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
)

// BucketSettings is the bucket's own configuration, as far as it decides
// whether a write-only key is write-only: versioning and object lock (can an
// overwrite destroy?), default encryption and blocked SSE-C, ownership
// controls (ACLs), Block Public Access, and lifecycle rules.
//
// A nil pointer or empty field means the bucket has no such configuration:
// the AWS CLI prints nothing (only an error such as
// ServerSideEncryptionConfigurationNotFoundError) for a configuration that
// was never set.
type BucketSettings struct {
	// Versioning is "Enabled", "Suspended", or "" for a bucket never
	// versioned (get-bucket-versioning prints {}).
	Versioning string
	// ObjectLock is the object lock configuration; nil for none.
	ObjectLock *ObjectLockSettings
	// Encryption holds the default encryption rules; nil for none.
	Encryption []EncryptionRule
	// Lifecycle holds the lifecycle rules; nil for none.
	Lifecycle []LifecycleRule
	// PublicAccessBlock is the bucket's Block Public Access; nil for none.
	PublicAccessBlock *PublicAccessBlock
	// ObjectOwnership is the ownership controls' rule
	// ("BucketOwnerEnforced" disables ACLs); "" for none.
	ObjectOwnership string
	// Documents are the documents read, for the report.
	Documents []SettingsDocument
}

// SettingsDocument is one input document of the settings.
type SettingsDocument struct {
	Name   string // "versioning.json"
	SHA256 string // hex; "" when the file is absent
}

// ObjectLockSettings is get-object-lock-configuration's
// ObjectLockConfiguration.
type ObjectLockSettings struct {
	ObjectLockEnabled string `json:"ObjectLockEnabled"`
	Rule              *struct {
		DefaultRetention *struct {
			Mode  string `json:"Mode"`
			Days  int    `json:"Days"`
			Years int    `json:"Years"`
		} `json:"DefaultRetention"`
	} `json:"Rule"`
}

// EncryptionRule is one rule of get-bucket-encryption.
type EncryptionRule struct {
	ApplyServerSideEncryptionByDefault *struct {
		SSEAlgorithm   string `json:"SSEAlgorithm"`
		KMSMasterKeyID string `json:"KMSMasterKeyID"`
	} `json:"ApplyServerSideEncryptionByDefault"`
	BucketKeyEnabled       bool `json:"BucketKeyEnabled"`
	BlockedEncryptionTypes *struct {
		EncryptionType []string `json:"EncryptionType"`
	} `json:"BlockedEncryptionTypes"`
}

// LifecycleRule is one rule of get-bucket-lifecycle-configuration.
type LifecycleRule struct {
	ID     string `json:"ID"`
	Status string `json:"Status"`
	Prefix string `json:"Prefix"` // the deprecated top-level filter
	Filter *struct {
		Prefix string          `json:"Prefix"`
		Tag    json.RawMessage `json:"Tag"`
		And    *struct {
			Prefix string          `json:"Prefix"`
			Tags   json.RawMessage `json:"Tags"`
		} `json:"And"`
		ObjectSizeGreaterThan *int64 `json:"ObjectSizeGreaterThan"`
		ObjectSizeLessThan    *int64 `json:"ObjectSizeLessThan"`
	} `json:"Filter"`
	Expiration *struct {
		Days                      int    `json:"Days"`
		Date                      string `json:"Date"`
		ExpiredObjectDeleteMarker bool   `json:"ExpiredObjectDeleteMarker"`
	} `json:"Expiration"`
	NoncurrentVersionExpiration *struct {
		NoncurrentDays int `json:"NoncurrentDays"`
	} `json:"NoncurrentVersionExpiration"`
	AbortIncompleteMultipartUpload *struct {
		DaysAfterInitiation int `json:"DaysAfterInitiation"`
	} `json:"AbortIncompleteMultipartUpload"`
}

// PublicAccessBlock is get-public-access-block's
// PublicAccessBlockConfiguration.
type PublicAccessBlock struct {
	BlockPublicAcls       bool `json:"BlockPublicAcls"`
	IgnorePublicAcls      bool `json:"IgnorePublicAcls"`
	BlockPublicPolicy     bool `json:"BlockPublicPolicy"`
	RestrictPublicBuckets bool `json:"RestrictPublicBuckets"`
}

// SettingsFiles are the files ReadBucketSettings reads from its directory,
// each the output of one AWS CLI command (aws s3api get-bucket-versioning
// --bucket B > versioning.json, ...), in this order.
var SettingsFiles = []struct{ File, Command string }{
	{"versioning.json", "get-bucket-versioning"},
	{"object-lock-configuration.json", "get-object-lock-configuration"},
	{"encryption.json", "get-bucket-encryption"},
	{"lifecycle-configuration.json", "get-bucket-lifecycle-configuration"},
	{"public-access-block.json", "get-public-access-block"},
	{"ownership-controls.json", "get-bucket-ownership-controls"},
}

// ReadBucketSettings reads the bucket's settings from dir, one file per
// AWS CLI command of SettingsFiles. A missing or empty file means the
// configuration is not set (the CLI prints nothing then); a file that is
// not what the command prints is an error naming it.
func ReadBucketSettings(dir string) (*BucketSettings, error) {
	st, err := os.Stat(dir)
	if err != nil {
		return nil, fmt.Errorf("bucket settings: %w", err)
	}
	if !st.IsDir() {
		return nil, fmt.Errorf("bucket settings: %s is not a directory (want one file per aws s3api command: %s)", dir, settingsFileList())
	}
	if err := unknownSettingsFiles(dir); err != nil {
		return nil, err
	}
	docs := map[string][]byte{}
	for _, f := range SettingsFiles {
		data, err := os.ReadFile(filepath.Join(dir, f.File))
		if errors.Is(err, fs.ErrNotExist) {
			continue
		}
		if err != nil {
			return nil, fmt.Errorf("bucket settings: %w", err)
		}
		docs[f.File] = data
	}
	return ParseBucketSettings(docs)
}

// unknownSettingsFiles refuses a .json file that is none of
// SettingsFiles: a misspelt name (versionning.json) would otherwise read as
// a setting never configured, and the report would rest on a document the
// admin believes was read.
func unknownSettingsFiles(dir string) error {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return fmt.Errorf("bucket settings: %w", err)
	}
	for _, e := range entries {
		name := e.Name()
		if e.IsDir() || !strings.HasSuffix(name, ".json") {
			continue
		}
		known := false
		for _, f := range SettingsFiles {
			known = known || f.File == name
		}
		if !known {
			return fmt.Errorf("bucket settings: %s is not one of the files read (%s)\n\thint: rename it, or move it out of %s",
				filepath.Join(dir, name), settingsFileList(), dir)
		}
	}
	return nil
}

func sha256Hex(data []byte) string {
	sum := sha256.Sum256(data)
	return hex.EncodeToString(sum[:])
}

func settingsFileList() string {
	var names []string
	for _, f := range SettingsFiles {
		names = append(names, f.File)
	}
	return strings.Join(names, ", ")
}

// ParseBucketSettings decodes the settings from the CLI outputs, keyed by
// the file names of SettingsFiles; a missing key is a configuration not
// set.
func ParseBucketSettings(docs map[string][]byte) (*BucketSettings, error) {
	s := &BucketSettings{}
	for _, f := range SettingsFiles {
		d := SettingsDocument{Name: f.File}
		if data, ok := docs[f.File]; ok {
			d.SHA256 = sha256Hex(data)
		}
		s.Documents = append(s.Documents, d)
	}
	return s, s.decode(docs)
}

func (s *BucketSettings) decode(docs map[string][]byte) error {
	dec := func(file string, v any) (bool, error) {
		data := bytes.TrimSpace(docs[file])
		if len(data) == 0 {
			return false, nil
		}
		if err := json.Unmarshal(data, v); err != nil {
			cmd := ""
			for _, f := range SettingsFiles {
				if f.File == file {
					cmd = f.Command
				}
			}
			return false, fmt.Errorf("bucket settings %s: not what 'aws s3api %s' prints: %w", file, cmd, err)
		}
		return true, nil
	}
	var ver struct {
		Status string `json:"Status"`
	}
	if _, err := dec("versioning.json", &ver); err != nil {
		return err
	}
	s.Versioning = ver.Status
	var lock struct {
		ObjectLockConfiguration *ObjectLockSettings `json:"ObjectLockConfiguration"`
	}
	if _, err := dec("object-lock-configuration.json", &lock); err != nil {
		return err
	}
	s.ObjectLock = lock.ObjectLockConfiguration
	var enc struct {
		ServerSideEncryptionConfiguration *struct {
			Rules []EncryptionRule `json:"Rules"`
		} `json:"ServerSideEncryptionConfiguration"`
	}
	if _, err := dec("encryption.json", &enc); err != nil {
		return err
	}
	if c := enc.ServerSideEncryptionConfiguration; c != nil {
		s.Encryption = c.Rules
	}
	var lc struct {
		Rules []LifecycleRule `json:"Rules"`
	}
	if _, err := dec("lifecycle-configuration.json", &lc); err != nil {
		return err
	}
	s.Lifecycle = lc.Rules
	var pab struct {
		PublicAccessBlockConfiguration *PublicAccessBlock `json:"PublicAccessBlockConfiguration"`
	}
	if _, err := dec("public-access-block.json", &pab); err != nil {
		return err
	}
	s.PublicAccessBlock = pab.PublicAccessBlockConfiguration
	var own struct {
		OwnershipControls *struct {
			Rules []struct {
				ObjectOwnership string `json:"ObjectOwnership"`
			} `json:"Rules"`
		} `json:"OwnershipControls"`
	}
	if _, err := dec("ownership-controls.json", &own); err != nil {
		return err
	}
	if c := own.OwnershipControls; c != nil && len(c.Rules) > 0 {
		s.ObjectOwnership = c.Rules[0].ObjectOwnership
	}
	return nil
}

// lockEnabled reports object lock enabled on the bucket.
func (s *BucketSettings) lockEnabled() bool {
	return s.ObjectLock != nil && s.ObjectLock.ObjectLockEnabled == "Enabled"
}

// keepsOldVersions reports that an overwrite keeps the replaced object: a
// bucket with versioning enabled (object lock requires it). Suspended
// versioning writes a "null" version that replaces the previous null
// version ("Working with objects in a versioning-suspended bucket", S3 User
// Guide, https://docs.aws.amazon.com/AmazonS3/latest/userguide/VersionSuspendedBehavior.html).
func (s *BucketSettings) keepsOldVersions() bool {
	return s.Versioning == "Enabled" || s.lockEnabled()
}

// rulePrefix is the key prefix a lifecycle rule filters on, and whether it
// has a tag filter as well.
func (r *LifecycleRule) rulePrefix() (prefix string, tags bool) {
	prefix = r.Prefix
	if f := r.Filter; f != nil {
		switch {
		case f.And != nil:
			prefix = f.And.Prefix
			tags = len(f.And.Tags) > 0 && string(f.And.Tags) != "null"
		default:
			if f.Prefix != "" {
				prefix = f.Prefix
			}
			tags = len(f.Tag) > 0 && string(f.Tag) != "null"
		}
	}
	return prefix, tags
}

// reaches reports that the rule may apply to some key under prefix: the
// two prefixes overlap when one starts with the other.
func (r *LifecycleRule) reaches(prefix string) bool {
	if r.Status != "Enabled" {
		return false
	}
	p, _ := r.rulePrefix()
	return strings.HasPrefix(p, prefix) || strings.HasPrefix(prefix, p)
}

// coversAll reports that the rule applies to every key under prefix: its
// own prefix is a prefix of it, and no tag or size filter narrows it.
func (r *LifecycleRule) coversAll(prefix string) bool {
	if r.Status != "Enabled" {
		return false
	}
	p, tags := r.rulePrefix()
	if tags || r.Filter != nil && (r.Filter.ObjectSizeGreaterThan != nil || r.Filter.ObjectSizeLessThan != nil) {
		return false
	}
	return strings.HasPrefix(prefix, p)
}
