package rollout

import (
	"fmt"
	"math"
	"testing"
)

// The golden values were computed outside Go (Python hashlib). If they change,
// every buyer is reshuffled and people lose a button they already had.
func TestBucketIsStable(t *testing.T) {
	cases := []struct {
		id   string
		want float64
	}{
		{"alice", 99.48243416899273},
		{"buyer-00042", 8.597303615937168},
		{"", 76.26837775844712},
	}
	for _, c := range cases {
		if got := Bucket(c.id); got != c.want {
			t.Errorf("Bucket(%q) = %v, want %v", c.id, got, c.want)
		}
	}
}

func TestBucketOfStaysBelowHundred(t *testing.T) {
	cases := []struct {
		u    uint64
		want float64
	}{
		{0, 0},
		{1 << 63, 50},
		{math.MaxUint64, math.Nextafter(100, 0)},
	}
	for _, c := range cases {
		if got := bucketOf(c.u); got != c.want {
			t.Errorf("bucketOf(%#x) = %v, want %v", c.u, got, c.want)
		}
	}
}

func TestBucketRange(t *testing.T) {
	for i := range 10_000 {
		id := fmt.Sprintf("buyer-%05d", i)
		if b := Bucket(id); b < 0 || b >= 100 {
			t.Fatalf("Bucket(%q) = %v, outside [0, 100)", id, b)
		}
	}
}
