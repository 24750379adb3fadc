package backup

import (
	"errors"
	"fmt"
	"io"
	"os"
	"sort"
	"strings"

	"filippo.io/age"
	"filippo.io/age/agessh"
)

// ErrNoRecipients is returned when a job has no age recipient. There is no
// plaintext mode.
var ErrNoRecipients = errors.New("no age recipients: putonly never uploads plaintext")

// Recipients is the parsed set of public keys a job encrypts to, with the
// key types for object metadata (never the keys themselves).
type Recipients struct {
	list  []age.Recipient
	types []string
}

// Types lists the recipients' key types, sorted and without duplicates, e.g.
// "mlkem768x25519", "ssh-ed25519", "x25519".
func (r *Recipients) Types() []string { return r.types }

// Len is the number of recipients.
func (r *Recipients) Len() int { return len(r.list) }

// ParseRecipients parses inline recipients and the lines of a recipients file
// (# comments and blank lines ignored). It accepts native X25519 (age1...),
// post-quantum hybrid (age1pq1...) and SSH public keys (ssh-ed25519,
// ssh-rsa). A private key is refused without echoing it.
func ParseRecipients(inline []string, file string) (*Recipients, error) {
	lines := append([]string(nil), inline...)
	src := make([]string, len(inline))
	for i := range inline {
		src[i] = fmt.Sprintf("recipient #%d", i+1)
	}
	if file != "" {
		data, err := os.ReadFile(file)
		if err != nil {
			return nil, fmt.Errorf("recipients file: %w", err)
		}
		for n, l := range strings.Split(string(data), "\n") {
			l = strings.TrimSpace(l)
			if l == "" || strings.HasPrefix(l, "#") {
				continue
			}
			lines = append(lines, l)
			src = append(src, fmt.Sprintf("%s line %d", file, n+1))
		}
	}
	r := &Recipients{}
	types := map[string]bool{}
	for i, l := range lines {
		rec, typ, err := parseRecipient(strings.TrimSpace(l))
		if err != nil {
			return nil, fmt.Errorf("%s: %w", src[i], err)
		}
		r.list = append(r.list, rec)
		types[typ] = true
	}
	if len(r.list) == 0 {
		return nil, ErrNoRecipients
	}
	for t := range types {
		r.types = append(r.types, t)
	}
	sort.Strings(r.types)
	// age refuses to mix post-quantum and classic recipients in one file
	// (the hybrid recipient carries a "postquantum" label so an attacker
	// with a quantum computer cannot use the weaker stanza). Say so now
	// rather than at the first byte of the first backup.
	if types["mlkem768x25519"] && len(types) > 1 {
		return nil, errors.New("recipients mix post-quantum (age1pq1...) and classic keys; age encrypts to one kind only: use age1pq1 recipients for all, or none")
	}
	// Probe the set once so a bad combination fails before the dump starts.
	if _, err := age.Encrypt(io.Discard, r.list...); err != nil {
		return nil, fmt.Errorf("recipients: %w", err)
	}
	return r, nil
}

func parseRecipient(s string) (age.Recipient, string, error) {
	switch {
	case strings.HasPrefix(strings.ToUpper(s), "AGE-SECRET-KEY") || strings.HasPrefix(strings.ToUpper(s), "AGE-PLUGIN-"):
		return nil, "", errors.New("this is a private key (identity), not a recipient: the host needs only the public key (age-keygen -y)")
	case strings.HasPrefix(s, "-----BEGIN"):
		return nil, "", errors.New("this is a private SSH key, not a public one: use the .pub file")
	case strings.HasPrefix(s, "age1pq1"):
		rec, err := age.ParseHybridRecipient(s)
		if err != nil {
			return nil, "", fmt.Errorf("invalid post-quantum recipient: %w", err)
		}
		return rec, "mlkem768x25519", nil
	case strings.HasPrefix(s, "age1"):
		rec, err := age.ParseX25519Recipient(s)
		if err != nil {
			return nil, "", fmt.Errorf("invalid age recipient (plugin recipients such as age1yubikey1... are not supported): %w", err)
		}
		return rec, "x25519", nil
	case strings.HasPrefix(s, "ssh-ed25519 "), strings.HasPrefix(s, "ssh-rsa "):
		rec, err := agessh.ParseRecipient(s)
		if err != nil {
			return nil, "", fmt.Errorf("invalid SSH recipient: %w", err)
		}
		return rec, strings.Fields(s)[0], nil
	}
	return nil, "", errors.New("unknown recipient type: want age1..., age1pq1..., ssh-ed25519 or ssh-rsa")
}

// NewEncryptor is the encryption stage on its own, for benchmarks and
// tools: see newEncryptor.
func NewEncryptor(dst io.Writer, r *Recipients) (io.WriteCloser, error) {
	return newEncryptor(dst, r)
}

// newEncryptor returns a writer that age-encrypts into dst. Close writes the
// final chunk and does not close dst. Without Close the ciphertext is
// truncated and age -d rejects it.
func newEncryptor(dst io.Writer, r *Recipients) (io.WriteCloser, error) {
	if r == nil || len(r.list) == 0 {
		return nil, ErrNoRecipients
	}
	w, err := age.Encrypt(dst, r.list...)
	if err != nil {
		return nil, fmt.Errorf("age: %w", err)
	}
	return w, nil
}
