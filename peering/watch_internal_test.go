package peering

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestBackoff(t *testing.T) {
	o := watchOptions{backoffMin: 100 * time.Millisecond, backoffMax: time.Second}
	tests := []struct {
		name     string
		failures int
		lo, hi   time.Duration
	}{
		{name: "first failure", failures: 1, lo: 50 * time.Millisecond, hi: 100 * time.Millisecond},
		{name: "doubles", failures: 2, lo: 100 * time.Millisecond, hi: 200 * time.Millisecond},
		{name: "doubles again", failures: 3, lo: 200 * time.Millisecond, hi: 400 * time.Millisecond},
		{name: "capped", failures: 5, lo: 500 * time.Millisecond, hi: time.Second},
		{name: "capped without overflow", failures: 1000, lo: 500 * time.Millisecond, hi: time.Second},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			seen := map[time.Duration]bool{}
			for range 200 {
				d := o.backoff(tt.failures)
				require.GreaterOrEqual(t, d, tt.lo, "got %s, want at least %s", d, tt.lo)
				require.LessOrEqual(t, d, tt.hi, "got %s, want at most %s", d, tt.hi)
				seen[d] = true
			}
			assert.Greater(t, len(seen), 1, "got one delay for 200 draws, want jitter")
		})
	}

	huge := watchOptions{backoffMin: time.Duration(1) << 61, backoffMax: time.Duration(1<<63 - 1)}
	d := huge.backoff(10)
	assert.Greater(t, d, time.Duration(0), "got %s near the largest duration, want a positive delay", d)
}

func TestPartChanged(t *testing.T) {
	v1, v2 := Version{Index: 1}, Version{Index: 2}
	tests := []struct {
		name       string
		last, next Version
		old, v     []string
		want       bool
	}{
		{name: "blocking source, same version", last: v1, next: v1, old: []string{"a"}, v: []string{"b"}, want: false},
		{name: "blocking source, new version, equal value", last: v1, next: v2, old: []string{"a"}, v: []string{"a"}, want: true},
		{name: "polled source, equal value", old: []string{"a"}, v: []string{"a"}, want: false},
		{name: "polled source, other value", old: []string{"a"}, v: []string{"b"}, want: true},
		{name: "source stopped blocking", last: v1, old: []string{"a"}, v: []string{"a"}, want: true},
		{name: "source started blocking", next: v1, old: []string{"a"}, v: []string{"a"}, want: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := partChanged(tt.last, tt.next, tt.old, tt.v)
			assert.Equal(t, tt.want, got, "got changed %v, want %v", got, tt.want)
		})
	}
}
