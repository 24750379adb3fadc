// Package iamfake is a FAKE of the AWS IAM query API, for tests only: no
// local IAM server exists (the local S3 server has no IAM), so the IAM half
// of putonly-policy verify --live is tested against this instead. It
// answers the read-only calls verify --live makes (GetUser, the List*/Get*
// policy calls for users, groups and roles, GetPolicy, GetPolicyVersion)
// with the XML shapes of the IAM API Reference
// (https://docs.aws.amazon.com/IAM/latest/APIReference/), and answers any
// other action (every write among them) 400 with the action recorded, so a
// test can show verify never asks for one.
package iamfake

import (
	"encoding/xml"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strings"
	"sync"
)

// Account is what the fake knows: users, groups, roles and managed
// policies, with their documents as plain JSON (the fake URL-encodes them
// as IAM does).
type Account struct {
	ID     string
	Users  map[string]*Principal // by name
	Groups map[string]*Principal
	Roles  map[string]*Principal
	// Managed maps a policy ARN to its versions ("v1" -> JSON) and the
	// default version id.
	Managed map[string]*Managed
	// PageSize, if set, truncates every list at that many items (to test
	// pagination: the Marker of each page is honoured).
	PageSize int
}

// Principal is a user, group or role.
type Principal struct {
	Inline   map[string]string // policy name -> JSON
	Attached []string          // managed policy ARNs
	Groups   []string          // a user's groups
	Boundary string            // permissions boundary ARN
}

// Managed is a managed policy.
type Managed struct {
	Name     string
	Default  string
	Versions map[string]string
}

// Server is a running fake.
type Server struct {
	*httptest.Server
	mu    sync.Mutex
	calls []string
}

// Calls returns the actions asked for, in order.
func (s *Server) Calls() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.calls)
}

// Start starts the fake; stop it with Close.
func Start(a *Account) *Server {
	s := &Server{}
	s.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if err := r.ParseForm(); err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		action := r.Form.Get("Action")
		s.mu.Lock()
		s.calls = append(s.calls, action)
		s.mu.Unlock()
		body, code, err := a.answer(action, r.Form)
		w.Header().Set("Content-Type", "text/xml")
		if err != nil {
			w.WriteHeader(code)
			fmt.Fprintf(w, `<ErrorResponse xmlns="https://iam.amazonaws.com/doc/2010-05-08/"><Error><Type>Sender</Type><Code>%s</Code><Message>%s</Message></Error><RequestId>fake</RequestId></ErrorResponse>`, err.code, xmlEscape(err.msg))
			return
		}
		fmt.Fprintf(w, `<%sResponse xmlns="https://iam.amazonaws.com/doc/2010-05-08/"><%sResult>%s</%sResult><ResponseMetadata><RequestId>fake</RequestId></ResponseMetadata></%sResponse>`, action, action, body, action, action)
	}))
	return s
}

type apiError struct{ code, msg string }

func xmlEscape(s string) string {
	var b strings.Builder
	_ = xml.EscapeText(&b, []byte(s))
	return b.String()
}

// encode is how IAM returns a policy document: URL-encoded per RFC 3986.
func encode(doc string) string {
	return xmlEscape(strings.ReplaceAll(url.QueryEscape(doc), "+", "%20"))
}

const created = "<CreateDate>2026-01-01T00:00:00Z</CreateDate>"

// page cuts a list at the marker and the page size: with PageSize set,
// each page holds that many items, and a truncated one says so with
// IsTruncated and the Marker of the next ("m" and the index of its first
// item), as IAM's List calls do.
func (a *Account) page(items []string, form url.Values) (out []string, trailer string) {
	start := 0
	if m := form.Get("Marker"); m != "" {
		fmt.Sscanf(m, "m%d", &start)
	}
	start = min(max(start, 0), len(items))
	end := len(items)
	if a.PageSize > 0 && start+a.PageSize < end {
		end = start + a.PageSize
	}
	if end < len(items) {
		return items[start:end], fmt.Sprintf("<IsTruncated>true</IsTruncated><Marker>m%d</Marker>", end)
	}
	return items[start:end], "<IsTruncated>false</IsTruncated>"
}

// answer is the fake's reply to one call: the result's XML body, or the
// status and error of a failed call.
func (a *Account) answer(action string, form url.Values) (string, int, *apiError) {
	switch action {
	case "GetUser":
		return a.getUser(form)
	case "GetRole":
		return a.getRole(form)
	case "ListUserPolicies", "ListGroupPolicies", "ListRolePolicies":
		return a.listInline(a.holderOf(action), form)
	case "GetUserPolicy", "GetGroupPolicy", "GetRolePolicy":
		return a.getInline(a.holderOf(action), form)
	case "ListAttachedUserPolicies", "ListAttachedGroupPolicies", "ListAttachedRolePolicies":
		return a.listAttached(a.holderOf(action), form)
	case "ListGroupsForUser":
		return a.listGroupsForUser(form)
	case "GetPolicy":
		return a.getPolicy(form)
	case "GetPolicyVersion":
		return a.getPolicyVersion(form)
	}
	return "", 400, &apiError{"InvalidAction", "the fake answers only the read-only calls of verify --live, not " + action}
}

// holder is a kind of principal that holds policies, as the query API
// names it: its principals, its noun in error messages, the parameter
// that names one.
type holder struct {
	principals  map[string]*Principal
	noun, param string
}

// holderOf is the kind of principal a policy call is about: Group and
// Role in the action's name, a user otherwise.
func (a *Account) holderOf(action string) holder {
	switch {
	case strings.Contains(action, "Group"):
		return holder{a.Groups, "group", "GroupName"}
	case strings.Contains(action, "Role"):
		return holder{a.Roles, "role", "RoleName"}
	}
	return holder{a.Users, "user", "UserName"}
}

func (a *Account) users() holder { return holder{a.Users, "user", "UserName"} }

// lookup is the principal the call's name parameter names.
func (h holder) lookup(form url.Values) (*Principal, string, *apiError) {
	name := form.Get(h.param)
	p, ok := h.principals[name]
	if !ok {
		return nil, name, noSuchEntity(h.noun, name)
	}
	return p, name, nil
}

func noSuchEntity(kind, name string) *apiError {
	return &apiError{"NoSuchEntity", fmt.Sprintf("The %s with name %s cannot be found.", kind, name)}
}

func (a *Account) getUser(form url.Values) (string, int, *apiError) {
	p, name, err := a.users().lookup(form)
	if err != nil {
		return "", 404, err
	}
	return "<User><Path>/</Path><UserName>" + name + "</UserName><UserId>AIDAFAKE" + strings.ToUpper(name) + "</UserId><Arn>arn:aws:iam::" + a.ID + ":user/" + name + "</Arn>" + created + boundaryXML(p.Boundary) + "</User>", 200, nil
}

func (a *Account) getRole(form url.Values) (string, int, *apiError) {
	p, name, err := holder{a.Roles, "role", "RoleName"}.lookup(form)
	if err != nil {
		return "", 404, err
	}
	return "<Role><Path>/</Path><RoleName>" + name + "</RoleName><RoleId>AROAFAKE</RoleId><Arn>arn:aws:iam::" + a.ID + ":role/" + name + "</Arn>" + created + boundaryXML(p.Boundary) + "</Role>", 200, nil
}

// listInline is List{User,Group,Role}Policies: the inline policies'
// names, sorted, one page of them.
func (a *Account) listInline(h holder, form url.Values) (string, int, *apiError) {
	p, _, err := h.lookup(form)
	if err != nil {
		return "", 404, err
	}
	names := make([]string, 0, len(p.Inline))
	for k := range p.Inline {
		names = append(names, k)
	}
	slices.Sort(names)
	items, trailer := a.page(names, form)
	return "<PolicyNames>" + members(items, xmlEscape) + "</PolicyNames>" + trailer, 200, nil
}

// getInline is Get{User,Group,Role}Policy: one inline policy's document.
func (a *Account) getInline(h holder, form url.Values) (string, int, *apiError) {
	p, name, err := h.lookup(form)
	if err != nil {
		return "", 404, err
	}
	pn := form.Get("PolicyName")
	doc, ok := p.Inline[pn]
	if !ok {
		return "", 404, noSuchEntity("policy", pn)
	}
	return "<" + h.param + ">" + name + "</" + h.param + "><PolicyName>" + pn + "</PolicyName><PolicyDocument>" + encode(doc) + "</PolicyDocument>", 200, nil
}

// listAttached is ListAttached{User,Group,Role}Policies: one page of the
// managed policies attached.
func (a *Account) listAttached(h holder, form url.Values) (string, int, *apiError) {
	p, _, err := h.lookup(form)
	if err != nil {
		return "", 404, err
	}
	items, trailer := a.page(p.Attached, form)
	return "<AttachedPolicies>" + members(items, func(arn string) string {
		name := arn[strings.LastIndexByte(arn, '/')+1:]
		return "<PolicyName>" + name + "</PolicyName><PolicyArn>" + arn + "</PolicyArn>"
	}) + "</AttachedPolicies>" + trailer, 200, nil
}

// listGroupsForUser is one page of a user's groups.
func (a *Account) listGroupsForUser(form url.Values) (string, int, *apiError) {
	p, _, err := a.users().lookup(form)
	if err != nil {
		return "", 404, err
	}
	items, trailer := a.page(p.Groups, form)
	return "<Groups>" + members(items, func(g string) string {
		return "<Path>/</Path><GroupName>" + g + "</GroupName><GroupId>AGPAFAKE</GroupId><Arn>arn:aws:iam::" + a.ID + ":group/" + g + "</Arn>" + created
	}) + "</Groups>" + trailer, 200, nil
}

func (a *Account) getPolicy(form url.Values) (string, int, *apiError) {
	arn := form.Get("PolicyArn")
	mp, ok := a.Managed[arn]
	if !ok {
		return "", 404, noSuchEntity("policy", arn)
	}
	return "<Policy><PolicyName>" + mp.Name + "</PolicyName><PolicyId>ANPAFAKE</PolicyId><Arn>" + arn + "</Arn><Path>/</Path><DefaultVersionId>" + mp.Default + "</DefaultVersionId><AttachmentCount>1</AttachmentCount><IsAttachable>true</IsAttachable>" + created + "</Policy>", 200, nil
}

func (a *Account) getPolicyVersion(form url.Values) (string, int, *apiError) {
	arn, v := form.Get("PolicyArn"), form.Get("VersionId")
	mp, ok := a.Managed[arn]
	if !ok {
		return "", 404, noSuchEntity("policy", arn)
	}
	doc, ok := mp.Versions[v]
	if !ok {
		return "", 404, noSuchEntity("policy version", v)
	}
	return fmt.Sprintf("<PolicyVersion><Document>%s</Document><VersionId>%s</VersionId><IsDefaultVersion>%v</IsDefaultVersion>%s</PolicyVersion>", encode(doc), v, v == mp.Default, created), 200, nil
}

// members is a list of items as the query API writes one.
func members(items []string, f func(string) string) string {
	var b strings.Builder
	for _, it := range items {
		b.WriteString("<member>" + f(it) + "</member>")
	}
	return b.String()
}

// boundaryXML is a user's or role's permissions boundary element, if any.
func boundaryXML(arn string) string {
	if arn == "" {
		return ""
	}
	return "<PermissionsBoundary><PermissionsBoundaryType>Policy</PermissionsBoundaryType><PermissionsBoundaryArn>" + arn + "</PermissionsBoundaryArn></PermissionsBoundary>"
}
