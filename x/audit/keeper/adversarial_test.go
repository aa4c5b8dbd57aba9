package keeper_test

import (
	"fmt"
	"math/rand/v2"
	"testing"

	"github.com/stretchr/testify/require"

	allocationtypes "github.com/consensus-nro/nro/x/allocation/types"
	audittestutil "github.com/consensus-nro/nro/x/audit/testutil"
	"github.com/consensus-nro/nro/x/audit/types"
	leasetypes "github.com/consensus-nro/nro/x/lease/types"
)

// The adversarial scenarios run four nodes on one lease (2 GPUs each, every node a peer of the three others)
// for many epochs under the chain's default tolerance, fault and dispute params (10-block epochs). Each pair
// has a true RTT (0.8-2 ms, same region) and throughput (5-10 Gbit/s); every honest measurement is the truth
// with multiplicative noise, uniform within ±8% for RTT and ±10% for throughput — the spread of repeated
// probes on one path — so two honest ends never differ by more than about 22%, inside tolerance_bps 2500.
// Nodes report in a random order each epoch.

var meshNodes = []string{"mesh-a", "mesh-b", "mesh-c", "mesh-d"}

type pathTruth struct{ rttUs, kbps uint64 }

func meshFixture(t *testing.T) (*audittestutil.Fixture, leasetypes.Lease) {
	t.Helper()
	f := audittestutil.NewFixture(t)
	p := types.DefaultParams()
	p.EpochBlocks, p.GraceBlocks, p.ReportRetentionEpochs = 10, 2, 0
	f.SetParams(p)
	var places []audittestutil.Place
	for _, n := range meshNodes {
		f.AddNode(n)
		places = append(places, audittestutil.Place{Node: n, Gpus: 2})
	}
	l := f.AddLease(places...)
	f.RequireInvariant()
	return f, l
}

func meshTruth(rng *rand.Rand) map[[2]string]pathTruth {
	truth := map[[2]string]pathTruth{}
	for i, a := range meshNodes {
		for _, b := range meshNodes[i+1:] {
			truth[[2]string{a, b}] = pathTruth{rttUs: 800 + rng.Uint64N(1_200), kbps: 5_000_000 + rng.Uint64N(5_000_000)}
		}
	}
	return truth
}

// noisy is v scaled by a uniform factor in [1 − pct%, 1 + pct%], in integers.
func noisy(rng *rand.Rand, v uint64, pct uint64) uint64 {
	f := 1_000 - pct*10 + rng.Uint64N(pct*20+1) // per mille
	return v * f / 1_000
}

// meshReport is node's report for the current epoch: honest measurements of its three links, or, for a liar,
// RTTs at 30% and throughputs at 300% of the truth (a node advertising a better network than it has).
func meshReport(f *audittestutil.Fixture, rng *rand.Rand, truth map[[2]string]pathTruth, node string, liar bool) *types.MsgSubmitTelemetry {
	var links []types.LinkMeasurement
	for _, peer := range meshNodes {
		if peer == node {
			continue
		}
		a, b := types.LinkKey(node, peer)
		tr := truth[[2]string{a, b}]
		rtt, kbps := noisy(rng, tr.rttUs, 8), noisy(rng, tr.kbps, 10)
		if liar {
			rtt, kbps = tr.rttUs*3/10, tr.kbps*3
		}
		links = append(links, probe(peer, rtt, kbps))
	}
	return report(f, node, links...)
}

// runMesh runs epochs 2..last: every node reports once per epoch, in a random order, while the lease is
// active (once it is moved off a slashed node its nodes share no lease and have no links to report).
func runMesh(t *testing.T, f *audittestutil.Fixture, rng *rand.Rand, leaseID uint64, last uint64, liar string) {
	t.Helper()
	truth := meshTruth(rng)
	for e := uint64(2); e <= last; e++ {
		startEpoch(t, f, e)
		if leaseState(t, f, leaseID) != leasetypes.LEASE_STATE_ACTIVE {
			return
		}
		order := append([]string(nil), meshNodes...)
		rng.Shuffle(len(order), func(i, j int) { order[i], order[j] = order[j], order[i] })
		for _, n := range order {
			if leaseState(t, f, leaseID) != leasetypes.LEASE_STATE_ACTIVE {
				break
			}
			submit(t, f, meshReport(f, rng, truth, n, n == liar))
		}
	}
}

func slashesOf(t *testing.T, f *audittestutil.Fixture, node string) []types.Slash {
	t.Helper()
	res, err := f.QueryServer.Slashes(f.Ctx, &types.QuerySlashesRequest{NodeId: node})
	require.NoError(t, err)
	return res.Slashes
}

func faultsOf(t *testing.T, f *audittestutil.Fixture, node string) []types.Fault {
	t.Helper()
	res, err := f.QueryServer.Faults(f.Ctx, &types.QueryFaultsRequest{NodeId: node})
	require.NoError(t, err)
	return res.Faults
}

// TestLyingNodeIsDetectedAndSlashed: one node fabricates its links among three honest peers. Its reports are
// disputed over all three links, each a DISPUTED fault; the fourth (max_faults 3) slashes and jails it and
// moves the lease. The honest nodes, each disagreeing with the liar on one link of three, are never faulted.
func TestLyingNodeIsDetectedAndSlashed(t *testing.T) {
	for seed := uint64(1); seed <= 20; seed++ {
		t.Run(fmt.Sprintf("seed %d", seed), func(t *testing.T) {
			f, l := meshFixture(t)
			rng := rand.New(rand.NewPCG(seed, 0x11a7))
			liar := meshNodes[seed%4]
			runMesh(t, f, rng, l.Id, 12, liar)

			s := slashesOf(t, f, liar)
			require.Len(t, s, 1, "the liar is slashed once")
			require.Len(t, s[0].FaultIds, int(types.DefaultMaxFaults)+1)
			for _, id := range s[0].FaultIds {
				fault, err := f.Keeper.Faults.Get(f.Ctx, id)
				require.NoError(t, err)
				require.Equal(t, types.FAULT_KIND_DISPUTED, fault.Kind)
			}
			require.Equal(t, allocationtypes.NODE_STATUS_JAILED, f.Node(liar).Status)
			moved, err := f.LeaseKeeper.GetLease(f.Ctx, l.Id)
			require.NoError(t, err)
			require.Equal(t, leasetypes.LEASE_STATE_PENDING, moved.State)
			require.Equal(t, []string{liar}, moved.PastPlacements[0].TriggerNodeIds)
			for _, n := range meshNodes {
				if n == liar {
					continue
				}
				require.Empty(t, faultsOf(t, f, n), "honest %s", n)
				require.Empty(t, slashesOf(t, f, n), "honest %s", n)
				require.Equal(t, allocationtypes.NODE_STATUS_ACTIVE, f.Node(n).Status)
			}
			f.RequireInvariant()
		})
	}
}

// TestHonestNodesAreNeverSlashed: four honest nodes with measurement noise, 50 seeds × 20 epochs: no report
// is disputed, no node is faulted or slashed, and every reputation rises.
func TestHonestNodesAreNeverSlashed(t *testing.T) {
	for seed := uint64(1); seed <= 50; seed++ {
		f, l := meshFixture(t)
		rng := rand.New(rand.NewPCG(seed, 0x40e5))
		runMesh(t, f, rng, l.Id, 21, "")
		require.Equal(t, leasetypes.LEASE_STATE_ACTIVE, leaseState(t, f, l.Id), "seed %d", seed)
		for _, n := range meshNodes {
			st := stats(t, f, n)
			require.Zero(t, st.DisputedReports, "seed %d node %s", seed, n)
			require.Zero(t, st.Faults, "seed %d node %s", seed, n)
			require.Zero(t, st.Slashes, "seed %d node %s", seed, n)
			require.Equal(t, uint64(20), st.Reports, "seed %d node %s", seed, n)
			require.Greater(t, f.Node(n).ReputationBps, allocationtypes.NeutralReputationBps, "seed %d node %s", seed, n)
		}
	}
}
