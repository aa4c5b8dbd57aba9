package main

import (
	"encoding/csv"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
)

// offer is one provider node taken from the real datasets.
type offer struct {
	NodeID        string
	Cloud         string // as in the price table: AWS, Azure, GCP
	Instance      string
	Region        string
	Model         string
	GPUs          uint32
	MemoryMiB     uint64
	USDPerGPUHour float64
	BandwidthMbps uint64
	Samples       int // throughput measurements behind BandwidthMbps
	PriceRow      int // line of the offer's row in cloud-gpus.csv (the header is line 1)
}

// demoOffers names the instances the demo registers. Prices, GPU counts and memory come from the FSDL
// price table; the price table is for west/central US, so each instance is placed in a west/central US
// region of its cloud that the Skyplane grids measured. gpuType picks the row where one instance name has
// several (GCP's n1-highmem-* come with K80, P100, T4 or V100).
//
// The first three are the A100 nodes of leases 1-3. The last three are a K80 fleet where the chain's
// fallback misses the cheapest placement of a 4-GPU lease (lease 4): two 8 x K80 p2.8xlarge at $0.90 fill
// the fallback's pool (fallbackPoolFactor x 4 GPUs, at least fallbackMinPool = 16, and the rest of that
// price level), so it takes 4 GPUs of one of them and strands the other 4; the 4 x K80 n1-highmem-32 at
// $0.92, outside the pool, strands none and costs less on the chain's own score (4 x $0.02 more price
// against 4 x 0.1 NRO of fragmentation per hour at the default weights).
var demoOffers = []struct{ nodeID, cloud, instance, gpuType, region string }{
	{"aws-p4de-usw2", "AWS", "p4de.24xlarge", "", "aws:us-west-2"},
	{"azure-nd96amsr-usw", "Azure", "ND96amsr A100 v4", "", "azure:westus"},
	{"gcp-a2-8g-usc1", "GCP", "a2-highgpu-8g", "", "gcp:us-central1-a"},
	{"aws-p2-8x-usw1-a", "AWS", "p2.8xlarge", "", "aws:us-west-1"},
	{"aws-p2-8x-usw1-b", "AWS", "p2.8xlarge", "", "aws:us-west-1"},
	{"gcp-n1hm32-k80-usw1", "GCP", "n1-highmem-32", "K80 (12 GB)", "gcp:us-west1-a"},
}

// a100Nodes is how many of demoOffers (the first) are the A100 nodes of leases 1-3; the rest are the K80
// fleet of lease 4.
const a100Nodes = 3

var gpuTypeRe = regexp.MustCompile(`^([A-Za-z0-9]+) \((\d+) GB\)$`)

func loadOffers(dataDir string) ([]offer, error) {
	prices, err := readCSV(filepath.Join(dataDir, "fsdl-cloud-gpu-prices", "cloud-gpus.csv"))
	if err != nil {
		return nil, err
	}
	tput, err := readCSV(filepath.Join(dataDir, "skyplane-throughput-grid", "throughput_2022-11-28.csv"))
	if err != nil {
		return nil, err
	}
	var out []offer
	for _, want := range demoOffers {
		ri, ok := find(prices, func(r map[string]string) bool {
			return r["Cloud"] == want.cloud && r["Name"] == want.instance && (want.gpuType == "" || r["GPU Type"] == want.gpuType)
		})
		if !ok {
			return nil, fmt.Errorf("price table has no %s %s %s", want.cloud, want.instance, want.gpuType)
		}
		row := prices[ri]
		m := gpuTypeRe.FindStringSubmatch(row["GPU Type"])
		if m == nil {
			return nil, fmt.Errorf("price table: cannot parse GPU Type %q", row["GPU Type"])
		}
		memGB, _ := strconv.ParseUint(m[2], 10, 64)
		gpus, err := strconv.ParseUint(row["GPUs"], 10, 32)
		if err != nil {
			return nil, fmt.Errorf("price table: GPUs %q: %w", row["GPUs"], err)
		}
		perGPU, err := strconv.ParseFloat(row["Per-GPU"], 64)
		if err != nil {
			return nil, fmt.Errorf("price table: Per-GPU %q: %w", row["Per-GPU"], err)
		}
		var mbps []float64
		for _, r := range tput {
			if r["src_region"] == want.region && r["success"] == "True" {
				bps, err := strconv.ParseFloat(r["throughput_sent"], 64)
				if err == nil {
					mbps = append(mbps, bps/1e6)
				}
			}
		}
		if len(mbps) == 0 {
			return nil, fmt.Errorf("throughput grid has no measurements from %s", want.region)
		}
		slices.Sort(mbps)
		out = append(out, offer{
			NodeID: want.nodeID, Cloud: want.cloud, Instance: want.instance, Region: want.region,
			Model: strings.ToUpper(m[1]), GPUs: uint32(gpus), MemoryMiB: memGB * 1024,
			USDPerGPUHour: perGPU, BandwidthMbps: uint64(math.Round(mbps[len(mbps)/2])), Samples: len(mbps),
			PriceRow: ri + 2,
		})
	}
	return out, nil
}

func readCSV(path string) ([]map[string]string, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer func() { _ = f.Close() }()
	r := csv.NewReader(f)
	header, err := r.Read()
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	var rows []map[string]string
	for {
		rec, err := r.Read()
		if err == io.EOF {
			return rows, nil
		}
		if err != nil {
			return nil, fmt.Errorf("%s: %w", path, err)
		}
		row := make(map[string]string, len(header))
		for i, h := range header {
			row[h] = rec[i]
		}
		rows = append(rows, row)
	}
}

// find returns the index of the first row f accepts.
func find(rows []map[string]string, f func(map[string]string) bool) (int, bool) {
	for i, r := range rows {
		if f(r) {
			return i, true
		}
	}
	return -1, false
}
