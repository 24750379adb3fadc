package backup

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"os"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/putonly/putonly/internal/state"
)

// NotifyConfig is one named destination under notify: in the config. It is
// a webhook (a JSON POST of every job's result), a healthchecks.io-style
// ping URL (URL/start, URL on success, URL/fail), or an SNS topic.
type NotifyConfig struct {
	// Webhook receives each event as a JSON POST, retried on 5xx, 429 and
	// network errors.
	Webhook string `yaml:"webhook"`
	// Secret signs webhook bodies: X-Putonly-Signature is
	// "sha256=" + hex(HMAC-SHA256(secret, timestamp + "." + body)), with the
	// timestamp in X-Putonly-Timestamp.
	Secret string `yaml:"secret"`
	// SecretFile holds the secret instead (read at each delivery, so it
	// stays out of the config file).
	SecretFile string `yaml:"secret_file"`
	// Ping is a healthchecks.io-style check URL.
	Ping string `yaml:"ping"`
	// SNS is a topic ARN; each result is published to it (notify_sns.go).
	// The key needs sns:Publish on the topic, nothing else.
	SNS string `yaml:"sns"`
	// Profile is the shared AWS config profile for SNS (default: the
	// standard chain, like S3's).
	Profile string `yaml:"profile"`
	// On is "all" (the default) or "failure": send only failures.
	On string `yaml:"on"`
}

// Destination is a named NotifyConfig a job sends to.
type Destination struct {
	Name string
	NotifyConfig
}

func (c *Config) validateNotify() []error { return c.validateNotifyAs(false) }

// validateNotifyAs checks the destinations; with flags, they came from the
// ad-hoc daemon's flags of the same name (--webhook, --ping, --sns), and the
// errors name those.
func (c *Config) validateNotifyAs(flags bool) []error {
	var errs []error
	names := make([]string, 0, len(c.Notify))
	for n := range c.Notify {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, name := range names {
		nc := c.Notify[name]
		field := "notify." + name
		add := func(f, v, msg, fix string) {
			fe := fieldError(field+f, v, msg, fix)
			if flags {
				fe.Field, fe.Flag = "", "--"+name
			}
			errs = append(errs, fe)
		}
		if !jobNameRE.MatchString(name) {
			add("", "", "invalid destination name", "use 1-63 characters of a-z, 0-9, '.', '_' and '-'")
		}
		kinds := 0
		for _, v := range []string{nc.Webhook, nc.Ping, nc.SNS} {
			if v != "" {
				kinds++
			}
		}
		switch {
		case kinds == 0:
			add("", "", "no webhook, ping or sns", "set webhook: https://... (JSON POST), ping: https://hc-ping.com/UUID or sns: arn:aws:sns:REGION:ACCOUNT:TOPIC")
		case kinds > 1:
			add("", "", "more than one of webhook, ping and sns", "make them separate destinations and list each in the job's notify")
		}
		if nc.SNS != "" {
			if _, err := snsRegion(nc.SNS); err != nil {
				add(".sns", nc.SNS, err.Error(), "write it as arn:aws:sns:eu-west-1:111122223333:putonly-alerts")
			}
			if nc.Secret != "" || nc.SecretFile != "" {
				add(".secret", "", "set on an sns destination", "SNS signs its own deliveries; remove it")
			}
		} else if nc.Profile != "" {
			add(".profile", nc.Profile, "set without sns", "remove it: only SNS destinations use AWS credentials")
		}
		if nc.Webhook != "" {
			if err := checkNotifyURL(nc.Webhook); err != nil {
				add(".webhook", redactNotifyURL(nc.Webhook), err.Error(), "use https:// (http:// only to a loopback address)")
			}
		}
		if nc.Ping != "" {
			if err := checkNotifyURL(nc.Ping); err != nil {
				add(".ping", redactNotifyURL(nc.Ping), err.Error(), "use https:// (http:// only to a loopback address)")
			}
			if nc.Secret != "" || nc.SecretFile != "" {
				add(".secret", "", "set on a ping destination", "only webhooks are signed; remove it")
			}
		}
		if nc.Secret != "" && nc.SecretFile != "" {
			add(".secret_file", nc.SecretFile, "set next to secret", "use one of them")
		}
		switch nc.On {
		case "", "all", "failure":
		default:
			add(".on", nc.On, "unknown", "use all or failure")
		}
	}
	return errs
}

func (c *Config) validateNotifyRefs(field string, j JobConfig) []error {
	var errs []error
	for k, name := range j.Notify {
		if _, ok := c.Notify[name]; !ok {
			known := make([]string, 0, len(c.Notify))
			for n := range c.Notify {
				known = append(known, n)
			}
			sort.Strings(known)
			fix := "define it under notify: at the top of the file"
			if len(known) > 0 {
				fix += " (defined: " + strings.Join(known, ", ") + ")"
			}
			errs = append(errs, fieldError(fmt.Sprintf("%s.notify[%d]", field, k), name, "no such destination", fix))
		}
	}
	return errs
}

// checkNotifyURL accepts https URLs, and http to a loopback host (tests, a
// local relay).
func checkNotifyURL(s string) error {
	u, err := url.Parse(s)
	if err != nil || u.Host == "" {
		return errors.New("not a URL")
	}
	switch u.Scheme {
	case "https":
		return nil
	case "http":
		host := u.Hostname()
		if ip := net.ParseIP(host); host == "localhost" || (ip != nil && ip.IsLoopback()) {
			return nil
		}
		return errors.New("plain http to a remote host")
	}
	return errors.New("not an http(s) URL")
}

// redactURL keeps the scheme and host: ping URLs and webhook paths often
// carry a token.
func redactNotifyURL(s string) string {
	u, err := url.Parse(s)
	if err != nil || u.Host == "" {
		return "…"
	}
	return u.Scheme + "://" + u.Host + "/…"
}

// Event statuses.
const (
	StatusStart   = state.StatusStart
	StatusSuccess = state.StatusSuccess
	StatusFailure = state.StatusFailure
)

// Event is what a destination receives after every job (and, for pings,
// when it starts); [state.Event] owns its format.
type Event = state.Event

// Notifier delivers events to destinations.
type Notifier struct {
	Client      *http.Client // default: 10 s timeout per attempt
	Log         *slog.Logger
	MaxAttempts int // per destination and event; default 5
	// Backoff is the wait before attempt n+1 (n from 1); default 1s, 2s,
	// 4s... up to 30s.
	Backoff func(n int) time.Duration
	// Sleep waits or returns ctx's error; tests pass a fake clock.
	Sleep func(ctx context.Context, d time.Duration) error
	// Now stamps signatures; default time.Now.
	Now func() time.Time

	sns snsClients
}

// Send delivers ev to every destination that wants it, each with its own
// retries, and returns their failures joined. Webhooks get success and
// failure events; pings also get start; SNS topics get what webhooks get.
func (n *Notifier) Send(ctx context.Context, dests []Destination, ev Event) error {
	var errs []error
	for _, d := range dests {
		if d.On == "failure" && ev.Status != StatusFailure {
			continue
		}
		var err error
		switch {
		case d.Webhook != "":
			if ev.Status == StatusStart {
				continue
			}
			err = n.webhook(ctx, d, ev)
		case d.Ping != "":
			err = n.ping(ctx, d, ev)
		case d.SNS != "":
			if ev.Status == StatusStart {
				continue
			}
			err = n.publishSNS(ctx, d, ev)
		}
		if err != nil {
			n.log().Warn("notification failed", "destination", d.Name, "job", ev.Job, "status", ev.Status, "err", err.Error())
			errs = append(errs, fmt.Errorf("notify %s: %w", d.Name, err))
		}
	}
	return errors.Join(errs...)
}

func (n *Notifier) webhook(ctx context.Context, d Destination, ev Event) error {
	body, err := json.Marshal(ev)
	if err != nil {
		return err
	}
	secret := d.Secret
	if d.SecretFile != "" {
		b, err := os.ReadFile(d.SecretFile)
		if err != nil {
			return fmt.Errorf("webhook secret: %w", err)
		}
		secret = strings.TrimSpace(string(b))
	}
	delivery := randomHex(8) // the same on every retry: receivers can drop duplicates
	return n.post(ctx, d.Webhook, body, func(h http.Header) {
		h.Set("Content-Type", "application/json")
		h.Set("X-Putonly-Event", ev.Status)
		h.Set("X-Putonly-Delivery", delivery)
		if secret != "" {
			ts := strconv.FormatInt(n.now().Unix(), 10)
			h.Set("X-Putonly-Timestamp", ts)
			h.Set("X-Putonly-Signature", Sign(secret, ts, body))
		}
	})
}

// Sign returns the X-Putonly-Signature value of a webhook body:
// "sha256=" + hex(HMAC-SHA256(secret, timestamp + "." + body)). Receivers
// recompute it, compare in constant time, and reject old timestamps.
func Sign(secret, timestamp string, body []byte) string {
	m := hmac.New(sha256.New, []byte(secret))
	m.Write([]byte(timestamp))
	m.Write([]byte("."))
	m.Write(body)
	return "sha256=" + hex.EncodeToString(m.Sum(nil))
}

// ping follows healthchecks.io: URL/start when a job starts, URL on
// success, URL/fail with the error as the body.
func (n *Notifier) ping(ctx context.Context, d Destination, ev Event) error {
	u := strings.TrimSuffix(d.Ping, "/")
	var body []byte
	switch ev.Status {
	case StatusStart:
		u += "/start"
	case StatusFailure:
		u += "/fail"
		body = []byte(ev.Error)
	default:
		body = []byte(fmt.Sprintf("s3://%s/%s %d bytes in %.1fs", ev.Bucket, ev.Key, ev.BytesOut, ev.DurationSeconds))
	}
	return n.post(ctx, u, body, func(h http.Header) { h.Set("Content-Type", "text/plain; charset=utf-8") })
}

// errPermanent marks a response not worth retrying.
type errPermanent struct{ error }

func (n *Notifier) post(ctx context.Context, u string, body []byte, header func(http.Header)) error {
	attempts := n.MaxAttempts
	if attempts <= 0 {
		attempts = 5
	}
	var last error
	for i := 1; i <= attempts; i++ {
		if i > 1 {
			if err := n.sleep(ctx, n.backoff(i-1)); err != nil {
				return fmt.Errorf("%w (after %d attempts: %v)", err, i-1, last)
			}
		}
		last = n.once(ctx, u, body, header)
		if last == nil {
			return nil
		}
		var p errPermanent
		if errors.As(last, &p) {
			return p.error
		}
	}
	return fmt.Errorf("%d attempts: %w", attempts, last)
}

func (n *Notifier) once(ctx context.Context, u string, body []byte, header func(http.Header)) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, u, bytes.NewReader(body))
	if err != nil {
		return errPermanent{errors.New("bad URL")}
	}
	req.Header.Set("User-Agent", "putonly/"+Version)
	header(req.Header)
	resp, err := n.client().Do(req)
	if err != nil {
		// The URL may hold a token: report the error without it.
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err
		}
		return err
	}
	io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	resp.Body.Close()
	switch {
	case resp.StatusCode < 300:
		return nil
	case resp.StatusCode == http.StatusTooManyRequests || resp.StatusCode >= 500 || resp.StatusCode == http.StatusRequestTimeout:
		return fmt.Errorf("HTTP %s", resp.Status)
	}
	return errPermanent{fmt.Errorf("HTTP %s", resp.Status)}
}

func (n *Notifier) client() *http.Client {
	if n.Client != nil {
		return n.Client
	}
	return &http.Client{Timeout: 10 * time.Second}
}

func (n *Notifier) log() *slog.Logger {
	if n.Log != nil {
		return n.Log
	}
	return slog.New(slog.DiscardHandler)
}

func (n *Notifier) backoff(i int) time.Duration {
	if n.Backoff != nil {
		return n.Backoff(i)
	}
	d := time.Second << min(i-1, 5)
	return min(d, 30*time.Second)
}

func (n *Notifier) sleep(ctx context.Context, d time.Duration) error {
	if n.Sleep != nil {
		return n.Sleep(ctx, d)
	}
	return sleepCtx(ctx, d)
}

func (n *Notifier) now() time.Time {
	if n.Now != nil {
		return n.Now()
	}
	return time.Now()
}

func randomHex(n int) string {
	b := make([]byte, n)
	rand.Read(b)
	return hex.EncodeToString(b)
}

// Destinations returns each job's destinations (its notify list, or the
// defaults'), by job name.
func (c *Config) Destinations() map[string][]Destination {
	out := map[string][]Destination{}
	for _, jc := range c.Jobs {
		for _, name := range c.merge(jc).Notify {
			if nc, ok := c.Notify[name]; ok {
				out[jc.Name] = append(out[jc.Name], Destination{Name: name, NotifyConfig: nc})
			}
		}
	}
	return out
}

// ValidateNotify checks destinations on their own.
func ValidateNotify(dests map[string]NotifyConfig) error {
	return errors.Join((&Config{Notify: dests}).validateNotify()...)
}

// ValidateNotifyFlags checks the ad-hoc daemon's destinations, each named
// after its flag (webhook, ping, sns), naming the flags in errors.
func ValidateNotifyFlags(dests map[string]NotifyConfig) error {
	return errors.Join((&Config{Notify: dests}).validateNotifyAs(true)...)
}
