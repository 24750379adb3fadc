package backup

import (
	"errors"
	"fmt"
	"reflect"
	"regexp"
	"sort"
	"strconv"
	"strings"

	"go.yaml.in/yaml/v3"
)

// checkYAML walks a decoded document against the type it will be decoded
// into and returns, as FieldErrors naming the field path (jobs[1].recipents),
// every key that is no field (with the nearest known name) and every value
// of the wrong shape (with the form expected). The decoder's own messages
// name Go types ("field recipents not found in type backup.Settings"),
// which tell a user nothing.
func checkYAML(n *yaml.Node, t reflect.Type) error {
	var errs []error
	walkYAML(n, t, "", &errs)
	return errors.Join(errs...)
}

var (
	digitsRE     = regexp.MustCompile(`^[-+]?[0-9_]+$`)
	byteSizeType = reflect.TypeFor[ByteSize]()
	durationType = reflect.TypeFor[Duration]()
)

func walkYAML(n *yaml.Node, t reflect.Type, path string, errs *[]error) {
	for n.Kind == yaml.AliasNode && n.Alias != nil {
		n = n.Alias
	}
	if n.Kind == yaml.DocumentNode {
		for _, c := range n.Content {
			walkYAML(c, t, path, errs)
		}
		return
	}
	if isNull(n) {
		return // an empty value leaves the field unset
	}
	bad := func(want string) {
		*errs = append(*errs, &FieldError{Field: orTop(path), Line: n.Line, Value: shortValue(n),
			Err: errors.New("expected " + want)})
	}
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	if t == byteSizeType || t == durationType {
		walkUnit(n, t, path, errs)
		return
	}
	switch t.Kind() {
	case reflect.Struct:
		if n.Kind != yaml.MappingNode {
			bad("a mapping of key: value")
			return
		}
		walkStruct(n, t, path, errs)
	case reflect.Map:
		if n.Kind != yaml.MappingNode {
			bad("a mapping of name: value")
			return
		}
		for i := 0; i+1 < len(n.Content); i += 2 {
			walkYAML(n.Content[i+1], t.Elem(), join(path, n.Content[i].Value), errs)
		}
	case reflect.Slice:
		if n.Kind != yaml.SequenceNode {
			if t.Elem().Kind() == reflect.String {
				bad("a list such as [a, b]")
			} else {
				bad("a list of entries, each beginning with -")
			}
			return
		}
		for i, c := range n.Content {
			walkYAML(c, t.Elem(), fmt.Sprintf("%s[%d]", path, i), errs)
		}
	case reflect.String:
		if n.Kind != yaml.ScalarNode {
			bad("a single value (quote it if it holds : or #)")
		}
	case reflect.Bool:
		if n.Kind != yaml.ScalarNode || n.ShortTag() != "!!bool" {
			bad("true or false")
		}
	case reflect.Int, reflect.Int64:
		if n.Kind != yaml.ScalarNode || (n.ShortTag() != "!!int" && !digitsRE.MatchString(n.Value)) {
			bad("a whole number such as 4")
			return
		}
		if _, err := strconv.ParseInt(strings.ReplaceAll(n.Value, "_", ""), 0, 64); err != nil {
			*errs = append(*errs, &FieldError{Field: orTop(path), Line: n.Line, Value: n.Value, Err: &rangeError{"too large"}})
		}
	}
}

// walkUnit checks a size or a duration.
func walkUnit(n *yaml.Node, t reflect.Type, path string, errs *[]error) {
	bad := func(want string) {
		*errs = append(*errs, &FieldError{Field: orTop(path), Line: n.Line, Value: shortValue(n),
			Err: errors.New("expected " + want)})
	}
	switch t {
	case byteSizeType:
		if n.Kind != yaml.ScalarNode {
			bad("a size such as 16MiB, 64MB or a number of bytes")
			return
		}
		s, err := expandString(n.Value)
		if err == nil {
			_, err = ParseByteSize(s)
		}
		if err != nil {
			*errs = append(*errs, &FieldError{Field: orTop(path), Line: n.Line, Value: n.Value,
				Err: errors.New("not a size"), Hint: "write it as 16MiB, 64MB or a number of bytes"})
		}
		return
	case durationType:
		if n.Kind != yaml.ScalarNode {
			bad("a duration such as 90m or 6h")
			return
		}
		if _, err := parseDurationYAML(n.Value); err != nil {
			*errs = append(*errs, &FieldError{Field: orTop(path), Line: n.Line, Value: n.Value,
				Err: errors.New("not a duration"), Hint: "write it as 90s, 90m or 6h"})
		}
		return
	}
}

// walkStruct checks the keys of mapping n against the fields of struct t.
func walkStruct(n *yaml.Node, t reflect.Type, path string, errs *[]error) {
	fields := yamlFields(t)
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], n.Content[i+1]
		if k.Value == "<<" {
			walkYAML(v, t, path, errs) // a merge key: its mapping's keys are this one's
			continue
		}
		ft, ok := fields[k.Value]
		if !ok {
			fe := &FieldError{Field: join(path, k.Value), Line: k.Line, Err: errors.New("unknown field")}
			if near := nearest(k.Value, fields); near != "" {
				fe.Hint = "did you mean " + near + "?"
			} else {
				fe.Hint = "known here: " + strings.Join(sortedKeys(fields), ", ")
			}
			*errs = append(*errs, fe)
			continue
		}
		walkYAML(v, ft, join(path, k.Value), errs)
	}
}

// parseDurationYAML is Duration's YAML form: ${VAR} expanded, then a Go
// duration.
func parseDurationYAML(s string) (Duration, error) {
	s, err := expandString(s)
	if err != nil {
		return 0, err
	}
	var d Duration
	err = d.Set(s)
	return d, err
}

// yamlFields maps the YAML keys of a struct (inline structs flattened) to
// their types.
func yamlFields(t reflect.Type) map[string]reflect.Type {
	out := map[string]reflect.Type{}
	for i := 0; i < t.NumField(); i++ {
		f := t.Field(i)
		tag := f.Tag.Get("yaml")
		name, opts, _ := strings.Cut(tag, ",")
		switch {
		case tag == "-" || !f.IsExported():
		case strings.Contains(opts, "inline"):
			for k, v := range yamlFields(f.Type) {
				out[k] = v
			}
		default:
			if name == "" {
				name = strings.ToLower(f.Name)
			}
			out[name] = f.Type
		}
	}
	return out
}

// nearest is the known key closest to k, if close enough to be a typo.
func nearest(k string, known map[string]reflect.Type) string {
	best, bestD := "", 1<<30
	for _, name := range sortedKeys(known) {
		if d := editDistance(strings.ToLower(k), name); d < bestD {
			best, bestD = name, d
		}
	}
	limit := 2
	if len(k) > 8 {
		limit = 3
	}
	if strings.ReplaceAll(strings.ReplaceAll(strings.ToLower(k), "-", "_"), " ", "_") == best || bestD <= limit {
		return best
	}
	return ""
}

// editDistance is the Levenshtein distance, with a swap of two neighbours
// counted as one edit.
func editDistance(a, b string) int {
	ra, rb := []rune(a), []rune(b)
	prev2 := make([]int, len(rb)+1)
	prev := make([]int, len(rb)+1)
	cur := make([]int, len(rb)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(ra); i++ {
		cur[0] = i
		for j := 1; j <= len(rb); j++ {
			cost := 1
			if ra[i-1] == rb[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
			if i > 1 && j > 1 && ra[i-1] == rb[j-2] && ra[i-2] == rb[j-1] {
				cur[j] = min(cur[j], prev2[j-2]+1)
			}
		}
		prev2, prev, cur = prev, cur, prev2
	}
	return prev[len(rb)]
}

func sortedKeys(m map[string]reflect.Type) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

func isNull(n *yaml.Node) bool {
	return n.Kind == yaml.ScalarNode && n.ShortTag() == "!!null"
}

func join(path, key string) string {
	if path == "" {
		return key
	}
	return path + "." + key
}

func orTop(path string) string {
	if path == "" {
		return "the file"
	}
	return path
}

// shortValue is a scalar's value for a message; "" for a list or mapping.
func shortValue(n *yaml.Node) string {
	if n.Kind != yaml.ScalarNode {
		return ""
	}
	if len(n.Value) > 60 {
		return n.Value[:60] + "…"
	}
	return n.Value
}
