package policy

import (
	"fmt"
	"slices"
	"strings"
)

func verVersioningText(status string) string {
	if status == "" {
		return "never enabled"
	}
	return strings.ToLower(status)
}

// settingsFindings checks the bucket's own configuration for what makes a
// write-only key write-only. Each check names the setting and the command
// that fixes it.
func (v *verifier) settingsFindings() []VerifyFinding {
	st := v.in.Settings
	if st == nil {
		return nil
	}
	var out []VerifyFinding
	add := func(subject, severity, reason string) {
		out = append(out, VerifyFinding{Action: subject, Effect: "setting", Statement: "bucket-settings", Severity: severity, Reason: reason})
	}

	// SSE-C: a request that supplies its own key (SSE-C) stores an object
	// only that key decrypts; a bucket blocks it with BlockedEncryptionTypes
	// in its default encryption ("Blocking or unblocking SSE-C for a general
	// purpose bucket", S3 User Guide,
	// https://docs.aws.amazon.com/AmazonS3/latest/userguide/blocking-unblocking-s3-c-encryption-gpb.html:
	// requests that specify SSE-C "will be rejected with an HTTP 403
	// AccessDenied error"). The bucket policy's SSE conditions do not cover
	// it: SSE-C is sent in x-amz-server-side-encryption-customer-algorithm,
	// not x-amz-server-side-encryption.
	blocked, hasDefault := false, false
	for _, r := range st.Encryption {
		if r.BlockedEncryptionTypes != nil && slices.ContainsFunc(r.BlockedEncryptionTypes.EncryptionType, func(t string) bool { return strings.EqualFold(t, "SSE-C") }) {
			blocked = true
		}
		if d := r.ApplyServerSideEncryptionByDefault; d != nil && d.SSEAlgorithm != "" {
			hasDefault = true
			if v.in.KMSKey != "" && (d.SSEAlgorithm != "aws:kms" || d.KMSMasterKeyID != v.in.KMSKey) {
				add("default encryption", SeverityWarning, fmt.Sprintf("the bucket's default encryption is %s %s, not SSE-KMS with --kms-key %s: uploads that send no SSE header use it", d.SSEAlgorithm, d.KMSMasterKeyID, v.in.KMSKey))
			}
		}
	}
	if !blocked {
		add("SSE-C", SeverityViolation, "destroy: SSE-C uploads are not blocked, so the key can store (or, where it may overwrite, replace) backups encrypted with a key only the attacker holds, the 2025 ransomware pattern; block it: aws s3api put-bucket-encryption with \"BlockedEncryptionTypes\": {\"EncryptionType\": [\"SSE-C\"]} in the rule")
	}
	if !hasDefault {
		// "Setting default server-side encryption behavior for Amazon S3
		// buckets", S3 User Guide,
		// https://docs.aws.amazon.com/AmazonS3/latest/userguide/bucket-encryption.html.
		add("default encryption", SeverityViolation, "no default encryption was shown (encryption.json absent or without ApplyServerSideEncryptionByDefault): the policy cannot require the SSE header on multipart uploads, the bucket's default is what encrypts them")
	}

	// ACLs: with ACLs enabled an upload may carry x-amz-acl or x-amz-grant-*
	// and give another account read of the backup it writes; Object
	// Ownership "bucket owner enforced" disables ACLs ("Controlling
	// ownership of objects and disabling ACLs for your bucket", S3 User
	// Guide, https://docs.aws.amazon.com/AmazonS3/latest/userguide/about-object-ownership.html).
	if st.ObjectOwnership != "BucketOwnerEnforced" {
		own := st.ObjectOwnership
		if own == "" {
			own = "not set"
		}
		add("ACLs", SeverityViolation, "read: ACLs are enabled (object ownership "+own+"): an upload can grant another account read of the backup it writes; disable them: aws s3api put-bucket-ownership-controls --ownership-controls 'Rules=[{ObjectOwnership=BucketOwnerEnforced}]'")
	}

	// Block Public Access: all four settings ("Blocking public access to
	// your Amazon S3 storage", S3 User Guide,
	// https://docs.aws.amazon.com/AmazonS3/latest/userguide/access-control-block-public-access.html).
	if p := st.PublicAccessBlock; p == nil || !p.BlockPublicAcls || !p.IgnorePublicAcls || !p.BlockPublicPolicy || !p.RestrictPublicBuckets {
		var off []string
		if p == nil {
			off = []string{"no public access block configured"}
		} else {
			for name, on := range map[string]bool{"BlockPublicAcls": p.BlockPublicAcls, "IgnorePublicAcls": p.IgnorePublicAcls, "BlockPublicPolicy": p.BlockPublicPolicy, "RestrictPublicBuckets": p.RestrictPublicBuckets} {
				if !on {
					off = append(off, name+" false")
				}
			}
			slices.Sort(off)
		}
		add("public access", SeverityViolation, "read: public access is not fully blocked ("+strings.Join(off, ", ")+"): a public ACL or policy could open the backups to anyone; aws s3api put-public-access-block --public-access-block-configuration BlockPublicAcls=true,IgnorePublicAcls=true,BlockPublicPolicy=true,RestrictPublicBuckets=true")
	}

	out = append(out, v.lifecycleFindings()...)
	return out
}

// lifecycleFindings checks the lifecycle rules that reach the backups:
// none may expire them sooner than the retention asked for, and one must
// abort incomplete multipart uploads. A bucket policy cannot stop a
// lifecycle rule ("Bucket policies for Amazon S3", S3 User Guide), and
// rules act on prefixes and tags ("Lifecycle configuration elements", S3
// User Guide, https://docs.aws.amazon.com/AmazonS3/latest/userguide/intro-lifecycle-rules.html).
func (v *verifier) lifecycleFindings() []VerifyFinding {
	st := v.in.Settings
	prefix := v.in.Prefix
	canaries := prefix + SelftestPrefix
	var out []VerifyFinding
	add := func(r *LifecycleRule, severity, reason string) {
		id := "bucket-settings"
		if r != nil {
			id = "lifecycle/" + r.ID
		}
		out = append(out, VerifyFinding{Action: "lifecycle", Effect: "setting", Statement: id, Severity: severity, Reason: reason})
	}
	aborts := false
	shortest, shortestRule := 0, ""
	for i := range st.Lifecycle {
		r := &st.Lifecycle[i]
		if !r.reaches(prefix) {
			continue
		}
		if a := r.AbortIncompleteMultipartUpload; a != nil && a.DaysAfterInitiation > 0 && r.coversAll(prefix) {
			aborts = true
		}
		if p, _ := r.rulePrefix(); strings.HasPrefix(p, canaries) {
			continue // the self-test's canaries, not backups
		}
		if e := r.Expiration; e != nil {
			if e.Days > 0 && (shortest == 0 || e.Days < shortest) {
				shortest, shortestRule = e.Days, r.ID
			}
			switch {
			case e.Date != "":
				add(r, SeverityViolation, fmt.Sprintf("destroy: rule %q expires every backup under %q on %s, whatever its age", r.ID, v.rulePrefixText(r), e.Date))
			case e.Days > 0 && v.in.RetentionDays > 0 && e.Days < v.in.RetentionDays:
				add(r, SeverityViolation, fmt.Sprintf("destroy: rule %q expires backups under %q after %d days, sooner than the %d days asked (--retention-days)", r.ID, v.rulePrefixText(r), e.Days, v.in.RetentionDays))
			}
		}
		if n := r.NoncurrentVersionExpiration; n != nil && v.overwrite && v.in.RetentionDays > 0 && n.NoncurrentDays < v.in.RetentionDays {
			add(r, SeverityViolation, fmt.Sprintf("destroy: overwrite is not prevented, and rule %q deletes the replaced (noncurrent) backup after %d days, sooner than the %d days asked", r.ID, n.NoncurrentDays, v.in.RetentionDays))
		}
	}
	if v.in.RetentionDays == 0 && shortest > 0 {
		add(nil, SeverityInfo, fmt.Sprintf("no --retention-days given, so expiry was not checked: the shortest rule reaching the backups, %q, expires them after %d days", shortestRule, shortest))
	}
	if !aborts {
		add(nil, SeverityWarning, fmt.Sprintf("no enabled lifecycle rule aborts incomplete multipart uploads under %q: parts of uploads cut short stay, billed and unseen, until aborted (add AbortIncompleteMultipartUpload, e.g. putonly-policy generate --output lifecycle)", prefix))
	}
	return out
}

func (v *verifier) rulePrefixText(r *LifecycleRule) string {
	p, _ := r.rulePrefix()
	return p
}
