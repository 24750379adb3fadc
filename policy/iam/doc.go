// Package iam parses AWS IAM policy documents strictly and evaluates them
// offline, soundly: when the answer depends on something it cannot know (a
// header the caller chooses, the source address, the time, a tag) it says
// so, and it never reports a request as denied that AWS could allow.
//
// [Policy] is the one model of a policy document in putonly: [Parse] reads
// one, [Policy.MarshalJSON] writes one (the generator in package policy
// builds its documents as Policy values), and what MarshalJSON writes
// parses back to the same Policy.
//
// The semantics follow the AWS IAM User Guide; each rule is cited next to
// the code that implements it. The pages relied on:
//   - "Policy evaluation logic" and "Determining whether a request is
//     allowed or denied within an account"
//     (https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_evaluation-logic.html);
//   - "Cross-account policy evaluation logic"
//     (https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_evaluation-logic-cross-account.html);
//   - "IAM JSON policy elements: Condition operators"
//     (https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_condition_operators.html);
//   - "Single-valued vs. multivalued context keys"
//     (https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_condition-single-vs-multi-valued-context-keys.html);
//   - "IAM policy elements: Variables and tags"
//     (https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_variables.html);
//   - "AWS JSON policy elements: Principal" and "NotPrincipal"
//     (https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_notprincipal.html);
//   - "Grammar of the IAM JSON policy language"
//     (https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_grammar.html).
//
// The package depends on the standard library only.
package iam
