package acl_test

import (
	"bufio"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/peeringgw/peeringgw/acl"
	"github.com/peeringgw/peeringgw/internal/golden"
)

// corpusDir holds policies from Consul's own tests and documentation, and edge cases
// written for them, with Consul 1.14.8's verdict on each in corpusVerdicts.
var (
	corpusDir      = filepath.Join("testdata", "corpus")
	corpusVerdicts = filepath.Join(corpusDir, "consul-1.14.8.txt")
)

// corpusEntry is one line of corpusVerdicts.
type corpusEntry struct {
	file    string
	accept  bool
	source  string
	message string
}

// readCorpus returns the entries of corpusVerdicts in order and checks that they name
// exactly the policy files of corpusDir.
func readCorpus(t *testing.T) []corpusEntry {
	t.Helper()
	f, err := os.Open(corpusVerdicts)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var entries []corpusEntry
	listed := map[string]bool{}
	sc := bufio.NewScanner(f)
	for line := 1; sc.Scan(); line++ {
		text := sc.Text()
		if text == "" || strings.HasPrefix(text, "#") {
			continue
		}
		fields := strings.Split(text, "\t")
		if len(fields) < 3 || (fields[1] != "accept" && fields[1] != "reject") {
			t.Fatalf("%s:%d: want file, accept or reject, source and message separated by tabs", corpusVerdicts, line)
		}
		e := corpusEntry{file: fields[0], accept: fields[1] == "accept", source: fields[2]}
		if len(fields) > 3 {
			e.message = fields[3]
		}
		entries = append(entries, e)
		listed[e.file] = true
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	files, err := filepath.Glob(filepath.Join(corpusDir, "*"))
	if err != nil {
		t.Fatal(err)
	}
	for _, path := range files {
		name := filepath.Base(path)
		if ext := filepath.Ext(name); (ext == ".hcl" || ext == ".json") && !listed[name] {
			t.Errorf("%s has no verdict in %s", name, corpusVerdicts)
		}
	}
	return entries
}

// TestCorpus parses every policy of the corpus and checks that Parse agrees with
// Consul's verdict, that it reads each policy as HCL 1's decoder reads it into Consul's
// structs (checkAgainstConsul), and that what it reads, warnings and errors included,
// matches testdata/corpus.golden.
func TestCorpus(t *testing.T) {
	var out strings.Builder
	accepted, rejected, enterprise := 0, 0, 0
	for _, e := range readCorpus(t) {
		src, err := os.ReadFile(filepath.Join(corpusDir, e.file))
		if err != nil {
			t.Fatal(err)
		}
		t.Run(e.file, func(t *testing.T) {
			checkAgainstConsul(t, src)
			var warnings []*acl.ParseError
			p, err := acl.Parse(src, e.file, acl.WithWarnings(&warnings))
			switch {
			case err == nil && !e.accept:
				t.Errorf("Parse accepted a policy Consul rejects (%s)", e.message)
			case err != nil && e.accept && !enterpriseOnly(err):
				t.Errorf("Parse rejected a policy Consul accepts: %v", err)
			case err != nil && e.accept:
				enterprise++
			case err == nil:
				accepted++
			default:
				rejected++
			}
			if err != nil {
				var pe *acl.ParseError
				if !errors.As(err, &pe) {
					t.Errorf("got %T, want a *acl.ParseError in the chain", err)
				}
			}
			fmt.Fprintf(&out, "== %s (Consul: %s)\n", e.file, map[bool]string{true: "accept", false: "reject"}[e.accept])
			if err != nil {
				for _, line := range strings.Split(err.Error(), "\n") {
					fmt.Fprintf(&out, "error: %s\n", line)
				}
			} else {
				text, renderErr := p.RenderJSON()
				if renderErr != nil {
					t.Fatal(renderErr)
				}
				out.Write(text)
			}
			for _, w := range warnings {
				fmt.Fprintf(&out, "warning: %v\n", w)
			}
		})
	}
	t.Logf("%d policies accepted as Consul does, %d rejected as Consul does, %d rejected for a mistake in an Enterprise block Consul CE ignores", accepted, rejected, enterprise)
	golden.Assert(t, filepath.Join("testdata", "corpus.golden"), []byte(out.String()))
}
