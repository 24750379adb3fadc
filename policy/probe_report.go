package policy

import (
	"encoding/json"
	"fmt"
	"io"
	"slices"
	"strings"
	"text/tabwriter"
)

// WriteText prints the report as a table (probe, actions, expected, got,
// verdict, severity) followed by what to fix, one entry per violation,
// warning or unknown, and the verdict.
func (r *ProbeReport) WriteText(w io.Writer) error {
	if r.Cause != nil {
		// The cause first: it is the answer, and the table only shows
		// which probes it kept from running.
		fmt.Fprintf(w, "self-test of s3://%s/%s could not run: %s\n\n", r.Bucket, r.Prefix, r.Cause)
	}
	fmt.Fprintf(w, "self-test of s3://%s/%s (canaries under %s)\n\n", r.Bucket, r.Prefix, r.Canary)
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "PROBE\tACTIONS\tEXPECTED\tGOT\tVERDICT\tRESULT")
	for _, p := range r.Results {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\n", p.Probe, strings.Join(p.Actions, ","), p.Expected, p.Got, p.Verdict, p.Severity)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	if r.Cause != nil {
		// The probes did not run or got no answer because of the cause:
		// their details would repeat the table, each with a fix aimed at
		// the key ("grant s3:PutObject to the backup key") for what is the
		// endpoint's, the credentials' or the bucket's fault.
		fmt.Fprintf(w, "\nverdict: %s (the self-test could not run; it says nothing about the key's rights)\n", r.Verdict())
		return nil
	}
	for _, p := range r.Results {
		switch p.Severity {
		case SeverityViolation:
			if p.Expected == ProbeAllowed {
				fmt.Fprintf(w, "\nFAIL %s: refused (%s): the key cannot write backups\n", p.Probe, p.Got)
			} else {
				fmt.Fprintf(w, "\nFAIL %s: allowed (%s): the key has %s (%s)\n", p.Probe, p.Got, strings.Join(p.Actions, " or "), p.Class)
			}
		case SeverityWarning:
			fmt.Fprintf(w, "\nWARN %s: %s (%s)\n", p.Probe, p.Verdict, p.Got)
		case SeverityUnknown:
			fmt.Fprintf(w, "\n???? %s: could not tell (%s)\n", p.Probe, p.Got)
		case SeverityInfo:
			fmt.Fprintf(w, "\nINFO %s: %s\n", p.Probe, p.Note)
			continue
		default:
			continue
		}
		if p.Note != "" {
			fmt.Fprintf(w, "     %s\n", p.Note)
		}
		if p.Fix != "" {
			fmt.Fprintf(w, "     fix: %s\n", p.Fix)
		}
	}
	fmt.Fprintf(w, "\nverdict: %s (%d violation(s), %d warning(s), %d could not tell)\n", r.Verdict(),
		len(r.Violations()), len(r.Warnings()), len(r.Unknown()))
	return nil
}

// WriteJSON prints the report as one JSON document, with the verdict.
func (r *ProbeReport) WriteJSON(w io.Writer) error {
	doc := struct {
		Verdict string `json:"verdict"`
		*ProbeReport
	}{r.Verdict(), r}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(doc)
}

// Rights summarises what the key may do that a backup key must not: one
// line per set of actions, naming its class and the probes that showed it,
// and one fix for all of them. Both are empty when no read, list-free
// delete or escalation probe was allowed.
func (r *ProbeReport) Rights() (lines []string, fix string) {
	var order []string
	probes := map[string][]string{}
	class := map[string]Class{}
	var all []string
	for _, p := range r.Violations() {
		if p.Expected == ProbeAllowed {
			continue // a refused write: the key cannot back up, not a right
		}
		k := strings.Join(p.Actions, " or ")
		if _, ok := probes[k]; !ok {
			order = append(order, k)
		}
		probes[k] = append(probes[k], p.Probe)
		class[k] = p.Class
		for _, a := range p.Actions {
			if !slices.Contains(all, a) {
				all = append(all, a)
			}
		}
	}
	for _, k := range order {
		lines = append(lines, fmt.Sprintf("%s: %s (%s)", class[k], k, strings.Join(probes[k], "; ")))
	}
	if len(all) > 0 {
		slices.Sort(all)
		fix = fmt.Sprintf(fixDeny, strings.Join(all, ", "))
	}
	return lines, fix
}
