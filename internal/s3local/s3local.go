// Package s3local starts a real S3-compatible server (versitygw) on
// 127.0.0.1 for the quick start and the tests: free ports, data in a
// directory of the caller's, an admin key and a PutObject-only backup key.
//
// versitygw enforces per-user bucket policies the way AWS does for the
// calls putonly cares about (a user with only s3:PutObject gets 403 on Get,
// Head, List, Delete, ACL and Copy), honours If-None-Match on PutObject and
// CompleteMultipartUpload, and verifies checksums. It does not evaluate the
// SSE or if-none-match condition keys in bucket policies, and names policy
// principals by access key id.
package s3local

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/hex"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"math/big"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/s3"
)

// VersitygwModule is the server the project tests against.
const VersitygwModule = "github.com/versity/versitygw/cmd/versitygw@v1.8.0"

// Server is a running local S3 server.
type Server struct {
	Dir       string // state: data/, iam/, log, pid, env
	Endpoint  string // http(s)://127.0.0.1:PORT
	AdminURL  string // versitygw admin API
	Bucket    string
	CAFile    string // PEM of the self-signed certificate when TLS
	Admin     Key
	Backup    Key // may only PutObject/AbortMultipartUpload under Prefix, GetBucketLocation
	Prefix    string
	PID       int
	versitygw string
}

// Key is an access key pair.
type Key struct {
	ID     string
	Secret string
}

// Options for Start.
type Options struct {
	Dir    string // required; created if missing
	TLS    bool
	Bucket string // default "putonly-local"
	Prefix string // backup key's prefix; default "" (whole bucket)
	Log    func(format string, args ...any)
}

// FindVersitygw returns the versitygw binary: $VERSITYGW, then PATH, then
// $GOBIN or $(go env GOPATH)/bin. It installs it with 'go install' into
// cacheBin when none is found and cacheBin is not empty.
func FindVersitygw(cacheBin string, logf func(string, ...any)) (string, error) {
	if p := os.Getenv("VERSITYGW"); p != "" {
		return p, nil
	}
	if p, err := exec.LookPath("versitygw"); err == nil {
		return p, nil
	}
	var dirs []string
	if cacheBin != "" {
		dirs = append(dirs, cacheBin)
	}
	if gobin := os.Getenv("GOBIN"); gobin != "" {
		dirs = append(dirs, gobin)
	}
	if out, err := exec.Command("go", "env", "GOPATH").Output(); err == nil {
		for _, d := range filepath.SplitList(strings.TrimSpace(string(out))) {
			dirs = append(dirs, filepath.Join(d, "bin"))
		}
	}
	for _, d := range dirs {
		p := filepath.Join(d, "versitygw")
		if st, err := os.Stat(p); err == nil && !st.IsDir() {
			return p, nil
		}
	}
	if cacheBin == "" {
		return "", errors.New("versitygw not found: install it with 'go install " + VersitygwModule + "' or run scripts/s3-local start")
	}
	if logf != nil {
		logf("installing versitygw (go install %s, about 2 minutes the first time)", VersitygwModule)
	}
	cmd := exec.Command("go", "install", VersitygwModule)
	cmd.Env = append(os.Environ(), "GOBIN="+cacheBin, "CGO_ENABLED=0")
	cmd.Stdout, cmd.Stderr = os.Stderr, os.Stderr
	if err := cmd.Run(); err != nil {
		return "", fmt.Errorf("go install %s: %w", VersitygwModule, err)
	}
	return filepath.Join(cacheBin, "versitygw"), nil
}

// Start launches versitygw in the background (it outlives this process until
// Stop), creates the bucket, the backup user and its write-only bucket
// policy, and writes Dir/env.
func Start(ctx context.Context, bin string, o Options) (*Server, error) {
	if o.Bucket == "" {
		o.Bucket = "putonly-local"
	}
	if err := os.MkdirAll(filepath.Join(o.Dir, "data"), 0o700); err != nil {
		return nil, err
	}
	if err := os.MkdirAll(filepath.Join(o.Dir, "iam"), 0o700); err != nil {
		return nil, err
	}
	s := &Server{
		Dir: o.Dir, Bucket: o.Bucket, Prefix: o.Prefix, versitygw: bin,
		Admin:  Key{ID: "admin", Secret: randHex(20)},
		Backup: Key{ID: "backup" + randHex(4), Secret: randHex(20)},
	}
	var tlsArgs []string
	scheme := "http"
	if o.TLS {
		certFile, keyFile, err := selfSignedCert(o.Dir)
		if err != nil {
			return nil, err
		}
		tlsArgs = []string{"--cert", certFile, "--key", keyFile, "--admin-cert", certFile, "--admin-cert-key", keyFile}
		s.CAFile = certFile
		scheme = "https"
	}
	// freePort's port is free when it answers, not when versitygw binds
	// it: another server started at the same moment (the test binaries of
	// a parallel 'go test ./...') or an outgoing connection's ephemeral
	// port may take it in between. versitygw then exits at once, saying
	// so, and the server is started again on new ports.
	var err error
	for try := 1; ; try++ {
		err = s.launch(ctx, bin, scheme, tlsArgs)
		if !errors.Is(err, errPortTaken) || try == 5 {
			break
		}
	}
	if err != nil {
		return nil, err
	}
	if err := s.setup(ctx); err != nil {
		s.Stop()
		return nil, err
	}
	if err := os.WriteFile(filepath.Join(o.Dir, "env"), []byte(s.EnvFile()), 0o600); err != nil {
		return nil, err
	}
	return s, nil
}

// errPortTaken: versitygw could not bind a port freePort had found free.
var errPortTaken = errors.New("a port was taken before versitygw bound it")

// launch starts versitygw on two free ports and waits until it answers.
func (s *Server) launch(ctx context.Context, bin, scheme string, tlsArgs []string) error {
	port, err := freePort()
	if err != nil {
		return err
	}
	adminPort, err := freePort()
	if err != nil {
		return err
	}
	args := []string{
		"--access", s.Admin.ID, "--secret", s.Admin.Secret,
		"--iam-dir", filepath.Join(s.Dir, "iam"),
		"--port", "127.0.0.1:" + strconv.Itoa(port),
		"--admin-port", "127.0.0.1:" + strconv.Itoa(adminPort),
		"--region", "us-east-1",
		"--quiet",
	}
	args = append(append(args, tlsArgs...), "posix", filepath.Join(s.Dir, "data"))
	s.Endpoint = fmt.Sprintf("%s://127.0.0.1:%d", scheme, port)
	s.AdminURL = fmt.Sprintf("%s://127.0.0.1:%d", scheme, adminPort)

	logf, err := os.Create(filepath.Join(s.Dir, "log"))
	if err != nil {
		return err
	}
	defer logf.Close()
	cmd := exec.Command(bin, args...)
	cmd.Stdout, cmd.Stderr = logf, logf
	cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true} // survives the caller
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("start versitygw: %w", err)
	}
	s.PID = cmd.Process.Pid
	exited := make(chan struct{})
	go func() { cmd.Wait(); close(exited) }() //nolint:errcheck // reaped if we are still around
	if err := os.WriteFile(filepath.Join(s.Dir, "pid"), []byte(strconv.Itoa(s.PID)), 0o600); err != nil {
		return err
	}
	if err := s.waitReady(ctx, exited); err != nil {
		s.Stop()
		log, _ := os.ReadFile(filepath.Join(s.Dir, "log"))
		if bytes.Contains(log, []byte("address already in use")) {
			return fmt.Errorf("%w: %s", errPortTaken, bytes.TrimSpace(log))
		}
		return fmt.Errorf("versitygw did not start: %w\n%s", err, log)
	}
	return nil
}

// Load reads a server started earlier from Dir/env.
func Load(dir string) (*Server, error) {
	data, err := os.ReadFile(filepath.Join(dir, "env"))
	if err != nil {
		return nil, err
	}
	env := map[string]string{}
	for _, l := range strings.Split(string(data), "\n") {
		l = strings.TrimPrefix(l, "export ")
		k, v, ok := strings.Cut(l, "=")
		if ok {
			env[k] = strings.Trim(v, "'")
		}
	}
	pid, _ := strconv.Atoi(env["PUTONLY_S3_PID"])
	return &Server{
		Dir: dir, Endpoint: env["PUTONLY_S3_ENDPOINT"], AdminURL: env["PUTONLY_S3_ADMIN_URL"],
		Bucket: env["PUTONLY_S3_BUCKET"], CAFile: env["AWS_CA_BUNDLE"], Prefix: env["PUTONLY_S3_PREFIX"],
		Admin:  Key{env["PUTONLY_S3_ADMIN_ACCESS_KEY_ID"], env["PUTONLY_S3_ADMIN_SECRET_ACCESS_KEY"]},
		Backup: Key{env["AWS_ACCESS_KEY_ID"], env["AWS_SECRET_ACCESS_KEY"]},
		PID:    pid,
	}, nil
}

// EnvFile is a shell snippet that points the AWS SDK (and so putonly) at the
// server with the backup key, and names the admin key for restores.
func (s *Server) EnvFile() string {
	vars := map[string]string{
		"AWS_ENDPOINT_URL_S3":                s.Endpoint,
		"AWS_ACCESS_KEY_ID":                  s.Backup.ID,
		"AWS_SECRET_ACCESS_KEY":              s.Backup.Secret,
		"AWS_REGION":                         "us-east-1",
		"PUTONLY_S3_ENDPOINT":                s.Endpoint,
		"PUTONLY_S3_ADMIN_URL":               s.AdminURL,
		"PUTONLY_S3_BUCKET":                  s.Bucket,
		"PUTONLY_S3_PREFIX":                  s.Prefix,
		"PUTONLY_S3_ADMIN_ACCESS_KEY_ID":     s.Admin.ID,
		"PUTONLY_S3_ADMIN_SECRET_ACCESS_KEY": s.Admin.Secret,
		"PUTONLY_S3_PID":                     strconv.Itoa(s.PID),
		"PUTONLY_S3_DIR":                     s.Dir,
	}
	if s.CAFile != "" {
		vars["AWS_CA_BUNDLE"] = s.CAFile
	}
	keys := make([]string, 0, len(vars))
	for k := range vars {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var b strings.Builder
	b.WriteString("# local S3 server (versitygw) started by scripts/s3-local; the AWS_* keys are the PutObject-only backup key\n")
	for _, k := range keys {
		fmt.Fprintf(&b, "export %s='%s'\n", k, vars[k])
	}
	return b.String()
}

// Stop kills the server.
func (s *Server) Stop() {
	if s.PID > 0 {
		_ = syscall.Kill(s.PID, syscall.SIGTERM)
		for i := 0; i < 50; i++ {
			if syscall.Kill(s.PID, 0) != nil {
				return
			}
			time.Sleep(20 * time.Millisecond)
		}
		_ = syscall.Kill(s.PID, syscall.SIGKILL)
	}
}

// Client returns an S3 client for key.
func (s *Server) Client(k Key) *s3.Client {
	hc := &http.Client{Timeout: 5 * time.Minute}
	if s.CAFile != "" {
		pool := x509.NewCertPool()
		if pem, err := os.ReadFile(s.CAFile); err == nil {
			pool.AppendCertsFromPEM(pem)
		}
		hc.Transport = &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}}
	}
	return s3.New(s3.Options{
		Region:       "us-east-1",
		BaseEndpoint: aws.String(s.Endpoint),
		UsePathStyle: true,
		Credentials:  credentials.NewStaticCredentialsProvider(k.ID, k.Secret, ""),
		HTTPClient:   hc,
	})
}

// waitReady waits until the server answers the admin key, or its process
// exited.
func (s *Server) waitReady(ctx context.Context, exited <-chan struct{}) error {
	deadline := time.Now().Add(20 * time.Second)
	c := s.Client(s.Admin)
	// A request to a port someone else holds may never be answered: the
	// process's exit ends it.
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	go func() {
		select {
		case <-exited:
			cancel()
		case <-ctx.Done():
		}
	}()
	var err error
	for time.Now().Before(deadline) {
		_, err = c.ListBuckets(ctx, &s3.ListBucketsInput{})
		if err == nil {
			return nil
		}
		select {
		case <-exited:
			return fmt.Errorf("versitygw exited: %w", err)
		case <-time.After(50 * time.Millisecond):
		}
	}
	return err
}

func (s *Server) setup(ctx context.Context) error {
	if err := s.CreateUser(ctx, s.Backup); err != nil {
		return err
	}
	c := s.Client(s.Admin)
	if _, err := c.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String(s.Bucket)}); err != nil {
		return fmt.Errorf("create bucket %s: %w", s.Bucket, err)
	}
	return s.PutBucketPolicy(ctx, WriteOnlyPolicy(s.Bucket, s.Prefix, s.Backup.ID))
}

// CreateUser adds a user with the plain "user" role: it owns nothing and may
// do only what bucket policies grant it.
func (s *Server) CreateUser(ctx context.Context, k Key) error {
	args := []string{"admin", "--access", s.Admin.ID, "--secret", s.Admin.Secret, "--endpoint-url", s.AdminURL}
	if s.CAFile != "" {
		args = append(args, "--allow-insecure")
	}
	args = append(args, "create-user", "--access", k.ID, "--secret", k.Secret, "--role", "user")
	bin := s.versitygw
	if bin == "" {
		var err error
		if bin, err = FindVersitygw("", nil); err != nil {
			return err
		}
	}
	out, err := exec.CommandContext(ctx, bin, args...).CombinedOutput()
	if err != nil {
		return fmt.Errorf("versitygw admin create-user: %w: %s", err, out)
	}
	return nil
}

// PutBucketPolicy replaces the bucket policy.
func (s *Server) PutBucketPolicy(ctx context.Context, policy string) error {
	_, err := s.Client(s.Admin).PutBucketPolicy(ctx, &s3.PutBucketPolicyInput{Bucket: aws.String(s.Bucket), Policy: aws.String(policy)})
	if err != nil {
		return fmt.Errorf("put bucket policy: %w", err)
	}
	return nil
}

// WriteOnlyPolicy is the bucket policy the local server gets: the backup key
// may locate the bucket, put objects under prefix and abort its own
// multipart uploads; nothing else. versitygw names principals by access key.
// (The full hardened policy for AWS comes from putonly-policy generate;
// versitygw rejects condition keys it cannot evaluate.)
func WriteOnlyPolicy(bucket, prefix, principal string) string {
	doc := map[string]any{
		"Version": "2012-10-17",
		"Statement": []map[string]any{
			{
				"Sid": "LocateBucket", "Effect": "Allow",
				"Principal": map[string]any{"AWS": []string{principal}},
				"Action":    []string{"s3:GetBucketLocation"},
				"Resource":  []string{"arn:aws:s3:::" + bucket},
			},
			{
				"Sid": "PutBackups", "Effect": "Allow",
				"Principal": map[string]any{"AWS": []string{principal}},
				"Action":    []string{"s3:PutObject", "s3:AbortMultipartUpload"},
				"Resource":  []string{"arn:aws:s3:::" + bucket + "/" + prefix + "*"},
			},
		},
	}
	b, _ := json.MarshalIndent(doc, "", "  ")
	return string(b)
}

// freePort is a port no one listens on now (a variable so a test can hand
// out a taken one).
var freePort = func() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

func randHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// selfSignedCert writes a certificate for 127.0.0.1/localhost, valid for a
// week, that is its own CA.
func selfSignedCert(dir string) (certFile, keyFile string, err error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return "", "", err
	}
	tmpl := &x509.Certificate{
		SerialNumber:          big.NewInt(time.Now().UnixNano()),
		Subject:               pkix.Name{CommonName: "putonly local S3"},
		NotBefore:             time.Now().Add(-time.Hour),
		NotAfter:              time.Now().Add(7 * 24 * time.Hour),
		KeyUsage:              x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		BasicConstraintsValid: true,
		IsCA:                  true,
		IPAddresses:           []net.IP{net.ParseIP("127.0.0.1")},
		DNSNames:              []string{"localhost"},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return "", "", err
	}
	kder, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		return "", "", err
	}
	certFile = filepath.Join(dir, "cert.pem")
	keyFile = filepath.Join(dir, "key.pem")
	if err := os.WriteFile(certFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o600); err != nil {
		return "", "", err
	}
	if err := os.WriteFile(keyFile, pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: kder}), 0o600); err != nil {
		return "", "", err
	}
	return certFile, keyFile, nil
}
