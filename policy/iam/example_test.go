package iam_test

import (
	"fmt"

	"github.com/putonly/putonly/policy/iam"
)

func ExampleEvaluator() {
	bucket, err := iam.Parse([]byte(`{
	  "Version": "2012-10-17",
	  "Statement": [
	    {"Sid": "Write", "Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::111122223333:user/backup"},
	     "Action": "s3:*Object", "Resource": "arn:aws:s3:::bk/*"},
	    {"Sid": "NoDelete", "Effect": "Deny", "Principal": "*", "Action": "s3:Delete*", "Resource": "arn:aws:s3:::bk/*"},
	    {"Sid": "NoHTTP", "Effect": "Deny", "Principal": "*", "Action": "s3:*", "Resource": "arn:aws:s3:::bk/*",
	     "Condition": {"Bool": {"aws:SecureTransport": "false"}}}
	  ]
	}`), iam.ResourceBased)
	if err != nil {
		panic(err)
	}
	bucket.Name = "bucket"
	caller, err := iam.ParseCaller("arn:aws:iam::111122223333:user/backup")
	if err != nil {
		panic(err)
	}
	e := &iam.Evaluator{Caller: caller, ResourceAccount: "111122223333", Resource: bucket}
	objects := iam.Target{ARN: "arn:aws:s3:::bk/db/", Prefix: true} // every key under db/
	for _, action := range []string{"s3:PutObject", "s3:GetObject", "s3:DeleteObject", "s3:GetObjectVersion"} {
		d := e.Evaluate(iam.Request{Action: action, Target: objects})
		fmt.Printf("%s: %v", action, d.Access)
		for _, g := range d.Grants {
			fmt.Printf(" by %s", g.Label())
		}
		if d.Access != iam.Denied {
			for _, p := range d.Partial {
				fmt.Printf(" (%s denies only some requests)", p.Label())
			}
		}
		fmt.Println()
	}
	// Output:
	// s3:PutObject: allowed by bucket/Write (bucket/NoHTTP denies only some requests)
	// s3:GetObject: allowed by bucket/Write (bucket/NoHTTP denies only some requests)
	// s3:DeleteObject: denied
	// s3:GetObjectVersion: denied
}

func ExampleParse() {
	_, err := iam.Parse([]byte(`{"Version": "2012-10-17", "Statement": [
	  {"Sid": "Put", "Effect": "Allow", "Principal": "*", "Action": "s3:PutObject", "Resource": "*", "Action": "s3:GetObject"}
	]}`), iam.ResourceBased)
	fmt.Println(err)
	// Output:
	// statement 1 (Sid "Put"): Action: duplicate key
}
