package cluster

import "syscall"

// ChildProcAttr is how the cluster (and `checkout dev`) start a child
// program: in its own process group, so a Ctrl-C reaches the parent, which
// stops the children in order; and killed by the kernel if the parent dies
// without stopping them (kill -9 of `checkout cluster` leaves nothing
// running). The signal follows the thread that started the child, so
// children are started from goroutines that do not lock their OS thread.
func ChildProcAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
}
