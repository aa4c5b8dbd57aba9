package keeper_test

import (
	"slices"
	"testing"

	"github.com/cosmos/gogoproto/proto"
	"github.com/stretchr/testify/require"

	"cosmossdk.io/math"

	sdk "github.com/cosmos/cosmos-sdk/types"
	minttypes "github.com/cosmos/cosmos-sdk/x/mint/types"

	allocationtypes "github.com/consensus-nro/nro/x/allocation/types"
	audittestutil "github.com/consensus-nro/nro/x/audit/testutil"
	"github.com/consensus-nro/nro/x/audit/types"
)

// The challenge fixture: the four mesh nodes on one lease, and six more nodes in the same region that can sit
// on committees. mesh-a reports its link to mesh-b at 300 µs and 30 Gbit/s; the truth is about 1 ms and
// 9 Gbit/s.
var committeePool = []string{"cm-1", "cm-2", "cm-3", "cm-4", "cm-5", "cm-6"}

const bond = 10_000_000

func challengeFixture(t *testing.T) *audittestutil.Fixture {
	t.Helper()
	f, _ := meshFixture(t)
	for _, n := range committeePool {
		f.AddNode(n)
	}
	startEpoch(t, f, 2)
	submit(t, f, report(f, "mesh-a", probe("mesh-b", 300, 30_000_000), probe("mesh-c", 1_000, 9_000_000), probe("mesh-d", 1_000, 9_000_000)))
	fund(t, f, f.Addr("challenger"), 5*bond)
	f.ResetEvents()
	return f
}

func fund(t *testing.T, f *audittestutil.Fixture, addr string, amount int64) {
	t.Helper()
	coins := sdk.NewCoins(sdk.NewCoin(audittestutil.Denom, math.NewInt(amount)))
	require.NoError(t, f.Bank.MintCoins(f.Ctx, minttypes.ModuleName, coins))
	require.NoError(t, f.Bank.SendCoinsFromModuleToAccount(f.Ctx, minttypes.ModuleName, sdk.MustAccAddressFromBech32(addr), coins))
}

func challengeMsg(f *audittestutil.Fixture) *types.MsgChallengeTelemetry {
	return &types.MsgChallengeTelemetry{
		Challenger: f.Addr("challenger"), NodeId: "mesh-a", Epoch: 2, PeerNodeId: "mesh-b",
		RttUs: 1_000, ThroughputKbps: 9_000_000, Bond: sdk.NewCoin(audittestutil.Denom, math.NewInt(bond)),
	}
}

func openChallenge(t *testing.T, f *audittestutil.Fixture) *types.MsgChallengeTelemetryResponse {
	t.Helper()
	res, err := f.MsgServer.ChallengeTelemetry(f.Ctx, challengeMsg(f))
	require.NoError(t, err)
	f.RequireInvariant()
	return res
}

func answer(t *testing.T, f *audittestutil.Fixture, id uint64, member string, rtt, kbps uint64) *types.MsgAnswerChallengeResponse {
	t.Helper()
	res, err := f.MsgServer.AnswerChallenge(f.Ctx, &types.MsgAnswerChallenge{Agent: f.Agent(member), ChallengeId: id, NodeId: member, RttUs: rtt, ThroughputKbps: kbps})
	require.NoError(t, err)
	f.RequireInvariant()
	return res
}

func challenge(t *testing.T, f *audittestutil.Fixture, id uint64) types.Challenge {
	t.Helper()
	res, err := f.QueryServer.Challenge(f.Ctx, &types.QueryChallengeRequest{ChallengeId: id})
	require.NoError(t, err)
	return res.Challenge
}

// requireEvent requires an event equal to want (as protobuf: an empty list equals an unset one).
func requireEvent(t *testing.T, f *audittestutil.Fixture, want proto.Message) {
	t.Helper()
	wantBz, err := proto.Marshal(want)
	require.NoError(t, err)
	for _, ev := range f.TypedEvents() {
		bz, err := proto.Marshal(ev)
		require.NoError(t, err)
		if proto.MessageName(ev) == proto.MessageName(want) && string(bz) == string(wantBz) {
			return
		}
	}
	require.Failf(t, "event not emitted", "%v not in %v", want, f.TypedEvents())
}

func supply(f *audittestutil.Fixture) int64 {
	return f.Bank.GetSupply(f.Ctx, audittestutil.Denom).Amount.Int64()
}

// TestChallengeCommittee: members are drawn from the region's ACTIVE nodes without the two ends of the link, a
// node the challenger runs, a node of the challenged node's operator, and a second node of one operator.
func TestChallengeCommittee(t *testing.T) {
	f := challengeFixture(t)
	// The challenger is the agent of cm-3: cm-3 must not judge its own challenge.
	n := f.Node("cm-3")
	n.Agent = f.Addr("challenger")
	f.SetNode(n)
	j := f.Node("cm-5")
	j.Status = allocationtypes.NODE_STATUS_JAILED
	j.JailedUntilHeight = f.Height() + 100
	f.SetNode(j)
	// cm-4 is run by mesh-a's operator; cm-6 by cm-1's.
	o := f.Node("cm-4")
	o.Operator = f.Node("mesh-a").Operator
	f.SetNode(o)
	o = f.Node("cm-6")
	o.Operator = f.Node("cm-1").Operator
	f.SetNode(o)
	res := openChallenge(t, f)
	require.Len(t, res.Committee, 4, "mesh-c, mesh-d, cm-2 and one of cm-1 and cm-6")
	for _, m := range res.Committee {
		require.NotContains(t, []string{"mesh-a", "mesh-b", "cm-3", "cm-4", "cm-5"}, m)
	}
	require.False(t, slices.Contains(res.Committee, "cm-1") && slices.Contains(res.Committee, "cm-6"), "one member per operator")
	c := challenge(t, f, res.ChallengeId)
	require.Equal(t, res.Committee, c.Committee)
	require.Equal(t, f.Height()+int64(types.DefaultChallengeBlocks), c.DeadlineHeight)
	require.Equal(t, uint64(300), c.ClaimedRttUs)
	require.Equal(t, uint64(30_000_000), c.ClaimedThroughputKbps)
	requireEvent(t, f, &types.EventChallengeOpened{Challenge: c})
	require.Equal(t, int64(4*bond), balance(t, f, f.Addr("challenger")), "the bond is escrowed")
}

// TestChallengeUpheld: the committee measures about 1 ms and 9 Gbit/s; the report's 300 µs is far off and the
// challenger's 1 ms is right. The fifth answer decides: the node loses challenge_slash_bps of its stake, half
// to the challenger and half burned, and a CHALLENGE_LOST fault; the challenger's bond comes back.
func TestChallengeUpheld(t *testing.T) {
	f := challengeFixture(t)
	before := supply(f)
	stake := f.Node("mesh-a").Stake.Amount.Int64()
	res := openChallenge(t, f)
	for i, m := range res.Committee {
		got := answer(t, f, res.ChallengeId, m, uint64(950+20*i), uint64(8_800_000+100_000*i))
		require.Equal(t, i == len(res.Committee)-1, got.Resolved)
	}
	c := challenge(t, f, res.ChallengeId)
	require.Equal(t, types.CHALLENGE_STATUS_UPHELD, c.Status)
	require.Equal(t, uint64(990), c.MedianRttUs)
	require.Equal(t, uint64(9_000_000), c.MedianThroughputKbps)
	slashed := stake * int64(types.DefaultChallengeSlashBps) / 10_000
	require.Equal(t, stake-slashed, f.Node("mesh-a").Stake.Amount.Int64())
	require.Equal(t, slashed, c.Forfeited.Amount.Int64())
	require.Equal(t, slashed/2, c.Reward.Amount.Int64())
	require.Equal(t, int64(5*bond)+slashed/2, balance(t, f, f.Addr("challenger")))
	require.Equal(t, before-(slashed-slashed/2), supply(f), "the rest of the forfeit is burned")
	fault, err := f.Keeper.Faults.Get(f.Ctx, c.FaultId)
	require.NoError(t, err)
	require.Equal(t, types.FAULT_KIND_CHALLENGE_LOST, fault.Kind)
	require.Equal(t, "mesh-a", fault.NodeId)
	require.Equal(t, allocationtypes.NODE_STATUS_ACTIVE, f.Node("mesh-a").Status, "one fault is within max_faults")
	requireEvent(t, f, &types.EventChallengeResolved{Challenge: c})
	list, err := f.QueryServer.Challenges(f.Ctx, &types.QueryChallengesRequest{NodeId: "mesh-a", Status: types.CHALLENGE_STATUS_UPHELD})
	require.NoError(t, err)
	require.Equal(t, []types.Challenge{c}, list.Challenges)
	list, err = f.QueryServer.Challenges(f.Ctx, &types.QueryChallengesRequest{Status: types.CHALLENGE_STATUS_OPEN})
	require.NoError(t, err)
	require.Empty(t, list.Challenges)
}

// TestChallengeRejected: the committee agrees with the report (about 300 µs); the challenger forfeits its bond:
// half to the node's operator, half burned.
func TestChallengeRejected(t *testing.T) {
	f := challengeFixture(t)
	before := supply(f)
	operator := f.Node("mesh-a").Operator
	res := openChallenge(t, f)
	for i, m := range res.Committee {
		answer(t, f, res.ChallengeId, m, uint64(290+5*i), 29_000_000)
	}
	c := challenge(t, f, res.ChallengeId)
	require.Equal(t, types.CHALLENGE_STATUS_REJECTED, c.Status)
	require.Zero(t, c.FaultId)
	require.Equal(t, int64(bond), c.Forfeited.Amount.Int64())
	require.Equal(t, int64(4*bond), balance(t, f, f.Addr("challenger")))
	require.Equal(t, int64(bond/2), balance(t, f, operator))
	require.Equal(t, before-bond/2, supply(f))
	require.Empty(t, faultsOf(t, f, "mesh-a"))
}

// TestChallengeTimesOut: two of five answer before the deadline. At the deadline's EndBlock the challenge is
// void: the report stands, the bond is returned, and the three silent members lose reputation.
func TestChallengeTimesOut(t *testing.T) {
	f := challengeFixture(t)
	res := openChallenge(t, f)
	answer(t, f, res.ChallengeId, res.Committee[0], 1_000, 9_000_000)
	answer(t, f, res.ChallengeId, res.Committee[1], 1_000, 9_000_000)
	f.RunBlocks(res.DeadlineHeight - 1)
	require.Equal(t, types.CHALLENGE_STATUS_OPEN, challenge(t, f, res.ChallengeId).Status)
	// The last block of the window still takes answers; its EndBlock decides.
	f.SetHeight(res.DeadlineHeight)
	answer(t, f, res.ChallengeId, res.Committee[2], 1_000, 9_000_000)
	require.NoError(t, f.EndBlock())
	f.RequireInvariant()
	c := challenge(t, f, res.ChallengeId)
	require.Equal(t, types.CHALLENGE_STATUS_UPHELD, c.Status, "three of five is a quorum")

	g := challengeFixture(t)
	res = openChallenge(t, g)
	answer(t, g, res.ChallengeId, res.Committee[0], 1_000, 9_000_000)
	answer(t, g, res.ChallengeId, res.Committee[1], 1_000, 9_000_000)
	g.RunBlocks(res.DeadlineHeight)
	g.RequireInvariant()
	c = challenge(t, g, res.ChallengeId)
	require.Equal(t, types.CHALLENGE_STATUS_VOID, c.Status)
	require.Equal(t, int64(5*bond), balance(t, g, g.Addr("challenger")), "the bond is returned")
	// The deadline block's EndBlock decided it: the three silent members, and only they, lost reputation.
	var silent []string
	for _, ev := range g.TypedEvents() {
		if r, ok := ev.(*types.EventReputationChanged); ok && r.Reason == types.REPUTATION_REASON_COMMITTEE_SILENT {
			silent = append(silent, r.NodeId)
			require.Equal(t, r.OldBps-g.Params().ReputationDisputePenaltyBps, r.NewBps)
		}
	}
	require.Equal(t, res.Committee[2:], silent)
	g.SetHeight(res.DeadlineHeight + 1)
	_, err := g.MsgServer.AnswerChallenge(g.Ctx, &types.MsgAnswerChallenge{Agent: g.Agent(res.Committee[4]), ChallengeId: res.ChallengeId, NodeId: res.Committee[4], RttUs: 1, ThroughputKbps: 1})
	require.ErrorIs(t, err, types.ErrChallengeClosed)
}

// TestChallengeRefusals: every bad challenge or answer is refused with a clear error and changes nothing.
func TestChallengeRefusals(t *testing.T) {
	cases := []struct {
		name   string
		setup  func(f *audittestutil.Fixture) uint64
		msg    func(f *audittestutil.Fixture, id uint64) sdk.Msg
		err    error
		substr string
	}{
		{name: "challenge without bond", msg: func(f *audittestutil.Fixture, _ uint64) sdk.Msg {
			m := challengeMsg(f)
			m.Bond = sdk.NewCoin(audittestutil.Denom, math.ZeroInt())
			return m
		}, err: types.ErrChallengeBond, substr: "positive bond"},
		{name: "bond below the minimum", msg: func(f *audittestutil.Fixture, _ uint64) sdk.Msg {
			m := challengeMsg(f)
			m.Bond = sdk.NewCoin(audittestutil.Denom, math.NewInt(bond-1))
			return m
		}, err: types.ErrChallengeBond, substr: "at least min_challenge_bond 10000000unro"},
		{name: "bond in another denom", msg: func(f *audittestutil.Fixture, _ uint64) sdk.Msg {
			m := challengeMsg(f)
			m.Bond = sdk.NewCoin("uatom", math.NewInt(bond))
			return m
		}, err: types.ErrChallengeBond},
		{name: "more bond than the challenger has", msg: func(f *audittestutil.Fixture, _ uint64) sdk.Msg {
			m := challengeMsg(f)
			m.Bond = sdk.NewCoin(audittestutil.Denom, math.NewInt(6*bond))
			return m
		}, substr: "insufficient funds"},
		{name: "no such report", msg: func(f *audittestutil.Fixture, _ uint64) sdk.Msg {
			m := challengeMsg(f)
			m.NodeId = "mesh-c"
			return m
		}, err: types.ErrReportNotFound, substr: "node mesh-c has no report for epoch 2"},
		{name: "link not in the report", msg: func(f *audittestutil.Fixture, _ uint64) sdk.Msg {
			m := challengeMsg(f)
			m.PeerNodeId = "cm-1"
			return m
		}, err: types.ErrInvalidChallenge, substr: "no probe link to cm-1"},
		{name: "the node's own operator", msg: func(f *audittestutil.Fixture, _ uint64) sdk.Msg {
			m := challengeMsg(f)
			m.Challenger = f.Node("mesh-a").Operator
			return m
		}, err: types.ErrInvalidChallenge, substr: "cannot challenge its own report"},
		{name: "missing counter-evidence", msg: func(f *audittestutil.Fixture, _ uint64) sdk.Msg {
			m := challengeMsg(f)
			m.RttUs = 0
			return m
		}, err: types.ErrInvalidChallenge, substr: "counter-evidence"},
		{name: "the link challenged twice", setup: func(f *audittestutil.Fixture) uint64 { return openChallenge(f.T.(*testing.T), f).ChallengeId },
			msg: func(f *audittestutil.Fixture, _ uint64) sdk.Msg { return challengeMsg(f) }, err: types.ErrDuplicateChallenge, substr: "challenge 1 already disputes"},
		{name: "past the challenge window", setup: func(f *audittestutil.Fixture) uint64 {
			startEpoch(f.T.(*testing.T), f, 2+types.DefaultChallengeWindowEpochs+1)
			return 0
		}, msg: func(f *audittestutil.Fixture, _ uint64) sdk.Msg { return challengeMsg(f) }, err: types.ErrInvalidChallenge, substr: "can be challenged until epoch 4"},
		{name: "answer from outside the committee", setup: func(f *audittestutil.Fixture) uint64 { return openChallenge(f.T.(*testing.T), f).ChallengeId },
			msg: func(f *audittestutil.Fixture, id uint64) sdk.Msg {
				return &types.MsgAnswerChallenge{Agent: f.Agent("mesh-b"), ChallengeId: id, NodeId: "mesh-b", RttUs: 300, ThroughputKbps: 30_000_000}
			}, err: types.ErrNotCommitteeMember},
		{name: "answer signed by another agent", setup: func(f *audittestutil.Fixture) uint64 { return openChallenge(f.T.(*testing.T), f).ChallengeId },
			msg: func(f *audittestutil.Fixture, id uint64) sdk.Msg {
				m := challenge(f.T.(*testing.T), f, id).Committee[0]
				return &types.MsgAnswerChallenge{Agent: f.Agent("mesh-b"), ChallengeId: id, NodeId: m, RttUs: 300, ThroughputKbps: 30_000_000}
			}, err: types.ErrNotNodeAgent},
		{name: "a member answering twice", setup: func(f *audittestutil.Fixture) uint64 {
			res := openChallenge(f.T.(*testing.T), f)
			answer(f.T.(*testing.T), f, res.ChallengeId, res.Committee[0], 1_000, 9_000_000)
			f.ResetEvents()
			return res.ChallengeId
		}, msg: func(f *audittestutil.Fixture, id uint64) sdk.Msg {
			m := challenge(f.T.(*testing.T), f, id).Committee[0]
			return &types.MsgAnswerChallenge{Agent: f.Agent(m), ChallengeId: id, NodeId: m, RttUs: 1_000, ThroughputKbps: 9_000_000}
		}, err: types.ErrAlreadyAnswered},
		{name: "too few independent nodes for a committee", setup: func(f *audittestutil.Fixture) uint64 {
			for _, id := range append([]string{"mesh-c", "mesh-d"}, committeePool[:5]...) {
				n := f.Node(id)
				n.Status = allocationtypes.NODE_STATUS_JAILED
				n.JailedUntilHeight = f.Height() + 100
				f.SetNode(n)
			}
			return 0
		}, msg: func(f *audittestutil.Fixture, _ uint64) sdk.Msg { return challengeMsg(f) }, err: types.ErrNoCommittee, substr: "a committee needs at least 3"},
		{name: "answer to an unknown challenge", msg: func(f *audittestutil.Fixture, _ uint64) sdk.Msg {
			return &types.MsgAnswerChallenge{Agent: f.Agent("cm-1"), ChallengeId: 9, NodeId: "cm-1", RttUs: 1_000, ThroughputKbps: 9_000_000}
		}, err: types.ErrChallengeNotFound},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			f := challengeFixture(t)
			var id uint64
			if tc.setup != nil {
				id = tc.setup(f)
			}
			f.ResetEvents()
			before := snapshotAudit(t, f)
			challenger := balance(t, f, f.Addr("challenger"))
			var err error
			switch m := tc.msg(f, id).(type) {
			case *types.MsgChallengeTelemetry:
				cache, _ := f.Ctx.CacheContext() // a failed transaction's writes are dropped
				_, err = f.MsgServer.ChallengeTelemetry(cache, m)
			case *types.MsgAnswerChallenge:
				cache, _ := f.Ctx.CacheContext()
				_, err = f.MsgServer.AnswerChallenge(cache, m)
			}
			require.Error(t, err)
			if tc.err != nil {
				require.ErrorIs(t, err, tc.err)
			}
			require.ErrorContains(t, err, tc.substr)
			requireAuditUnchanged(t, f, before)
			require.Equal(t, challenger, balance(t, f, f.Addr("challenger")))
		})
	}
}

// TestChallengeGenesisRoundTrip: an open challenge and its bond survive export and import, and EndBlock
// decides it after the import.
func TestChallengeGenesisRoundTrip(t *testing.T) {
	f := challengeFixture(t)
	res := openChallenge(t, f)
	answer(t, f, res.ChallengeId, res.Committee[0], 1_000, 9_000_000)
	exported, err := f.Keeper.ExportGenesis(f.Ctx)
	require.NoError(t, err)
	require.NoError(t, exported.Validate())
	require.Len(t, exported.Challenges, 1)
	require.Equal(t, uint64(2), exported.NextChallengeId)

	g := audittestutil.NewFixtureWithoutGenesis(t)
	g.SetHeight(f.Height())
	// The bank's genesis holds the bond in x/audit's module account.
	coins := sdk.NewCoins(exported.Challenges[0].Bond)
	require.NoError(t, g.Bank.MintCoins(g.Ctx, minttypes.ModuleName, coins))
	require.NoError(t, g.Bank.SendCoinsFromModuleToModule(g.Ctx, minttypes.ModuleName, types.ModuleName, coins))
	require.NoError(t, g.Keeper.InitGenesis(g.Ctx, *exported))
	require.NoError(t, g.Keeper.CheckChallenges(g.Ctx))
	again, err := g.Keeper.ExportGenesis(g.Ctx)
	require.NoError(t, err)
	requireSameProto(t, exported, again)

	bad := *exported
	bad.NextChallengeId = 1
	require.ErrorContains(t, bad.Validate(), "not below next_challenge_id 1")
}

// TestChallengeOfASweptEpoch: a report challenged two epochs later, after its epoch's sweep is done, is
// faulted from its own epoch's start (where the node's service came into doubt), not from the verdict.
func TestChallengeOfASweptEpoch(t *testing.T) {
	f := challengeFixture(t)
	startEpoch(t, f, 4)
	f.RunBlocks(f.Height() + 5) // epoch 3's grace has passed and its sweep is done
	has, err := f.Keeper.Sweeps.Has(f.Ctx, 2)
	require.NoError(t, err)
	require.False(t, has)
	res := openChallenge(t, f)
	for _, m := range res.Committee {
		answer(t, f, res.ChallengeId, m, 1_000, 9_000_000)
	}
	c := challenge(t, f, res.ChallengeId)
	require.Equal(t, types.CHALLENGE_STATUS_UPHELD, c.Status)
	fault, err := f.Keeper.Faults.Get(f.Ctx, c.FaultId)
	require.NoError(t, err)
	require.Equal(t, uint64(2), fault.Epoch)
	require.Equal(t, epochStart(2), fault.EpochStartHeight)
}

// TestTwoChallengesUpheldOnOneReport: a report lies about two links; both challenges are upheld and each
// slashes challenge_slash_bps, but the report's epoch gets one CHALLENGE_LOST fault that both point to —
// at most one fault per node, epoch and kind, as genesis validation requires of an export.
func TestTwoChallengesUpheldOnOneReport(t *testing.T) {
	f, _ := meshFixture(t)
	for _, n := range committeePool {
		f.AddNode(n)
	}
	startEpoch(t, f, 2)
	submit(t, f, report(f, "mesh-a", probe("mesh-b", 300, 30_000_000), probe("mesh-c", 300, 30_000_000), probe("mesh-d", 1_000, 9_000_000)))
	fund(t, f, f.Addr("challenger"), 5*bond)
	stake := f.Node("mesh-a").Stake.Amount.Int64()
	var ids []uint64
	for _, peer := range []string{"mesh-b", "mesh-c"} {
		msg := challengeMsg(f)
		msg.PeerNodeId = peer
		res, err := f.MsgServer.ChallengeTelemetry(f.Ctx, msg)
		require.NoError(t, err, "challenge of the link to %s", peer)
		for i, m := range res.Committee {
			answer(t, f, res.ChallengeId, m, uint64(950+20*i), uint64(8_800_000+100_000*i))
		}
		ids = append(ids, res.ChallengeId)
	}
	first, second := challenge(t, f, ids[0]), challenge(t, f, ids[1])
	require.Equal(t, types.CHALLENGE_STATUS_UPHELD, first.Status)
	require.Equal(t, types.CHALLENGE_STATUS_UPHELD, second.Status)
	require.NotZero(t, first.FaultId)
	require.Equal(t, first.FaultId, second.FaultId, "both challenges point to the epoch's one fault")
	slashed := stake * int64(types.DefaultChallengeSlashBps) / 10_000
	after := stake - slashed
	require.Equal(t, after-after*int64(types.DefaultChallengeSlashBps)/10_000, f.Node("mesh-a").Stake.Amount.Int64(), "each upheld challenge slashes")
	lost := 0
	require.NoError(t, f.Keeper.Faults.Walk(f.Ctx, nil, func(_ uint64, fault types.Fault) (bool, error) {
		if fault.NodeId == "mesh-a" && fault.Kind == types.FAULT_KIND_CHALLENGE_LOST {
			lost++
		}
		return false, nil
	}))
	require.Equal(t, 1, lost)
	gs, err := f.Keeper.ExportGenesis(f.Ctx)
	require.NoError(t, err)
	require.NoError(t, gs.Validate(), "the export imports")
}
