// Command m3agg-probe dials TCP addresses from inside a container (the
// images are FROM scratch: no shell, no nc) and prints one JSON line per
// address. Exit status 1 when any address did not accept a connection.
package main

import (
	"encoding/json"
	"fmt"
	"net"
	"os"
	"time"
)

type result struct {
	Address string `json:"address"`
	OK      bool   `json:"ok"`
	Error   string `json:"error,omitempty"`
	Millis  int64  `json:"ms"`
}

func main() {
	if len(os.Args) < 2 {
		fmt.Fprintln(os.Stderr, "usage: m3agg-probe host:port...")
		os.Exit(2)
	}
	failed := false
	out := json.NewEncoder(os.Stdout)
	for _, address := range os.Args[1:] {
		start := time.Now()
		conn, err := net.DialTimeout("tcp", address, 2*time.Second)
		r := result{Address: address, OK: err == nil, Millis: time.Since(start).Milliseconds()}
		if err != nil {
			r.Error = err.Error()
			failed = true
		} else {
			conn.Close()
		}
		_ = out.Encode(r)
	}
	if failed {
		os.Exit(1)
	}
}
