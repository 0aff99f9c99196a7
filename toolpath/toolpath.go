// Package toolpath finds the external programs the product and its tests run
// (the Temporal CLI, stripe-mock, Chromium). The Makefile builds or locates
// each one and exports its path in an environment variable; that variable
// wins, then PATH. No other folder is searched, so a tool left behind by an
// older layout can never stand in for the one the Makefile chose.
package toolpath

import (
	"fmt"
	"os"
	"os/exec"
)

// Find returns the path of the program: $env when it is set (it must then
// name an executable file), otherwise name looked up on PATH.
func Find(env, name string) (string, error) {
	if p := os.Getenv(env); p != "" {
		fi, err := os.Stat(p)
		if err != nil {
			return "", fmt.Errorf("%s=%s: %w (run `make tools`)", env, p, err)
		}
		if fi.IsDir() || fi.Mode()&0o111 == 0 {
			return "", fmt.Errorf("%s=%s is not an executable file (run `make tools`)", env, p)
		}
		return p, nil
	}
	p, err := exec.LookPath(name)
	if err != nil {
		return "", fmt.Errorf("%s not found: set %s or put %s on PATH (`make tools` builds it): %w", name, env, name, err)
	}
	return p, nil
}
