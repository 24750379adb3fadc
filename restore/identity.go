package restore

import (
	"bytes"
	"errors"
	"fmt"
	"os"

	"filippo.io/age"
	"filippo.io/age/agessh"
	"golang.org/x/crypto/ssh"
)

// LoadIdentities reads age identity files: lines of AGE-SECRET-KEY-1...
// (X25519) or AGE-SECRET-KEY-PQ-1... (post-quantum hybrid), as written by
// age-keygen, or an unencrypted OpenSSH private key (ssh-ed25519, ssh-rsa).
// Errors never echo the file's content.
func LoadIdentities(files ...string) ([]age.Identity, error) {
	if len(files) == 0 {
		return nil, errors.New("no identity file")
	}
	var ids []age.Identity
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			return nil, fmt.Errorf("identity: %w", err)
		}
		if bytes.HasPrefix(bytes.TrimSpace(data), []byte("-----BEGIN")) {
			id, err := agessh.ParseIdentity(data)
			if err != nil {
				var missing *ssh.PassphraseMissingError
				if errors.As(err, &missing) {
					return nil, fmt.Errorf("identity %s: passphrase-protected SSH keys are not supported\n\thint: age -d -i %s FILE | zstd -d   (age asks for the passphrase)", f, f)
				}
				return nil, fmt.Errorf("identity %s: %w", f, err)
			}
			ids = append(ids, id)
			continue
		}
		parsed, err := age.ParseIdentities(bytes.NewReader(data))
		if err != nil {
			return nil, fmt.Errorf("identity %s: %w", f, err)
		}
		ids = append(ids, parsed...)
	}
	return ids, nil
}
