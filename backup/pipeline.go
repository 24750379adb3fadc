package backup

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"io"
	"log/slog"
	"os"
	"runtime"
	"strings"
	"sync/atomic"
	"time"

	"github.com/putonly/putonly/internal/countio"
	"github.com/putonly/putonly/internal/dumpinfo"
	"github.com/putonly/putonly/internal/layout"
)

// Version is the tool version written into object metadata; cmd/putonly
// sets it from the build.
var Version = "dev"

// Job is a fully resolved job: defaults merged, recipients parsed.
type Job struct {
	Name string
	Argv []string
	Ext  string // dump layer, e.g. "dump"
	// EndMarker, if set, is how a complete dump ends; a dump that exits 0
	// without it failed (sqlite3 .dump on a corrupt database).
	EndMarker string
	// SourceType and SourceDatabase say what is dumped (the database, or
	// the SQLite file); they go into the manifest.
	SourceType, SourceDatabase string
	// Mode is the source's mode; ModeBase reads the base backup's tar
	// as it streams and records its WAL positions in the manifest.
	Mode      string
	Bucket    string
	Prefix    string
	Client    ClientOptions
	Recipient *Recipients

	Compression            string
	CompressionConcurrency int
	SSE                    string
	KMSKeyID               string
	Checksum               string
	PartSize               int64
	UploadConcurrency      int
	Timeout                time.Duration
	Priority               Priority // the dump's nice and ionice
}

// Jobs resolves the jobs of the file, or only the one named (empty: all).
// It reads recipients files; an unknown name is an error listing the known
// ones.
func (c *Config) ResolveJobs(only string) ([]*Job, error) {
	var out []*Job
	var names []string
	for _, jc := range c.Jobs {
		names = append(names, jc.Name)
		if only != "" && jc.Name != only {
			continue
		}
		j, err := ResolveJob(c.merge(jc))
		if err != nil {
			return nil, fmt.Errorf("job %s: %w", jc.Name, err)
		}
		out = append(out, j)
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("no job named %q; the config has: %s", only, strings.Join(names, ", "))
	}
	return out, nil
}

// ResolveJob validates a job whose settings are complete (merged with
// defaults) and parses its recipients.
func ResolveJob(jc JobConfig) (*Job, error) {
	jc.Settings.applyDefaults()
	if errs := jc.validate("job"); len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	argv, err := jc.Source.argv()
	if err != nil {
		return nil, err
	}
	rec, err := ParseRecipients(jc.Recipients, jc.RecipientsFile)
	if err != nil {
		return nil, err
	}
	return &Job{
		Name:                   jc.Name,
		Argv:                   argv,
		Ext:                    jc.Source.ext(),
		EndMarker:              jc.Source.endMarker(),
		SourceType:             jc.Source.Type,
		SourceDatabase:         jc.Source.database(),
		Mode:                   jc.Source.Mode,
		Bucket:                 jc.Bucket,
		Prefix:                 jc.Prefix,
		Client:                 jc.ClientOptions(),
		Recipient:              rec,
		Compression:            jc.Compression,
		CompressionConcurrency: jc.CompressionConcurrency,
		SSE:                    jc.SSE,
		KMSKeyID:               jc.KMSKeyID,
		Checksum:               jc.Checksum,
		PartSize:               int64(jc.PartSize),
		UploadConcurrency:      jc.UploadConcurrency,
		Timeout:                time.Duration(jc.Timeout),
		Priority:               jc.priority(),
	}, nil
}

// Progress counts the bytes of a running job; safe to read concurrently.
type Progress struct {
	In         atomic.Int64 // plaintext read from the dump
	Compressed atomic.Int64 // after zstd, before age
	Out        atomic.Int64 // ciphertext produced
	Sent       atomic.Int64 // ciphertext accepted by S3
}

// Result describes a completed backup.
type Result struct {
	Job      string
	Bucket   string
	Key      string
	BytesIn  int64 // plaintext
	BytesOut int64 // object size
	Parts    int
	Checksum string // the checksum S3 verified, base64
	Duration time.Duration
	// Manifest is what was written next to the object, at
	// layout.ManifestKey(Key).
	Manifest *layout.Manifest
}

// Ratio is plaintext / object size.
func (r Result) Ratio() float64 {
	if r.BytesOut == 0 {
		return 0
	}
	return float64(r.BytesIn) / float64(r.BytesOut)
}

// RunOptions carry what a run needs besides the job.
type RunOptions struct {
	Log      *slog.Logger
	Progress *Progress // optional
	Now      func() time.Time
	Env      []string // dump environment; nil inherits putonly's
	// Keys is the key gate: asked before the dump starts, inside the job's
	// timeout (nil: no gate).
	Keys KeyChecker
}

// Run executes one job: key gate, then dump | zstd | age | S3. No plaintext
// is written to disk, and the object is completed only if the dump exited 0
// and every stage flushed; otherwise the multipart upload is aborted (or,
// for a dump smaller than one part, nothing is sent).
//
// The job's timeout bounds every phase: the gate, the dump, the upload and
// the manifest; only the abort of a failed multipart upload gets
// [AbortSlice] more. An error caused by the timeout or a shutdown wraps
// the context's cause: errors.Is(err, [ErrTimeout]) or [ErrShutdown].
func Run(ctx context.Context, api s3Writer, job *Job, o RunOptions) (Result, error) {
	if job.Recipient == nil || job.Recipient.Len() == 0 {
		return Result{}, ErrNoRecipients
	}
	if o.Log == nil {
		o.Log = slog.New(slog.DiscardHandler)
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Progress == nil {
		o.Progress = &Progress{}
	}
	if job.Timeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeoutCause(ctx, job.Timeout, &TimeoutError{Timeout: job.Timeout})
		defer cancel()
	}
	res, err := run(ctx, api, job, o)
	if err != nil && ctx.Err() != nil {
		// The SDK and the dump report context.DeadlineExceeded or
		// Canceled; the cause says which limit or signal it was.
		err = withKind(err, context.Cause(ctx))
	}
	return res, err
}

func run(ctx context.Context, api s3Writer, job *Job, o RunOptions) (Result, error) {
	if o.Keys != nil {
		if err := o.Keys.CheckKey(ctx, job); err != nil {
			return Result{}, fmt.Errorf("job %s: %w", job.Name, err)
		}
	}
	log := o.Log
	start := o.Now()
	k, err := layout.NewKey(job.Prefix, job.Name, start, layout.Ext(job.Ext, job.Compression != "none"))
	if err != nil {
		return Result{}, err
	}
	key := k.String()
	log.Info("backup start", "job", job.Name, "cmd", strings.Join(RedactArgv(job.Argv), " "),
		"object", "s3://"+job.Bucket+"/"+key)

	src, err := startDump(ctx, job.Argv, o.Env, job.Priority, log)
	if err != nil {
		return Result{}, err
	}
	defer src.Close()
	var base *baseInspector
	if job.Mode == ModeBase {
		base = newBaseInspector()
		defer base.finish()
	}
	st := &stream{job: job, key: key, prog: o.Progress, base: base, plainHash: sha256.New(), head: &dumpinfo.Recorder{}}
	res, err := st.run(ctx, api, src, log)
	if err != nil {
		return Result{}, err
	}
	end := o.Now()
	m := st.manifest(start, end, res)
	r := Result{
		Job: job.Name, Bucket: job.Bucket, Key: key,
		BytesIn: o.Progress.In.Load(), BytesOut: res.Size, Parts: res.Parts,
		Checksum: res.Checksum, Duration: end.Sub(start), Manifest: m,
	}
	// The backup is complete and safe; without its manifest a restore
	// cannot verify the plaintext, so the job still reports failure.
	lost, err := putManifest(ctx, api, job, m)
	if lost != "" {
		log.Warn("the first attempt's answer was lost; its retry found the manifest stored (412 on the random name only this run knows)",
			"object", "s3://"+job.Bucket+"/"+layout.ManifestKey(key), "first_attempt", lost)
	}
	if err != nil {
		return r, withKind(fmt.Errorf("job %s: backup s3://%s/%s is stored, but its %w", job.Name, job.Bucket, key, err), ErrManifest)
	}
	return r, nil
}

// stream is one dump on its way to S3: what the pipeline learns of the
// plaintext as it passes (size, SHA-256, the dump's format).
type stream struct {
	job       *Job
	key       string
	prog      *Progress
	base      *baseInspector // mode base: pg_basebackup's tar
	plainHash hash.Hash
	head      *dumpinfo.Recorder // the dump's first bytes tell its format and server version
}

// run streams src through zstd and age into the object; the object is
// completed only when src ended cleanly.
func (st *stream) run(ctx context.Context, api s3Writer, src io.ReadCloser, log *slog.Logger) (uploadResult, error) {
	job, prog := st.job, st.prog
	pr, pw := io.Pipe()
	produced := make(chan error, 1)
	go func() {
		var dump io.Reader = src
		if job.EndMarker != "" {
			dump = &tailCheck{r: src, want: []byte(job.EndMarker), what: job.Argv[0]}
		}
		if st.base != nil {
			dump = st.base.reader(dump)
		}
		in := io.TeeReader(&countio.Reader{R: dump, N: &prog.In}, io.MultiWriter(st.plainHash, st.head))
		err := produce(in, &countio.Writer{W: pw, N: &prog.Out}, job, &prog.Compressed)
		pw.CloseWithError(err) // nil: the uploader sees io.EOF and completes
		produced <- err
	}()

	res, uerr := upload(ctx, api, pr, uploadOptions{
		Bucket:      job.Bucket,
		Key:         st.key,
		SSE:         job.SSE,
		KMSKeyID:    job.KMSKeyID,
		Checksum:    job.Checksum,
		PartSize:    job.PartSize,
		Concurrency: job.UploadConcurrency,
		Metadata:    objectMetadata(job),
	}, &prog.Sent)
	if uerr != nil {
		// Unblock the producer and stop the dump.
		pr.CloseWithError(uerr)
		_ = src.Close()
		perr := <-produced
		// A failed dump is the root cause when it ended the stream.
		if perr != nil && errors.Is(perr, ErrDumpFailed) {
			// Keep what the uploader cleaned up (or could not).
			var ue *UploadError
			if errors.As(uerr, &ue) {
				return res, fmt.Errorf("job %s: %w", job.Name, &UploadError{Err: perr, Cleanup: ue.Cleanup, UploadID: ue.UploadID, AbortErr: ue.AbortErr})
			}
			return res, fmt.Errorf("job %s: %w (no object written)", job.Name, perr)
		}
		return res, fmt.Errorf("job %s: %w", job.Name, uerr)
	}
	if res.LostAnswer != "" {
		log.Warn("the first attempt's answer was lost; its retry found the object stored (412 on the random name only this run knows): the backup is complete",
			"object", "s3://"+job.Bucket+"/"+st.key, "first_attempt", res.LostAnswer)
	}
	if perr := <-produced; perr != nil {
		// Cannot happen: the upload completes only on a clean EOF.
		return res, fmt.Errorf("job %s: %w", job.Name, perr)
	}
	return res, nil
}

// manifest describes the stored object res.
func (st *stream) manifest(start, end time.Time, res uploadResult) *layout.Manifest {
	job, prog := st.job, st.prog
	m := &layout.Manifest{
		Format: layout.ManifestFormat, Tool: layout.ManifestTool, Version: Version, Job: job.Name, Host: hostname(),
		Bucket: job.Bucket, Key: st.key, Source: RedactArgv(job.Argv), DumpExitStatus: 0,
		Start: start.UTC(), End: end.UTC(),
		PlaintextSize: prog.In.Load(), PlaintextSHA256: hex.EncodeToString(st.plainHash.Sum(nil)),
		Compression: compressionName(job.Compression), CompressedSize: prog.Compressed.Load(),
		Encryption: "age", RecipientTypes: job.Recipient.Types(),
		CiphertextSize: res.Size, Parts: res.Parts,
		ChecksumAlgorithm: job.Checksum, ChecksumType: checksumType(job.Checksum, res.Parts), Checksum: res.Checksum,
		SSE:        job.SSE,
		SourceType: job.SourceType, SourceDatabase: job.SourceDatabase,
	}
	if info := st.head.Info(); info.Format != "" {
		m.DumpFormat, m.ServerVersion = info.Format, info.ServerVersion
		if m.SourceDatabase == "" && info.Database != "" {
			m.SourceDatabase = info.Database
		}
	}
	if st.base != nil {
		// Read whole at the dump's EOF (baseCheck), or the upload
		// would not have completed.
		m.Postgres, _ = st.base.finish()
	}
	return m
}

// produce copies the dump through zstd and age into dst. It closes the
// stages (flushing them) only when the dump ended cleanly, so a failed dump
// never yields a well-formed age stream.
func produce(src io.Reader, dst io.Writer, job *Job, compressed *atomic.Int64) error {
	enc, err := newEncryptor(dst, job.Recipient)
	if err != nil {
		return err
	}
	comp, err := newCompressor(&countio.Writer{W: enc, N: compressed}, job.Compression, job.CompressionConcurrency)
	if err != nil {
		return err
	}
	if err := copyLarge(comp, src); err != nil {
		switch c := comp.(type) {
		case *parallelCompressor:
			c.abort() // release the workers
		case interface{ Reset(io.Writer) }:
			c.Reset(io.Discard) // release the encoder's goroutines
		}
		return err
	}
	if err := comp.Close(); err != nil {
		return fmt.Errorf("zstd: %w", err)
	}
	if err := enc.Close(); err != nil {
		return fmt.Errorf("age: %w", err)
	}
	return nil
}

// objectMetadata names the tool version, the layers and the recipients' key
// types (not the keys), so a restorer knows what it needs.
func objectMetadata(job *Job) map[string]string {
	return map[string]string{
		"putonly-version":         Version,
		"putonly-job":             job.Name,
		"putonly-compression":     compressionName(job.Compression),
		"putonly-encryption":      "age",
		"putonly-recipient-types": strings.Join(job.Recipient.Types(), ","),
		"putonly-host":            hostname(),
	}
}

func compressionName(level string) string {
	if level == "none" {
		return "none"
	}
	return "zstd-" + level
}

func checksumType(alg string, parts int) string {
	if alg == "SHA256" && parts > 0 {
		return "COMPOSITE"
	}
	return "FULL_OBJECT"
}

func hostname() string {
	h, _ := os.Hostname()
	return h
}

// copyLarge copies src to dst in writes of 1 MiB. A pipe hands out at most
// 64 KiB per read; the compressor works best on large blocks, so reads are
// gathered until the buffer is full or the stream ends. The error of src
// (a failed dump) is returned as is; io.EOF is not an error.
func copyLarge(dst io.Writer, src io.Reader) error {
	buf := make([]byte, 1<<20)
	for {
		n, err := io.ReadFull(src, buf)
		if n > 0 {
			if _, werr := dst.Write(buf[:n]); werr != nil {
				return werr
			}
		}
		switch err {
		case nil:
		case io.EOF, io.ErrUnexpectedEOF:
			return nil
		default:
			return err
		}
	}
}

// MemoryEstimate is the most memory (peak RSS) a job takes, whatever its
// data, compressible or not (README, "Memory"):
//
//	fixed 48 MiB (SDK, age, HTTP, runtime, program text)
//	+ part_size × (upload_concurrency + 1)   the parts in flight and the one filling
//	+ the compressor                          compressorMemory
//
// at the base part size; part size doubles every 900 parts, so past 14 GB
// (at 16 MiB parts) the part term doubles. TestMemoryBoundIncompressible
// checks the peak RSS of a 2 GiB random stream against it.
func MemoryEstimate(j *Job) int64 {
	return memFixed + j.PartSize*int64(j.UploadConcurrency+1) + compressorMemory(j.Compression, j.CompressionConcurrency)
}

// memFixed is what a job holds besides its buffers: the SDK and its HTTP
// connections, age, the 1 MiB copy buffer, goroutine stacks, the runtime,
// and the program's own text and data.
const memFixed = 48 << 20

// memNonGo is the part of memFixed the Go runtime does not count against
// its memory limit: the program's text and data as mapped by the kernel.
const memNonGo = 16 << 20

// MemoryLimit is the soft memory limit for the Go runtime when jobs run:
// the largest MemoryEstimate, less what the runtime does not manage. Without
// it the collector lets garbage grow to twice the live heap (GOGC=100);
// with it, the heap and its garbage stay inside the estimate.
func MemoryLimit(jobs []*Job) int64 {
	var need int64
	for _, j := range jobs {
		need = max(need, MemoryEstimate(j))
	}
	if need == 0 {
		return 0
	}
	return need - memNonGo
}

// compressorMemory is the compressor's share at level with concurrency
// workers (0: one per CPU): per worker, the zstd encoder's history and
// tables (measured with 4 MiB windows, rounded up), plus the parallel
// compressor's fixed input and output frame buffers (parallelBuffers). With
// one worker the streaming encoder keeps one history of the level's default
// window (up to 8 MiB, twice the parallel one) and two blocks.
func compressorMemory(level string, workers int) int64 {
	if level == "none" {
		return 0
	}
	if workers <= 0 {
		workers = runtime.GOMAXPROCS(0)
	}
	var enc int64
	switch level {
	case "fastest":
		enc = 9 << 20
	case "better":
		enc = 13 << 20
	case "best":
		enc = 44 << 20
	case "auto":
		enc = (10 + 9) << 20 // the default and the fastest encoder
	default:
		enc = 10 << 20
	}
	if workers == 1 && level != "auto" {
		return 2*enc + 2*(1<<20)
	}
	ins, outs := parallelBuffers(workers)
	frame := int64(parallelChunkSize + parallelChunkSize/100) // a frame's bound, with room
	return int64(workers)*enc + int64(ins+outs)*frame
}
