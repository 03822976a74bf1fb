// Command pause is the local cluster's sandbox (pause) image: the first process of every pod, which holds the pod's
// namespaces. No registry can be pulled from here, so the cluster builds it itself (localcluster/sandboxImage.ts).
// It does what registry.k8s.io/pause does: it waits for SIGINT or SIGTERM and reaps the children it inherits as
// PID 1 of a pod that shares its process namespace.
package main

import (
	"os"
	"os/signal"
	"syscall"
)

func main() {
	signals := make(chan os.Signal, 8)
	signal.Notify(signals, syscall.SIGINT, syscall.SIGTERM, syscall.SIGCHLD)
	for s := range signals {
		if s != syscall.SIGCHLD {
			return
		}
		for {
			var status syscall.WaitStatus
			pid, err := syscall.Wait4(-1, &status, syscall.WNOHANG, nil)
			if pid <= 0 || err != nil {
				break
			}
		}
	}
}
