package policy_test

import (
	"fmt"

	"github.com/putonly/putonly/policy"
	"github.com/putonly/putonly/policy/iam"
)

func ExampleVerify() {
	bp, err := iam.Parse([]byte(`{
	  "Version": "2012-10-17",
	  "Statement": [
	    {"Sid": "Backup", "Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::111122223333:user/putonly-db1"},
	     "Action": ["s3:PutObject", "s3:GetObject"], "Resource": "arn:aws:s3:::acme-db-backups/*"}
	  ]
	}`), iam.ResourceBased)
	if err != nil {
		panic(err)
	}
	bp.Name = "bucket"
	res, err := policy.Verify(policy.VerifyInput{
		BucketPolicy: bp,
		Principal:    "arn:aws:iam::111122223333:user/putonly-db1",
		Bucket:       "acme-db-backups",
		Prefix:       "db1/",
	})
	if err != nil {
		panic(err)
	}
	fmt.Println("verdict:", res.Verdict, "exit:", res.Exit(false))
	for _, f := range res.Findings {
		fmt.Println(f.Severity, f.Action, f.Effect, f.Statement)
	}
	// Output:
	// verdict: fail exit: 1
	// violation s3:GetObject allow bucket/Backup
	// warning s3:PutObject allow bucket/Backup
	// warning s3:PutObject allow bucket/Backup
	// warning s3:PutObject allow bucket/Backup
}
