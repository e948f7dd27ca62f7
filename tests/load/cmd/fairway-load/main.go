// Command fairway-load runs the fan-out load test once and prints its
// report as JSON.
package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"os"

	"github.com/fairwayhq/fairway/tests/load"
	"github.com/fairwayhq/fairway/tests/workload"
)

func main() {
	bin := flag.String("fairway", "bin/fairway", "the fairway binary to run")
	streams := flag.Int("streams", 1000, "ADS streams to open")
	deltaEvery := flag.Int("delta-every", 2, "make every n-th stream delta (0: all SotW)")
	scale := flag.String("scale", "large", "workload scale: small, large, large-tls (every Ingress with a certificate, --ssl-redirect) or huge")
	changes := flag.Int("changes", 5, "Ingress changes and endpoint changes to make")
	maxStreams := flag.Int("max-streams", 0, "fairway's --max-streams; streams over it are refused and reported (0: no cap)")
	cpuProfile := flag.String("cpuprofile", "", "write fairway's CPU profile over the changes (30 s) here")
	flag.Parse()
	scales := map[string]workload.Scale{}
	for _, s := range []workload.Scale{workload.Small, workload.Small.WithTLS(), workload.Large, workload.LargeTLS, workload.Huge, workload.HugeTLS} {
		scales[s.Name] = s
	}
	s, ok := scales[*scale]
	if !ok {
		fmt.Fprintf(os.Stderr, "fairway-load: unknown scale %q\n", *scale)
		os.Exit(2)
	}
	rep, err := load.Run(context.Background(), load.Config{
		FairwayBin: *bin, Scale: s, Streams: *streams, DeltaEvery: *deltaEvery, Changes: *changes, Log: os.Stderr, CPUProfile: *cpuProfile, MaxStreams: *maxStreams,
	})
	if err != nil {
		fmt.Fprintln(os.Stderr, "fairway-load:", err)
		os.Exit(1)
	}
	enc := json.NewEncoder(os.Stdout)
	enc.SetIndent("", "  ")
	_ = enc.Encode(rep)
}
