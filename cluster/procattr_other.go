//go:build !linux

package cluster

import "syscall"

// ChildProcAttr starts a child in its own process group. Only Linux can
// have the kernel stop children when their parent dies; elsewhere a parent
// killed with -9 leaves them running.
func ChildProcAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Setpgid: true}
}
