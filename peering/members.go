package peering

import (
	"bytes"
	"iter"
)

// members yields the quoted name and the value of each member of obj, a JSON object
// that the tokenizer has already validated, as spans of obj. It only finds where
// members start and end: on anything but a valid object its result is meaningless,
// though it never reads outside obj.
func members(obj []byte) iter.Seq2[span, span] {
	return func(yield func(span, span) bool) {
		i := skipSpace(obj, 1)
		for i < len(obj) && obj[i] == '"' {
			name := span{i, skipString(obj, i)}
			i = skipSpace(obj, name.hi)
			i = skipSpace(obj, i+1) // ':'
			if i >= len(obj) {
				return
			}
			value := span{i, skipValue(obj, i)}
			if !yield(name, value) {
				return
			}
			i = skipSpace(obj, value.hi)
			if i < len(obj) && obj[i] == ',' {
				i = skipSpace(obj, i+1)
			}
		}
	}
}

// skipSpace returns the index of the first byte of b from i that is not JSON white
// space.
func skipSpace(b []byte, i int) int {
	for i < len(b) && (b[i] == ' ' || b[i] == '\n' || b[i] == '\r' || b[i] == '\t') {
		i++
	}
	return i
}

// skipString returns the index after the string that starts at b[i], a '"'.
func skipString(b []byte, i int) int {
	for i++; i < len(b); i++ {
		k := bytes.IndexByte(b[i:], '"')
		if k < 0 {
			return len(b)
		}
		i += k
		escapes := 0
		for j := i - 1; j >= 0 && b[j] == '\\'; j-- {
			escapes++
		}
		if escapes%2 == 0 {
			return i + 1
		}
	}
	return len(b)
}

// skipValue returns the index after the value that starts at b[i].
func skipValue(b []byte, i int) int {
	if i >= len(b) {
		return len(b)
	}
	switch b[i] {
	case '"':
		return skipString(b, i)
	case '{', '[':
		depth := 0
		for ; i < len(b); i++ {
			switch b[i] {
			case '"':
				i = skipString(b, i) - 1
			case '{', '[':
				depth++
			case '}', ']':
				if depth--; depth == 0 {
					return i + 1
				}
			}
		}
		return len(b)
	}
	for ; i < len(b); i++ { // a number, true, false or null
		switch b[i] {
		case ',', '}', ']', ' ', '\n', '\r', '\t':
			return i
		}
	}
	return len(b)
}
