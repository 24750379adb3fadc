package iam

import "testing"

// TestPrincipalForms checks each form of Principal and NotPrincipal the
// evaluator resolves, for each kind of caller. Source: IAM User Guide, "AWS
// JSON policy elements: Principal" and "NotPrincipal"
// (https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_principal.html,
// https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_notprincipal.html).
func TestPrincipalForms(t *testing.T) {
	const (
		bob      = "arn:aws:iam::111122223333:user/Bob"
		alice    = "arn:aws:iam::111122223333:user/Alice"
		pathUser = "arn:aws:iam::111122223333:user/ops/db/backup"
		role     = "arn:aws:iam::111122223333:role/backup-role"
		pathRole = "arn:aws:iam::111122223333:role/svc/backup-role"
		session  = "arn:aws:sts::111122223333:assumed-role/backup-role/host1"
		other    = "arn:aws:sts::111122223333:assumed-role/backup-role/host2"
		root     = "arn:aws:iam::111122223333:root"
		foreign  = "arn:aws:iam::999988887777:user/Bob"
	)
	read := `"Action":"s3:GetObject","Resource":"arn:aws:s3:::bk/*"`
	allow := func(principal string) string {
		return doc(`{"Effect":"Allow","Principal":` + principal + `,` + read + `}`)
	}
	// Every caller may read through its identity policy; the bucket
	// policy's Deny decides.
	idRead := doc(`{"Effect":"Allow",` + read + `}`)
	notPrincipal := func(listed ...string) string {
		list := ""
		for i, l := range listed {
			if i > 0 {
				list += ","
			}
			list += `"` + l + `"`
		}
		return doc(`{"Effect":"Allow","Principal":"*",`+read+`}`,
			`{"Effect":"Deny","NotPrincipal":{"AWS":[`+list+`]},`+read+`}`)
	}
	cases := []evalCase{
		// Principal in an Allow, same account: naming the caller grants.
		{name: "allow/user", bucket: allow(`{"AWS":"` + bob + `"}`), caller: bob, want: Allowed},
		{name: "allow/other user", bucket: allow(`{"AWS":"` + alice + `"}`), caller: bob, want: Denied},
		{name: "allow/user with path", bucket: allow(`{"AWS":"` + pathUser + `"}`), caller: pathUser, want: Allowed},
		{name: "allow/user without its path is another user", bucket: allow(`{"AWS":"arn:aws:iam::111122223333:user/backup"}`), caller: pathUser, want: Denied},
		{name: "allow/role names its sessions", bucket: allow(`{"AWS":"` + role + `"}`), caller: session, want: Allowed},
		{name: "allow/role with path names its sessions", bucket: allow(`{"AWS":"` + pathRole + `"}`), caller: session, want: Allowed},
		{name: "allow/session", bucket: allow(`{"AWS":"` + session + `"}`), caller: session, want: Allowed},
		{name: "allow/other session", bucket: allow(`{"AWS":"` + other + `"}`), caller: session, want: Denied},
		{name: "allow/one session of the role may be the caller's", bucket: allow(`{"AWS":"` + session + `"}`), caller: role, want: Conditional},
		{name: "allow/account delegates: no identity grant", bucket: allow(`{"AWS":"111122223333"}`), caller: bob, want: Denied},
		{name: "allow/account root delegates: identity grant", bucket: allow(`{"AWS":"` + root + `"}`), identity: []string{idRead}, caller: bob, want: Allowed},
		{name: "allow/*", bucket: allow(`"*"`), caller: bob, want: Allowed},
		{name: "allow/AWS *", bucket: allow(`{"AWS":"*"}`), caller: session, want: Allowed},
		{name: "allow/cross-account user needs its identity side", bucket: allow(`{"AWS":"` + foreign + `"}`), caller: foreign, want: Denied},
		{name: "allow/cross-account user with identity grant", bucket: allow(`{"AWS":"` + foreign + `"}`), identity: []string{idRead}, caller: foreign, want: Allowed},
		{name: "allow/cross-account account", bucket: allow(`{"AWS":"999988887777"}`), identity: []string{idRead}, caller: foreign, want: Allowed},
		// Not the user, but a confused deputy any account can direct at the
		// bucket (see Deputy).
		{name: "allow/service principal is a deputy", bucket: allow(`{"Service":"lambda.amazonaws.com"}`), caller: bob, want: Conditional},
		{name: "allow/the user's name in another case may be the user", bucket: allow(`{"AWS":"arn:aws:iam::111122223333:user/BOB"}`), caller: bob, want: Conditional},
		{name: "notprincipal/the user's name in another case: uncertain", bucket: notPrincipal("arn:aws:iam::111122223333:user/bob"), caller: bob, want: Allowed},
		{name: "allow/unique id may be anyone", bucket: allow(`{"AWS":"AIDAJQABLZS4A3QDU576Q"}`), caller: bob, want: Conditional},

		// NotPrincipal in a Deny: only the listed principal itself escapes.
		{name: "notprincipal/Bob and root: Bob escapes", bucket: notPrincipal(bob, root), caller: bob, want: Allowed},
		{name: "notprincipal/Bob and root: Alice denied", bucket: notPrincipal(bob, root), caller: alice, want: Denied},
		{name: "notprincipal/root only: users denied", bucket: notPrincipal(root), caller: bob, want: Denied},
		{name: "notprincipal/account id only: users denied", bucket: notPrincipal("111122223333"), caller: bob, want: Denied},
		{name: "notprincipal/user with path listed", bucket: notPrincipal(pathUser, root), caller: pathUser, want: Allowed},
		{name: "notprincipal/session, role and root: session escapes", bucket: notPrincipal(session, role, root), caller: session, want: Allowed},
		{name: "notprincipal/session and root listed: another session denied", bucket: notPrincipal(session, root), caller: other, want: Denied},
		{name: "notprincipal/role listed: another session uncertain", bucket: notPrincipal(session, role, root), caller: other, want: Allowed},
		{name: "notprincipal/role listed without session: uncertain", bucket: notPrincipal(role, root), caller: session, want: Allowed},
		{name: "notprincipal/cross-account Bob listed: our Bob denied", bucket: notPrincipal(foreign, "arn:aws:iam::999988887777:root"), caller: bob, want: Denied},
		{name: "notprincipal/cross-account Bob listed: he escapes", bucket: notPrincipal(foreign, "arn:aws:iam::999988887777:root"), identity: []string{idRead}, caller: foreign, want: Allowed},
		{name: "notprincipal/* excludes everyone", bucket: notPrincipal("*"), caller: bob, want: Allowed},
		{name: "notprincipal/unique id may be the caller", bucket: notPrincipal("AIDAJQABLZS4A3QDU576Q"), caller: bob, want: Allowed},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			tc.action, tc.target = "s3:GetObject", objects
			d := runEval(t, tc)
			if d.Access != tc.want {
				t.Errorf("Access = %v, want %v (grants %v, partial %v, note %q)", d.Access, tc.want, labels(d.Grants), d.Partial, d.Note)
			}
		})
	}
}
