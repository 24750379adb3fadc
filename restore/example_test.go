package restore_test

import (
	"fmt"

	"github.com/putonly/putonly/restore"
)

func ExampleParseKey() {
	b, ok := restore.ParseKey("db1/shop/2026/11/26/shop-20261126T021500Z-3f2a9c1e.dump.zst.age")
	fmt.Println(ok, b.Prefix, b.Job, b.Time, b.Ext, b.Compression())
	_, ok = restore.ParseKey("db1/shop/2026/11/26/shop-20261126T021500Z-3f2a9c1e.dump.zst.age.manifest.json.age")
	fmt.Println(ok)
	// Output:
	// true db1/ shop 2026-11-26 02:15:00 +0000 UTC dump.zst.age zstd
	// false
}
