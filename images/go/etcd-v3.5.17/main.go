// Command etcd is etcd's own server entry point, built from the Go module
// proxy so the fixture's etcd image needs no registry and no libc.
package main

import (
	"os"

	"go.etcd.io/etcd/server/v3/etcdmain"
)

func main() { etcdmain.Main(os.Args) }
