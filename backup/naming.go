package backup

import (
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"time"
)

// objectKey names a backup:
//
//	<prefix><job>/<YYYY>/<MM>/<DD>/<job>-<YYYYMMDDTHHMMSSZ>-<random>.<ext>
//
// Keys sort by time within a job, and the random suffix makes two runs in
// the same second (or two hosts sharing a job name) land on different keys,
// so If-None-Match never has to reject a legitimate backup. ext shows the
// layers, outermost last: "dump.zst.age" is decrypted with age, then
// decompressed with zstd, then restored with pg_restore.
func objectKey(prefix, job string, t time.Time, ext string) (string, error) {
	var rnd [4]byte
	if _, err := rand.Read(rnd[:]); err != nil {
		return "", err
	}
	t = t.UTC()
	return fmt.Sprintf("%s%s/%04d/%02d/%02d/%s-%s-%s.%s",
		prefix, job, t.Year(), t.Month(), t.Day(),
		job, t.Format("20060102T150405Z"), hex.EncodeToString(rnd[:]), ext), nil
}
