// Package backup is the agent's pipeline: it runs a dump command and streams
// its stdout through zstd and age into one S3 object, written with a key that
// may only put objects.
//
// A [Job] is resolved from the config ([LoadConfig], [Config.ResolveJobs])
// or built by the caller, and [Run] executes it once:
//
//	dump command | zstd ([NewCompressor]) | age ([NewEncryptor]) | S3 multipart upload
//
// # What a run promises
//
// No plaintext is written to disk, and memory is bounded whatever the size
// or the compressibility of the dump ([MemoryEstimate]): a part buffer per
// concurrent upload, the compressor's blocks, a fixed allowance.
//
// Nothing is uploaded unencrypted: without a recipient, Run fails with
// [ErrNoRecipients] before the dump starts. Recipients are public keys
// ([ParseRecipients]); the agent can never decrypt what it wrote.
//
// An object is completed only if the dump exited 0 (and, for dumps that end
// with a marker, printed it) and every stage flushed. A dump that fails,
// is killed or is cut by the timeout fails the run with [ErrDumpFailed]; its
// multipart upload is aborted, or, when the dump was smaller than one part,
// nothing is sent at all. An [UploadError] says what was cleaned up and
// what, if the abort itself failed ([ErrAbortFailed]), is left in the bucket.
//
// Nothing is overwritten. Every object gets a fresh key
// (internal/layout: <prefix><job>/YYYY/MM/DD/<job>-<time>-<random>.<ext>),
// and every request that creates one carries If-None-Match: *, so S3 answers
// 412 ([ErrObjectExists]) rather than replace a backup. Every request also
// carries server-side encryption and a checksum S3 verifies before storing
// a byte (internal/s3write owns their shape, and the self-test's canaries are
// built from the same code).
//
// The write path never calls Get, Head, List or CreateBucket: the backup key
// has no such right and is never asked for one. The one place the agent
// sends a read is the key gate ([KeyChecker], [RunOptions].Keys), which
// asks S3 whether the key can read, delete or escalate, and fails the run
// closed ([ErrReadableKey], [ErrSelftestInconclusive]) when it can or when
// S3 cannot tell.
//
// The job's timeout bounds every phase: the gate, the dump, the upload and
// the manifest; only the abort of a failed upload gets [AbortSlice] more. An
// error the timeout or a shutdown caused wraps [ErrTimeout] or [ErrShutdown],
// and [FailureReason] sorts any error into the reason metrics and
// notifications report.
//
// Next to each backup, Run writes its manifest (internal/layout), encrypted to
// the same recipients: the redacted dump command, sizes, the plaintext's
// SHA-256 and the checksum S3 verified. A restore checks the plaintext
// against it. A backup stored without its manifest still fails the run
// ([ErrManifest]), with the object's name in the error.
//
// # Around a run
//
// [Reporter] records each run in the state file and sends it to the job's
// notification destinations ([Notifier]: webhooks signed with [Sign],
// pings, SNS). [Scheduler] runs jobs on their cron schedules with a per-host
// [JitterDelay], never overlapping a job with itself. [Connect] builds the
// S3 client from the standard AWS credential chain, retrying throttling,
// 5xx answers and cut connections with jittered backoff.
package backup
