package e2e

import (
	"maps"
	"regexp"
	"slices"
	"strings"
)

// Secret is a value that no output may contain: an ACL token, a peering token or its
// establishment secret, a private key.
type Secret struct {
	// Name says what the value is, e.g. "gateway ACL token"; it stands for the value in
	// a Leak.
	Name string
	// Value is the secret itself. An empty Value is never looked for.
	Value string
}

// Leak is a secret found in an output.
type Leak struct {
	// Secret is the Name of the secret found, or "PEM private key".
	Secret string
	// Output names the output.
	Output string
	// Around is the output around the secret, with the secret replaced by its name, so
	// that showing a Leak does not leak the secret again.
	Around string
}

// privateKey matches the first line of a PEM private key block of any kind.
var privateKey = regexp.MustCompile(`-----BEGIN [A-Z0-9 ]*PRIVATE KEY-----`)

// leakContext is how many bytes of an output around a leak Around shows on each side.
const leakContext = 40

// Leaks returns every occurrence of a secret, and every PEM private key block, in
// outputs (by name), sorted by output name, then by secret.
func Leaks(outputs map[string]string, secrets []Secret) []Leak {
	var out []Leak
	for _, name := range slices.Sorted(maps.Keys(outputs)) {
		text := outputs[name]
		for _, s := range secrets {
			if s.Value == "" {
				continue
			}
			if i := strings.Index(text, s.Value); i >= 0 {
				out = append(out, Leak{Secret: s.Name, Output: name, Around: around(text, i, len(s.Value), "<"+s.Name+">")})
			}
		}
		if loc := privateKey.FindStringIndex(text); loc != nil {
			// Only what comes before the key is shown, and its first line.
			out = append(out, Leak{Secret: "PEM private key", Output: name, Around: text[max(loc[0]-leakContext, 0):loc[1]]})
		}
	}
	return out
}

// around returns text around the n bytes at i, those bytes replaced by stand.
func around(text string, i, n int, stand string) string {
	from, to := max(i-leakContext, 0), min(i+n+leakContext, len(text))
	return text[from:i] + stand + text[i+n:to]
}
