package backup

import (
	"bytes"
	"crypto/ed25519"
	"crypto/rand"
	"errors"
	"io"
	"strings"
	"testing"

	"filippo.io/age"
	"filippo.io/age/agessh"
	"golang.org/x/crypto/ssh"
)

func TestRecipientKinds(t *testing.T) {
	x, _ := age.GenerateX25519Identity()
	pq, _ := age.GenerateHybridIdentity()
	pub, priv, _ := ed25519.GenerateKey(rand.Reader)
	sshPub, _ := ssh.NewPublicKey(pub)
	sshLine := strings.TrimSpace(string(ssh.MarshalAuthorizedKey(sshPub)))
	sshID, err := agessh.NewEd25519Identity(priv)
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name  string
		recs  []string
		id    age.Identity
		types string
	}{
		{"x25519", []string{x.Recipient().String()}, x, "x25519"},
		{"post-quantum", []string{pq.Recipient().String()}, pq, "mlkem768x25519"},
		{"ssh-ed25519", []string{sshLine}, sshID, "ssh-ed25519"},
		{"x25519 and ssh", []string{x.Recipient().String(), sshLine}, sshID, "ssh-ed25519,x25519"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r, err := ParseRecipients(tt.recs, "")
			if err != nil {
				t.Fatal(err)
			}
			if got := strings.Join(r.Types(), ","); got != tt.types {
				t.Errorf("types = %q, want %q", got, tt.types)
			}
			var buf bytes.Buffer
			w, err := newEncryptor(&buf, r)
			if err != nil {
				t.Fatal(err)
			}
			io.WriteString(w, "secret rows")
			w.Close()
			if bytes.Contains(buf.Bytes(), []byte("secret rows")) {
				t.Fatal("plaintext in ciphertext")
			}
			dr, err := age.Decrypt(&buf, tt.id)
			if err != nil {
				t.Fatal(err)
			}
			got, _ := io.ReadAll(dr)
			if string(got) != "secret rows" {
				t.Fatalf("decrypted %q", got)
			}
		})
	}
}

func TestRecipientErrors(t *testing.T) {
	x, _ := age.GenerateX25519Identity()
	pq, _ := age.GenerateHybridIdentity()
	tests := []struct {
		name string
		recs []string
		want string
	}{
		{"none", nil, "never uploads plaintext"},
		{"identity", []string{x.String()}, "private key"},
		{"garbage", []string{"hello"}, "unknown recipient type"},
		{"bad age1", []string{"age1qqqq"}, "invalid age recipient"},
		{"mixed pq and classic", []string{pq.Recipient().String(), x.Recipient().String()}, "post-quantum"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := ParseRecipients(tt.recs, "")
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("err = %v, want it to mention %q", err, tt.want)
			}
			if strings.Contains(err.Error(), "AGE-SECRET-KEY") {
				t.Fatal("the error echoes the private key")
			}
		})
	}
	if _, err := ParseRecipients(nil, ""); !errors.Is(err, ErrNoRecipients) {
		t.Errorf("no recipients: err = %v, want ErrNoRecipients", err)
	}
}
