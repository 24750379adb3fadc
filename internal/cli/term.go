package cli

import (
	"fmt"
	"io"
	"log/slog"
	"strings"
	"time"
)

// NewLogger is the logger of --log-format: auto (text on a terminal, JSON
// otherwise), text or json, writing to w.
func NewLogger(format string, w io.Writer) (*slog.Logger, error) {
	switch format {
	case "auto":
		if IsTerminal(w) {
			format = "text"
		} else {
			format = "json"
		}
	case "text", "json":
	default:
		return nil, fmt.Errorf("--log-format %q: use auto, text or json", format)
	}
	if format == "text" {
		return slog.New(slog.NewTextHandler(w, nil)), nil
	}
	return slog.New(slog.NewJSONHandler(w, nil)), nil
}

// OneLine is err on one line: the summary cron mails.
func OneLine(err error) string {
	return strings.Join(strings.Fields(strings.ReplaceAll(err.Error(), "\n", " ")), " ")
}

// Plural is "1 recipient", "2 recipients".
func Plural(n int, noun string) string {
	if n == 1 {
		return "1 " + noun
	}
	return fmt.Sprintf("%d %ss", n, noun)
}

// Human is n bytes in SI units: "512 B", "1.5 MB".
func Human(n int64) string {
	const unit = 1000
	if n < unit {
		return fmt.Sprintf("%d B", n)
	}
	div, exp := int64(unit), 0
	for m := n / unit; m >= unit; m /= unit {
		div *= unit
		exp++
	}
	return fmt.Sprintf("%.1f %cB", float64(n)/float64(div), "kMGTPE"[exp])
}

// Rate is n bytes over d, "12.3 MB/s", or "-".
func Rate(n int64, d time.Duration) string {
	if d <= 0 {
		return "-"
	}
	return Human(int64(float64(n)/d.Seconds())) + "/s"
}
