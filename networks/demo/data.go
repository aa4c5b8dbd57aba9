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
}

// demoOffers names the instances the demo registers. Prices, GPU counts and memory come from the FSDL
// price table; the price table is for west/central US, so each instance is placed in a west/central US
// region of its cloud that the Skyplane grids measured.
var demoOffers = []struct{ nodeID, cloud, instance, region string }{
	{"aws-p4de-usw2", "AWS", "p4de.24xlarge", "aws:us-west-2"},
	{"azure-nd96amsr-usw", "Azure", "ND96amsr A100 v4", "azure:westus"},
	{"gcp-a2-8g-usc1", "GCP", "a2-highgpu-8g", "gcp:us-central1-a"},
}

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
		row, ok := find(prices, func(r map[string]string) bool { return r["Cloud"] == want.cloud && r["Name"] == want.instance })
		if !ok {
			return nil, fmt.Errorf("price table has no %s %s", want.cloud, want.instance)
		}
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

func find(rows []map[string]string, f func(map[string]string) bool) (map[string]string, bool) {
	for _, r := range rows {
		if f(r) {
			return r, true
		}
	}
	return nil, false
}
