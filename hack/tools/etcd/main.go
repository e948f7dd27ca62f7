// Command etcd is the real etcd server, built from go.etcd.io/etcd/server/v3
// at the version pinned in go.mod. It exists so hack/control-plane-bins.sh can
// build etcd with only Go: distribution packages lag kube-apiserver's needs.
package main

import (
	"os"

	"go.etcd.io/etcd/server/v3/etcdmain"
)

func main() { etcdmain.Main(os.Args) }
