package models

import "testing"

func TestTextID(t *testing.T) {
	a, b := TextID("refund-key-1"), TextID("refund-key-2")
	if a == b || len(a) != 24 || TextID("refund-key-1") != a {
		t.Fatalf("TextID: %q %q", a, b)
	}
	if a == "refund-key-1" {
		t.Fatal("the text itself came through")
	}
}
