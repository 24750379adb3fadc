package backup

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"
)

// fakeSNS speaks the SNS query protocol for Publish: there is no local SNS
// server to test against, and the first answer is a 500 to see the retry.
type fakeSNS struct {
	mu    sync.Mutex
	forms []url.Values
	auth  []string
}

func (f *fakeSNS) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	r.ParseForm()
	f.mu.Lock()
	f.forms = append(f.forms, r.PostForm)
	f.auth = append(f.auth, r.Header.Get("Authorization"))
	n := len(f.forms)
	f.mu.Unlock()
	w.Header().Set("Content-Type", "text/xml")
	if n == 1 {
		w.WriteHeader(http.StatusInternalServerError)
		fmt.Fprint(w, `<ErrorResponse><Error><Type>Receiver</Type><Code>InternalError</Code><Message>try again</Message></Error><RequestId>r1</RequestId></ErrorResponse>`)
		return
	}
	fmt.Fprint(w, `<PublishResponse xmlns="http://sns.amazonaws.com/doc/2010-03-31/"><PublishResult><MessageId>m-1</MessageId></PublishResult><ResponseMetadata><RequestId>r2</RequestId></ResponseMetadata></PublishResponse>`)
}

func TestSNSPublish(t *testing.T) {
	f := &fakeSNS{}
	srv := httptest.NewServer(f)
	defer srv.Close()
	t.Setenv("AWS_ENDPOINT_URL_SNS", srv.URL)
	t.Setenv("AWS_ACCESS_KEY_ID", "AKIDPUBLISHONLY")
	t.Setenv("AWS_SECRET_ACCESS_KEY", "secret")
	t.Setenv("AWS_SESSION_TOKEN", "")
	t.Setenv("AWS_CONFIG_FILE", "/dev/null")
	t.Setenv("AWS_SHARED_CREDENTIALS_FILE", "/dev/null")
	t.Setenv("AWS_PROFILE", "")

	topic := "arn:aws:sns:eu-west-1:111122223333:putonly-prod"
	n := &Notifier{}
	dests := []Destination{{Name: "oncall", NotifyConfig: NotifyConfig{SNS: topic}}}
	ev := Event{Job: "shop", Host: "db1", Status: StatusFailure, Reason: "dump", Error: "job shop: dump failed: exit status 1",
		Start: time.Unix(1790000000, 0).UTC()}
	if err := n.Send(context.Background(), dests, Event{Job: "shop", Status: StatusStart}); err != nil || len(f.forms) != 0 {
		t.Fatalf("a start event went to SNS (%v)", err)
	}
	if err := n.Send(context.Background(), dests, ev); err != nil {
		t.Fatal(err)
	}
	if len(f.forms) != 2 {
		t.Fatalf("%d requests, want 2 (a 500, then the retry)", len(f.forms))
	}
	form := f.forms[1]
	if form.Get("Action") != "Publish" || form.Get("TopicArn") != topic || !strings.HasPrefix(form.Get("Subject"), "putonly shop failure on db1") {
		t.Errorf("form %v", form)
	}
	var back Event
	if err := json.Unmarshal([]byte(form.Get("Message")), &back); err != nil || back.Job != "shop" || back.Reason != "dump" || back.Error == "" {
		t.Errorf("message %q (%v)", form.Get("Message"), err)
	}
	attrs := map[string]string{}
	for i := 1; form.Get(fmt.Sprintf("MessageAttributes.entry.%d.Name", i)) != ""; i++ {
		attrs[form.Get(fmt.Sprintf("MessageAttributes.entry.%d.Name", i))] = form.Get(fmt.Sprintf("MessageAttributes.entry.%d.Value.StringValue", i))
	}
	if attrs["job"] != "shop" || attrs["status"] != "failure" || attrs["host"] != "db1" {
		t.Errorf("message attributes %v (form %v)", attrs, form)
	}
	// Signed for SNS in the topic's region.
	if a := f.auth[1]; !strings.Contains(a, "AKIDPUBLISHONLY/") || !strings.Contains(a, "/eu-west-1/sns/aws4_request") {
		t.Errorf("Authorization %q", a)
	}
}

func TestSNSConfig(t *testing.T) {
	base := `
defaults: {bucket: bkt, recipients: [age1lkejd7g288e75atyvaal0f5saqdu8kqa96wfpd0k8yz289422qxshfvynf]}
jobs: [{name: j, source: {type: postgres, database: d}, notify: [t]}]
`
	if _, err := ParseConfig([]byte("notify: {t: {sns: 'arn:aws:sns:eu-west-1:111122223333:putonly-prod', profile: alerts}}" + base)); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct{ notify, want string }{
		{"{t: {sns: 'arn:aws:sqs:eu-west-1:111122223333:q'}}", `notify.t.sns "arn:aws:sqs:eu-west-1:111122223333:q": not an SNS topic ARN`},
		{"{t: {sns: 'arn:aws:sns:eu-west-1:111122223333:q.fifo'}}", "FIFO"},
		{"{t: {sns: 'arn:aws:sns:eu-west-1:111122223333:q', webhook: 'https://h.example.net/'}}", "more than one of webhook, ping and sns"},
		{"{t: {sns: 'arn:aws:sns:eu-west-1:111122223333:q', secret: s}}", "set on an sns destination"},
		{"{t: {webhook: 'https://h.example.net/', profile: p}}", "notify.t.profile"},
	} {
		_, err := ParseConfig([]byte("notify: " + tc.notify + base))
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: err = %v, want %q", tc.notify, err, tc.want)
		}
	}
}

func TestSNSTopics(t *testing.T) {
	c := &Config{Notify: map[string]NotifyConfig{
		"a": {SNS: "arn:aws:sns:eu-west-1:111122223333:b"},
		"b": {SNS: "arn:aws:sns:eu-west-1:111122223333:a"},
		"c": {SNS: "arn:aws:sns:eu-west-1:111122223333:a"},
		"d": {Webhook: "https://h.example.net/"},
	}}
	if got := strings.Join(c.SNSTopics(), " "); got != "arn:aws:sns:eu-west-1:111122223333:a arn:aws:sns:eu-west-1:111122223333:b" {
		t.Errorf("SNSTopics = %s", got)
	}
}
