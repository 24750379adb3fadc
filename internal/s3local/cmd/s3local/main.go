// Command s3local starts and stops the local S3 server (versitygw) used by
// the quick start, the tests and CI. Run it through scripts/s3-local.
//
//	s3local start [--dir DIR] [--tls] [--bucket NAME]   start, print the env file
//	s3local stop  [--dir DIR]
//	s3local env   [--dir DIR]                           print the env file again
//	s3local get [--dir DIR] KEY                         download an object with the admin key
//	s3local install                                     find or build versitygw, print its path
package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"syscall"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/putonly/putonly/internal/s3local"
)

func main() {
	if err := run(os.Args[1:]); err != nil {
		fmt.Fprintf(os.Stderr, "s3-local: %v\n", err)
		os.Exit(1)
	}
}

// usage is what --help prints, and the hint of a bad command.
const usage = `usage: scripts/s3-local COMMAND [--dir DIR]
  start [--tls] [--bucket NAME] [--prefix P]   start versitygw on 127.0.0.1, print the env to eval:
                                               eval "$(scripts/s3-local start)" exports the backup key
  stop                                         stop it
  env                                          print the env again
  get KEY > FILE                               download an object with the admin key
  install                                      find or build versitygw (VERSITYGW), print its path
`

func run(args []string) error {
	if len(args) == 0 {
		return fmt.Errorf("no command\n%s", usage)
	}
	switch args[0] {
	case "-h", "-help", "--help", "help":
		fmt.Print(usage)
		return nil
	}
	fs := flag.NewFlagSet("s3-local "+args[0], flag.ContinueOnError)
	dir := fs.String("dir", ".cache/s3-local", "state directory (data, keys, log, env)")
	useTLS := fs.Bool("tls", false, "serve HTTPS with a self-signed certificate (AWS_CA_BUNDLE points at it)")
	bucket := fs.String("bucket", "putonly-local", "bucket to create")
	prefix := fs.String("prefix", "", "prefix the backup key may write under")
	cacheBin := fs.String("bin", ".cache/bin", "where to install versitygw if it is not found")
	if err := fs.Parse(args[1:]); err != nil {
		return err
	}
	abs, err := filepath.Abs(*dir)
	if err != nil {
		return err
	}
	switch args[0] {
	case "start":
		return start(abs, *cacheBin, s3local.Options{Dir: abs, TLS: *useTLS, Bucket: *bucket, Prefix: *prefix})
	case "install":
		bin, err := findVersitygw(*cacheBin)
		if err != nil {
			return err
		}
		fmt.Println(bin)
	case "stop":
		s, err := s3local.Load(abs)
		if err != nil {
			return fmt.Errorf("nothing to stop in %s: %w", abs, err)
		}
		s.Stop()
		fmt.Fprintf(os.Stderr, "s3-local: stopped pid %d\n", s.PID)
	case "get":
		// Download an object with the admin key (the backup key cannot).
		if fs.NArg() != 1 {
			return fmt.Errorf("usage: s3-local get [--dir DIR] KEY > FILE")
		}
		return get(abs, fs.Arg(0))
	case "env":
		s, err := s3local.Load(abs)
		if err != nil {
			return err
		}
		fmt.Print(s.EnvFile())
	default:
		return fmt.Errorf("unknown command %q\n%s", args[0], usage)
	}
	return nil
}

// start starts the server in dir unless one runs there already, and prints
// its environment.
func start(dir, cacheBin string, o s3local.Options) error {
	if old, err := s3local.Load(dir); err == nil && old.PID > 0 && syscall.Kill(old.PID, 0) == nil {
		fmt.Fprintf(os.Stderr, "s3-local: already running (pid %d)\n", old.PID)
		fmt.Print(old.EnvFile())
		return nil
	}
	_ = os.RemoveAll(dir)
	bin, err := findVersitygw(cacheBin)
	if err != nil {
		return err
	}
	s, err := s3local.Start(context.Background(), bin, o)
	if err != nil {
		return err
	}
	fmt.Fprintf(os.Stderr, "s3-local: versitygw pid %d at %s, bucket %s; env in %s/env\n", s.PID, s.Endpoint, s.Bucket, dir)
	fmt.Print(s.EnvFile())
	return nil
}

// findVersitygw finds the server binary, installing it into cacheBin.
func findVersitygw(cacheBin string) (string, error) {
	binDir, err := filepath.Abs(cacheBin)
	if err != nil {
		return "", err
	}
	return s3local.FindVersitygw(binDir, func(f string, a ...any) { fmt.Fprintf(os.Stderr, "s3-local: "+f+"\n", a...) })
}

// get copies an object (KEY or s3://BUCKET/KEY) to stdout with the admin key.
func get(dir, key string) error {
	s, err := s3local.Load(dir)
	if err != nil {
		return err
	}
	out, err := s.Client(s.Admin).GetObject(context.Background(), &s3.GetObjectInput{Bucket: aws.String(s.Bucket), Key: aws.String(strings.TrimPrefix(key, "s3://"+s.Bucket+"/"))})
	if err != nil {
		return err
	}
	defer out.Body.Close()
	_, err = io.Copy(os.Stdout, out.Body)
	return err
}
