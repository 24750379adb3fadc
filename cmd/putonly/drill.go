package main

import (
	"bytes"
	"context"
	"flag"
	"fmt"
	"io"
	"time"

	"github.com/putonly/putonly/restore"
)

func init() {
	register(&command{name: "drill", order: 60, run: runDrill,
		summary: "drill --job J --into COMMAND       restore the newest backup into a scratch target"})
}

const drillUsage = `Usage:
  putonly drill --bucket B [--prefix P] --job J --identity FILE --into COMMAND [--textfile FILE] [connection flags]

A restore that was never tried is not a backup. drill restores the newest
backup of the job (or --key) into the stdin of COMMAND, a scratch target run
with sh -c, and reports OK or FAILED with timings. It passes only when the
download, the decryption, the check against the manifest and COMMAND all
succeed. When the backup turns out bad, COMMAND is killed before it sees the
end of its input. COMMAND's output goes to stderr.

Examples:
  putonly drill --bucket acme-backups --prefix db1/ --job shop --identity key.txt \
      --into 'dropdb --if-exists shop_drill && createdb shop_drill && pg_restore --exit-on-error -d shop_drill'
  putonly drill --bucket acme-backups --prefix db1/ --job wiki --identity key.txt --into 'mariadb -h scratch'
  putonly drill ... --into 'cat > /dev/null'     # download, decrypt and verify only

A drill that outlives --timeout (12h) fails, and its target is killed.
With --textfile, the result is also written for node_exporter's textfile
collector (putonly_drill_ok, putonly_drill_timestamp_seconds, ...).

Exit status: 0 OK; 1 FAILED; 2 bad flags.

Flags:
`

func runDrill(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("putonly drill", flag.ContinueOnError)
	var conn connFlags
	conn.register(fs)
	var ids stringList
	bucket := fs.String("bucket", "", "S3 `bucket`")
	prefix := fs.String("prefix", "", "key `prefix`, e.g. db1/")
	job := fs.String("job", "", "job `name`: drill its newest backup")
	key := fs.String("key", "", "drill this backup `key` instead of the newest")
	fs.Var(&ids, "identity", "age identity `file`; repeat for several")
	into := fs.String("into", "", "scratch target `command` (sh -c) that reads the dump on stdin")
	noVerify := fs.Bool("no-verify", false, "do not require the manifest")
	textfile := fs.String("textfile", "", "also write the result as Prometheus metrics to this `file` (atomically)")
	timeout := fs.Duration("timeout", 12*time.Hour, "fail the drill (and kill the target) after this `duration`")
	if done, err := parseFlags(fs, drillUsage, args, stdout, stderr); done {
		return err
	}
	if b, k, ok := splitS3URL(*key); ok {
		*bucket, *key = b, k
	}
	switch {
	case *bucket == "":
		return usageError(fmt.Errorf("drill needs --bucket"), "")
	case *into == "":
		return usageError(fmt.Errorf("drill needs --into COMMAND"), "for example --into 'pg_restore --exit-on-error -d scratch', or --into 'cat > /dev/null' to verify only")
	case (*job == "") == (*key == ""):
		return usageError(fmt.Errorf("drill needs exactly one of --job and --key"), "")
	case *timeout <= 0:
		return usageError(fmt.Errorf("--timeout %s: must be positive", *timeout), "")
	}
	ctx, cancel := context.WithTimeoutCause(ctx, *timeout, fmt.Errorf("drill timeout of %s reached", *timeout))
	defer cancel()
	identities, err := identities(ids)
	if err != nil {
		return err
	}
	client, err := conn.client(ctx)
	if err != nil {
		return failure(err)
	}
	name := *job
	if name == "" {
		if b, ok := restore.ParseKey(*key); ok {
			name = b.Job
		}
	}
	res, derr := restore.Drill(ctx, client, restore.DrillOptions{
		Bucket: *bucket, Prefix: *prefix, Job: *job, Key: *key, Identities: identities, NoVerify: *noVerify,
		Into: *into, Stdout: stderr, Stderr: stderr,
	})
	key2 := res.Restore.Key
	if key2 == "" {
		key2 = res.Backup.Key
	}
	timings := fmt.Sprintf("find %s, stream %s, finish %s, total %s",
		round(res.Find), round(res.Stream), round(res.Finish), round(res.Total))
	if derr == nil {
		fmt.Fprintf(stdout, "drill %s: OK s3://%s/%s: %s; %s\n", name, *bucket, key2, verdict(res.Restore), timings)
	} else {
		fmt.Fprintf(stdout, "drill %s: FAILED s3://%s/%s: %s; %s\n", name, *bucket, key2, oneLine(derr), timings)
	}
	if *textfile != "" {
		var m bytes.Buffer
		_ = restore.WriteDrillPrometheus(&m, *bucket, *prefix, name, res, derr)
		if err := writeTextfile(*textfile, m.Bytes()); err != nil {
			return failure(err)
		}
	}
	if derr != nil {
		return failure(derr)
	}
	return nil
}

func round(d time.Duration) time.Duration {
	if d >= 10*time.Second {
		return d.Round(time.Second)
	}
	return d.Round(time.Millisecond)
}
