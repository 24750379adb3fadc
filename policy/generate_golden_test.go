package policy

import (
	"bytes"
	"errors"
	"flag"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/putonly/putonly/policy/iam"
)

// genUpdate rewrites the golden files: go test ./policy -run Golden -update
var genUpdate = flag.Bool("update", false, "rewrite the golden files under testdata/generate")

const (
	goldAccount = "123456789012"
	goldUser    = "arn:aws:iam::123456789012:user/putonly-db1"
	goldFleet   = "arn:aws:iam::123456789012:user/putonly/*"
	goldKMS     = "arn:aws:kms:eu-west-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab"
)

func goldBase() GenerateOptions {
	return GenerateOptions{Bucket: "acme-db-backups", Principal: goldUser, Prefix: "db1/"}
}

// goldCases are the golden documents: each option on its own and the
// realistic combinations, for each output kind.
func goldCases() []struct {
	name string
	kind string // bucket-policy, user-policy, seed, lifecycle, setup, cloudformation
	o    GenerateOptions
} {
	with := func(f func(*GenerateOptions)) GenerateOptions {
		o := goldBase()
		f(&o)
		return o
	}
	noPrefix := with(func(o *GenerateOptions) { o.Prefix = "" })
	list := with(func(o *GenerateOptions) { o.AllowList = true })
	kms := with(func(o *GenerateOptions) { o.KMSKeyARN = goldKMS; o.Region = "eu-west-1" })
	sns := with(func(o *GenerateOptions) {
		o.SNSTopics = []string{"arn:aws:sns:eu-west-1:123456789012:backups-prod", "arn:aws:sns:eu-west-1:123456789012:backups-dev"}
	})
	lock := with(func(o *GenerateOptions) {
		o.ObjectLockDays, o.ObjectLockMode = 35, "compliance"
		o.Lifecycle.Expire = []ExpireRule{{"", 400}}
	})
	fleet := with(func(o *GenerateOptions) {
		o.Principal, o.Fleet, o.Prefix = goldFleet, true, "hosts/"
		o.Lifecycle.Expire = []ExpireRule{{"", 90}}
	})
	jobs := with(func(o *GenerateOptions) {
		o.Lifecycle = LifecycleOptions{
			Expire:              []ExpireRule{{"weekly", 60}, {"daily", 14}, {"monthly", 400}},
			AbortIncompleteDays: 2,
			Transition:          &Transition{StorageClass: "GLACIER_IR", Days: 7},
		}
	})
	full := with(func(o *GenerateOptions) {
		o.KMSKeyARN, o.Region = goldKMS, "eu-west-1"
		o.ObjectLockDays = 35
		o.Lifecycle = LifecycleOptions{Expire: []ExpireRule{{"daily", 35}, {"monthly", 400}}, NoncurrentDays: 3}
	})
	type c = struct {
		name string
		kind string
		o    GenerateOptions
	}
	return []c{
		{"bucket-policy", "bucket-policy", goldBase()},
		{"bucket-policy-no-prefix", "bucket-policy", noPrefix},
		{"bucket-policy-allow-list", "bucket-policy", list},
		{"bucket-policy-kms", "bucket-policy", kms},
		{"bucket-policy-object-lock", "bucket-policy", lock},
		{"bucket-policy-fleet", "bucket-policy", fleet},
		{"bucket-policy-full", "bucket-policy", full},
		{"seed", "seed", goldBase()},
		{"seed-no-prefix", "seed", noPrefix},
		{"user-policy", "user-policy", goldBase()},
		{"user-policy-allow-list", "user-policy", list},
		{"user-policy-kms", "user-policy", kms},
		{"user-policy-fleet", "user-policy", fleet},
		{"user-policy-sns", "user-policy", sns},
		{"lifecycle", "lifecycle", goldBase()},
		{"lifecycle-jobs", "lifecycle", jobs},
		{"lifecycle-object-lock", "lifecycle", lock},
		{"lifecycle-full", "lifecycle", full},
		{"setup", "setup", jobs},
		{"setup-full", "setup", full},
		{"setup-fleet", "setup", fleet},
		{"cloudformation", "cloudformation", jobs},
		{"cloudformation-full", "cloudformation", full},
		{"cloudformation-fleet", "cloudformation", fleet},
	}
}

func goldGenerate(kind string, o GenerateOptions) ([]byte, error) {
	switch kind {
	case "bucket-policy":
		return GenerateBucketPolicy(o)
	case "seed":
		return GenerateSeedPolicy(o)
	case "user-policy":
		return GenerateUserPolicy(o)
	case "lifecycle":
		return GenerateLifecycle(o)
	case "setup":
		return GenerateSetup(o, "putonly-policy generate --output setup ...")
	case "cloudformation":
		return GenerateCloudFormation(o)
	}
	return nil, errors.New("unknown kind " + kind)
}

func TestGenerateGolden(t *testing.T) {
	for _, tc := range goldCases() {
		t.Run(tc.name, func(t *testing.T) {
			got, err := goldGenerate(tc.kind, tc.o)
			if err != nil {
				t.Fatal(err)
			}
			again, _ := goldGenerate(tc.kind, tc.o)
			if !bytes.Equal(got, again) {
				t.Fatal("output differs between two runs")
			}
			ext := ".json"
			if tc.kind == "setup" {
				ext = ".sh"
			}
			path := filepath.Join("testdata", "generate", tc.name+ext)
			if *genUpdate {
				if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
					t.Fatal(err)
				}
				if err := os.WriteFile(path, got, 0o644); err != nil {
					t.Fatal(err)
				}
				return
			}
			want, err := os.ReadFile(path)
			if err != nil {
				t.Fatalf("%v (run go test ./policy -run Golden -update)", err)
			}
			if !bytes.Equal(got, want) {
				t.Errorf("%s differs from the generated output (if the change is intended: go test ./policy -run Golden -update)\n%s",
					path, goldDiff(string(want), string(got)))
			}
		})
	}
}

// goldDiff shows the first differing line.
func goldDiff(want, got string) string {
	w, g := strings.Split(want, "\n"), strings.Split(got, "\n")
	for i := range max(len(w), len(g)) {
		var wl, gl string
		if i < len(w) {
			wl = w[i]
		}
		if i < len(g) {
			gl = g[i]
		}
		if wl != gl {
			return "line " + strconv.Itoa(i+1) + ":\n  want: " + wl + "\n  got:  " + gl
		}
	}
	return ""
}

// TestPolicySizes: every generated policy fits its quota with room to
// spare, for the realistic inputs and the longest names AWS allows.
func TestPolicySizes(t *testing.T) {
	longest := GenerateOptions{
		Bucket:    strings.Repeat("b", 63),
		Principal: "arn:aws-us-gov:iam::123456789012:user/" + strings.Repeat("p/", 100) + strings.Repeat("u", 64),
		Prefix:    strings.Repeat("k", 200) + "/",
		AllowList: true, KMSKeyARN: goldKMS, ObjectLockDays: 36500,
	}
	sets := map[string]GenerateOptions{"longest": longest}
	for _, tc := range goldCases() {
		sets[tc.name] = tc.o
	}
	for name, o := range sets {
		bp, err := GenerateBucketPolicy(o)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if n, _ := PolicySize(bp); n > BucketPolicyMaxBytes*3/4 {
			t.Errorf("%s: bucket policy is %d bytes, limit %d: too little room to spare", name, n, BucketPolicyMaxBytes)
		}
		up, err := GenerateUserPolicy(o)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if _, n := PolicySize(up); n > ManagedPolicyMaxChars {
			t.Errorf("%s: user policy is %d characters without white space, limit %d", name, n, ManagedPolicyMaxChars)
		}
	}
	bp, _ := GenerateBucketPolicy(goldBase())
	up, _ := GenerateUserPolicy(goldBase())
	b, _ := PolicySize(bp)
	_, u := PolicySize(up)
	t.Logf("realistic input: bucket policy %d bytes (limit %d), user policy %d characters (limit %d)", b, BucketPolicyMaxBytes, u, ManagedPolicyMaxChars)
}

func TestPolicySizeCountsWhiteSpaceOutsideStrings(t *testing.T) {
	b, n := PolicySize([]byte("{\n  \"a b\": \"c\\\" d\"\n}\n"))
	if b != 21 || n != 15 {
		t.Errorf("PolicySize = %d, %d; want 21, 15", b, n)
	}
}

// TestNoDenyCoversNeeded: no Deny statement without conditions names, by
// name or wildcard, an action putonly needs. (The conditional ones are
// checked request by request in generate_semantics_test.go.)
func TestNoDenyCoversNeeded(t *testing.T) {
	needed := ActionsOfClass(ClassNeeded)
	for _, tc := range goldCases() {
		o := tc.o
		for _, p := range []*iam.Policy{o.bucketPolicy(), o.userPolicy()} {
			for _, s := range p.Statements {
				// A fleet's Deny statements all carry the ArnLike that names
				// the fleet; any other condition makes a statement conditional.
				onlyFleet := len(s.Conditions) == 1 && s.Conditions[0].Operator == "ArnLike" && s.Conditions[0].Key == "aws:PrincipalArn"
				if s.Effect != iam.Deny || len(s.Conditions) > 0 && !onlyFleet {
					continue
				}
				for _, a := range s.Actions {
					for _, n := range needed {
						if genWildcardMatch(strings.ToLower(a), strings.ToLower(n)) {
							t.Errorf("%s: statement %s denies %s (as %s) unconditionally", tc.name, s.Sid, n, a)
						}
					}
				}
			}
		}
	}
}

// genWildcardMatch matches an IAM action pattern (* and ?) against a name.
func genWildcardMatch(pat, s string) bool {
	if pat == "" {
		return s == ""
	}
	switch pat[0] {
	case '*':
		for i := 0; i <= len(s); i++ {
			if genWildcardMatch(pat[1:], s[i:]) {
				return true
			}
		}
		return false
	case '?':
		return s != "" && genWildcardMatch(pat[1:], s[1:])
	}
	return s != "" && pat[0] == s[0] && genWildcardMatch(pat[1:], s[1:])
}

func TestDenyListsAreTheCatalogue(t *testing.T) {
	o := goldBase()
	up := o.userPolicy()
	last := up.Statements[len(up.Statements)-1]
	want := ActionsOfClass(ClassRead, ClassDestroy, ClassEscalate)
	if got := last.Actions; !slices.Equal(got, want) {
		t.Errorf("user policy Deny lists %d actions, the catalogue has %d read/destroy/escalate", len(got), len(want))
	}
	bp := o.bucketPolicy()
	last = bp.Statements[len(bp.Statements)-1]
	got := last.Actions
	for _, n := range want {
		a, _ := LookupAction(n)
		bucketScoped := slices.ContainsFunc(a.Resources, func(r string) bool {
			r = strings.TrimSuffix(r, "*")
			return r == "bucket" || r == "object"
		})
		if bucketScoped != slices.Contains(got, n) {
			t.Errorf("bucket policy Deny: %s (resources %v) listed = %v", n, a.Resources, !bucketScoped)
		}
	}
}
