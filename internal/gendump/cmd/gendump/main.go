// Command gendump writes deterministic pg_dump-like SQL to stdout, for
// benchmarks: go run ./internal/gendump/cmd/gendump -mib 1024 > dump.sql
package main

import (
	"flag"
	"fmt"
	"os"

	"github.com/putonly/putonly/internal/gendump"
)

func main() {
	mib := flag.Int64("mib", 1024, "output size in MiB")
	seed := flag.Uint64("seed", 1, "PRNG seed (same seed, same bytes)")
	flag.Parse()
	if _, err := gendump.Write(os.Stdout, *mib<<20, *seed); err != nil {
		fmt.Fprintln(os.Stderr, "gendump:", err)
		os.Exit(1)
	}
}
