// m3agg-loadgen: sends a deterministic schedule of untimed counters to an m3
// aggregator cluster through m3's own aggregator client (placement read from
// etcd, as m3coordinator's client does), then prints one JSON report line on
// stdout. Every id i in [0, ids) gets `increments` increments of `value`, in
// rounds (round r sends one increment to every id), paced at `rate` metrics/s
// (0 = as fast as the client takes them). Logs go to stderr; stdout holds the
// report only, so `kubectl logs` / the pod log API return exactly that line.
package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"strings"
	"time"

	aggclient "github.com/m3db/m3/src/aggregator/client"
	"github.com/m3db/m3/src/aggregator/sharding"
	etcdclient "github.com/m3db/m3/src/cluster/client/etcd"
	"github.com/m3db/m3/src/cluster/kv"
	"github.com/m3db/m3/src/cluster/placement"
	"github.com/m3db/m3/src/metrics/metadata"
	"github.com/m3db/m3/src/metrics/metric/unaggregated"
	"github.com/m3db/m3/src/x/clock"
	"github.com/m3db/m3/src/x/instrument"
	xio "github.com/m3db/m3/src/x/io"
	"go.uber.org/zap"
)

// report is the one line printed on stdout (its shape is read by src/cluster/load-job.ts).
type report struct {
	Report     string           `json:"report"` // "m3agg-loadgen/v1": finds the line in a pod log that mixes stderr in
	OK         bool             `json:"ok"`
	IDPrefix   string           `json:"idPrefix"`
	IDs        int              `json:"ids"`
	Increments int              `json:"increments"`
	Value      int64            `json:"value"`
	Sent       map[string]int64 `json:"sent"`
	Errors     int64            `json:"errors"`
	FirstError string           `json:"firstError,omitempty"`
	Phase      string           `json:"phase"`
	InitMs     int64            `json:"initMs"`
	SendMs     int64            `json:"sendMs"`
	FlushMs    int64            `json:"flushMs"`
	RatePerSec float64          `json:"ratePerSec"`
}

func main() {
	var (
		etcd       = flag.String("etcd", "127.0.0.1:2379", "etcd endpoints, comma separated")
		env        = flag.String("env", "default_env", "placement environment")
		zone       = flag.String("zone", "embedded", "placement zone")
		ids        = flag.Int("ids", 100, "distinct counter ids")
		increments = flag.Int("increments", 10, "increments per id")
		value      = flag.Int64("value", 1, "value of each increment")
		rate       = flag.Float64("rate", 0, "metrics per second (0 = as fast as possible)")
		prefix     = flag.String("id-prefix", "loadgen", "prefix of every id (<prefix>.<i>)")
		initWait   = flag.Duration("init-timeout", 60*time.Second, "how long to wait for the placement")
	)
	flag.Parse()
	r := report{Report: "m3agg-loadgen/v1", IDPrefix: *prefix, IDs: *ids, Increments: *increments, Value: *value, Sent: map[string]int64{"counter": 0}, Phase: "config"}
	exit := func(err error) {
		if err != nil {
			r.FirstError = fmt.Sprintf("%s: %v", r.Phase, err)
		}
		r.OK = err == nil && r.Errors == 0
		line, _ := json.Marshal(r)
		fmt.Println(string(line))
		if !r.OK {
			os.Exit(1)
		}
		os.Exit(0)
	}
	if *ids <= 0 || *increments <= 0 || *rate < 0 {
		exit(fmt.Errorf("ids (%d) and increments (%d) must be positive, rate (%v) not negative", *ids, *increments, *rate))
	}

	// m3's packages log through zap; to stderr, so stdout holds the report only.
	logCfg := zap.NewProductionConfig()
	logCfg.OutputPaths, logCfg.ErrorOutputPaths = []string{"stderr"}, []string{"stderr"}
	logger, err := logCfg.Build()
	if err != nil {
		exit(err)
	}
	iopts := instrument.NewOptions().SetLogger(logger)
	r.Phase = "etcd client"
	kvCfg := etcdclient.Configuration{
		Zone: *zone, Env: *env, Service: "m3aggregator",
		ETCDClusters: []etcdclient.ClusterConfig{{Zone: *zone, Endpoints: strings.Split(*etcd, ",")}},
	}
	kvClient, err := kvCfg.NewClient(iopts)
	if err != nil {
		exit(err)
	}
	r.Phase = "aggregator client"
	hash := sharding.Murmur32Hash
	cfg := aggclient.Configuration{
		Type:        aggclient.LegacyAggregatorClient,
		PlacementKV: &kv.OverrideConfiguration{Namespace: "/placement", Zone: *zone, Environment: *env},
		Watcher:     &placement.WatcherConfiguration{Key: "m3aggregator", InitWatchTimeout: *initWait},
		HashType:    &hash,
		QueueSize:   1 << 20,
	}
	client, err := cfg.NewClient(kvClient, clock.NewOptions(), iopts, xio.NewOptions())
	if err != nil {
		exit(err)
	}
	r.Phase = "init (placement watch)"
	start := time.Now()
	if err := client.Init(); err != nil {
		exit(err)
	}
	r.InitMs = time.Since(start).Milliseconds()

	r.Phase = "send"
	idBytes := make([][]byte, *ids)
	for i := range idBytes {
		idBytes[i] = []byte(fmt.Sprintf("%s.%d", *prefix, i))
	}
	total := int64(*ids) * int64(*increments)
	sendStart := time.Now()
	var n int64
	for round := 0; round < *increments; round++ {
		for i := 0; i < *ids; i++ {
			if *rate > 0 { // pace: metric n is due at n/rate seconds after the start
				if wait := time.Duration(float64(n)/(*rate)*float64(time.Second)) - time.Since(sendStart); wait > 0 {
					time.Sleep(wait)
				}
			}
			c := unaggregated.Counter{ID: idBytes[i], Value: *value}
			if err := client.WriteUntimedCounter(c, metadata.DefaultStagedMetadatas); err != nil {
				r.Errors++
				if r.FirstError == "" {
					r.FirstError = fmt.Sprintf("send %s: %v", idBytes[i], err)
				}
			} else {
				r.Sent["counter"]++
			}
			n++
		}
	}
	r.SendMs = time.Since(sendStart).Milliseconds()
	if r.SendMs > 0 {
		r.RatePerSec = float64(total) / (float64(r.SendMs) / 1000)
	}
	r.Phase = "flush"
	flushStart := time.Now()
	if err := client.Flush(); err != nil {
		exit(err)
	}
	if err := client.Close(); err != nil {
		exit(err)
	}
	r.FlushMs = time.Since(flushStart).Milliseconds()
	r.Phase = "done"
	exit(nil)
}
