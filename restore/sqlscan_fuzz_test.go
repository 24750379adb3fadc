package restore

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"strings"
	"testing"
)

// guardRun is what a guard made of one dump: what reached the target and
// what it decided.
type guardRun struct {
	out      string
	err      string // "" when Write and Close succeeded
	errKind  string // "switch", "unsafe" or "other"
	line     int64  // of a *SwitchError or *UnsafeError
	tables   []string
	copyRows map[string]int64
	switches []SwitchError
}

func (r guardRun) verdict() string {
	return fmt.Sprintf("err=%q tables=%q rows=%v switches=%v", r.err, r.tables, r.copyRows, r.switches)
}

// sqlWriter is the surface of the guard the fuzz target drives (a guard
// kept from before a restructure, to compare with, has it too).
type sqlWriter interface {
	Write([]byte) (int, error)
	Close() error
}

// cuts returns the sizes of the pieces seed cuts a dump into: 0 is one
// piece, otherwise sizes up to a bound picked by its low bits.
func cuts(seed uint64, n int) []int {
	if seed == 0 {
		return []int{n}
	}
	bound := []int{1, 2, 3, 7, 16, 64, 512, 4096}[seed&7]
	var sizes []int
	x := seed | 1
	for n > 0 {
		x ^= x << 13
		x ^= x >> 7
		x ^= x << 17
		s := min(n, 1+int(x%uint64(bound)))
		sizes = append(sizes, s)
		n -= s
	}
	return sizes
}

func runGuard(w sqlWriter, out *bytes.Buffer, dump []byte, sizes []int) (err error) {
	for _, s := range sizes {
		if _, err := w.Write(dump[:s]); err != nil {
			return err
		}
		dump = dump[s:]
	}
	return w.Close()
}

func newRun(out *bytes.Buffer, err error, tables []string, rows map[string]int64, sw []SwitchError) guardRun {
	r := guardRun{out: out.String(), tables: tables, copyRows: rows, switches: sw}
	if err != nil {
		r.err = err.Error()
		var se *SwitchError
		var ue *UnsafeError
		switch {
		case errors.As(err, &se):
			r.errKind, r.line = "switch", se.Line
		case errors.As(err, &ue):
			r.errKind, r.line = "unsafe", ue.Line
		default:
			r.errKind = "other"
		}
	}
	return r
}

func guardDump(d Dialect, allow bool, dump []byte, sizes []int) guardRun {
	var out bytes.Buffer
	g := NewSQLGuard(&out, d, allow)
	err := runGuard(g, &out, dump, sizes)
	return newRun(&out, err, g.Tables, g.CopyRows, g.Switches)
}

// FuzzSQLGuard feeds any bytes to the guard, cut into pieces where seed
// says (the reader's buffer boundaries), and checks what holds of every
// input:
//   - the target gets a prefix of the dump, all of it when the guard
//     raises nothing, and never the line a refusal names or a later one;
//   - the verdict, the tables and the COPY row counts do not depend on
//     where the pieces were cut;
//   - allowing switches changes nothing for a dump that has none, and a
//     dump passed without the allowance has none.
func FuzzSQLGuard(f *testing.F) {
	for _, tc := range guardStatementCases {
		f.Add(uint8(tc.d), []byte(tc.sql), uint64(0), false)
		f.Add(uint8(tc.d), []byte(tc.sql), uint64(0x9e3779b97f4a7c15), true)
	}
	for _, tc := range guardUnsafeCases {
		f.Add(uint8(tc.d), []byte(tc.sql), uint64(1), false)
		f.Add(uint8(tc.d), []byte(tc.sql), uint64(0x2545f4914f6cdd1d), true)
	}
	for _, fd := range []struct {
		file string
		d    Dialect
	}{
		{"mysql-single.sql", DialectMySQL}, {"mysql-databases.sql", DialectMySQL},
		{"pg-plain.sql", DialectPostgres}, {"pg-create.sql", DialectPostgres}, {"sqlite.sql", DialectSQLite},
	} {
		b, err := os.ReadFile("testdata/sqlscan/" + fd.file)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(uint8(fd.d), b, uint64(0), false)
		f.Add(uint8(fd.d), b, uint64(0xdeadbeef06), true)
	}
	f.Fuzz(func(t *testing.T, dialect uint8, dump []byte, seed uint64, allow bool) {
		if len(dump) > maxHold/4 {
			return // the hold bound is checked per Write: a cut decides where it trips
		}
		d := Dialect(dialect%3) + DialectPostgres
		sizes := cuts(seed, len(dump))
		r := guardDump(d, allow, dump, sizes)
		if !strings.HasPrefix(string(dump), r.out) {
			t.Fatalf("the target got bytes that are not the dump's prefix")
		}
		if r.err == "" && r.out != string(dump) {
			t.Fatalf("passed %d bytes of %d and raised nothing", len(r.out), len(dump))
		}
		if r.line > 0 && int64(strings.Count(r.out, "\n")) >= r.line {
			t.Fatalf("%s: the target got line %d", r.err, r.line)
		}
		if whole := guardDump(d, allow, dump, cuts(0, len(dump))); whole.verdict() != r.verdict() {
			t.Fatalf("cut in %d pieces: %s\nin one: %s", len(sizes), r.verdict(), whole.verdict())
		}
		other := guardDump(d, !allow, dump, sizes)
		strict, lax := r, other
		if allow {
			strict, lax = other, r
		}
		if lax.err == "" && len(lax.switches) == 0 && strict.verdict() != lax.verdict() {
			t.Fatalf("no switch, yet allowing them changes the verdict: %s\nallowed: %s", strict.verdict(), lax.verdict())
		}
		if strict.err == "" && (lax.err != "" || len(lax.switches) > 0) {
			t.Fatalf("passed without the allowance, yet with it: %s", lax.verdict())
		}
	})
}
