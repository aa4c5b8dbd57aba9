package sim

import (
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"
)

// TraceJob is one job of the Philly trace, as the Pollux artifact flattened it.
type TraceJob struct {
	// Row is the job's 0-based row in philly.csv (the file is not sorted by arrival).
	Row int
	// Arrival is the submission time (UTC; the trace has no zone, Pollux treats it as a plain timestamp).
	Arrival time.Time
	// Duration is the job's run time in seconds on its Philly placement.
	Duration float64
	// GPUs is the number of GPUs the job ran on.
	GPUs uint32
	// Cluster is the Philly virtual-cluster hash.
	Cluster string
}

// Offer is one cloud GPU instance type of the price table (AWS, Azure or GCP rows).
type Offer struct {
	Cloud     string // "aws", "azure" or "gcp", as the region names spell it
	Instance  string // e.g. p4d.24xlarge
	Model     string // e.g. A100, upper case as the chain spells models
	GPUs      uint32
	MemoryMiB uint64
	// PricePerGPUHour is the on-demand price per GPU-hour in unro (1 NRO = 1 USD, so micro-USD).
	PricePerGPUHour uint64
}

// Data is everything the simulator reads from the project's data/ folder.
type Data struct {
	Jobs     []TraceJob
	Profiles map[string]*Profile // by model name (bert, cifar10, …)
	Offers   []Offer
}

// Paths of the files the simulator reads, relative to the data folder.
const (
	phillyFile = "philly-pollux/philly.csv"
	pricesFile = "fsdl-cloud-gpu-prices/cloud-gpus.csv"
	polluxDir  = "pollux-throughput-profiles"
)

// Models are the six Pollux training jobs whose step and sync times were measured per placement.
var Models = []string{"bert", "cifar10", "deepspeech2", "imagenet", "ncf", "yolov3"}

// FindDataDir returns the project's data folder: dir if given, else the first `data` folder holding the
// Philly trace in the working directory or one of its parents (so that commands run anywhere in a checkout).
func FindDataDir(dir string) (string, error) {
	if dir != "" {
		if _, err := os.Stat(filepath.Join(dir, phillyFile)); err != nil {
			return "", fmt.Errorf("data folder %s has no %s (pass the project's data/ folder): %w", dir, phillyFile, err)
		}
		return dir, nil
	}
	wd, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for d := wd; ; d = filepath.Dir(d) {
		cand := filepath.Join(d, "data")
		if _, err := os.Stat(filepath.Join(cand, phillyFile)); err == nil {
			return cand, nil
		}
		if filepath.Dir(d) == d {
			return "", fmt.Errorf("no data/%s in %s or its parents; run from a checkout of the project or pass --data", phillyFile, wd)
		}
	}
}

// LoadData reads the Philly trace, the Pollux profiles and the price table from a data folder.
func LoadData(dir string) (*Data, error) {
	jobs, err := loadPhilly(filepath.Join(dir, phillyFile))
	if err != nil {
		return nil, err
	}
	offers, err := loadOffers(filepath.Join(dir, pricesFile))
	if err != nil {
		return nil, err
	}
	d := &Data{Jobs: jobs, Offers: offers, Profiles: map[string]*Profile{}}
	for _, m := range Models {
		p, err := loadProfile(filepath.Join(dir, polluxDir), m)
		if err != nil {
			return nil, err
		}
		d.Profiles[m] = p
	}
	return d, nil
}

// readCSV reads a CSV file with a header row into maps keyed by column name, skipping empty lines.
func readCSV(path string) ([]map[string]string, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer func() { _ = f.Close() }()
	r := csv.NewReader(f)
	r.FieldsPerRecord = -1
	header, err := r.Read()
	if err != nil {
		return nil, fmt.Errorf("%s: reading the header: %w", path, err)
	}
	var out []map[string]string
	for line := 2; ; line++ {
		rec, err := r.Read()
		if errors.Is(err, io.EOF) {
			return out, nil
		}
		if err != nil {
			return nil, fmt.Errorf("%s: %w", path, err)
		}
		if len(rec) == 1 && rec[0] == "" {
			continue
		}
		if len(rec) != len(header) {
			return nil, fmt.Errorf("%s line %d: %d fields, the header has %d", path, line, len(rec), len(header))
		}
		row := make(map[string]string, len(header))
		for i, h := range header {
			row[h] = rec[i]
		}
		out = append(out, row)
	}
}

func loadPhilly(path string) ([]TraceJob, error) {
	rows, err := readCSV(path)
	if err != nil {
		return nil, err
	}
	jobs := make([]TraceJob, 0, len(rows))
	for i, r := range rows {
		at, err := time.Parse(time.DateTime, r["timestamp"])
		if err != nil {
			return nil, fmt.Errorf("%s row %d: timestamp: %w", path, i+2, err)
		}
		dur, err := strconv.ParseFloat(r["duration"], 64)
		if err != nil || dur <= 0 {
			return nil, fmt.Errorf("%s row %d: duration %q is not a positive number of seconds", path, i+2, r["duration"])
		}
		gpus, err := strconv.ParseUint(r["num_gpus"], 10, 32)
		if err != nil || gpus == 0 {
			return nil, fmt.Errorf("%s row %d: num_gpus %q is not a positive integer", path, i+2, r["num_gpus"])
		}
		jobs = append(jobs, TraceJob{Row: i, Arrival: at, Duration: dur, GPUs: uint32(gpus), Cluster: r["cluster"]})
	}
	// Arrival order, then file order: a total order, so slices of the trace are the same on every run.
	slices.SortStableFunc(jobs, func(a, b TraceJob) int { return a.Arrival.Compare(b.Arrival) })
	return jobs, nil
}

var gpuTypeRe = regexp.MustCompile(`^([A-Za-z0-9-]+) \((\d+) ?GB\)$`)

func loadOffers(path string) ([]Offer, error) {
	rows, err := readCSV(path)
	if err != nil {
		return nil, err
	}
	var out []Offer
	for i, r := range rows {
		cloud := map[string]string{"AWS": "aws", "GCP": "gcp", "Azure": "azure"}[r["Cloud"]]
		if cloud == "" {
			continue // the simulator's regions are those of the Skyplane grids: AWS, Azure and GCP
		}
		m := gpuTypeRe.FindStringSubmatch(r["GPU Type"])
		gpus, err1 := strconv.ParseUint(r["GPUs"], 10, 32)
		price, err2 := strconv.ParseFloat(r["Per-GPU"], 64)
		if m == nil || err1 != nil || err2 != nil || gpus == 0 || price <= 0 {
			return nil, fmt.Errorf("%s row %d (%s %s): cannot read GPU Type %q, GPUs %q or Per-GPU %q",
				path, i+2, r["Cloud"], r["Name"], r["GPU Type"], r["GPUs"], r["Per-GPU"])
		}
		gb, _ := strconv.ParseUint(m[2], 10, 64)
		out = append(out, Offer{
			Cloud: cloud, Instance: r["Name"], Model: strings.ToUpper(m[1]), GPUs: uint32(gpus), MemoryMiB: gb * 1024,
			// Per-GPU is in USD with two decimals: rounding to the micro-USD is exact.
			PricePerGPUHour: uint64(price*1e6 + 0.5),
		})
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("%s has no AWS, Azure or GCP rows", path)
	}
	return out, nil
}
