// Package crc64nvme is the CRC-64/NVME checksum S3 verifies as
// x-amz-checksum-crc64nvme: the agent's uploads and the self-test's
// canaries both send it.
package crc64nvme

import (
	"encoding/base64"
	"encoding/binary"
	"hash"
	"hash/crc64"
)

// Table is CRC-64/NVME: polynomial 0xad93d23594c93659, reflected
// (0x9a6c9329ac4bc9b5), initial value and final XOR all ones, which is what
// hash/crc64 does.
var Table = crc64.MakeTable(0x9a6c9329ac4bc9b5)

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
