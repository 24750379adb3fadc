package backup

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
	"sort"
	"strings"
	"sync"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/sns"
	"github.com/aws/aws-sdk-go-v2/service/sns/types"
)

// snsTopicRE matches arn:PARTITION:sns:REGION:ACCOUNT:NAME.
var snsTopicRE = regexp.MustCompile(`^arn:(aws|aws-cn|aws-us-gov):sns:([a-z0-9-]+):([0-9]{12}):([A-Za-z0-9_-]{1,256}(\.fifo)?)$`)

// snsRegion returns the topic's region, or an error for a malformed ARN.
func snsRegion(arn string) (string, error) {
	m := snsTopicRE.FindStringSubmatch(arn)
	if m == nil {
		return "", errors.New("not an SNS topic ARN")
	}
	if m[5] != "" {
		return "", errors.New("FIFO topics need a message group: use a standard topic")
	}
	return m[2], nil
}

// snsPublisher is the one call a notifier makes to SNS.
type snsPublisher interface {
	Publish(ctx context.Context, in *sns.PublishInput, optFns ...func(*sns.Options)) (*sns.PublishOutput, error)
}

// snsClients caches one client per (profile, region): credentials come
// from the standard AWS chain, as for S3, and the key needs only
// sns:Publish on the topic.
type snsClients struct {
	mu      sync.Mutex
	clients map[string]snsPublisher
}

func (c *snsClients) get(ctx context.Context, region, profile string) (snsPublisher, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	k := profile + "\x00" + region
	if p, ok := c.clients[k]; ok {
		return p, nil
	}
	opts := []func(*config.LoadOptions) error{
		config.WithRegion(region),
		config.WithRetryer(func() aws.Retryer {
			return retry.NewStandard(func(o *retry.StandardOptions) { o.MaxAttempts = 5 })
		}),
	}
	if profile != "" {
		opts = append(opts, config.WithSharedConfigProfile(profile))
	}
	cfg, err := config.LoadDefaultConfig(ctx, opts...)
	if err != nil {
		return nil, fmt.Errorf("load AWS config: %w", err)
	}
	p := sns.NewFromConfig(cfg)
	if c.clients == nil {
		c.clients = map[string]snsPublisher{}
	}
	c.clients[k] = p
	return p, nil
}

// publishSNS sends the event as the message, JSON like a webhook's body,
// with job, status and host as message attributes, so subscription filter
// policies can route by them (prod failures to on-call, dev to developers).
// The SDK retries throttling and 5xx.
func (n *Notifier) publishSNS(ctx context.Context, d Destination, ev Event) error {
	region, err := snsRegion(d.SNS)
	if err != nil {
		return err
	}
	pub, err := n.sns.get(ctx, region, d.Profile)
	if err != nil {
		return err
	}
	body, err := json.Marshal(ev)
	if err != nil {
		return err
	}
	subject := fmt.Sprintf("putonly %s %s on %s", ev.Job, ev.Status, ev.Host)
	attr := func(v string) types.MessageAttributeValue {
		return types.MessageAttributeValue{DataType: aws.String("String"), StringValue: aws.String(v)}
	}
	attrs := map[string]types.MessageAttributeValue{"job": attr(ev.Job), "status": attr(ev.Status)}
	if ev.Host != "" {
		attrs["host"] = attr(ev.Host)
	}
	_, err = pub.Publish(ctx, &sns.PublishInput{
		TopicArn:          aws.String(d.SNS),
		Message:           aws.String(string(body)),
		Subject:           aws.String(snsSubject(subject)),
		MessageAttributes: attrs,
	})
	if err != nil {
		return fmt.Errorf("sns publish: %w", err)
	}
	return nil
}

// snsSubject fits SNS's rules: printable ASCII, no newline, under 100
// characters.
func snsSubject(s string) string {
	var b strings.Builder
	for _, r := range s {
		if r >= 0x20 && r < 0x7f {
			b.WriteRune(r)
		} else {
			b.WriteByte('?')
		}
	}
	out := b.String()
	if len(out) > 99 {
		out = out[:99]
	}
	return out
}

// SNSTopics lists the SNS topic ARNs the config's destinations publish to,
// sorted and without duplicates: what the key needs sns:Publish on.
func (c *Config) SNSTopics() []string {
	seen := map[string]bool{}
	var out []string
	for _, nc := range c.Notify {
		if nc.SNS != "" && !seen[nc.SNS] {
			seen[nc.SNS] = true
			out = append(out, nc.SNS)
		}
	}
	sort.Strings(out)
	return out
}
