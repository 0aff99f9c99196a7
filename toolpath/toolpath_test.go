package toolpath

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestFind(t *testing.T) {
	dir := t.TempDir()
	exe := filepath.Join(dir, "tool")
	if err := os.WriteFile(exe, []byte("#!/bin/sh\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	plain := filepath.Join(dir, "plain")
	if err := os.WriteFile(plain, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	onPath := t.TempDir()
	if err := os.WriteFile(filepath.Join(onPath, "pathtool"), []byte("#!/bin/sh\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	t.Setenv("PATH", onPath)

	cases := []struct {
		name, env, prog, want, wantErr string
	}{
		{name: "variable wins over PATH", env: exe, prog: "pathtool", want: exe},
		{name: "variable naming a missing file is an error, not a PATH fallback", env: filepath.Join(dir, "gone"), prog: "pathtool", wantErr: "no such file"},
		{name: "variable naming a non-executable file", env: plain, prog: "pathtool", wantErr: "not an executable"},
		{name: "variable naming a folder", env: dir, prog: "pathtool", wantErr: "not an executable"},
		{name: "PATH when the variable is unset", prog: "pathtool", want: filepath.Join(onPath, "pathtool")},
		{name: "nowhere", prog: "absent-tool", wantErr: "absent-tool not found"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Setenv("TOOLPATH_TEST", c.env)
			got, err := Find("TOOLPATH_TEST", c.prog)
			if c.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), c.wantErr) {
					t.Fatalf("Find = %q, %v; want error containing %q", got, err, c.wantErr)
				}
				return
			}
			if err != nil || got != c.want {
				t.Fatalf("Find = %q, %v; want %q", got, err, c.want)
			}
		})
	}
}
