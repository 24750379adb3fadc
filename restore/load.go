package restore

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"sync/atomic"
	"time"

	"filippo.io/age"
	"github.com/putonly/putonly/internal/countio"
	"github.com/putonly/putonly/internal/dumpinfo"
)

// LoadOptions say which backup to restore into which target: a database
// by name (Database) or a shell command reading the dump on stdin (Into).
type LoadOptions struct {
	Bucket, Key string
	Identities  []age.Identity
	NoVerify    bool
	Manifest    *Manifest // already fetched; nil fetches it (unless NoVerify)

	Database *Database // a scratch database, created by Load
	Into     string    // or a command, run with sh -c

	// AllowSwitch lets an SQL dump change database (USE, \connect, ...)
	// and a custom-format dump be restored with pg_restore --create.
	AllowSwitch bool
	// AllowSourceName lets Database be named like the source database
	// (a restore onto a new server; never a drill).
	AllowSourceName bool

	Env            []string // of the target's tools; nil inherits
	Stdout, Stderr io.Writer
	Progress       *atomic.Int64 // plaintext bytes fed so far, for a progress line
}

// LoadResult describes a load as far as it got.
type LoadResult struct {
	Restore Result
	Dump    dumpinfo.Info // what the dump's head says
	Source  string        // the source database, from the manifest or the dump
	// Tables the dump itself creates (an SQL dump's CREATE TABLE, a
	// custom-format dump's table of contents), and the rows of the COPY
	// blocks of a plain PostgreSQL dump.
	DumpTables []string
	DumpRows   map[string]int64
	Switches   []SwitchError // allowed switches (AllowSwitch)
	Created    bool          // Database was created by this load
	Stream     time.Duration // download, decrypt, verify and feed the target
	Finish     time.Duration // the target's work after the end of its input
}

// Load streams a backup into a target and waits for it. The dump's head is
// read first (its format, its database); then the target is created
// (Database) or started (Into), and the dump flows through the SQL guard
// for SQL formats, so a dump that would switch database stops with a
// *SwitchError before the target reads the statement. On any failure the
// target is killed before its input ends. Load does not drop a database
// it created: the caller does (Database.Drop), drill or not.
func Load(ctx context.Context, api Getter, o LoadOptions) (res LoadResult, err error) {
	if (o.Database == nil) == (o.Into == "") {
		return res, errors.New("load: exactly one of a database and a command")
	}
	url := "s3://" + o.Bucket + "/" + o.Key
	m := o.Manifest
	if m == nil && !o.NoVerify {
		if m, err = FetchManifest(ctx, api, o.Bucket, o.Key, o.Identities); err != nil {
			return res, err
		}
	}
	tctx, cancel := context.WithCancel(ctx)
	defer cancel()

	l := &loader{ctx: tctx, o: o, m: m, url: url, res: &res}
	gate := &headGate{open: l.open}
	var dst io.Writer = gate
	if o.Progress != nil {
		dst = &countio.Writer{W: gate, N: o.Progress}
	}

	streamStart := time.Now()
	r, rerr := Restore(ctx, api, Options{Bucket: o.Bucket, Key: o.Key, Identities: o.Identities, NoVerify: o.NoVerify, Manifest: m}, dst)
	res.Restore = r
	if rerr == nil {
		// A dump shorter than the head is fed only now, verified whole.
		if rerr = gate.finish(); rerr == nil && l.guard != nil && l.conv == nil {
			rerr = l.guard.Close()
		}
		if rerr != nil {
			rerr = fmt.Errorf("restore %s: %w", url, rerr)
		}
	} else if cause := targetRefusal(gate, rerr); cause != nil {
		// The target side refused (a database that exists, a database
		// switch) while the stream ran: that is the whole story, without
		// the "write:" of a failed output file.
		rerr = fmt.Errorf("restore %s: %w", url, cause)
	}
	stopped := l.fed != nil && l.fed.err != nil
	if l.conv != nil {
		rerr, stopped = l.convDone(rerr, stopped)
	}
	res.Stream = time.Since(streamStart)
	if l.guard != nil {
		res.DumpTables, res.DumpRows, res.Switches = l.guard.Tables, l.guard.CopyRows, l.guard.Switches
	}
	if l.target == nil {
		return res, rerr
	}
	if rerr != nil && !stopped {
		// The dump is bad, or switches database: the target must not
		// finish with part of it.
		l.target.kill()
		if l.lister != nil {
			l.lister.kill()
		}
		cancel()
	}
	finishStart := time.Now()
	werr := l.target.wait()
	res.Finish = time.Since(finishStart)
	if l.lister != nil {
		if lerr := l.lister.wait(); lerr == nil && rerr == nil {
			res.DumpTables = tocTables(l.tocOut.String())
		}
	}
	if err := loadError(ctx, rerr, werr, stopped, l.target.name, r.PlaintextBytes); err != nil {
		return res, err
	}
	return res, nil
}

// convDone waits for pg_restore -f - once the archive is fed (or killed
// when the stream failed) and says what the load failed with: the guard's
// refusal first, then the stream's, then pg_restore's; stopped says the
// psql target stopped reading by itself.
func (l *loader) convDone(rerr error, stopped bool) (error, bool) {
	if rerr != nil && !stopped {
		l.conv.kill()
	}
	cerr := l.conv.wait()
	switch {
	case l.guard.err != nil:
		var ue *UnsafeError
		var se *SwitchError
		if errors.As(l.guard.err, &ue) || errors.As(l.guard.err, &se) {
			return fmt.Errorf("restore %s: %w", l.url, l.guard.err), false
		}
		// psql stopped reading: its exit says why.
		return fmt.Errorf("restore %s: %w", l.url, l.guard.err), true
	case cerr != nil && (stopped || rerr == nil):
		// A damaged archive: psql is killed before it sees its end.
		return fmt.Errorf("%w: pg_restore -f -: %v", ErrTarget, cerr), false
	case rerr != nil:
		return rerr, false
	}
	if err := l.guard.Close(); err != nil {
		return fmt.Errorf("restore %s: %w", l.url, err), false
	}
	return nil, false
}

// loader is one Load's target, as the dump's first bytes decide it.
type loader struct {
	ctx    context.Context // the target's: cancelled when the dump turns out bad
	o      LoadOptions
	m      *Manifest
	url    string
	res    *LoadResult
	target *process
	lister *process // pg_restore -l, for a custom-format archive
	conv   *process // pg_restore -f -, writing the archive's SQL to guard
	guard  *SQLGuard
	fed    *recordingWriter // the target's stdin, recording its failure
	tocOut bytes.Buffer
}

// open starts the target for a dump that begins with head and returns what
// the dump is written to.
func (l *loader) open(head []byte) (io.Writer, error) {
	info := dumpinfo.Sniff(head)
	l.res.Dump = info
	if l.m != nil {
		l.res.Source = l.m.SourceDatabase
	}
	if l.res.Source == "" {
		l.res.Source = info.Database
	}
	argv, err := targetArgv(l.ctx, l.o, l.m, info, l.url, l.res)
	if err != nil {
		return nil, err
	}
	if l.target, err = startProcess(l.ctx, argv, l.o.Env, l.o.Stdout, l.o.Stderr); err != nil {
		return nil, err
	}
	l.fed = &recordingWriter{w: l.target.stdin}
	var w io.Writer = l.fed
	if d := l.o.Database; d != nil && d.ConvertArgv(info) != nil {
		// The archive goes to pg_restore -f -, and the SQL it writes
		// through the guard to psql.
		l.guard = NewSQLGuard(l.target.stdin, DialectPostgres, l.o.AllowSwitch)
		if l.conv, err = startProcess(l.ctx, d.ConvertArgv(info), l.o.Env, l.guard, l.o.Stderr); err != nil {
			return nil, err
		}
		l.fed = &recordingWriter{w: l.conv.stdin}
		w = l.fed
	}
	if info.Format == dumpinfo.PGCustom {
		// pg_restore -l lists the archive's table of contents as it
		// streams past; it reads what it needs and may stop early.
		if l.lister, err = startProcess(l.ctx, []string{"pg_restore", "-l"}, l.o.Env, &l.tocOut, io.Discard); err == nil {
			w = io.MultiWriter(l.fed, &bestEffort{w: l.lister.stdin})
		}
	}
	if info.SQL() && l.guard == nil {
		l.guard = NewSQLGuard(w, dialectOf(info), l.o.AllowSwitch)
		w = l.guard
	}
	return w, nil
}

// targetArgv is the command that loads the dump: the database's client for
// a database target (its type from the manifest or the dump, the database
// created), or sh -c COMMAND.
func targetArgv(ctx context.Context, o LoadOptions, m *Manifest, info dumpinfo.Info, url string, res *LoadResult) ([]string, error) {
	if d := o.Database; d != nil {
		if d.Type == "" && m != nil && m.SourceType != "command" {
			d.Type = m.SourceType
		}
		if d.Type == "" {
			d.Type = info.SourceType()
		}
		if d.Type == "" {
			return nil, fmt.Errorf("%s: cannot tell which database the dump is for: name it with --type postgres|mysql|sqlite", url)
		}
		if !o.AllowSourceName && d.SameAsSource(res.Source) {
			return nil, fmt.Errorf("%w: %s is where the backup came from (%s)\n\thint: restore into a new name; a restore onto a new server may pass --allow-source-name", ErrTargetIsSource, d, res.Source)
		}
		argv, err := d.LoadArgv(info)
		if err != nil {
			return nil, err
		}
		if err := d.Prepare(ctx); err != nil {
			return nil, err
		}
		res.Created = d.Created()
		return argv, nil
	}
	if info.Format == dumpinfo.PGCustom && !o.AllowSwitch && createsDatabase(o.Into) {
		return nil, &SwitchError{Statement: "pg_restore --create (the archive's DATABASE entry, " + info.Database + ")", Line: 0}
	}
	return []string{"sh", "-c", o.Into}, nil
}

// loadError is the load's failure, if any: the stream's (rerr) or the
// target's (werr); when the target stopped reading (stopped), its failure
// is the cause.
func loadError(ctx context.Context, rerr, werr error, stopped bool, name string, fedBytes int64) error {
	switch {
	case (rerr != nil || werr != nil) && ctx.Err() != nil:
		return fmt.Errorf("stopped: %w", context.Cause(ctx))
	case rerr != nil && stopped:
		// The target stopped reading: its failure is the cause.
		if werr != nil {
			return fmt.Errorf("%w: %q: %v (it stopped reading about %d bytes in)", ErrTarget, name, werr, fedBytes)
		}
		return fmt.Errorf("%w: %q exited 0 without reading the whole dump", ErrTarget, name)
	case rerr != nil:
		return rerr
	case werr != nil:
		return fmt.Errorf("%w: %q: %v", ErrTarget, name, werr)
	}
	return nil
}

// createsDatabase says a target command would run pg_restore --create
// (-C), which acts on the archive's DATABASE entry: it restores into the
// source's database name, not the one given with -d.
func createsDatabase(cmd string) bool {
	for _, w := range strings.Fields(cmd) {
		w = strings.Trim(w, `'"`)
		if w == "--create" || (strings.HasPrefix(w, "-") && !strings.HasPrefix(w, "--") && strings.Contains(w[1:], "C") && !strings.ContainsAny(w[1:], "=")) {
			return true
		}
	}
	return false
}

func dialectOf(info dumpinfo.Info) Dialect {
	switch info.Format {
	case dumpinfo.MySQLSQL:
		return DialectMySQL
	case dumpinfo.SQLiteSQL:
		return DialectSQLite
	}
	return DialectPostgres
}

// tocTables reads the TABLE entries of pg_restore -l's listing:
// "215; 1259 16488 TABLE public orders owner".
func tocTables(list string) []string {
	var out []string
	for _, l := range strings.Split(list, "\n") {
		if strings.HasPrefix(l, ";") {
			continue
		}
		_, rest, ok := strings.Cut(l, "; ")
		if !ok {
			continue
		}
		f := strings.Fields(rest)
		if len(f) >= 6 && f[2] == "TABLE" && f[3] != "DATA" {
			out = append(out, f[3]+"."+strings.Join(f[4:len(f)-1], " "))
		}
	}
	return out
}

// headGate holds the first dumpinfo.HeadSize bytes, then opens the real
// destination with them (which may refuse), and passes everything on.
type headGate struct {
	buf  []byte
	open func(head []byte) (io.Writer, error)
	w    io.Writer
	err  error
}

func (g *headGate) Write(p []byte) (int, error) {
	if g.err != nil {
		return 0, g.err
	}
	if g.w != nil {
		return g.w.Write(p)
	}
	g.buf = append(g.buf, p...)
	if len(g.buf) >= dumpinfo.HeadSize {
		if err := g.finish(); err != nil {
			return 0, err
		}
	}
	return len(p), nil
}

// finish opens the destination with what was held, if not yet done.
func (g *headGate) finish() error {
	if g.err != nil || g.w != nil {
		return g.err
	}
	w, err := g.open(g.buf)
	if err != nil {
		g.err = err
		return err
	}
	g.w = w
	if _, err := w.Write(g.buf); err != nil {
		g.err = err
		return err
	}
	g.buf = nil
	return nil
}

// bestEffort writes until its writer fails, then drops the rest: for a
// reader that may stop early (pg_restore -l).
type bestEffort struct {
	w      io.Writer
	failed bool
}

func (b *bestEffort) Write(p []byte) (int, error) {
	if !b.failed {
		if _, err := b.w.Write(p); err != nil {
			b.failed = true
		}
	}
	return len(p), nil
}

// IntoDatabase restores a backup into a new database (o.Database) and
// reports what it then holds. On failure the database it created is
// dropped again: a restore leaves a complete database or none.
func IntoDatabase(ctx context.Context, api Getter, o LoadOptions) (LoadResult, *Contents, error) {
	res, err := Load(ctx, api, o)
	if err != nil {
		if o.Database != nil && o.Database.Created() {
			dctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 2*time.Minute)
			defer cancel()
			if derr := o.Database.Drop(dctx); derr != nil {
				err = fmt.Errorf("%w\n\tand the partial restore was not dropped: %v", err, derr)
			}
		}
		return res, nil, err
	}
	if o.Database == nil {
		return res, nil, nil
	}
	c, err := o.Database.Inspect(ctx)
	if err != nil {
		return res, nil, err
	}
	return res, &c, nil
}

// targetRefusal is the error the target side refused the stream with, if
// that is why Restore failed: the gate's open (the scratch database's
// checks) or the SQL guard's database switch or unsafe command.
func targetRefusal(gate *headGate, err error) error {
	if gate.err != nil && errors.Is(err, gate.err) {
		return gate.err
	}
	var se *SwitchError
	if errors.As(err, &se) {
		return se
	}
	var ue *UnsafeError
	if errors.As(err, &ue) {
		return ue
	}
	return nil
}
