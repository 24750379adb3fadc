package policy_test

import (
	"fmt"

	"github.com/putonly/putonly/policy"
)

// A report's verdict, exit status and the rights it names, from the
// results of two probes: a read that S3 allowed and a listing it allowed.
func ExampleProbeReport_Rights() {
	rep := &policy.ProbeReport{Bucket: "acme-backups", Prefix: "db1/", Results: []policy.ProbeResult{
		{Probe: "GetObject canary", Operation: "GetObject", Actions: []string{"s3:GetObject", "s3:GetObjectVersion"},
			Class: policy.ClassRead, Expected: policy.ProbeRefused, Got: "200", Verdict: policy.ProbeAllowed, Severity: policy.SeverityViolation},
		{Probe: "ListObjectsV2", Operation: "ListObjectsV2", Actions: []string{"s3:ListBucket"},
			Class: policy.ClassList, Expected: policy.ProbeRefused, Got: "200", Verdict: policy.ProbeAllowed, Severity: policy.SeverityWarning},
	}}
	lines, _ := rep.Rights()
	fmt.Println(rep.Verdict(), rep.Exit(false))
	for _, l := range lines {
		fmt.Println(l)
	}
	// Output:
	// fail 1
	// read: s3:GetObject or s3:GetObjectVersion (GetObject canary)
}
