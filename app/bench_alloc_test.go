package app

import (
	"bytes"
	"crypto/sha256"
	"encoding/csv"
	"fmt"
	"math/rand"
	"os"
	"path/filepath"
	"regexp"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	cmtproto "github.com/cometbft/cometbft/proto/tendermint/types"

	"cosmossdk.io/collections"
	sdkmath "cosmossdk.io/math"

	sdk "github.com/cosmos/cosmos-sdk/types"
	minttypes "github.com/cosmos/cosmos-sdk/x/mint/types"

	allocationtypes "github.com/consensus-nro/nro/x/allocation/types"
	audittypes "github.com/consensus-nro/nro/x/audit/types"
	leasetypes "github.com/consensus-nro/nro/x/lease/types"
)

// BenchmarkEndBlockAllocation measures x/allocation's EndBlock placing N pending leases over a fleet of M
// nodes, through the real keepers (x/lease activation, x/audit decision records) on the app's IAVL store.
// The fleet's instance types and per-GPU prices come from data/fsdl-cloud-gpu-prices (AWS, GCP and Azure
// rows), spread over the measured regions of those clouds; the leases' GPU counts and durations from the
// Philly trace (data/philly-pollux). Each iteration decides every lease in a fresh cache of the same state.
//
//	make bench-alloc
func BenchmarkEndBlockAllocation(b *testing.B) {
	offers := loadBenchOffers(b)
	jobs := loadBenchJobs(b)
	for _, leases := range []int{10, 100, 1000} {
		for _, nodes := range []int{100, 1000, 10000} {
			b.Run(fmt.Sprintf("leases=%d/nodes=%d", leases, nodes), func(b *testing.B) {
				app, ctx := benchChain(b, offers, jobs, nodes, leases)
				b.ResetTimer()
				placed := 0
				var cpu time.Duration
				for range b.N {
					cache, _ := ctx.CacheContext()
					// The setup's garbage (the 10,000-node fleet is written through the store) is collected before
					// the clock starts, so that one iteration does not pay for collecting the last one's heap.
					b.StopTimer()
					runtime.GC()
					b.StartTimer()
					start := processCPU(b)
					if err := app.AllocationKeeper.AllocatePending(cache); err != nil {
						b.Fatal(err)
					}
					cpu += processCPU(b) - start
					b.StopTimer()
					placed = countActive(b, app, cache)
					b.StartTimer()
				}
				b.StopTimer()
				b.ReportMetric(float64(placed), "placed")
				b.ReportMetric(float64(b.Elapsed().Microseconds())/float64(b.N)/float64(leases), "µs/lease")
				// CPU time of the process (all threads, garbage collection included) while EndBlock ran: on a
				// shared machine it varies less than the wall-clock time, which waits for other work.
				b.ReportMetric(float64(cpu.Microseconds())/1000/float64(b.N), "cpu-ms/op")
			})
		}
	}
}

// processCPU is the user and system CPU time the process has used so far.
func processCPU(b testing.TB) time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		b.Fatal(err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

func countActive(b testing.TB, app *App, ctx sdk.Context) int {
	it, err := app.LeaseKeeper.Leases.Indexes.State.MatchExact(ctx, int32(leasetypes.LEASE_STATE_ACTIVE))
	if err != nil {
		b.Fatal(err)
	}
	ids, err := it.PrimaryKeys()
	if err != nil {
		b.Fatal(err)
	}
	return len(ids)
}

type benchOffer struct {
	cloud, model string
	count        uint32
	memoryMiB    uint64
	price        int64 // unro per GPU-hour, 1 NRO = 1 USD
}

type benchJob struct {
	gpus     uint32
	duration uint64 // blocks of 6 s
}

var gpuTypeRe = regexp.MustCompile(`^([A-Za-z0-9-]+) \((\d+) GB\)$`)

func loadBenchOffers(b testing.TB) []benchOffer {
	rows := readBenchCSV(b, filepath.Join("..", "data", "fsdl-cloud-gpu-prices", "cloud-gpus.csv"))
	var out []benchOffer
	for _, r := range rows {
		cloud := map[string]string{"AWS": "aws", "GCP": "gcp", "Azure": "azure"}[r["Cloud"]]
		m := gpuTypeRe.FindStringSubmatch(r["GPU Type"])
		count, err1 := strconv.Atoi(r["GPUs"])
		price, err2 := strconv.ParseFloat(r["Per-GPU"], 64)
		if cloud == "" || m == nil || err1 != nil || err2 != nil || count < 1 {
			continue
		}
		gb, _ := strconv.Atoi(m[2])
		out = append(out, benchOffer{cloud: cloud, model: strings.ToUpper(m[1]), count: uint32(count), memoryMiB: uint64(gb) * 1024, price: int64(price * 1e6)})
	}
	if len(out) == 0 {
		b.Fatal("no AWS/GCP/Azure offers in cloud-gpus.csv")
	}
	return out
}

func loadBenchJobs(b testing.TB) []benchJob {
	rows := readBenchCSV(b, filepath.Join("..", "data", "philly-pollux", "philly.csv"))
	var out []benchJob
	for _, r := range rows {
		gpus, err1 := strconv.Atoi(r["num_gpus"])
		dur, err2 := strconv.ParseFloat(r["duration"], 64)
		if err1 != nil || err2 != nil || gpus < 1 || gpus > 64 {
			continue
		}
		out = append(out, benchJob{gpus: uint32(gpus), duration: max(uint64(dur/6), 10)})
		if len(out) == 20000 {
			break
		}
	}
	return out
}

func readBenchCSV(b testing.TB, path string) []map[string]string {
	f, err := os.Open(path)
	if err != nil {
		b.Fatal(err)
	}
	defer func() { _ = f.Close() }()
	recs, err := csv.NewReader(f).ReadAll()
	if err != nil {
		b.Fatal(err)
	}
	out := make([]map[string]string, 0, len(recs))
	for _, rec := range recs[1:] {
		row := map[string]string{}
		for i, h := range recs[0] {
			if i < len(rec) {
				row[h] = rec[i]
			}
		}
		out = append(out, row)
	}
	return out
}

// benchChain builds an app with nodes written straight into x/allocation's state and leases created through
// x/lease (so they are queued for allocation), and returns a context at the height the leases are due.
func benchChain(b testing.TB, offers []benchOffer, jobs []benchJob, nodes, leases int) (*App, sdk.Context) {
	b.Helper()
	app := Setup(b)
	r := rand.New(rand.NewSource(int64(nodes*7919 + leases)))
	h := app.LastBlockHeight() + 1
	// Uncached: the setup is written straight to the commit store and committed below, as blocks would.
	ctx := app.NewUncachedContext(false, //nolint:staticcheck // see above
		cmtproto.Header{Height: h, ChainID: TestChainID, Time: TestBlockTime(h)})

	params, err := app.AllocationKeeper.GetParams(ctx)
	if err != nil {
		b.Fatal(err)
	}
	params.MaxAllocationsPerBlock = uint32(leases)
	if err := app.AllocationKeeper.Params.Set(ctx, params); err != nil {
		b.Fatal(err)
	}
	regionsOf := map[string][]string{}
	for _, reg := range params.Regions {
		cloud, _, _ := strings.Cut(reg, ":")
		regionsOf[cloud] = append(regionsOf[cloud], reg)
	}
	var maxPrice int64
	models := map[string]bool{}
	for i := range nodes {
		o := offers[r.Intn(len(offers))]
		region := regionsOf[o.cloud][r.Intn(len(regionsOf[o.cloud]))]
		bw := uint64(10_000)
		if l, err := app.AllocationKeeper.RegionLinks.Get(ctx, collections.Join(region, region)); err == nil && l.BandwidthMbps > 0 {
			bw = l.BandwidthMbps
		}
		n := allocationtypes.Node{
			Id: fmt.Sprintf("node-%05d", i), Operator: benchOperator(), Agent: benchOperator(), Region: region,
			Gpus:          []allocationtypes.GpuGroup{{Model: o.model, Count: o.count, MemoryMib: o.memoryMiB}},
			BandwidthMbps: bw, PricePerGpuHour: sdk.NewCoin(BondDenom, sdkmath.NewInt(o.price)),
			Stake: params.MinStake(o.count), Status: allocationtypes.NODE_STATUS_ACTIVE,
			ReputationBps: allocationtypes.NeutralReputationBps, RegisteredHeight: h,
		}
		if err := app.AllocationKeeper.Nodes.Set(ctx, n.Id, n); err != nil {
			b.Fatal(err)
		}
		maxPrice = max(maxPrice, o.price)
		models[o.model] = true
	}
	modelList := make([]string, 0, len(models))
	for m := range models {
		modelList = append(modelList, m)
	}
	slices.Sort(modelList)

	submitter := sdk.MustAccAddressFromBech32(benchOperator())
	funds := sdk.NewCoins(sdk.NewCoin(BondDenom, sdkmath.NewInt(1).MulRaw(1_000_000_000_000_000)))
	if err := app.BankKeeper.MintCoins(ctx, minttypes.ModuleName, funds); err != nil {
		b.Fatal(err)
	}
	if err := app.BankKeeper.SendCoinsFromModuleToAccount(ctx, minttypes.ModuleName, submitter, funds); err != nil {
		b.Fatal(err)
	}
	for i := range leases {
		j := jobs[r.Intn(len(jobs))]
		spec := leasetypes.LeaseSpec{
			TotalGpus: j.gpus, DurationBlocks: min(j.duration, 100_000),
			MaxPricePerGpuHour: sdk.NewCoin(BondDenom, sdkmath.NewInt(maxPrice)),
		}
		if r.Intn(10) < 7 {
			spec.GpuModel = modelList[r.Intn(len(modelList))]
		}
		if r.Intn(2) == 0 {
			clouds := []string{"aws", "gcp", "azure"}
			regs := regionsOf[clouds[r.Intn(3)]]
			a, c := regs[r.Intn(len(regs))], regs[r.Intn(len(regs))]
			spec.Regions = []string{a}
			if c != a {
				spec.Regions = []string{min(a, c), max(a, c)}
			}
			spec.MaxRttMs = 80
		}
		deposit := sdk.NewCoin(BondDenom, sdkmath.NewInt(maxPrice).MulRaw(int64(spec.TotalGpus)).MulRaw(int64(spec.DurationBlocks)))
		if _, err := app.LeaseKeeper.CreateLease(ctx, &leasetypes.MsgCreateLease{Submitter: benchOperator(), Spec: spec, Deposit: deposit}); err != nil {
			b.Fatalf("lease %d: %v", i, err)
		}
	}
	// Commit, as a chain would have: EndBlock then reads committed IAVL state through a cache, and not the
	// uncommitted writes of the setup (which IAVL iterates by a full scan).
	app.CommitMultiStore().Commit()
	due := h + int64(params.ProposalWindowBlocks)
	return app, app.NewUncachedContext(false, //nolint:staticcheck // EndBlock runs in a cache of it per iteration
		cmtproto.Header{Height: due, ChainID: TestChainID, Time: TestBlockTime(due)})
}

// benchOperator operates every benchmark node and submits every lease.
func benchOperator() string { return sdk.AccAddress([]byte("nro-bench-operator--")).String() }

// TestEndBlockAllocationDigest prints a digest of what one EndBlock of the benchmark leaves behind — every
// key and value of x/allocation, x/lease and x/audit, and every event — so that two versions of the engine
// can be compared on the benchmark's workloads (same digest: same decisions, same state, same events). It
// runs only with NRO_ALLOC_DIGEST=1 (the setup of the large workloads takes a while).
//
//	NRO_ALLOC_DIGEST=1 go test ./app -run TestEndBlockAllocationDigest -v
func TestEndBlockAllocationDigest(t *testing.T) {
	if os.Getenv("NRO_ALLOC_DIGEST") == "" {
		t.Skip("a tool for comparing two commits by hand, not a check: it logs state digests of fleets of up to 10,000 nodes (minutes of setup); run it at both commits with NRO_ALLOC_DIGEST=1 and compare the logs")
	}
	offers := loadBenchOffers(t)
	jobs := loadBenchJobs(t)
	for _, c := range [][2]int{{10, 100}, {100, 100}, {1000, 100}, {100, 1000}, {1000, 1000}, {1000, 10000}} {
		app, ctx := benchChain(t, offers, jobs, c[1], c[0])
		cache, _ := ctx.CacheContext()
		if err := app.AllocationKeeper.AllocatePending(cache); err != nil {
			t.Fatal(err)
		}
		h := sha256.New()
		for _, name := range []string{allocationtypes.StoreKey, leasetypes.StoreKey, audittypes.StoreKey} {
			it := cache.KVStore(app.GetKey(name)).Iterator(nil, nil)
			for ; it.Valid(); it.Next() {
				if name == allocationtypes.StoreKey && bytes.HasPrefix(it.Key(), allocationtypes.CapacityIndexKey) {
					// The capacity index's entries had no value before consensus version 2: compare keys only,
					// so that digests of commits before and after it can be compared.
					fmt.Fprintf(h, "%s %x\n", name, it.Key())
					continue
				}
				fmt.Fprintf(h, "%s %x %x\n", name, it.Key(), it.Value())
			}
			_ = it.Close()
		}
		events := cache.EventManager().Events()
		for _, e := range events {
			fmt.Fprintf(h, "event %s", e.Type)
			for _, a := range e.Attributes {
				fmt.Fprintf(h, " %s=%s", a.Key, a.Value)
			}
			fmt.Fprintln(h)
		}
		t.Logf("leases=%d nodes=%d placed=%d events=%d digest=%x", c[0], c[1], countActive(t, app, cache), len(events), h.Sum(nil))
	}
}
