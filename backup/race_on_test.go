//go:build race

package backup

// raceEnabled: the race detector multiplies memory and time, so the tests
// that measure peak RSS or ride out a minute-long outage run without it.
const raceEnabled = true
