package policy_test

import (
	"fmt"

	"github.com/putonly/putonly/policy"
)

func ExampleLookupAction() {
	a, ok := policy.LookupAction("getobject")
	fmt.Println(a.Name, a.Class, ok)
	fmt.Println(a.Reason)
	// Output:
	// s3:GetObject read true
	// returns a backup's data: the one thing the key must never do.
}

func ExampleOperationActions() {
	// UploadPart needs no action of its own: it is authorised as s3:PutObject.
	fmt.Println(policy.OperationActions("UploadPart"))
	// Output: [s3:PutObject]
}

func ExampleActionsOfClass() {
	fmt.Println(policy.ActionsOfClass(policy.ClassNeeded))
	// Output: [s3:AbortMultipartUpload s3:GetBucketLocation s3:PutObject]
}
