package app

import (
	"fmt"
	"math/rand"
	"slices"
	"testing"
	"time"

	cmtproto "github.com/cometbft/cometbft/proto/tendermint/types"

	"cosmossdk.io/collections"
	sdkmath "cosmossdk.io/math"

	sdk "github.com/cosmos/cosmos-sdk/types"
	minttypes "github.com/cosmos/cosmos-sdk/x/mint/types"

	allocationtypes "github.com/consensus-nro/nro/x/allocation/types"
	auditkeeper "github.com/consensus-nro/nro/x/audit/keeper"
	audittypes "github.com/consensus-nro/nro/x/audit/types"
	leasetypes "github.com/consensus-nro/nro/x/lease/types"
)

// BenchmarkAuditEpoch measures one telemetry epoch of x/audit with N reporting nodes, through the real
// keepers on the app's IAVL store: N nodes of 8 H100 on N/4 active leases of four nodes each (2 GPUs per
// node, every node a probe peer of the three others); each epoch every node but 1% submits a report of its 8
// GPUs and 3 links (checked, stored, its links aggregated into the matrix, its reputation moved), and then
// EndBlock runs block by block until the epoch's missed-epoch sweep is done, faulting the silent 1%. Each
// iteration is the next epoch; the reports and every block are committed as a chain commits them, so that
// EndBlock reads committed IAVL state (not a cache holding the whole epoch's writes). It reports the DeliverTx cost per report, the slowest and the total EndBlock time of the epoch, and the
// on-chain bytes per node per epoch: the signed message's bytes, the stored report and the node's share of
// its links' aggregates.
//
//	make bench-audit
func BenchmarkAuditEpoch(b *testing.B) {
	for _, nodes := range []int{100, 1000, 10000} {
		b.Run(fmt.Sprintf("nodes=%d", nodes), func(b *testing.B) {
			app, ctx, ids := benchAuditChain(b, nodes)
			p, err := app.AuditKeeper.Params.Get(ctx)
			if err != nil {
				b.Fatal(err)
			}
			r := rand.New(rand.NewSource(int64(nodes)))
			srv := auditkeeper.NewMsgServerImpl(app.AuditKeeper)
			var reportTime, endBlockTotal, endBlockMax time.Duration
			var reports, blocks, faults int
			var msgBytes, reportBytes, linkBytes int
			b.ResetTimer()
			for range b.N {
				// Each iteration is the next epoch, on committed state as a chain runs it: the reports are
				// delivered and committed, then each EndBlock runs in its block and is committed.
				b.StopTimer()
				cur, err := app.AuditKeeper.CurrentEpoch(ctx)
				if err != nil {
					b.Fatal(err)
				}
				faultsBefore, err := app.AuditKeeper.FaultSeq.Peek(ctx)
				if err != nil {
					b.Fatal(err)
				}
				b.StartTimer()
				h := cur.StartHeight + 1
				cache, write := benchBlock(app, h).CacheContext()
				for i, id := range ids {
					if i%100 == 99 {
						continue // silent: faulted by the sweep
					}
					msg := benchReport(id, ids, cur.Number, r)
					start := time.Now()
					if _, err := srv.SubmitTelemetry(cache, msg); err != nil {
						b.Fatalf("report of %s: %v", id, err)
					}
					reportTime += time.Since(start)
					reports++
					msgBytes += msg.Size()
				}
				write()
				app.CommitMultiStore().Commit()
				ctx = benchBlock(app, h)
				for _, id := range ids[:min(len(ids), 100)] {
					rep, err := app.AuditKeeper.Reports.Get(ctx, collections.Join(id, cur.Number))
					if err != nil {
						continue
					}
					reportBytes += rep.Size()
				}
				n, l := 0, 0
				if err := app.AuditKeeper.Links.Walk(ctx, nil, func(_ auditkeeper.LinkKey, a audittypes.LinkAggregate) (bool, error) {
					n++
					l += a.Size()
					return n >= 300, nil
				}); err != nil {
					b.Fatal(err)
				}
				linkBytes += l * 3 / 2 / max(n, 1) // three links per node, each shared by two nodes
				// EndBlock from the epoch's last block until its sweep has finished.
				end := cur.StartHeight + int64(p.EpochBlocks) - 1
				for h = end; ; h++ {
					bctx, write := benchBlock(app, h).CacheContext()
					start := time.Now()
					if err := app.AuditKeeper.EndBlock(bctx); err != nil {
						b.Fatal(err)
					}
					d := time.Since(start)
					write()
					app.CommitMultiStore().Commit()
					endBlockTotal += d
					endBlockMax = max(endBlockMax, d)
					blocks++
					ctx = benchBlock(app, h)
					if h > end+int64(p.GraceBlocks) && !benchSweepPending(b, app, ctx, cur.Number) {
						break
					}
				}
				faultsAfter, err := app.AuditKeeper.FaultSeq.Peek(ctx)
				if err != nil {
					b.Fatal(err)
				}
				faults += int(faultsAfter - max(faultsBefore, 1))
			}
			b.StopTimer()
			b.ReportMetric(float64(reportTime.Microseconds())/float64(reports), "µs/report")
			b.ReportMetric(float64(endBlockMax.Microseconds())/1000, "ms/max-EndBlock")
			b.ReportMetric(float64(endBlockTotal.Microseconds())/1000/float64(b.N), "ms/epoch-EndBlocks")
			b.ReportMetric(float64(blocks)/float64(b.N), "blocks/sweep")
			b.ReportMetric(float64(faults)/float64(b.N), "missed-faults")
			b.ReportMetric(float64(msgBytes)/float64(reports), "msg-bytes/node")
			b.ReportMetric(float64(reportBytes)/float64(b.N*min(len(ids), 100)), "report-bytes/node")
			b.ReportMetric(float64(linkBytes)/float64(b.N), "link-bytes/node")
		})
	}
}

// benchBlock is a context for block h on the app's committed state.
func benchBlock(app *App, h int64) sdk.Context {
	return app.NewUncachedContext(false, //nolint:staticcheck // the benchmark commits each block itself
		cmtproto.Header{Height: h, ChainID: TestChainID, Time: TestBlockTime(h)})
}

// benchSweepPending reports whether the sweep of epoch is still queued.
func benchSweepPending(b *testing.B, app *App, ctx sdk.Context, epoch uint64) bool {
	has, err := app.AuditKeeper.Sweeps.Has(ctx, epoch)
	if err != nil {
		b.Fatal(err)
	}
	return has
}

// benchReport is a clean report: 8 present GPUs and a probe link to each of the node's three lease peers.
func benchReport(id string, ids []string, epoch uint64, r *rand.Rand) *audittypes.MsgSubmitTelemetry {
	i := slices.Index(ids, id)
	group := i / 4 * 4
	msg := &audittypes.MsgSubmitTelemetry{Agent: benchOperator(), NodeId: id, Epoch: epoch}
	for d := range 8 {
		msg.Gpus = append(msg.Gpus, audittypes.GpuMetrics{
			DeviceIndex: uint32(d), Uuid: fmt.Sprintf("GPU-%s-%d", id, d), Model: "NVIDIA H100 80GB HBM3",
			Source: audittypes.SOURCE_NVML, Present: true, UtilizationPct: uint32(80 + r.Intn(20)),
			MemoryUsedMib: 60_000, MemoryTotalMib: 81_559, PowerMw: uint64(550_000 + r.Intn(100_000)),
			TemperatureC: uint32(55 + r.Intn(15)),
		})
	}
	for j := group; j < group+4; j++ {
		if j == i {
			continue
		}
		msg.Links = append(msg.Links, audittypes.LinkMeasurement{
			PeerNodeId: ids[j], Source: audittypes.SOURCE_PROBE, RttUs: uint64(900 + r.Intn(100)),
			ThroughputKbps: uint64(9_000_000 + r.Intn(500_000)), Samples: 8,
		})
	}
	return msg
}

func benchAuditChain(b *testing.B, nodes int) (*App, sdk.Context, []string) {
	b.Helper()
	app := Setup(b)
	h := app.LastBlockHeight() + 1
	ctx := app.NewUncachedContext(false, //nolint:staticcheck // the setup is written straight to the store
		cmtproto.Header{Height: h, ChainID: TestChainID, Time: TestBlockTime(h)})
	params, err := app.AllocationKeeper.GetParams(ctx)
	if err != nil {
		b.Fatal(err)
	}
	region := "aws:us-east-1"
	ids := make([]string, nodes)
	for i := range nodes {
		ids[i] = fmt.Sprintf("node-%05d", i)
		n := allocationtypes.Node{
			Id: ids[i], Operator: benchOperator(), Agent: benchOperator(), Region: region,
			Gpus:          []allocationtypes.GpuGroup{{Model: "H100", Count: 8, MemoryMib: 81920, Reserved: 2}},
			ReservedGpus:  2,
			BandwidthMbps: 25_000, PricePerGpuHour: sdk.NewCoin(BondDenom, sdkmath.NewInt(2_500_000)),
			Stake: params.MinStake(8), Status: allocationtypes.NODE_STATUS_ACTIVE,
			ReputationBps: allocationtypes.NeutralReputationBps, RegisteredHeight: h,
		}
		if err := app.AllocationKeeper.Nodes.Set(ctx, n.Id, n); err != nil {
			b.Fatal(err)
		}
	}
	stake := sdk.NewCoins(params.MinStake(8))
	for range nodes {
		if err := app.BankKeeper.MintCoins(ctx, minttypes.ModuleName, stake); err != nil {
			b.Fatal(err)
		}
		if err := app.BankKeeper.SendCoinsFromModuleToModule(ctx, minttypes.ModuleName, allocationtypes.ModuleName, stake); err != nil {
			b.Fatal(err)
		}
	}
	submitter := sdk.MustAccAddressFromBech32(benchOperator())
	funds := sdk.NewCoins(sdk.NewCoin(BondDenom, sdkmath.NewInt(3_000_000*8*100_000).MulRaw(int64(nodes/4+1))))
	if err := app.BankKeeper.MintCoins(ctx, minttypes.ModuleName, funds); err != nil {
		b.Fatal(err)
	}
	if err := app.BankKeeper.SendCoinsFromModuleToAccount(ctx, minttypes.ModuleName, submitter, funds); err != nil {
		b.Fatal(err)
	}
	price := sdk.NewCoin(BondDenom, sdkmath.NewInt(2_500_000))
	for g := 0; g+4 <= nodes; g += 4 {
		spec := leasetypes.LeaseSpec{TotalGpus: 8, DurationBlocks: 100_000, MaxPricePerGpuHour: sdk.NewCoin(BondDenom, sdkmath.NewInt(3_000_000))}
		id, err := app.LeaseKeeper.CreateLease(ctx, &leasetypes.MsgCreateLease{
			Submitter: benchOperator(), Spec: spec, Deposit: sdk.NewCoin(BondDenom, sdkmath.NewInt(3_000_000*8*100_000)),
		})
		if err != nil {
			b.Fatal(err)
		}
		var placed []leasetypes.LeaseNode
		for _, n := range ids[g : g+4] {
			placed = append(placed, leasetypes.LeaseNode{
				NodeId: n, Operator: benchOperator(), Region: region, Gpus: 2, GpuModel: "H100", GpuMemoryMib: 81920,
				PricePerGpuHour: price, Paid: sdkmath.ZeroInt(),
			})
		}
		if err := app.LeaseKeeper.ActivateLease(ctx, id, placed, ids[g:g+4], 0); err != nil {
			b.Fatal(err)
		}
		if err := app.AllocationKeeper.DropPendingLease(ctx, id); err != nil {
			b.Fatal(err)
		}
	}
	// Start an epoch after the activations, so that every node owes a report for it.
	p, err := app.AuditKeeper.Params.Get(ctx)
	if err != nil {
		b.Fatal(err)
	}
	for {
		if err := app.AuditKeeper.EndBlock(ctx); err != nil {
			b.Fatal(err)
		}
		cur, err := app.AuditKeeper.CurrentEpoch(ctx)
		if err != nil {
			b.Fatal(err)
		}
		if cur.StartHeight > h {
			break
		}
		ctx = ctx.WithBlockHeight(ctx.BlockHeight() + max(int64(p.EpochBlocks)/4, 1))
	}
	// Let the sweep of the epoch the leases started in finish (its nodes owe nothing for it).
	for {
		ctx = ctx.WithBlockHeight(ctx.BlockHeight() + 1)
		if err := app.AuditKeeper.EndBlock(ctx); err != nil {
			b.Fatal(err)
		}
		if n, err := app.AuditKeeper.Sweeps.Iterate(ctx, nil); err != nil {
			b.Fatal(err)
		} else if valid := n.Valid(); n.Close() == nil && !valid {
			break
		}
	}
	// Commit, as a chain would have: the epochs then run on committed IAVL state.
	app.CommitMultiStore().Commit()
	return app, benchBlock(app, ctx.BlockHeight()), ids
}
