package policy

import (
	"maps"
	"slices"
	"strings"
	"sync"
)

//go:generate go run ./internal/gencatalogue -in ../../shared/data/s3-actions.json -class catalogue_class.go -out catalogue_gen.go

// Class says what an S3 action means for a write-only backup key.
type Class string

// The classes. Every action in the catalogue has exactly one; the table and
// the reason for each decision are in catalogue_class.go.
const (
	// ClassRead: object data or object metadata leaves S3, or the bucket
	// configuration that maps its defences (policy, ACL, encryption key,
	// retention, where copies, logs and events go) does.
	ClassRead Class = "read"
	// ClassList: ListBucket, ListBucketVersions, ListBucketMultipartUploads,
	// ListMultipartUploadParts. Key names leave S3, and a key that may list
	// learns whether an object exists (403 versus 404): a warning.
	ClassList Class = "list"
	// ClassDestroy: can make a backup unreadable or gone, now or later
	// (deletes, lifecycle, versioning, re-encryption, retention changes).
	ClassDestroy Class = "destroy"
	// ClassEscalate: can change who may do what (policy, ACL, ownership,
	// public access block, access points, grants, batch jobs, object lock
	// bypass) or where the bucket's data and records go (replication,
	// inventory, logging, notifications).
	ClassEscalate Class = "escalate"
	// ClassNeeded: what putonly itself uses: s3:PutObject (which also
	// authorises CreateMultipartUpload, UploadPart and
	// CompleteMultipartUpload), s3:AbortMultipartUpload and
	// s3:GetBucketLocation.
	ClassNeeded Class = "needed"
	// ClassOther: harmless to backups but not needed; granting it is a
	// "more than needed" warning.
	ClassOther Class = "other"
)

// Action is one S3 IAM action as AWS defines it, with its class for putonly.
type Action struct {
	Name          string   // "s3:GetObject": the s3: prefix and AWS's capitalisation
	AccessLevels  []string // AWS's access levels, e.g. ["Permissions management", "Write"]
	Resources     []string // resource type names; a trailing "*" marks a required one
	ConditionKeys []string // the keys AWS lists on the action itself (resource type keys apply on top)
	Description   string   // AWS's one-line description
	Class         Class
	Reason        string // why this class, one sentence
}

// Operation is one S3 API call (as the SDKs name it) and the IAM actions
// that authorise it.
type Operation struct {
	Name    string            // "UploadPart"
	Actions []string          // "s3:PutObject"; may name other services ("iam:PassRole", "s3express:...")
	When    map[string]string // action -> the source's condition for needing it, if any
	// Note is the data's remark on the entry, if any: an action the IAM
	// reference does not define, or an entry not re-checked against the
	// newer community map.
	Note string
}

// Actions returns every S3 action in the catalogue, sorted by Name. The
// result is a copy the caller may modify.
func Actions() []Action {
	out := make([]Action, len(catActions))
	for i, a := range catActions {
		out[i] = a.clone()
	}
	return out
}

// LookupAction returns the action with the given name, ignoring case, with
// or without the "s3:" prefix: "s3:GetObject", "GetObject" and
// "s3:getobject" all find s3:GetObject. It does not expand wildcards.
func LookupAction(name string) (Action, bool) {
	i, ok := catActionIndex()[catKey(name)]
	if !ok {
		return Action{}, false
	}
	return catActions[i].clone(), true
}

// CatalogueSource returns where the catalogue's data comes from and its date.
func CatalogueSource() string { return catSource }

// Operations returns every S3 API operation the data maps to IAM actions,
// sorted by Name. The map is community-maintained (iann0036's iamlive and
// iam-dataset), not AWS's own; see CatalogueSource.
func Operations() []Operation {
	out := make([]Operation, len(catOperations))
	for i, op := range catOperations {
		out[i] = op.clone()
	}
	return out
}

// OperationActions returns the IAM actions that authorise the S3 API call
// op ("PutObject", "UploadPart", case-insensitive), or nil if the data does
// not know the call. Actions of other services (iam:PassRole for
// PutBucketReplication, s3express:* for directory buckets) are included as
// the data gives them; see Operation.When for when each applies.
func OperationActions(op string) []string {
	i, ok := catOperationIndex()[strings.ToLower(op)]
	if !ok {
		return nil
	}
	return slices.Clone(catOperations[i].Actions)
}

// ConditionKeyType returns the type AWS gives a condition key of the s3
// service ("String", "Numeric", "Bool", "ARN", "Date", "ArrayOfString"),
// ignoring the case of the key, and whether the key is known.
func ConditionKeyType(key string) (string, bool) {
	t, ok := catConditionKeyIndex()[strings.ToLower(key)]
	return t, ok
}

// catKey normalises an action name for lookups: lower case, without the
// "s3:" prefix.
func catKey(name string) string {
	name = strings.ToLower(name)
	return strings.TrimPrefix(name, "s3:")
}

var catActionIndex = sync.OnceValue(func() map[string]int {
	m := make(map[string]int, len(catActions))
	for i, a := range catActions {
		m[catKey(a.Name)] = i
	}
	return m
})

var catOperationIndex = sync.OnceValue(func() map[string]int {
	m := make(map[string]int, len(catOperations))
	for i, op := range catOperations {
		m[strings.ToLower(op.Name)] = i
	}
	return m
})

var catConditionKeyIndex = sync.OnceValue(func() map[string]string {
	m := make(map[string]string, len(catConditionKeys))
	for _, k := range catConditionKeys {
		m[strings.ToLower(k.name)] = k.typ
	}
	return m
})

// catConditionKey is one condition key of the s3 service and its type.
type catConditionKey struct {
	name, typ string
}

func (a Action) clone() Action {
	a.AccessLevels = slices.Clone(a.AccessLevels)
	a.Resources = slices.Clone(a.Resources)
	a.ConditionKeys = slices.Clone(a.ConditionKeys)
	return a
}

func (op Operation) clone() Operation {
	op.Actions = slices.Clone(op.Actions)
	op.When = maps.Clone(op.When)
	return op
}

// ActionsOfClass returns the names ("s3:GetObject") of the catalogue's
// actions of the given classes, sorted.
func ActionsOfClass(classes ...Class) []string {
	var out []string
	for _, a := range catActions {
		if slices.Contains(classes, a.Class) {
			out = append(out, a.Name)
		}
	}
	return out
}
