// Package crc64nvme is the CRC-64/NVME checksum S3 verifies as
// x-amz-checksum-crc64nvme: the agent's uploads and the self-test's
// canaries both send it.
package crc64nvme

import (
	"encoding/base64"
	"encoding/binary"
	"fmt"
	"hash"
	"hash/crc64"
)

// Table is CRC-64/NVME: polynomial 0xad93d23594c93659, reflected
// (0x9a6c9329ac4bc9b5), initial value and final XOR all ones, which is what
// hash/crc64 does.
var Table = crc64.MakeTable(reflectedPoly)

// New returns a running CRC-64/NVME.
func New() hash.Hash64 { return crc64.New(Table) }

// Checksum is the CRC-64/NVME of p.
func Checksum(p []byte) uint64 { return crc64.Checksum(p, Table) }

// Base64 is a CRC as S3 expects it in the header: the 8 bytes big-endian,
// base64-encoded.
func Base64(c uint64) string {
	var b [8]byte
	binary.BigEndian.PutUint64(b[:], c)
	return base64.StdEncoding.EncodeToString(b[:])
}

// FromBase64 is the inverse of Base64.
func FromBase64(s string) (uint64, error) {
	b, err := base64.StdEncoding.DecodeString(s)
	if err != nil {
		return 0, err
	}
	if len(b) != 8 {
		return 0, fmt.Errorf("crc64nvme: %d bytes, want 8", len(b))
	}
	return binary.BigEndian.Uint64(b), nil
}

// Combine is the CRC-64/NVME of a stream A followed by B, from the CRC of
// A, the CRC of B and the length of B: what lets the uploader build the
// full-object checksum from the checksums it already computed for each
// part, instead of hashing the stream a second time.
//
// Appending n zero bytes to a message multiplies its CRC register by x^(8n)
// modulo the polynomial, a linear map over GF(2); the map for n bytes is
// built by repeated squaring of the one-bit map (log2 n squarings of a
// 64×64 bit matrix), applied to crc1, and crc2 added. The all-ones initial
// value and final XOR cancel out of that sum (the method of zlib's
// crc32_combine, for the reflected CRC-64/NVME polynomial).
func Combine(crc1, crc2 uint64, len2 int64) uint64 {
	if len2 <= 0 {
		return crc1
	}
	var even, odd [64]uint64 // operators for 2^k zero bits
	odd[0] = reflectedPoly   // one zero bit
	row := uint64(1)
	for n := 1; n < 64; n++ {
		odd[n] = row
		row <<= 1
	}
	gf2Square(&even, &odd) // two zero bits
	gf2Square(&odd, &even) // four
	for {
		gf2Square(&even, &odd) // eight: the first pass is one byte
		if len2&1 != 0 {
			crc1 = gf2Times(&even, crc1)
		}
		len2 >>= 1
		if len2 == 0 {
			break
		}
		gf2Square(&odd, &even)
		if len2&1 != 0 {
			crc1 = gf2Times(&odd, crc1)
		}
		len2 >>= 1
		if len2 == 0 {
			break
		}
	}
	return crc1 ^ crc2
}

const reflectedPoly = 0x9a6c9329ac4bc9b5

func gf2Times(mat *[64]uint64, vec uint64) uint64 {
	var sum uint64
	for i := 0; vec != 0; i, vec = i+1, vec>>1 {
		if vec&1 != 0 {
			sum ^= mat[i]
		}
	}
	return sum
}

func gf2Square(square, mat *[64]uint64) {
	for n := range 64 {
		square[n] = gf2Times(mat, mat[n])
	}
}
