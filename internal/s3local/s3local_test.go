package s3local

import (
	"context"
	"net"
	"os"
	"path/filepath"
	"testing"

	"github.com/aws/aws-sdk-go-v2/service/s3"
)

// TestStartOnATakenPort: the first port freePort hands out is taken (by a
// listener of the test, as another server or an outgoing connection may
// take it between freePort and versitygw's bind): versitygw exits saying
// so, and Start tries again on new ports instead of failing.
func TestStartOnATakenPort(t *testing.T) {
	bin, err := FindVersitygw(filepath.Join("..", "..", ".cache", "bin"), nil)
	if err != nil {
		if os.Getenv("PUTONLY_REQUIRE_INTEGRATION") == "1" {
			t.Fatalf("versitygw: %v", err)
		}
		t.Skipf("versitygw: %v", err)
	}
	taken, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer taken.Close()
	real := freePort
	t.Cleanup(func() { freePort = real })
	handed := 0
	freePort = func() (int, error) {
		handed++
		if handed == 1 {
			return taken.Addr().(*net.TCPAddr).Port, nil
		}
		return real()
	}
	s, err := Start(context.Background(), bin, Options{Dir: t.TempDir()})
	if err != nil {
		t.Fatalf("start with the first port taken: %v", err)
	}
	defer s.Stop()
	if handed < 4 {
		t.Fatalf("freePort called %d times: the taken port was not retried", handed)
	}
	if _, err := s.Client(s.Admin).ListBuckets(context.Background(), &s3.ListBucketsInput{}); err != nil {
		t.Fatal(err)
	}
}
