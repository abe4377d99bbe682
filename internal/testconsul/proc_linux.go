package testconsul

import "syscall"

// sysProcAttr makes the kernel kill the agent when the test binary dies, so
// a crashed or killed test leaves no agent behind.
func sysProcAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
}
