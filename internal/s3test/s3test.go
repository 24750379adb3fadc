// Package s3test gives tests a real local S3 server (versitygw via
// internal/s3local) with an admin key and a PutObject-only backup key.
//
// When versitygw is not installed the tests that need it are skipped, unless
// PUTONLY_REQUIRE_INTEGRATION=1 (set by scripts/test and CI), where a missing server
// fails the run: a suite that silently skips its integration tests proves
// nothing.
package s3test

import (
	"context"
	"io"
	"os"
	"path/filepath"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/putonly/putonly/internal/s3local"
)

// Start starts a fresh server for t and stops it at cleanup.
func Start(t testing.TB, o s3local.Options) *s3local.Server {
	t.Helper()
	bin, err := s3local.FindVersitygw("", nil)
	if err != nil {
		if root := RepoRoot(); root != "" {
			if p := filepath.Join(root, ".cache", "bin", "versitygw"); fileExists(p) {
				bin, err = p, nil
			}
		}
	}
	if err != nil {
		Require(t, "versitygw: "+err.Error())
	}
	if o.Dir == "" {
		o.Dir = t.TempDir()
	}
	s, err := s3local.Start(context.Background(), bin, o)
	if err != nil {
		t.Fatalf("start local S3: %v", err)
	}
	t.Cleanup(s.Stop)
	return s
}

// Require skips t because a real component is missing, or fails it when
// PUTONLY_REQUIRE_INTEGRATION=1.
func Require(t testing.TB, what string) {
	t.Helper()
	if os.Getenv("PUTONLY_REQUIRE_INTEGRATION") == "1" {
		t.Fatalf("required for this test and PUTONLY_REQUIRE_INTEGRATION=1: %s", what)
	}
	t.Skipf("skipped (set PUTONLY_REQUIRE_INTEGRATION=1 to fail instead): %s", what)
}

// RepoRoot finds the module root from the working directory.
func RepoRoot() string {
	dir, err := os.Getwd()
	if err != nil {
		return ""
	}
	for {
		if fileExists(filepath.Join(dir, "go.mod")) {
			return dir
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return ""
		}
		dir = parent
	}
}

func fileExists(p string) bool {
	st, err := os.Stat(p)
	return err == nil && !st.IsDir()
}

// Get downloads an object with the admin key.
func Get(t testing.TB, s *s3local.Server, key string) []byte {
	t.Helper()
	out, err := s.Client(s.Admin).GetObject(context.Background(), &s3.GetObjectInput{Bucket: aws.String(s.Bucket), Key: aws.String(key)})
	if err != nil {
		t.Fatalf("admin get %s: %v", key, err)
	}
	defer out.Body.Close()
	b, err := io.ReadAll(out.Body)
	if err != nil {
		t.Fatalf("admin get %s: %v", key, err)
	}
	return b
}

// Keys lists every object key in the bucket with the admin key.
func Keys(t testing.TB, s *s3local.Server) []string {
	t.Helper()
	var keys []string
	p := s3.NewListObjectsV2Paginator(s.Client(s.Admin), &s3.ListObjectsV2Input{Bucket: aws.String(s.Bucket)})
	for p.HasMorePages() {
		page, err := p.NextPage(context.Background())
		if err != nil {
			t.Fatalf("admin list: %v", err)
		}
		for _, o := range page.Contents {
			keys = append(keys, aws.ToString(o.Key))
		}
	}
	return keys
}

// PendingUploads lists multipart uploads not completed nor aborted.
func PendingUploads(t testing.TB, s *s3local.Server) []string {
	t.Helper()
	out, err := s.Client(s.Admin).ListMultipartUploads(context.Background(), &s3.ListMultipartUploadsInput{Bucket: aws.String(s.Bucket)})
	if err != nil {
		t.Fatalf("admin list multipart uploads: %v", err)
	}
	var keys []string
	for _, u := range out.Uploads {
		keys = append(keys, aws.ToString(u.Key))
	}
	return keys
}
