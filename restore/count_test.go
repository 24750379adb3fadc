package restore

import "fmt"

func ExampleCount() {
	fmt.Println(Count(1, "table")+",", Count(3, "table")+",", Count(int64(0), "row"))
	// Output: 1 table, 3 tables, 0 rows
}
