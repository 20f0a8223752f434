// Command vectors encodes the metrics of ../cases.json with m3's OWN raw TCP
// ingest encoder (protobuf.NewUnaggregatedEncoder + EncodeMessage) and prints
// {"m3Version": ..., "frames": {case name: hex}} so test/unit/ingest/go-vectors.test.ts
// can compare our encoder byte for byte. One program for every m3 version: the
// module file chooses it. Usage: go run -modfile=go.v1.6.0.mod . ../cases.json
package main

import (
	"encoding/hex"
	"encoding/json"
	"fmt"
	"os"
	"runtime/debug"
	"strconv"
	"strings"

	"github.com/m3db/m3/src/metrics/aggregation"
	"github.com/m3db/m3/src/metrics/encoding"
	"github.com/m3db/m3/src/metrics/encoding/protobuf"
	"github.com/m3db/m3/src/metrics/metadata"
	"github.com/m3db/m3/src/metrics/metric"
	"github.com/m3db/m3/src/metrics/metric/aggregated"
	"github.com/m3db/m3/src/metrics/metric/unaggregated"
	"github.com/m3db/m3/src/metrics/policy"
)

type spec struct {
	Type             string          `json:"type"`
	MetricType       string          `json:"metricType"`
	ID               json.RawMessage `json:"id"`
	Value            json.RawMessage `json:"value"`
	Values           json.RawMessage `json:"values"`
	TimeNanos        string          `json:"timeNanos"`
	StoragePolicy    string          `json:"storagePolicy"`
	StoragePolicies  []string        `json:"storagePolicies"`
	AggregationTypes []string        `json:"aggregationTypes"`
}

type cases struct {
	Cases []struct {
		Name   string `json:"name"`
		Metric spec   `json:"metric"`
	} `json:"cases"`
}

func main() {
	if len(os.Args) != 2 {
		fail(fmt.Errorf("usage: vectors <cases.json>"))
	}
	data, err := os.ReadFile(os.Args[1])
	check(err)
	var all cases
	check(json.Unmarshal(data, &all))
	frames := map[string]string{}
	for _, c := range all.Cases {
		enc := protobuf.NewUnaggregatedEncoder(protobuf.NewUnaggregatedOptions())
		if err := enc.EncodeMessage(message(c.Metric)); err != nil {
			fail(fmt.Errorf("%s: %v", c.Name, err))
		}
		buf := enc.Relinquish()
		frames[c.Name] = hex.EncodeToString(buf.Bytes())
	}
	check(json.NewEncoder(os.Stdout).Encode(map[string]interface{}{"m3Version": m3Version(), "frames": frames}))
}

func message(s spec) encoding.UnaggregatedMessageUnion {
	id := idOf(s.ID)
	switch s.Type {
	case "counter":
		var text string
		check(json.Unmarshal(s.Value, &text))
		v, err := strconv.ParseInt(text, 10, 64)
		check(err)
		return encoding.UnaggregatedMessageUnion{Type: encoding.CounterWithMetadatasType, CounterWithMetadatas: unaggregated.CounterWithMetadatas{
			Counter: unaggregated.Counter{ID: id, Value: v}, StagedMetadatas: staged(s)}}
	case "gauge":
		var v float64
		check(json.Unmarshal(s.Value, &v))
		return encoding.UnaggregatedMessageUnion{Type: encoding.GaugeWithMetadatasType, GaugeWithMetadatas: unaggregated.GaugeWithMetadatas{
			Gauge: unaggregated.Gauge{ID: id, Value: v}, StagedMetadatas: staged(s)}}
	case "timer":
		return encoding.UnaggregatedMessageUnion{Type: encoding.BatchTimerWithMetadatasType, BatchTimerWithMetadatas: unaggregated.BatchTimerWithMetadatas{
			BatchTimer: unaggregated.BatchTimer{ID: id, Values: valuesOf(s.Values)}, StagedMetadatas: staged(s)}}
	case "timed":
		var v float64
		check(json.Unmarshal(s.Value, &v))
		t, err := strconv.ParseInt(s.TimeNanos, 10, 64)
		check(err)
		types := map[string]metric.Type{"counter": metric.CounterType, "timer": metric.TimerType, "gauge": metric.GaugeType}
		return encoding.UnaggregatedMessageUnion{Type: encoding.TimedMetricWithMetadataType, TimedMetricWithMetadata: aggregated.TimedMetricWithMetadata{
			Metric:        aggregated.Metric{ID: id, Type: types[s.MetricType], TimeNanos: t, Value: v},
			TimedMetadata: metadata.TimedMetadata{AggregationID: aggregationID(s.AggregationTypes), StoragePolicy: policy.MustParseStoragePolicy(s.StoragePolicy)},
		}}
	}
	fail(fmt.Errorf("unknown type %q", s.Type))
	return encoding.UnaggregatedMessageUnion{}
}

// staged is m3's DefaultStagedMetadatas without a policy, else one staged metadata with one pipeline.
func staged(s spec) metadata.StagedMetadatas {
	if s.StoragePolicies == nil && s.AggregationTypes == nil {
		return metadata.DefaultStagedMetadatas
	}
	policies := make(policy.StoragePolicies, len(s.StoragePolicies))
	for i, p := range s.StoragePolicies {
		policies[i] = policy.MustParseStoragePolicy(p)
	}
	return metadata.StagedMetadatas{{Metadata: metadata.Metadata{Pipelines: []metadata.PipelineMetadata{{
		AggregationID: aggregationID(s.AggregationTypes), StoragePolicies: policies}}}}}
}

func aggregationID(names []string) aggregation.ID {
	if names == nil {
		return aggregation.DefaultID
	}
	types := make([]aggregation.Type, len(names))
	for i, n := range names {
		t, err := aggregation.ParseType(n)
		check(err)
		types[i] = t
	}
	return aggregation.MustCompressTypes(types...)
}

func idOf(raw json.RawMessage) []byte {
	var text string
	if json.Unmarshal(raw, &text) == nil {
		return []byte(text)
	}
	var rep struct {
		Repeat string `json:"repeat"`
		Times  int    `json:"times"`
	}
	check(json.Unmarshal(raw, &rep))
	return []byte(strings.Repeat(rep.Repeat, rep.Times))
}

// valuesOf reads a list, or {"range": n} = [0, 1.25, 2.5, ...] (n values).
func valuesOf(raw json.RawMessage) []float64 {
	var list []float64
	if json.Unmarshal(raw, &list) == nil {
		return list
	}
	var r struct {
		Range int `json:"range"`
	}
	check(json.Unmarshal(raw, &r))
	list = make([]float64, r.Range)
	for i := range list {
		list[i] = float64(i) * 1.25
	}
	return list
}

func m3Version() string {
	if info, ok := debug.ReadBuildInfo(); ok {
		for _, dep := range info.Deps {
			if dep.Path == "github.com/m3db/m3" {
				return dep.Version
			}
		}
	}
	return "unknown"
}

func check(err error) {
	if err != nil {
		fail(err)
	}
}

func fail(err error) {
	fmt.Fprintln(os.Stderr, err)
	os.Exit(1)
}
