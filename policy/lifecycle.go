package policy

import (
	"fmt"
	"regexp"
	"slices"
	"strconv"
	"strings"
)

// LifecycleOptions are the bucket's lifecycle rules. Retention is S3's job:
// the backup key can delete nothing, so old backups go only when a rule
// expires them.
type LifecycleOptions struct {
	// Expire lists how long backups live (--expire). One entry without a
	// Job covers every key under the prefix; entries with a Job cover
	// the keys of that putonly job (its name is the first part of the key
	// after the prefix: <prefix><job>/YYYY/MM/DD/...).
	Expire []ExpireRule
	// AbortIncompleteDays aborts multipart uploads left unfinished by a
	// crash after this many days, 1 to 7 (--abort-incomplete); 0 means 3.
	AbortIncompleteDays int
	// Transition, if set, moves backups to a colder storage class
	// (--transition CLASS=DAYS).
	Transition *Transition
	// NoncurrentDays is how long a version stays after a rule expired it,
	// in a versioned (object lock) bucket (--noncurrent-days); 0 means 7.
	NoncurrentDays int
}

// ExpireRule expires the backups of one job, or of all jobs, after Days.
type ExpireRule struct {
	Job  string // "" for every key under the prefix
	Days int
}

// Transition moves objects to StorageClass after Days.
type Transition struct {
	StorageClass string
	Days         int
}

// ParseExpire parses an --expire value: "DAYS" or "JOB=DAYS".
func ParseExpire(s string) (ExpireRule, error) {
	job, days, ok := strings.Cut(s, "=")
	if !ok {
		job, days = "", s
	}
	n, err := strconv.Atoi(days)
	if err != nil || (ok && job == "") {
		return ExpireRule{}, &OptionError{Flag: "--expire", Value: s, Msg: "want DAYS or JOB=DAYS",
			Fix: "e.g. --expire 35, or --expire daily=14 --expire monthly=400"}
	}
	return ExpireRule{Job: job, Days: n}, nil
}

// ParseTransition parses a --transition value: "STORAGECLASS=DAYS".
func ParseTransition(s string) (*Transition, error) {
	class, days, ok := strings.Cut(s, "=")
	n, err := strconv.Atoi(days)
	if !ok || err != nil {
		return nil, &OptionError{Flag: "--transition", Value: s, Msg: "want STORAGECLASS=DAYS", Fix: "e.g. --transition GLACIER_IR=30"}
	}
	return &Transition{StorageClass: strings.ToUpper(class), Days: n}, nil
}

// genTransitionMinDays are the storage classes a lifecycle rule may move
// objects to, with the least age S3 accepts: "Transitioning objects using
// Amazon S3 Lifecycle", S3 User Guide,
// https://docs.aws.amazon.com/AmazonS3/latest/userguide/lifecycle-transition-general-considerations.html
var genTransitionMinDays = map[string]int{
	"STANDARD_IA":         30,
	"ONEZONE_IA":          30,
	"INTELLIGENT_TIERING": 0,
	"GLACIER_IR":          0,
	"GLACIER":             0,
	"DEEP_ARCHIVE":        0,
}

var genJobRE = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]*$`)

func (l LifecycleOptions) abortDays() int {
	if l.AbortIncompleteDays == 0 {
		return 3
	}
	return l.AbortIncompleteDays
}

func (l LifecycleOptions) noncurrentDays() int {
	if l.NoncurrentDays == 0 {
		return 7
	}
	return l.NoncurrentDays
}

// validate checks the lifecycle options against each other and against the
// object lock retention.
func (l LifecycleOptions) validate(lockDays int, fleet bool) []error {
	var errs []error
	add := func(flag, value, msg, fix string) {
		errs = append(errs, &OptionError{Flag: flag, Value: value, Msg: msg, Fix: fix})
	}
	jobs := map[string]bool{}
	for _, e := range l.Expire {
		v := strconv.Itoa(e.Days)
		if e.Job != "" {
			v = e.Job + "=" + v
		}
		switch {
		case e.Job != "" && fleet:
			add("--expire", v, "per-job expiry with --fleet: each host's keys begin with its user name, and lifecycle filters take no wildcards",
				"give one --expire DAYS for all backups")
		case e.Job != "" && !genJobRE.MatchString(e.Job):
			add("--expire", v, "not a putonly job name", "job names are letters, digits, dots, hyphens and underscores, e.g. --expire daily=14")
		case jobs[e.Job]:
			add("--expire", v, "given twice for the same job", "give each job one --expire")
		case e.Days < 1 || e.Days > 36500:
			add("--expire", v, "days must be 1 to 36500", "e.g. --expire 35")
		case lockDays > 0 && e.Days < lockDays:
			add("--expire", v, fmt.Sprintf("expires backups before their %d-day object lock ends", lockDays),
				fmt.Sprintf("expire after at least %d days, or shorten --object-lock", lockDays))
		}
		jobs[e.Job] = true
	}
	if jobs[""] && len(jobs) > 1 {
		var given []string
		for _, e := range l.Expire {
			if e.Job == "" {
				given = append(given, strconv.Itoa(e.Days))
			} else {
				given = append(given, e.Job+"="+strconv.Itoa(e.Days))
			}
		}
		add("--expire", strings.Join(given, " "), "mixes one expiry for all backups with per-job expiries", "give either --expire DAYS, or one --expire JOB=DAYS per job")
	}
	if d := l.AbortIncompleteDays; d < 0 || d > 7 {
		add("--abort-incomplete", strconv.Itoa(d), "must be 1 to 7 days", "longer than your longest backup takes; e.g. --abort-incomplete 3")
	}
	if d := l.NoncurrentDays; d < 0 || d > 36500 {
		add("--noncurrent-days", strconv.Itoa(d), "must be 1 to 36500 days", "e.g. --noncurrent-days 7")
	} else if d > 0 && lockDays == 0 {
		add("--noncurrent-days", strconv.Itoa(d), "applies only to a versioned bucket, i.e. with --object-lock", "drop it, or add --object-lock DAYS")
	}
	if t := l.Transition; t != nil {
		v := t.StorageClass + "=" + strconv.Itoa(t.Days)
		minDays, ok := genTransitionMinDays[t.StorageClass]
		switch {
		case !ok:
			classes := make([]string, 0, len(genTransitionMinDays))
			for c := range genTransitionMinDays {
				classes = append(classes, c)
			}
			slices.Sort(classes)
			add("--transition", v, "not a storage class a lifecycle rule can move to", "one of "+strings.Join(classes, ", "))
		case t.Days < minDays || t.Days < 0:
			add("--transition", v, fmt.Sprintf("S3 moves objects to %s only after %d days", t.StorageClass, minDays), fmt.Sprintf("e.g. --transition %s=%d", t.StorageClass, max(minDays, 30)))
		default:
			for _, e := range l.Expire {
				if e.Days <= t.Days {
					add("--transition", v, fmt.Sprintf("moves backups after they expired (--expire %d)", e.Days), "transition earlier than the shortest --expire, or drop --transition")
					break
				}
			}
		}
	}
	return errs
}

// genLifecycle is the document aws s3api put-bucket-lifecycle-configuration
// takes as --lifecycle-configuration.
type genLifecycle struct {
	Rules []genRule `json:"Rules"`
}

type genRule struct {
	ID                             string              `json:"ID"`
	Status                         string              `json:"Status"`
	Filter                         genFilter           `json:"Filter"`
	Expiration                     *genExpiration      `json:"Expiration,omitempty"`
	Transitions                    []genTransition     `json:"Transitions,omitempty"`
	NoncurrentVersionExpiration    *genNoncurrent      `json:"NoncurrentVersionExpiration,omitempty"`
	AbortIncompleteMultipartUpload *genAbortIncomplete `json:"AbortIncompleteMultipartUpload,omitempty"`
}

type genFilter struct {
	Prefix string `json:"Prefix"`
}

type genExpiration struct {
	Days                      int  `json:"Days,omitempty"`
	ExpiredObjectDeleteMarker bool `json:"ExpiredObjectDeleteMarker,omitempty"`
}

type genTransition struct {
	Days         int    `json:"Days"`
	StorageClass string `json:"StorageClass"`
}

type genNoncurrent struct {
	NoncurrentDays int `json:"NoncurrentDays"`
}

type genAbortIncomplete struct {
	DaysAfterInitiation int `json:"DaysAfterInitiation"`
}

// GenerateLifecycle returns the lifecycle configuration: one rule per
// --expire (with the transition, if any), one that aborts incomplete
// multipart uploads under the prefix, and, in a versioned (object lock)
// bucket, the removal of expired versions and of the delete markers left
// behind.
//
// Rules filter on key prefixes, not object tags: tagging on upload needs
// s3:PutObjectTagging, which the policy denies, since a key that may tag
// could re-tag backups into an earlier expiry.
//
// A bucket policy cannot stop a lifecycle rule ("You can't use a bucket
// policy to prevent deletions or transitions by an S3 Lifecycle rule",
// Bucket policies for Amazon S3, S3 User Guide), which is why
// s3:PutLifecycleConfiguration is a destroy action.
func GenerateLifecycle(o GenerateOptions) ([]byte, error) {
	if err := o.Validate(); err != nil {
		return nil, err
	}
	return genJSON(o.lifecycle())
}

func (o GenerateOptions) lifecycle() genLifecycle {
	l := o.Lifecycle
	versioned := o.ObjectLockDays > 0
	var rules []genRule
	expire := slices.Clone(l.Expire)
	slices.SortFunc(expire, func(a, b ExpireRule) int { return strings.Compare(a.Job, b.Job) })
	for _, e := range expire {
		r := genRule{ID: "putonly-expire", Status: "Enabled", Filter: genFilter{Prefix: o.Prefix}, Expiration: &genExpiration{Days: e.Days}}
		if e.Job != "" {
			r.ID += "-" + e.Job
			r.Filter.Prefix = o.Prefix + e.Job + "/"
		}
		if t := l.Transition; t != nil {
			r.Transitions = []genTransition{{Days: t.Days, StorageClass: t.StorageClass}}
		}
		if versioned {
			r.NoncurrentVersionExpiration = &genNoncurrent{NoncurrentDays: l.noncurrentDays()}
		}
		rules = append(rules, r)
	}
	if t := l.Transition; t != nil && len(expire) == 0 {
		rules = append(rules, genRule{ID: "putonly-transition", Status: "Enabled", Filter: genFilter{Prefix: o.Prefix},
			Transitions: []genTransition{{Days: t.Days, StorageClass: t.StorageClass}}})
	}
	if !o.Fleet {
		// The key self-test (putonly selftest, and the agent before its
		// first upload) writes small canaries under PREFIX_putonly-selftest/
		// that the backup key cannot delete; S3 removes them. A fleet's
		// canaries sit under each user's prefix, which a lifecycle filter
		// cannot name by pattern; they are a few kilobytes and 5 MiB per
		// probe run.
		r := genRule{ID: "putonly-expire-selftest-canaries", Status: "Enabled",
			Filter: genFilter{Prefix: o.Prefix + SelftestPrefix}, Expiration: &genExpiration{Days: 1}}
		if versioned {
			r.NoncurrentVersionExpiration = &genNoncurrent{NoncurrentDays: l.noncurrentDays()}
		}
		rules = append(rules, r)
	}
	rules = append(rules, genRule{
		ID: "putonly-abort-incomplete-uploads", Status: "Enabled", Filter: genFilter{Prefix: o.Prefix},
		AbortIncompleteMultipartUpload: &genAbortIncomplete{DaysAfterInitiation: l.abortDays()},
	})
	if versioned && len(expire) > 0 {
		// Expiring a current version in a versioned bucket only adds a
		// delete marker; once the noncurrent version is gone too, the
		// marker is removed. ExpiredObjectDeleteMarker cannot share a rule
		// with Days.
		rules = append(rules, genRule{
			ID: "putonly-remove-expired-delete-markers", Status: "Enabled", Filter: genFilter{Prefix: o.Prefix},
			Expiration: &genExpiration{ExpiredObjectDeleteMarker: true},
		})
	}
	return genLifecycle{Rules: rules}
}
