package keeper_test

import (
	"slices"
	"testing"

	"cosmossdk.io/collections"
	"cosmossdk.io/math"
	"github.com/stretchr/testify/require"

	"github.com/consensus-nro/nro/x/audit/testutil"
	"github.com/consensus-nro/nro/x/audit/types"
	leasetypes "github.com/consensus-nro/nro/x/lease/types"
)

const testWindow = 5

// upkeepFixture is bridgeFixture with a signing window of testWindow blocks, slashing 1% and jailing, and
// a retention of retention blocks (0: keep everything) with keep valsets kept and budget records per block.
func upkeepFixture(t *testing.T, n int, retention uint64, keep, budget uint32) (*testutil.Fixture, []bridgeVal) {
	t.Helper()
	f, vals := bridgeFixture(t, n)
	p := f.Params()
	p.SignedWindowBlocks = testWindow
	p.SlashFractionUnsigned = math.LegacyNewDecWithPrec(1, 2)
	p.JailUnsigned = true
	p.BridgeRetentionBlocks = retention
	p.ValsetsKept = keep
	p.MaxBridgePrunedPerBlock = budget
	f.SetParams(p)
	return f, vals
}

func confirmValset(t *testing.T, f *testutil.Fixture, v bridgeVal, nonce uint64) {
	t.Helper()
	vs, err := f.Keeper.Valsets.Get(f.Ctx, nonce)
	require.NoError(t, err)
	digest, err := types.ValsetDigest(f.Params(), vs)
	require.NoError(t, err)
	_, err = f.MsgServer.ConfirmValset(f.Ctx, &types.MsgConfirmValset{Orchestrator: v.orchestrator, Nonce: nonce, Signature: sign(t, v.key, digest)})
	require.NoError(t, err)
}

func confirmBatch(t *testing.T, f *testutil.Fixture, v bridgeVal, nonce uint64) {
	t.Helper()
	b, err := f.LeaseKeeper.GetBatch(f.Ctx, nonce)
	require.NoError(t, err)
	digest, err := types.BatchDigest(f.Params(), b)
	require.NoError(t, err)
	_, err = f.MsgServer.ConfirmBatch(f.Ctx, &types.MsgConfirmBatch{Orchestrator: v.orchestrator, Nonce: nonce, Signature: sign(t, v.key, digest)})
	require.NoError(t, err)
}

// makeBatch stores a pending batch made at the current height, as x/lease's EndBlock leaves it.
func makeBatch(t *testing.T, f *testutil.Fixture, nonce uint64) {
	t.Helper()
	b := putBatch(t, f, nonce)
	b.CreatedHeight = f.Height()
	require.NoError(t, f.LeaseKeeper.Batches.Set(f.Ctx, nonce, b))
}

// next runs EndBlock at the next height, checking x/audit's invariants (the batches stored by makeBatch
// have no settlement records behind them, so x/lease's escrow invariant does not apply).
func next(t *testing.T, f *testutil.Fixture) {
	t.Helper()
	f.SetHeight(f.Height() + 1)
	require.NoError(t, f.EndBlock())
	require.NoError(t, f.Keeper.CheckDecisionIndexes(f.Ctx))
	require.NoError(t, f.Keeper.CheckTelemetryState(f.Ctx))
}

func slashEvents(f *testutil.Fixture) []*types.EventBridgeSignerSlashed {
	var out []*types.EventBridgeSignerSlashed
	for _, e := range f.TypedEvents() {
		if ev, ok := e.(*types.EventBridgeSignerSlashed); ok {
			out = append(out, ev)
		}
	}
	return out
}

func slashedVals(f *testutil.Fixture) []string {
	out := []string{}
	for _, s := range f.Staking.Slashes {
		out = append(out, s.Validator)
	}
	slices.Sort(out)
	return out
}

func valopers(vals ...bridgeVal) []string {
	out := []string{}
	for _, v := range vals {
		out = append(out, v.valoper)
	}
	slices.Sort(out)
	return out
}

func TestUnsignedValsetSlashing(t *testing.T) {
	for _, tc := range []struct {
		name string
		// before runs after valset 1 is made (at the valset's height) and returns the validators expected to
		// be punished when its window closes.
		before     func(t *testing.T, f *testutil.Fixture, vals []bridgeVal) []bridgeVal
		wantJailed bool
	}{
		{"everyone signed: no one punished", func(t *testing.T, f *testutil.Fixture, vals []bridgeVal) []bridgeVal {
			for _, v := range vals {
				confirmValset(t, f, v, 1)
			}
			return nil
		}, true},
		{"the silent ones are slashed and jailed", func(t *testing.T, f *testutil.Fixture, vals []bridgeVal) []bridgeVal {
			confirmValset(t, f, vals[0], 1)
			confirmValset(t, f, vals[2], 1)
			return []bridgeVal{vals[1], vals[3]}
		}, true},
		{"a signature in the last block of the window counts", func(t *testing.T, f *testutil.Fixture, vals []bridgeVal) []bridgeVal {
			for _, v := range vals[:3] {
				confirmValset(t, f, v, 1)
			}
			f.SetHeight(f.Height() + testWindow - 1)
			confirmValset(t, f, vals[3], 1)
			return nil
		}, true},
		{"already jailed: not punished again", func(t *testing.T, f *testutil.Fixture, vals []bridgeVal) []bridgeVal {
			for _, v := range vals[:3] {
				confirmValset(t, f, v, 1)
			}
			f.Staking.Jailed[vals[3].valoper] = true
			return nil
		}, true},
		{"signer registered after the valset was made: not punished", func(t *testing.T, f *testutil.Fixture, vals []bridgeVal) []bridgeVal {
			for _, v := range vals[:3] {
				confirmValset(t, f, v, 1)
			}
			// As an imported genesis may hold it: the member's registration is newer than the valset.
			s, err := f.Keeper.EthSigners.Get(f.Ctx, vals[3].valoper)
			require.NoError(t, err)
			s.RegisteredHeight = f.Height() + 1
			require.NoError(t, f.Keeper.EthSigners.Set(f.Ctx, s.Validator, s))
			return nil
		}, true},
		{"unbonding since: still punished", func(t *testing.T, f *testutil.Fixture, vals []bridgeVal) []bridgeVal {
			for _, v := range vals[:3] {
				confirmValset(t, f, v, 1)
			}
			f.Staking.Unbonding[vals[3].valoper] = true
			return []bridgeVal{vals[3]}
		}, true},
		{"slash only, no jail", func(t *testing.T, f *testutil.Fixture, vals []bridgeVal) []bridgeVal {
			p := f.Params()
			p.JailUnsigned = false
			f.SetParams(p)
			for _, v := range vals[1:] {
				confirmValset(t, f, v, 1)
			}
			return []bridgeVal{vals[0]}
		}, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f, vals := upkeepFixture(t, 4, 0, 1, 100)
			register(t, f, vals...)
			require.NoError(t, f.EndBlock())
			made := f.Height()
			vs, ok, err := f.Keeper.LatestValset(f.Ctx)
			require.NoError(t, err)
			require.True(t, ok)
			require.Equal(t, uint64(1), vs.Nonce)
			want := tc.before(t, f, vals)
			f.SetHeight(made)

			f.RunBlocks(made + testWindow - 1)
			require.Empty(t, f.Staking.Slashes, "the window is still open")
			next(t, f)
			require.Equal(t, valopers(want...), slashedVals(f))
			evs := slashEvents(f)
			require.Len(t, evs, len(want))
			for _, ev := range evs {
				require.Equal(t, "valset", ev.Kind)
				require.Equal(t, uint64(1), ev.Nonce)
				require.Equal(t, made, ev.CreatedHeight)
				// Power 10 is 10^7 tokens; 1% of them.
				require.Equal(t, math.NewInt(100_000), ev.SlashedTokens)
				require.Equal(t, tc.wantJailed, ev.Jailed)
				require.Equal(t, tc.wantJailed, f.Staking.Jailed[ev.Validator])
				if tc.wantJailed {
					require.Equal(t, f.Ctx.BlockTime().Add(f.Staking.JailDuration), f.Staking.JailedUntil[ev.Validator],
						"out for downtime_jail_duration from the block that jailed it")
				} else {
					require.NotContains(t, f.Staking.JailedUntil, ev.Validator)
				}
			}
			for _, s := range f.Staking.Slashes {
				require.Equal(t, f.Height(), s.InfractionHeight, "slashed at the height the window closed")
			}
			// The check is consumed: later blocks punish no one again.
			n := len(f.Staking.Slashes)
			next(t, f)
			require.Len(t, f.Staking.Slashes, n)
			has, err := f.Keeper.UnsignedChecks.Has(f.Ctx, collections.Join3(made+testWindow, int32(types.BRIDGE_ITEM_KIND_VALSET), uint64(1)))
			require.NoError(t, err)
			require.False(t, has)
		})
	}
}

func TestUnsignedSlashingSparesLateAndUnbonded(t *testing.T) {
	f, vals := upkeepFixture(t, 5, 0, 1, 100)
	// Four of five register: valset 1 at height made1 with them.
	register(t, f, vals[:4]...)
	require.NoError(t, f.EndBlock())
	made1 := f.Height()
	// The fifth registers one block later: valset 2 with all five. It was not in valset 1.
	f.SetHeight(made1 + 1)
	register(t, f, vals[4])
	require.NoError(t, f.EndBlock())
	vs, _, _ := f.Keeper.LatestValset(f.Ctx)
	require.Equal(t, uint64(2), vs.Nonce)
	// vals[0] unbonds completely (power 0, UNBONDED) before valset 1's window closes; it leaves the set,
	// which makes valset 3.
	bz, err := f.AddressCodec.StringToBytes(vals[0].operator)
	require.NoError(t, err)
	f.Staking.SetPower(bz, 0)
	next(t, f)
	vs, _, _ = f.Keeper.LatestValset(f.Ctx)
	require.Equal(t, uint64(3), vs.Nonce)
	for _, v := range vals[1:4] {
		confirmValset(t, f, v, 1)
	}
	for _, v := range vals[1:] {
		confirmValset(t, f, v, 2)
		confirmValset(t, f, v, 3)
	}
	f.RunBlocks(made1 + testWindow)
	require.Empty(t, f.Staking.Slashes, "valset 1: vals[4] registered after it, vals[0] is unbonded")
	next(t, f) // valset 2's window: vals[0] did not sign but cannot be slashed
	require.Empty(t, f.Staking.Slashes)
	require.Empty(t, slashEvents(f))
	next(t, f) // valset 3's window: vals[0] is not a member
	require.Empty(t, f.Staking.Slashes)
}

func TestUnsignedBatchSlashing(t *testing.T) {
	for _, tc := range []struct {
		name   string
		before func(t *testing.T, f *testutil.Fixture, vals []bridgeVal) []bridgeVal
	}{
		{"silent members of the valset in force are punished", func(t *testing.T, f *testutil.Fixture, vals []bridgeVal) []bridgeVal {
			confirmBatch(t, f, vals[0], 1)
			confirmBatch(t, f, vals[1], 1)
			confirmBatch(t, f, vals[2], 1)
			return []bridgeVal{vals[3]}
		}},
		{"a batch bridged before the window closed punishes no one", func(t *testing.T, f *testutil.Fixture, vals []bridgeVal) []bridgeVal {
			for _, v := range vals[:4] {
				confirmBatch(t, f, v, 1)
				_, err := attest(f, v, 1, 0, txHash(1))
				require.NoError(t, err)
			}
			b, err := f.LeaseKeeper.GetBatch(f.Ctx, 1)
			require.NoError(t, err)
			require.Equal(t, leasetypes.BATCH_STATE_BRIDGED, b.State)
			return nil
		}},
		{"a validator that joined after the batch was made is not punished", func(t *testing.T, f *testutil.Fixture, vals []bridgeVal) []bridgeVal {
			for _, v := range vals[:4] {
				confirmBatch(t, f, v, 1)
			}
			register(t, f, vals[4])
			f.SetHeight(f.Height() + 1)
			require.NoError(t, f.EndBlock()) // valset 2, which vals[4] must sign in its own window
			for _, v := range vals {
				confirmValset(t, f, v, 2)
			}
			return nil
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f, vals := upkeepFixture(t, 5, 0, 1, 100)
			register(t, f, vals[:4]...)
			require.NoError(t, f.EndBlock()) // valset 1
			for _, v := range vals[:4] {
				confirmValset(t, f, v, 1)
			}
			next(t, f)
			makeBatch(t, f, 1)
			made := f.Height()
			require.NoError(t, f.EndBlock()) // observes batch 1 with valset 1 in force
			last, err := f.Keeper.LastObservedBatch.Get(f.Ctx)
			require.NoError(t, err)
			require.Equal(t, uint64(1), last)
			want := tc.before(t, f, vals)
			f.SetHeight(made + 1)
			f.RunBlocks(made + testWindow - 1)
			require.Empty(t, f.Staking.Slashes)
			next(t, f)
			require.Equal(t, valopers(want...), slashedVals(f))
			for _, ev := range slashEvents(f) {
				require.Equal(t, "batch", ev.Kind)
				require.Equal(t, uint64(1), ev.Nonce)
				require.Equal(t, made, ev.CreatedHeight)
				require.True(t, ev.Jailed)
			}
		})
	}
}

func TestNoSigningWindowWithoutValsetOrWindow(t *testing.T) {
	// A batch made before any valset expects no one's signature.
	f, vals := upkeepFixture(t, 3, 0, 1, 100)
	makeBatch(t, f, 1)
	require.NoError(t, f.EndBlock())
	register(t, f, vals...)
	next(t, f) // valset 1, signed by everyone
	for _, v := range vals {
		confirmValset(t, f, v, 1)
	}
	f.RunBlocks(f.Height() + testWindow + 1)
	require.Empty(t, f.Staking.Slashes, "valset 1 was made after the batch")

	// signed_window_blocks 0 turns the check off.
	g, gvals := upkeepFixture(t, 3, 0, 1, 100)
	p := g.Params()
	p.SignedWindowBlocks = 0
	g.SetParams(p)
	register(t, g, gvals...)
	g.RunBlocks(g.Height() + 3*testWindow)
	require.Empty(t, g.Staking.Slashes)
	it, err := g.Keeper.UnsignedChecks.Iterate(g.Ctx, nil)
	require.NoError(t, err)
	keys, err := it.Keys()
	require.NoError(t, err)
	require.Empty(t, keys)
}

// confirmsOf counts the confirmations stored for a valset or batch nonce.
func confirmsOf(t *testing.T, m collections.Map[collections.Pair[uint64, string], types.BridgeConfirm], f *testutil.Fixture, nonce uint64) int {
	t.Helper()
	it, err := m.Iterate(f.Ctx, collections.NewPrefixedPairRange[uint64, string](nonce))
	require.NoError(t, err)
	keys, err := it.Keys()
	require.NoError(t, err)
	return len(keys)
}

func TestValsetPruning(t *testing.T) {
	const retention = 20
	// Two valsets kept, 3 records per block: a valset's 4 confirmations and itself take two blocks.
	f, vals := upkeepFixture(t, 4, retention, 2, 3)
	register(t, f, vals...)
	require.NoError(t, f.EndBlock())
	heights := map[uint64]int64{1: f.Height()}
	// Valsets 2..4, one every 3 blocks (a power move of over 5% each), all signed by everyone.
	bz, err := f.AddressCodec.StringToBytes(vals[0].operator)
	require.NoError(t, err)
	for _, v := range vals {
		confirmValset(t, f, v, 1)
	}
	for nonce := uint64(2); nonce <= 4; nonce++ {
		f.SetHeight(f.Height() + 3)
		f.Staking.SetPower(bz, 10+5*int64(nonce))
		require.NoError(t, f.EndBlock())
		vs, _, _ := f.Keeper.LatestValset(f.Ctx)
		require.Equal(t, nonce, vs.Nonce)
		heights[nonce] = f.Height()
		for _, v := range vals {
			confirmValset(t, f, v, nonce)
		}
	}
	require.Empty(t, f.Staking.Slashes)

	// Valset 1 goes once valset 3 (two newer) is retention blocks old; valset 2 once valset 4 is. Valsets 3
	// and 4 are the newest two and stay.
	due1 := heights[3] + retention
	f.SetHeight(heights[4] + 1)
	f.RunBlocks(due1 - 1)
	require.Equal(t, 4, confirmsOf(t, f.Keeper.ValsetConfirms, f, 1), "not retention blocks after valset 3 yet")
	next(t, f)
	require.Equal(t, 1, confirmsOf(t, f.Keeper.ValsetConfirms, f, 1), "3 records per block")
	var pruned []*types.EventBridgePruned
	for _, e := range f.TypedEvents() {
		if ev, ok := e.(*types.EventBridgePruned); ok {
			pruned = append(pruned, ev)
		}
	}
	require.Equal(t, []*types.EventBridgePruned{{Kind: "valset", Nonce: 1, Confirms: 3, Done: false}}, pruned)
	next(t, f)
	require.Zero(t, confirmsOf(t, f.Keeper.ValsetConfirms, f, 1))
	has, err := f.Keeper.Valsets.Has(f.Ctx, 1)
	require.NoError(t, err)
	require.False(t, has, "valset 1 is pruned after its confirmations")
	has, _ = f.Keeper.Valsets.Has(f.Ctx, 2)
	require.True(t, has)

	// A genesis round trip keeps the queue; the imported chain prunes valset 2 at the same height.
	gs := exported(t, f)
	require.NoError(t, gs.Validate())
	require.NotEmpty(t, gs.BridgePrunes)
	g := testutil.NewFixtureWithoutGenesis(t)
	*g.Staking = *f.Staking
	g.SetHeight(f.Height())
	require.NoError(t, g.Keeper.InitGenesis(g.Ctx, *gs))
	require.Equal(t, gs, exported(t, g))

	for _, x := range []*testutil.Fixture{f, g} {
		x.SetHeight(x.Height() + 1)
		x.RunBlocks(heights[4] + retention + 3)
		for nonce := uint64(2); nonce <= 4; nonce++ {
			has, err := x.Keeper.Valsets.Has(x.Ctx, nonce)
			require.NoError(t, err)
			require.Equal(t, nonce > 2, has, "valset %d", nonce)
		}
	}
	require.Equal(t, exported(t, f), exported(t, g))

	// The newest valsets_kept are never pruned, however old.
	f.RunBlocks(f.Height() + 5*retention)
	for nonce := uint64(3); nonce <= 4; nonce++ {
		has, _ := f.Keeper.Valsets.Has(f.Ctx, nonce)
		require.True(t, has, "valset %d", nonce)
		require.Equal(t, 4, confirmsOf(t, f.Keeper.ValsetConfirms, f, nonce))
	}
	res, err := f.QueryServer.Valset(f.Ctx, &types.QueryValsetRequest{})
	require.NoError(t, err)
	require.Equal(t, uint64(4), res.Valset.Nonce)
}

func TestBatchPruning(t *testing.T) {
	const retention = 10
	f, vals := upkeepFixture(t, 3, retention, 1, 100)
	register(t, f, vals...)
	require.NoError(t, f.EndBlock())
	for _, v := range vals {
		confirmValset(t, f, v, 1)
	}
	next(t, f)
	makeBatch(t, f, 1)
	makeBatch(t, f, 2)
	makeBatch(t, f, 3)
	require.NoError(t, f.EndBlock())
	for nonce := uint64(1); nonce <= 3; nonce++ {
		for _, v := range vals {
			confirmBatch(t, f, v, nonce)
		}
	}
	// Batch 2 executes right after batch 0: batch 1 is cancelled, batch 2 BRIDGED; batch 3 stays pending.
	for _, v := range vals {
		_, err := attest(f, v, 2, 0, txHash(2))
		require.NoError(t, err)
	}
	closed := f.Height()
	b1, _ := f.LeaseKeeper.GetBatch(f.Ctx, 1)
	require.Equal(t, leasetypes.BATCH_STATE_CANCELLED, b1.State)

	f.RunBlocks(closed + retention - 1)
	for nonce := uint64(1); nonce <= 3; nonce++ {
		require.Equal(t, 3, confirmsOf(t, f.Keeper.BatchConfirms, f, nonce), "batch %d: within retention", nonce)
	}
	next(t, f)
	for nonce := uint64(1); nonce <= 2; nonce++ {
		require.Zero(t, confirmsOf(t, f.Keeper.BatchConfirms, f, nonce), "batch %d: closed retention blocks ago", nonce)
	}
	it, err := f.Keeper.BatchAttestations.Iterate(f.Ctx, collections.NewPrefixedPairRange[uint64, []byte](2))
	require.NoError(t, err)
	atts, err := it.Keys()
	require.NoError(t, err)
	require.Empty(t, atts)
	voted, err := f.Keeper.AttestVotes.Has(f.Ctx, collections.Join(uint64(2), vals[0].valoper))
	require.NoError(t, err)
	require.False(t, voted)
	// x/lease keeps the batches themselves.
	b2, err := f.LeaseKeeper.GetBatch(f.Ctx, 2)
	require.NoError(t, err)
	require.Equal(t, leasetypes.BATCH_STATE_BRIDGED, b2.State)

	// A pending batch keeps its confirmations however long it waits.
	f.RunBlocks(f.Height() + 4*retention)
	require.Equal(t, 3, confirmsOf(t, f.Keeper.BatchConfirms, f, 3))
	gs := exported(t, f)
	require.NoError(t, gs.Validate())
	found := false
	for _, q := range gs.BridgePrunes {
		found = found || (q.Kind == types.BRIDGE_ITEM_KIND_BATCH && q.Nonce == 3 && q.Height > f.Height())
	}
	require.True(t, found, "batch 3 waits in the queue: %v", gs.BridgePrunes)
}

// TestBatchPruningKeepsVotesWithAttestations prunes a bridged batch's two attestations (five votes and
// one) at two records a block and requires, after every block, that the stored votes are exactly the
// validators the stored attestations list — the state an export rebuilds the votes from — until nothing
// of the batch is left.
func TestBatchPruningKeepsVotesWithAttestations(t *testing.T) {
	f, vals := upkeepFixture(t, 6, testWindow+1, 1, 2)
	register(t, f, vals...)
	require.NoError(t, f.EndBlock())
	for _, v := range vals {
		confirmValset(t, f, v, 1)
	}
	next(t, f)
	makeBatch(t, f, 1)
	require.NoError(t, f.EndBlock())
	// One validator attests a wrong transaction first; five of six then attest the right one, which applies.
	_, err := attest(f, vals[5], 1, 0, txHash(9))
	require.NoError(t, err)
	for _, v := range vals[:5] {
		_, err := attest(f, v, 1, 0, txHash(1))
		require.NoError(t, err)
	}
	b, err := f.LeaseKeeper.GetBatch(f.Ctx, 1)
	require.NoError(t, err)
	require.Equal(t, leasetypes.BATCH_STATE_BRIDGED, b.State)

	consistent := func() (votes int) {
		t.Helper()
		it, err := f.Keeper.BatchAttestations.Iterate(f.Ctx, collections.NewPrefixedPairRange[uint64, []byte](1))
		require.NoError(t, err)
		atts, err := it.Values()
		require.NoError(t, err)
		var listed []string
		for _, a := range atts {
			require.NotEmpty(t, a.Validators, "an attestation without validators is left behind")
			listed = append(listed, a.Validators...)
		}
		vit, err := f.Keeper.AttestVotes.Iterate(f.Ctx, collections.NewPrefixedPairRange[uint64, string](1))
		require.NoError(t, err)
		keys, err := vit.Keys()
		require.NoError(t, err)
		var voted []string
		for _, k := range keys {
			voted = append(voted, k.K2())
		}
		slices.Sort(listed)
		require.Equal(t, listed, voted, "votes and the attestations' validators differ")
		return len(voted)
	}
	require.Equal(t, 6, consistent())
	seen := map[int]bool{}
	for range 20 {
		next(t, f)
		n := consistent()
		seen[n] = true
		if n == 0 && confirmsOf(t, f.Keeper.BatchConfirms, f, 1) == 0 {
			break
		}
	}
	require.Zero(t, consistent())
	require.Zero(t, confirmsOf(t, f.Keeper.BatchConfirms, f, 1))
	require.True(t, seen[4] || seen[3] || seen[2] || seen[1], "pruning never stopped half-way through the votes: %v", seen)
	gs := exported(t, f)
	require.NoError(t, gs.Validate())
	for _, q := range gs.BridgePrunes {
		require.False(t, q.Kind == types.BRIDGE_ITEM_KIND_BATCH && q.Nonce == 1, "batch 1 is still queued: %v", gs.BridgePrunes)
	}
}

func TestBridgeRetentionZeroKeepsEverything(t *testing.T) {
	f, vals := upkeepFixture(t, 3, 0, 1, 100)
	register(t, f, vals...)
	require.NoError(t, f.EndBlock())
	bz, err := f.AddressCodec.StringToBytes(vals[0].operator)
	require.NoError(t, err)
	for nonce := uint64(1); nonce <= 3; nonce++ {
		for _, v := range vals {
			confirmValset(t, f, v, nonce)
		}
		f.SetHeight(f.Height() + 1)
		f.Staking.SetPower(bz, 10+10*int64(nonce))
		require.NoError(t, f.EndBlock())
	}
	f.RunBlocks(f.Height() + 100)
	for nonce := uint64(1); nonce <= 3; nonce++ {
		require.Equal(t, 3, confirmsOf(t, f.Keeper.ValsetConfirms, f, nonce))
	}
}

func TestBridgeUpkeepParams(t *testing.T) {
	ok := types.DefaultParams()
	require.NoError(t, ok.Validate())
	for _, tc := range []struct {
		name     string
		mutate   func(p *types.Params)
		contains string
	}{
		{"retention not above the window", func(p *types.Params) { p.BridgeRetentionBlocks = p.SignedWindowBlocks }, "bridge_retention_blocks"},
		{"retention too long", func(p *types.Params) { p.BridgeRetentionBlocks = types.MaxBlocksParam + 1 }, "bridge_retention_blocks"},
		{"window too long", func(p *types.Params) { p.SignedWindowBlocks = types.MaxBlocksParam + 1 }, "signed_window_blocks"},
		{"no valset kept", func(p *types.Params) { p.ValsetsKept = 0 }, "valsets_kept"},
		{"no pruning budget", func(p *types.Params) { p.MaxBridgePrunedPerBlock = 0 }, "max_bridge_pruned_per_block"},
		{"no check budget", func(p *types.Params) { p.MaxUnsignedChecksPerBlock = 0 }, "max_unsigned_checks_per_block"},
		{"fraction above 1", func(p *types.Params) { p.SlashFractionUnsigned = math.LegacyNewDec(2) }, "slash_fraction_unsigned"},
		{"negative fraction", func(p *types.Params) { p.SlashFractionUnsigned = math.LegacyNewDec(-1) }, "slash_fraction_unsigned"},
		{"missing fraction", func(p *types.Params) { p.SlashFractionUnsigned = math.LegacyDec{} }, "slash_fraction_unsigned"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := types.DefaultParams()
			tc.mutate(&p)
			err := p.Validate()
			require.ErrorIs(t, err, types.ErrInvalidParams)
			require.ErrorContains(t, err, tc.contains)
		})
	}
	// Retention 0 keeps everything whatever the window; window 0 allows any retention.
	p := types.DefaultParams()
	p.BridgeRetentionBlocks = 0
	require.NoError(t, p.Validate())
	p = types.DefaultParams()
	p.SignedWindowBlocks, p.BridgeRetentionBlocks = 0, 1
	require.NoError(t, p.Validate())
}

func TestBridgeQueueGenesisValidation(t *testing.T) {
	good := types.UnsignedCheck{DueHeight: 15, Kind: types.BRIDGE_ITEM_KIND_BATCH, Nonce: 1, CreatedHeight: 10, ValsetNonce: 1}
	for _, tc := range []struct {
		name   string
		mutate func(gs *types.GenesisState)
	}{
		{"prune of no kind", func(gs *types.GenesisState) { gs.BridgePrunes = []types.BridgePrune{{Height: 1, Nonce: 1}} }},
		{"prune of nonce 0", func(gs *types.GenesisState) {
			gs.BridgePrunes = []types.BridgePrune{{Height: 1, Kind: types.BRIDGE_ITEM_KIND_VALSET}}
		}},
		{"prune twice", func(gs *types.GenesisState) {
			q := types.BridgePrune{Height: 1, Kind: types.BRIDGE_ITEM_KIND_VALSET, Nonce: 1}
			gs.BridgePrunes = []types.BridgePrune{q, q}
		}},
		{"check due before it was made", func(gs *types.GenesisState) {
			c := good
			c.DueHeight = c.CreatedHeight
			gs.UnsignedChecks = []types.UnsignedCheck{c}
		}},
		{"check without a valset", func(gs *types.GenesisState) {
			c := good
			c.ValsetNonce = 0
			gs.UnsignedChecks = []types.UnsignedCheck{c}
		}},
		{"valset check of another valset", func(gs *types.GenesisState) {
			c := good
			c.Kind, c.Nonce, c.ValsetNonce = types.BRIDGE_ITEM_KIND_VALSET, 2, 1
			gs.UnsignedChecks = []types.UnsignedCheck{c}
		}},
		{"check twice", func(gs *types.GenesisState) { gs.UnsignedChecks = []types.UnsignedCheck{good, good} }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			gs := types.DefaultGenesis()
			tc.mutate(gs)
			require.ErrorIs(t, gs.Validate(), types.ErrInvalidGenesis)
		})
	}
	gs := types.DefaultGenesis()
	gs.UnsignedChecks = []types.UnsignedCheck{good}
	gs.BridgePrunes = []types.BridgePrune{{Height: 30, Kind: types.BRIDGE_ITEM_KIND_BATCH, Nonce: 1}}
	gs.LastObservedBatchNonce = 1
	require.NoError(t, gs.Validate())
}
