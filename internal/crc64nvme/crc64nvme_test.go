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
