// Command m3client sends counter increments with m3's own aggregator client
// (the legacy raw TCP client, v1.5.0) so bench/ingest.ts can compare it with
// the TypeScript client in the same run. Usage: m3client <etcd host:port> <metrics> <ids>
package main

import (
	"encoding/json"
	"fmt"
	"os"
	"strconv"
	"syscall"
	"time"

	aggclient "github.com/m3db/m3/src/aggregator/client"
	etcdclient "github.com/m3db/m3/src/cluster/client/etcd"
	"github.com/m3db/m3/src/cluster/kv"
	"github.com/m3db/m3/src/cluster/placement"
	"github.com/m3db/m3/src/metrics/metadata"
	"github.com/m3db/m3/src/metrics/metric/unaggregated"
	"github.com/m3db/m3/src/x/clock"
	"github.com/m3db/m3/src/x/instrument"
	xio "github.com/m3db/m3/src/x/io"
)

func main() {
	if len(os.Args) != 4 {
		fmt.Fprintln(os.Stderr, "usage: m3client <etcd host:port> <metrics> <ids>")
		os.Exit(2)
	}
	metrics, _ := strconv.Atoi(os.Args[2])
	ids, _ := strconv.Atoi(os.Args[3])
	iopts := instrument.NewOptions()
	etcd := etcdclient.Configuration{
		Zone: "embedded", Env: "default_env", Service: "m3aggregator",
		ETCDClusters: []etcdclient.ClusterConfig{{Zone: "embedded", Endpoints: []string{os.Args[1]}}},
	}
	kvClient, err := etcd.NewClient(iopts)
	check(err)
	cfg := aggclient.Configuration{
		Type:        aggclient.LegacyAggregatorClient,
		PlacementKV: &kv.OverrideConfiguration{Namespace: "/placement", Environment: "default_env", Zone: "embedded"},
		Watcher:     &placement.WatcherConfiguration{Key: "m3aggregator", InitWatchTimeout: 10 * time.Second},
	}
	client, err := cfg.NewClient(kvClient, clock.NewOptions(), iopts, xio.NewOptions())
	check(err)
	check(client.Init())
	names := make([][]byte, ids)
	for i := range names {
		names[i] = []byte(fmt.Sprintf("gobench.%d", i))
	}
	cpu0 := cpuSeconds()
	start := time.Now()
	for i := 0; i < metrics; i++ {
		check(client.WriteUntimedCounter(unaggregated.Counter{ID: names[i%ids], Value: 1}, metadata.DefaultStagedMetadatas))
	}
	check(client.Flush())
	check(client.Close())
	elapsed := time.Since(start)
	cpu1 := cpuSeconds()
	// sendCpuSeconds: this process's user+system CPU from the first write to Close (the same span the
	// TypeScript client is measured over); processCpuSeconds: everything, start-up and etcd included.
	_ = json.NewEncoder(os.Stdout).Encode(map[string]interface{}{
		"metrics": metrics, "sendMs": elapsed.Milliseconds(), "sendCpuSeconds": cpu1 - cpu0, "processCpuSeconds": cpu1,
	})
}

func cpuSeconds() float64 {
	var ru syscall.Rusage
	check(syscall.Getrusage(syscall.RUSAGE_SELF, &ru))
	return float64(ru.Utime.Sec+ru.Stime.Sec) + float64(ru.Utime.Usec+ru.Stime.Usec)/1e6
}

func check(err error) {
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
}
