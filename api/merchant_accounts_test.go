package api

import (
	"testing"
	"time"
)

func TestCursorRoundTrip(t *testing.T) {
	at := time.Date(2024, 11, 5, 10, 30, 0, 123456000, time.UTC)
	gotAt, gotID, err := decodeCursor(encodeCursor(at, "ord_abc"))
	if err != nil || !gotAt.Equal(at) || gotID != "ord_abc" {
		t.Fatalf("got %v %q %v", gotAt, gotID, err)
	}
	for _, bad := range []string{"", "!!!", "b3JkX2FiYw", encodeCursor(at, "")[:4]} {
		if _, _, err := decodeCursor(bad); err == nil {
			t.Errorf("cursor %q accepted", bad)
		}
	}
}
