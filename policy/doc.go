// Package policy owns what putonly knows about S3 authorisation: the catalogue
// of S3 IAM actions and what each means for a write-only backup key, the
// generator of the write-only bucket policy, IAM user policy and lifecycle
// rules, and the offline evaluator that verifies a policy.
//
// It depends on nothing in the backup package.
package policy
