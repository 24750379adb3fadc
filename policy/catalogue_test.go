package policy

import (
	"slices"
	"strings"
	"testing"
)

func TestCatalogueClasses(t *testing.T) {
	acts := Actions()
	if len(acts) < 150 {
		t.Fatalf("catalogue has %d actions, want the whole S3 service", len(acts))
	}
	if !slices.IsSortedFunc(acts, func(a, b Action) int { return strings.Compare(a.Name, b.Name) }) {
		t.Error("Actions() is not sorted by Name")
	}
	valid := []Class{ClassRead, ClassList, ClassDestroy, ClassEscalate, ClassNeeded, ClassOther}
	for _, a := range acts {
		if !strings.HasPrefix(a.Name, "s3:") {
			t.Errorf("%s: name lacks the s3: prefix", a.Name)
		}
		if !slices.Contains(valid, a.Class) {
			t.Errorf("%s: class %q", a.Name, a.Class)
		}
		if a.Reason == "" || len(a.AccessLevels) == 0 {
			t.Errorf("%s: no reason or no access level", a.Name)
		}
		// The compiled table and the generated data agree: the generated
		// file was made from this table (the gencatalogue test checks it
		// is current; this catches a hand edit of the generated file).
		c, ok := catClasses[strings.TrimPrefix(a.Name, "s3:")]
		if !ok || c.Class != a.Class || c.Reason != a.Reason {
			t.Errorf("%s: generated class %s %q, table has %v", a.Name, a.Class, a.Reason, c)
		}
	}
	if len(catClasses) != len(acts) {
		t.Errorf("catClasses has %d entries, catalogue %d actions", len(catClasses), len(acts))
	}

	// These two sets are decisions the rest of putonly relies on: the
	// generator allows exactly the needed actions and the verifier warns on
	// exactly the list actions.
	want := map[Class][]string{
		ClassNeeded: {"s3:AbortMultipartUpload", "s3:GetBucketLocation", "s3:PutObject"},
		ClassList:   {"s3:ListBucket", "s3:ListBucketMultipartUploads", "s3:ListBucketVersions", "s3:ListMultipartUploadParts"},
	}
	for class, names := range want {
		if got := ActionsOfClass(class); !slices.Equal(got, names) {
			t.Errorf("ActionsOfClass(%s) = %v, want %v", class, got, names)
		}
	}
}

func TestCatalogueSpotChecks(t *testing.T) {
	// Actions whose class a reviewer would check first.
	tests := map[string]Class{
		"GetObject":                   ClassRead,
		"GetObjectVersion":            ClassRead,
		"GetObjectAttributes":         ClassRead,
		"GetObjectTorrent":            ClassRead,
		"RestoreObject":               ClassRead,
		"GetBucketPolicy":             ClassRead,
		"DeleteObject":                ClassDestroy,
		"DeleteObjectVersion":         ClassDestroy,
		"PutLifecycleConfiguration":   ClassDestroy,
		"PutBucketVersioning":         ClassDestroy,
		"PutEncryptionConfiguration":  ClassDestroy,
		"UpdateObjectEncryption":      ClassDestroy,
		"PutObjectRetention":          ClassDestroy,
		"PutObjectTagging":            ClassDestroy,
		"PutBucketPolicy":             ClassEscalate,
		"DeleteBucketPolicy":          ClassEscalate,
		"PutBucketAcl":                ClassEscalate,
		"PutObjectAcl":                ClassEscalate,
		"PutReplicationConfiguration": ClassEscalate,
		"PutBucketOwnershipControls":  ClassEscalate,
		"PutBucketPublicAccessBlock":  ClassEscalate,
		"PutInventoryConfiguration":   ClassEscalate,
		"PutBucketLogging":            ClassEscalate,
		"PutBucketNotification":       ClassEscalate,
		"BypassGovernanceRetention":   ClassEscalate,
		"CreateAccessPoint":           ClassEscalate,
		"CreateJob":                   ClassEscalate,
	}
	for name, want := range tests {
		a, ok := LookupAction(name)
		if !ok {
			t.Errorf("LookupAction(%q): not found", name)
			continue
		}
		if a.Class != want {
			t.Errorf("%s: class %s, want %s (%s)", name, a.Class, want, a.Reason)
		}
	}
}

func TestLookupAction(t *testing.T) {
	for _, name := range []string{"s3:GetObject", "GetObject", "s3:getobject", "S3:GETOBJECT"} {
		a, ok := LookupAction(name)
		if !ok || a.Name != "s3:GetObject" {
			t.Errorf("LookupAction(%q) = %q, %v", name, a.Name, ok)
		}
	}
	for _, name := range []string{"", "s3:", "s3:Get*", "ec2:GetObject", "s3:GetObjekt"} {
		if a, ok := LookupAction(name); ok {
			t.Errorf("LookupAction(%q) = %q, want not found", name, a.Name)
		}
	}
	// The result is a copy.
	a, _ := LookupAction("s3:PutObject")
	a.ConditionKeys[0] = "changed"
	b, _ := LookupAction("s3:PutObject")
	if b.ConditionKeys[0] == "changed" {
		t.Error("LookupAction shares its slices with the catalogue")
	}
}

func TestPutObjectConditionKeys(t *testing.T) {
	// The generated policy conditions on these keys of s3:PutObject.
	a, _ := LookupAction("s3:PutObject")
	for _, key := range []string{"s3:ObjectCreationOperation", "s3:if-none-match", "s3:x-amz-server-side-encryption",
		"s3:x-amz-server-side-encryption-aws-kms-key-id", "s3:TlsVersion"} {
		if !slices.Contains(a.ConditionKeys, key) {
			t.Errorf("s3:PutObject lacks condition key %s", key)
		}
	}
	for key, want := range map[string]string{"s3:ObjectCreationOperation": "Bool", "s3:TlsVersion": "Numeric", "S3:X-AMZ-SERVER-SIDE-ENCRYPTION": "String"} {
		if got, ok := ConditionKeyType(key); !ok || got != want {
			t.Errorf("ConditionKeyType(%q) = %q, %v; want %q", key, got, ok, want)
		}
	}
}

func TestOperationActions(t *testing.T) {
	tests := map[string][]string{
		"PutObject":               {"s3:PutObject"},
		"CreateMultipartUpload":   {"s3:PutObject"},
		"uploadpart":              {"s3:PutObject"},
		"CompleteMultipartUpload": {"s3:PutObject"},
		"AbortMultipartUpload":    {"s3:AbortMultipartUpload"},
		"GetBucketLocation":       {"s3:GetBucketLocation"},
		"HeadBucket":              {"s3:ListBucket"},
		"NoSuchCall":              nil,
	}
	for op, want := range tests {
		if got := OperationActions(op); !slices.Equal(got, want) {
			t.Errorf("OperationActions(%q) = %v, want %v", op, got, want)
		}
	}
	// Every s3: action the map names is in the catalogue, except the ones
	// the data itself marks as not in the IAM reference.
	for _, op := range Operations() {
		for _, name := range op.Actions {
			if !strings.HasPrefix(name, "s3:") {
				continue
			}
			if _, ok := LookupAction(name); !ok && !strings.Contains(op.Note, name) {
				t.Errorf("operation %s needs %s, which the catalogue lacks", op.Name, name)
			}
		}
	}
}

func TestCatalogueSource(t *testing.T) {
	if src := CatalogueSource(); !strings.Contains(src, "2026") {
		t.Errorf("CatalogueSource() = %q, want the data's date", src)
	}
}
