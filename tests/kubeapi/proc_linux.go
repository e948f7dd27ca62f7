package kubeapi

import "syscall"

// sysProcAttr makes the kernel kill etcd and kube-apiserver when the test
// binary dies (a panic, a -timeout, a SIGKILL) before Stop could run, so a
// crashed test run does not leave a control plane holding ports and memory.
func sysProcAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
}
