// Command etcd is the etcd server, built at the version Kubernetes pins
// (go.etcd.io/etcd/server/v3 in go.mod) for the test control plane.
package main

import (
	"os"

	"go.etcd.io/etcd/server/v3/etcdmain"
)

func main() {
	etcdmain.Main(os.Args)
}
