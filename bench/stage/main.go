// Command stage runs one of putonly's CPU stages alone, stdin to stdout, so
// bench/compare can set it against the C tools on the same input:
//
//	stage -mode compress -level default < dump.sql > /dev/null   # like zstd -3 -T0
//	stage -mode encrypt -recipient age1... < dump.sql > /dev/null # like age -r
//	stage -mode both -recipient age1... < dump.sql > /dev/null    # zstd | age
package main

import (
	"flag"
	"fmt"
	"io"
	"os"

	"github.com/putonly/putonly/backup"
)

func main() {
	mode := flag.String("mode", "both", "compress, encrypt or both")
	level := flag.String("level", "default", "zstd level")
	conc := flag.Int("concurrency", 0, "zstd workers (0: one per CPU)")
	recipient := flag.String("recipient", "", "age recipient (encrypt, both)")
	flag.Parse()
	if err := run(*mode, *level, *conc, *recipient); err != nil {
		fmt.Fprintln(os.Stderr, "stage:", err)
		os.Exit(1)
	}
}

func run(mode, level string, conc int, recipient string) error {
	var closers []io.Closer
	var w io.Writer = os.Stdout
	if mode == "encrypt" || mode == "both" {
		rec, err := backup.ParseRecipients([]string{recipient}, "")
		if err != nil {
			return err
		}
		enc, err := backup.NewEncryptor(w, rec)
		if err != nil {
			return err
		}
		closers = append(closers, enc)
		w = enc
	}
	if mode == "compress" || mode == "both" {
		comp, err := backup.NewCompressor(w, level, conc)
		if err != nil {
			return err
		}
		closers = append(closers, comp)
		w = comp
	}
	buf := make([]byte, 1<<20)
	for {
		n, err := io.ReadFull(os.Stdin, buf)
		if n > 0 {
			if _, werr := w.Write(buf[:n]); werr != nil {
				return werr
			}
		}
		if err == io.EOF || err == io.ErrUnexpectedEOF {
			break
		}
		if err != nil {
			return err
		}
	}
	for i := len(closers) - 1; i >= 0; i-- {
		if err := closers[i].Close(); err != nil {
			return err
		}
	}
	return nil
}
