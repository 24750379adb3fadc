package policy_test

import (
	"fmt"
	"os"

	"github.com/putonly/putonly/policy"
)

func ExampleGenerateSeedPolicy() {
	doc, err := policy.GenerateSeedPolicy(policy.GenerateOptions{
		Bucket:    "acme-db-backups",
		Principal: "arn:aws:iam::123456789012:user/putonly-db1",
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	os.Stdout.Write(doc)
	// Output:
	// {
	//   "Version": "2012-10-17",
	//   "Statement": [
	//     {
	//       "Effect": "Allow",
	//       "Principal": {
	//         "AWS": "arn:aws:iam::123456789012:user/putonly-db1"
	//       },
	//       "Action": [
	//         "s3:GetBucketLocation",
	//         "s3:ListBucket"
	//       ],
	//       "Resource": "arn:aws:s3:::acme-db-backups"
	//     },
	//     {
	//       "Effect": "Allow",
	//       "Principal": {
	//         "AWS": "arn:aws:iam::123456789012:user/putonly-db1"
	//       },
	//       "Action": "s3:PutObject",
	//       "Resource": "arn:aws:s3:::acme-db-backups/*"
	//     }
	//   ]
	// }
}

func ExampleGenerateOptions_Validate() {
	err := policy.GenerateOptions{
		Bucket:    "Acme_Backups",
		Principal: "arn:aws:iam::123456789012:user/putonly-db1",
		Prefix:    "db1",
	}.Validate()
	fmt.Println(err)
	// Output:
	// --bucket "Acme_Backups": bucket names use only lowercase letters, digits, dots and hyphens, and begin and end with a letter or digit
	// 	use the general purpose bucket's name as S3 shows it, e.g. --bucket acme-db-backups
	// --prefix "db1": must end in /, or the policy would also cover keys that merely begin with it (db1 also matches db10/)
	// 	e.g. --prefix db1/ (or leave it out to use the whole bucket)
}

func ExampleGenerateBucketPolicy() {
	doc, err := policy.GenerateBucketPolicy(policy.GenerateOptions{
		Bucket:    "acme-db-backups",
		Principal: "arn:aws:iam::123456789012:user/putonly-db1",
		Prefix:    "db1/",
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	bytes, _ := policy.PolicySize(doc)
	fmt.Println(bytes <= policy.BucketPolicyMaxBytes)
	// Output: true
}
