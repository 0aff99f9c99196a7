package cluster

import (
	"bufio"
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// TestChildDiesWithItsParent: a parent started like `checkout cluster`
// starts a child through Process, is killed with -9, and the kernel ends
// the child. The parent is this test binary run again (see init below).
func TestChildDiesWithItsParent(t *testing.T) {
	parent := exec.Command(os.Args[0], "-test.run=^$")
	parent.Env = append(os.Environ(), "CLUSTER_TEST_PARENT="+t.TempDir())
	stdout, err := parent.StdoutPipe()
	require.NoError(t, err)
	require.NoError(t, parent.Start())
	line, err := bufio.NewReader(stdout).ReadString('\n')
	require.NoError(t, err, "the parent prints its child's pid")
	child, err := strconv.Atoi(line[:len(line)-1])
	require.NoError(t, err)
	require.NoError(t, syscall.Kill(child, 0), "the child runs while its parent does")

	require.NoError(t, parent.Process.Kill())
	_ = parent.Wait()
	require.Eventually(t, func() bool {
		// A killed child that nobody reaps is a zombie until init takes it.
		state, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", child))
		return err != nil || childState(state) == 'Z'
	}, 10*time.Second, 20*time.Millisecond, "the child outlived its parent's kill -9")
}

// childState is the state letter of a /proc/<pid>/stat line ("pid (comm) S …").
func childState(stat []byte) byte {
	for i := len(stat) - 1; i > 0; i-- {
		if stat[i] == ')' && i+2 < len(stat) {
			return stat[i+2]
		}
	}
	return 0
}

func init() {
	dir := os.Getenv("CLUSTER_TEST_PARENT")
	if dir == "" {
		return
	}
	p := &Process{Name: "sleeper", path: "/bin/sleep", args: []string{"300"}, dir: dir, log: dir + "/sleeper.log"}
	if err := p.Start(); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	fmt.Println(p.Pid())
	select {}
}
