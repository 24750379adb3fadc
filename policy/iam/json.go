package iam

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
)

// maxDepth bounds the nesting of a policy document. The deepest legal
// policy is four levels (document, Statement array, statement, Condition
// operator, key, value array); anything far deeper is not a policy, and the
// bound keeps the recursive decoder safe on hostile input.
const maxDepth = 16

// node is one JSON value, decoded without losing what encoding/json's
// Unmarshal throws away: the order of object members and duplicate keys
// (Unmarshal silently keeps the last of two equal keys, so a policy with
// two "Effect" members would pass unnoticed).
type node struct {
	kind    nodeKind
	str     string // string, number (as written), or "true"/"false"
	members []member
	items   []*node
}

type nodeKind int

const (
	kindNull nodeKind = iota
	kindString
	kindNumber
	kindBool
	kindObject
	kindArray
)

func (k nodeKind) String() string {
	switch k {
	case kindNull:
		return "null"
	case kindString:
		return "a string"
	case kindNumber:
		return "a number"
	case kindBool:
		return "a boolean"
	case kindObject:
		return "an object"
	default:
		return "an array"
	}
}

type member struct {
	key string
	val *node
}

// decodeJSON reads exactly one JSON value from data. Trailing data other
// than white space is an error. Duplicate keys are kept; the grammar layer
// reports them with the statement and field they occur in.
func decodeJSON(data []byte) (*node, error) {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	n, err := decodeValue(dec, 0)
	if err != nil {
		return nil, err
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return nil, errors.New("invalid JSON: data after the policy document")
	}
	return n, nil
}

func decodeValue(dec *json.Decoder, depth int) (*node, error) {
	if depth > maxDepth {
		return nil, fmt.Errorf("invalid JSON: nested deeper than %d levels", maxDepth)
	}
	tok, err := dec.Token()
	if err != nil {
		if errors.Is(err, io.EOF) {
			return nil, errors.New("invalid JSON: unexpected end of input")
		}
		return nil, fmt.Errorf("invalid JSON: %w", err)
	}
	switch t := tok.(type) {
	case json.Delim:
		switch t {
		case '{':
			n := &node{kind: kindObject}
			for dec.More() {
				kt, err := dec.Token()
				if err != nil {
					return nil, fmt.Errorf("invalid JSON: %w", err)
				}
				key, ok := kt.(string)
				if !ok {
					return nil, errors.New("invalid JSON: object key is not a string")
				}
				v, err := decodeValue(dec, depth+1)
				if err != nil {
					return nil, err
				}
				n.members = append(n.members, member{key, v})
			}
			if _, err := dec.Token(); err != nil { // '}'
				return nil, fmt.Errorf("invalid JSON: %w", err)
			}
			return n, nil
		case '[':
			n := &node{kind: kindArray}
			for dec.More() {
				v, err := decodeValue(dec, depth+1)
				if err != nil {
					return nil, err
				}
				n.items = append(n.items, v)
			}
			if _, err := dec.Token(); err != nil { // ']'
				return nil, fmt.Errorf("invalid JSON: %w", err)
			}
			return n, nil
		}
		return nil, fmt.Errorf("invalid JSON: unexpected %q", t)
	case string:
		return &node{kind: kindString, str: t}, nil
	case json.Number:
		return &node{kind: kindNumber, str: t.String()}, nil
	case bool:
		if t {
			return &node{kind: kindBool, str: "true"}, nil
		}
		return &node{kind: kindBool, str: "false"}, nil
	case nil:
		return &node{kind: kindNull}, nil
	}
	return nil, fmt.Errorf("invalid JSON: unexpected token %v", tok)
}
