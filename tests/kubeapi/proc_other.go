//go:build !linux

package kubeapi

import "syscall"

// sysProcAttr has no parent-death signal outside Linux: there, a test binary
// that dies before Stop leaves its children running until they are killed.
func sysProcAttr() *syscall.SysProcAttr { return nil }
