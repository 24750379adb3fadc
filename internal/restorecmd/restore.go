package restorecmd

import (
	"context"
	"errors"
	"fmt"
	"io"
	"sync/atomic"
	"time"

	"github.com/putonly/putonly/internal/cli"
	"github.com/putonly/putonly/internal/countio"
	"github.com/putonly/putonly/restore"
)

// RestoreOptions are what 'putonly restore' is told: which backup (Key, or
// the newest of Job with Latest) and where to (Out, or a new database
// IntoDatabase, or the stdin of the command Into).
type RestoreOptions struct {
	Bucket, Prefix, Key string
	Latest              bool
	Job                 string
	Identities          []string // the age identity files
	// Out is a file, written atomically, or "-" for stdout; "" is stdout
	// unless it is a terminal.
	Out             string
	Force, NoVerify bool

	IntoDatabase, Type           string
	Into                         string
	AllowSwitch, AllowSourceName bool

	Progress       string // auto, always or never
	Connect        Connect
	Stdout, Stderr io.Writer
}

// Restore downloads, decrypts and verifies one backup into its output and
// says on Stderr what it restored.
func Restore(ctx context.Context, o RestoreOptions) error {
	if err := o.check(); err != nil {
		return err
	}
	if o.Into != "" || o.IntoDatabase != "" {
		return o.intoTarget(ctx)
	}
	return o.toOutput(ctx)
}

// check refuses contradictory flags, before any file or request.
func (o *RestoreOptions) check() error {
	into := o.Into != "" || o.IntoDatabase != ""
	if err := checkSource("restore", &o.Bucket, &o.Key, o.Prefix); err != nil {
		return err
	}
	switch {
	case o.Latest == (o.Key != ""):
		return usage(errors.New("restore needs exactly one of --key and --latest"), "putonly list --bucket B shows the keys")
	case o.Latest && o.Job == "":
		return usagef("--latest needs --job")
	case !o.Latest && o.Job != "":
		return usagef("--job goes with --latest")
	case into:
		return o.checkInto()
	}
	if o.Out == "" {
		if cli.IsTerminal(o.Stdout) {
			return usage(errors.New("no -o and stdout is a terminal"), "write to a file with -o FILE, or pipe: -o - | pg_restore ...")
		}
		o.Out = "-"
	}
	return nil
}

func (o *RestoreOptions) checkInto() error {
	switch {
	case o.Into != "" && o.IntoDatabase != "":
		return usagef("--into and --into-database exclude each other")
	case o.Out != "":
		return usagef("-o goes without --into and --into-database")
	case o.Type != "" && o.IntoDatabase == "":
		return usagef("--type goes with --into-database")
	}
	return nil
}

// find resolves Latest to the newest backup's key.
func (o *RestoreOptions) find(ctx context.Context, api restore.API) error {
	if !o.Latest {
		return nil
	}
	b, err := restore.Latest(ctx, api, o.Bucket, o.Prefix, o.Job)
	if err != nil {
		return err
	}
	o.Key = b.Key
	return nil
}

// toOutput restores to Out: a file written atomically, or stdout.
func (o *RestoreOptions) toOutput(ctx context.Context) error {
	ids, err := loadIdentities(o.Identities)
	if err != nil {
		return err
	}
	// The output file is claimed before any request, so an existing file
	// fails at once rather than after the listing.
	var af *restore.AtomicFile
	dst := o.Stdout
	if o.Out != "-" {
		if af, err = restore.CreateAtomic(o.Out, o.Force); err != nil {
			return usage(err, "")
		}
		defer af.Abort()
		dst = af
	}
	api, err := o.Connect(ctx)
	if err != nil {
		return err
	}
	if err := o.find(ctx, api); err != nil {
		return err
	}
	start := time.Now()
	var fed atomic.Int64
	stop := startProgress("restore", &fed, o.Progress, o.Stderr)
	defer stop()
	res, err := restore.Restore(ctx, api, restore.Options{Bucket: o.Bucket, Key: o.Key, Identities: ids, NoVerify: o.NoVerify}, &countio.Writer{W: dst, N: &fed})
	stop()
	if err != nil && af == nil && res.PlaintextBytes > 0 {
		err = fmt.Errorf("%w\n\tthe %d bytes already written to stdout are incomplete or wrong: discard them", err, res.PlaintextBytes)
	}
	if err != nil {
		return err
	}
	if af != nil {
		if err := af.Commit(); err != nil {
			return err
		}
	}
	fmt.Fprintf(o.Stderr, "putonly: restored s3://%s/%s to %s: %s, %s\n",
		o.Bucket, o.Key, outName(o.Out), verdict(res), cli.Rate(res.PlaintextBytes, time.Since(start)))
	return nil
}

// intoTarget restores into a new database or a command's stdin.
func (o *RestoreOptions) intoTarget(ctx context.Context) error {
	var db *restore.Database
	if o.IntoDatabase != "" {
		var err error
		if db, err = restore.NewDatabase(o.Type, o.IntoDatabase); err != nil {
			return usage(fmt.Errorf("--into-database: %w", err), "")
		}
	}
	ids, err := loadIdentities(o.Identities)
	if err != nil {
		return err
	}
	api, err := o.Connect(ctx)
	if err != nil {
		return err
	}
	if err := o.find(ctx, api); err != nil {
		return err
	}
	var fed atomic.Int64
	stop := startProgress("restore", &fed, o.Progress, o.Stderr)
	start := time.Now()
	res, contents, err := restore.IntoDatabase(ctx, api, restore.LoadOptions{
		Bucket: o.Bucket, Key: o.Key, Identities: ids, NoVerify: o.NoVerify,
		Database: db, Into: o.Into, AllowSwitch: o.AllowSwitch, AllowSourceName: o.AllowSourceName,
		Stdout: o.Stderr, Stderr: o.Stderr, Progress: &fed,
	})
	stop()
	if err != nil {
		return err
	}
	target := o.Into
	if db != nil {
		target = db.String()
	}
	fmt.Fprintf(o.Stderr, "putonly: restored s3://%s/%s into %s: %s, %s\n", o.Bucket, o.Key, target, verdict(res.Restore), cli.Rate(res.Restore.PlaintextBytes, time.Since(start)))
	if contents != nil {
		fmt.Fprintf(o.Stderr, "putonly: %s holds %s, %s\n", target, restore.Count(len(contents.Tables), "table"), restore.Count(contents.Rows, "row"))
	}
	return nil
}

func outName(out string) string {
	if out == "-" {
		return "stdout"
	}
	return out
}
