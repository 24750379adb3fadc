package crc64nvme

import "testing"

// TestCheckValue: the check value of CRC-64/NVME (CRC catalogue; NVMe
// spec): the CRC of "123456789".
func TestCheckValue(t *testing.T) {
	if got := Checksum([]byte("123456789")); got != 0xae8b14860a799888 {
		t.Fatalf("Checksum(123456789) = %#x, want 0xae8b14860a799888", got)
	}
	if got := Base64(0xae8b14860a799888); got != "rosUhgp5mIg=" {
		t.Fatalf("Base64 = %s", got)
	}
}

// TestCombine: the CRC of A||B from the CRCs of A and B equals the CRC of
// the whole, for cuts at every boundary of a small stream and at part-like
// sizes, including empty halves.
func TestCombine(t *testing.T) {
	data := make([]byte, 3<<20+7)
	for i := range data {
		data[i] = byte(i*7919 + i>>9)
	}
	whole := Checksum(data)
	cuts := []int{0, 1, 2, 7, 8, 9, 63, 64, 65, 4096, 1 << 20, 3<<20 - 1, len(data) - 1, len(data)}
	for _, c := range cuts {
		if got := Combine(Checksum(data[:c]), Checksum(data[c:]), int64(len(data)-c)); got != whole {
			t.Errorf("cut at %d: Combine = %#x, want %#x", c, got, whole)
		}
	}
	// Many parts, combined in order, as the uploader does.
	crc, sizes := Checksum(data[:0]), []int{5 << 10, 1, 1 << 20, 0, 333333}
	off := 0
	for _, n := range sizes {
		crc = Combine(crc, Checksum(data[off:off+n]), int64(n))
		off += n
	}
	crc = Combine(crc, Checksum(data[off:]), int64(len(data)-off))
	if crc != whole {
		t.Errorf("parts combined: %#x, want %#x", crc, whole)
	}
	if Combine(whole, Checksum(nil), 0) != whole {
		t.Error("combining an empty second half changed the CRC")
	}
}

func TestFromBase64(t *testing.T) {
	if c, err := FromBase64(Base64(0xae8b14860a799888)); err != nil || c != 0xae8b14860a799888 {
		t.Errorf("FromBase64(Base64(x)) = %#x, %v", c, err)
	}
	for _, bad := range []string{"", "!!", "AAAA"} {
		if _, err := FromBase64(bad); err == nil {
			t.Errorf("FromBase64(%q) accepted", bad)
		}
	}
}

func BenchmarkCombine(b *testing.B) {
	for b.Loop() {
		Combine(1, 2, 16<<20)
	}
}
