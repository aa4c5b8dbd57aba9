package keeper

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"slices"

	"cosmossdk.io/collections"
	errorsmod "cosmossdk.io/errors"
	"cosmossdk.io/math"

	sdk "github.com/cosmos/cosmos-sdk/types"
	authtypes "github.com/cosmos/cosmos-sdk/x/auth/types"

	allocationtypes "github.com/consensus-nro/nro/x/allocation/types"
	"github.com/consensus-nro/nro/x/audit/types"
)

// Challenges. A party that believes a node's report lies about a link bonds a challenge with its own
// measurement. A committee of agents of ACTIVE nodes in the peer's region — the side of the link the
// challenged node claims to have measured — is drawn from the block hash, each probes the challenged node
// and answers within challenge_blocks; the lower medians of the answers decide (types.ChallengeVerdict).
// The loser forfeits: the node challenge_slash_bps of its stake and a CHALLENGE_LOST fault, or the
// challenger its bond; challenge_reward_bps of the forfeit goes to the winner and the rest is burned.
// Without a quorum by the deadline the challenge is void: the report stands, the bond is returned and the
// silent members lose reputation. The bonds of open challenges are held in x/audit's module account.

// ChallengeTelemetry opens a challenge. Every check runs before the first write.
func (k Keeper) ChallengeTelemetry(ctx context.Context, msg *types.MsgChallengeTelemetry) (*types.MsgChallengeTelemetryResponse, error) {
	if err := msg.ValidateBasic(); err != nil {
		return nil, err
	}
	p, err := k.Params.Get(ctx)
	if err != nil {
		return nil, err
	}
	if msg.Bond.Denom != p.MinChallengeBond.Denom || msg.Bond.IsLT(p.MinChallengeBond) {
		return nil, errorsmod.Wrapf(types.ErrChallengeBond, "bond %s: a challenge bonds at least min_challenge_bond %s", msg.Bond, p.MinChallengeBond)
	}
	challenger, err := k.canonicalAddress(msg.Challenger)
	if err != nil {
		return nil, errorsmod.Wrapf(types.ErrInvalidAddress, "challenger %q: %v", msg.Challenger, err)
	}
	report, err := k.Reports.Get(ctx, collections.Join(msg.NodeId, msg.Epoch))
	if errors.Is(err, collections.ErrNotFound) {
		return nil, errorsmod.Wrapf(types.ErrReportNotFound, "node %s has no report for epoch %d (nrod q audit telemetry %s)", msg.NodeId, msg.Epoch, msg.NodeId)
	}
	if err != nil {
		return nil, err
	}
	cur, err := k.Epoch.Get(ctx)
	if err != nil {
		return nil, err
	}
	if cur.Number > report.Epoch+p.ChallengeWindowEpochs {
		return nil, errorsmod.Wrapf(types.ErrInvalidChallenge, "the report of epoch %d can be challenged until epoch %d (challenge_window_epochs %d); the current epoch is %d",
			report.Epoch, report.Epoch+p.ChallengeWindowEpochs, p.ChallengeWindowEpochs, cur.Number)
	}
	i := slices.IndexFunc(report.Links, func(l types.LinkMeasurement) bool {
		return l.PeerNodeId == msg.PeerNodeId && l.Source == types.SOURCE_PROBE
	})
	if i < 0 {
		return nil, errorsmod.Wrapf(types.ErrInvalidChallenge, "the report of node %s for epoch %d has no probe link to %s; challenge a link it measured", msg.NodeId, msg.Epoch, msg.PeerNodeId)
	}
	claim := report.Links[i]
	linkKey := collections.Join3(msg.NodeId, msg.Epoch, msg.PeerNodeId)
	if id, err := k.ChallengedLinks.Get(ctx, linkKey); err == nil {
		return nil, errorsmod.Wrapf(types.ErrDuplicateChallenge, "challenge %d already disputes the link %s-%s of epoch %d (nrod q audit challenge %d)", id, msg.NodeId, msg.PeerNodeId, msg.Epoch, id)
	} else if !errors.Is(err, collections.ErrNotFound) {
		return nil, err
	}
	node, err := k.alloc.GetNode(ctx, msg.NodeId)
	if err != nil {
		return nil, errorsmod.Wrapf(types.ErrUnknownNode, "node %s: %v", msg.NodeId, err)
	}
	if challenger == node.Operator || challenger == node.Agent {
		return nil, errorsmod.Wrapf(types.ErrInvalidChallenge, "%s operates node %s or is its agent; a node cannot challenge its own report", challenger, node.Id)
	}
	peer, err := k.alloc.GetNode(ctx, msg.PeerNodeId)
	if err != nil {
		return nil, errorsmod.Wrapf(types.ErrUnknownNode, "peer %s: %v", msg.PeerNodeId, err)
	}

	id, err := k.ChallengeSeq.Peek(ctx)
	if err != nil {
		return nil, err
	}
	id = max(id, 1)
	sdkCtx := sdk.UnwrapSDKContext(ctx)
	committee, scanned, err := k.drawCommittee(ctx, p, id, node, peer, challenger)
	if err != nil {
		return nil, err
	}
	sdkCtx.GasMeter().ConsumeGas(p.GasPerReportEntry*uint64(scanned), "x/audit committee draw")
	if len(committee) < MinCommittee(p) {
		return nil, errorsmod.Wrapf(types.ErrNoCommittee, "%d independent ACTIVE nodes in %s (other than the parties and their operators and agents) can measure the link from the peer's side, of %d read; a committee needs at least %d (a majority of committee_size %d)",
			len(committee), peer.Region, scanned, MinCommittee(p), p.CommitteeSize)
	}

	challengerAddr, err := k.alloc.AddressCodec().StringToBytes(challenger)
	if err != nil {
		return nil, err
	}
	if err := k.bank.SendCoinsFromAccountToModule(ctx, challengerAddr, types.ModuleName, sdk.NewCoins(msg.Bond)); err != nil {
		return nil, errorsmod.Wrapf(err, "escrow the bond %s of %s", msg.Bond, challenger)
	}
	h := sdkCtx.BlockHeight()
	zero := sdk.NewCoin(msg.Bond.Denom, math.ZeroInt())
	c := types.Challenge{
		Id:                    id,
		Challenger:            challenger,
		NodeId:                msg.NodeId,
		Epoch:                 msg.Epoch,
		PeerNodeId:            msg.PeerNodeId,
		ClaimedRttUs:          claim.RttUs,
		ClaimedThroughputKbps: claim.ThroughputKbps,
		CounterRttUs:          msg.RttUs,
		CounterThroughputKbps: msg.ThroughputKbps,
		Bond:                  msg.Bond,
		Committee:             committee,
		Height:                h,
		DeadlineHeight:        h + int64(p.ChallengeBlocks),
		Status:                types.CHALLENGE_STATUS_OPEN,
		Forfeited:             zero,
		Reward:                zero,
	}
	if err := k.ChallengeSeq.Set(ctx, id+1); err != nil {
		return nil, err
	}
	if err := k.Challenges.Set(ctx, id, c); err != nil {
		return nil, err
	}
	if err := k.ChallengeDeadlines.Set(ctx, collections.Join(c.DeadlineHeight, id)); err != nil {
		return nil, err
	}
	if err := k.ChallengedLinks.Set(ctx, linkKey, id); err != nil {
		return nil, err
	}
	k.logger.Info("telemetry challenged", "challenge", id, "node", c.NodeId, "epoch", c.Epoch, "peer", c.PeerNodeId, "committee", len(committee))
	if err := sdkCtx.EventManager().EmitTypedEvent(&types.EventChallengeOpened{Challenge: c}); err != nil {
		return nil, err
	}
	return &types.MsgChallengeTelemetryResponse{ChallengeId: id, Committee: committee, DeadlineHeight: c.DeadlineHeight}, nil
}

// drawCommittee draws up to committee_size nodes for challenge id from the ACTIVE nodes of the peer's region,
// leaving out the node, the peer, and every node that shares an operator or an agent with either of them or
// is run by the challenger; at most one member per operator and per agent. It reads the region's nodes in id
// order from a point derived from the block hash and the challenge, wrapping around, at most
// committee_scan_limit of them, and takes the eligible ones with the lowest sha256(seed ‖ node id): node ids
// are chosen by whoever registers them, so the order of the index decides only which nodes are read (all of
// them in a region of at most committee_scan_limit nodes), never who is drawn among them. It returns the
// committee in draw order and how many nodes it read.
func (k Keeper) drawCommittee(ctx context.Context, p types.Params, id uint64, node, peer allocationtypes.Node, challenger string) ([]string, int, error) {
	sdkCtx := sdk.UnwrapSDKContext(ctx)
	h := sha256.New()
	h.Write(sdkCtx.HeaderHash())
	h.Write(binary.BigEndian.AppendUint64(nil, id))
	h.Write(binary.BigEndian.AppendUint64(nil, uint64(sdkCtx.BlockHeight())))
	h.Write([]byte(node.Id + "/" + peer.Id))
	seed := h.Sum(nil)
	start := hex.EncodeToString(seed[:8])

	parties := map[string]bool{node.Operator: true, node.Agent: true, peer.Operator: true, peer.Agent: true, challenger: true}
	type candidate struct {
		id, operator, agent string
		rank                []byte
	}
	var pool []candidate
	scanned := 0
	visit := func(n allocationtypes.Node) (bool, error) {
		if scanned >= int(p.CommitteeScanLimit) {
			return true, nil
		}
		scanned++
		if n.Status != allocationtypes.NODE_STATUS_ACTIVE || n.Id == node.Id || n.Id == peer.Id || parties[n.Operator] || parties[n.Agent] {
			return false, nil
		}
		r := sha256.Sum256(append(append([]byte(nil), seed...), n.Id...))
		pool = append(pool, candidate{id: n.Id, operator: n.Operator, agent: n.Agent, rank: r[:]})
		return false, nil
	}
	if err := k.alloc.WalkRegionNodes(ctx, peer.Region, start, visit); err != nil {
		return nil, 0, err
	}
	// Wrap around: the nodes before the starting point, up to it.
	wrapped := func(n allocationtypes.Node) (bool, error) {
		if n.Id >= start {
			return true, nil
		}
		return visit(n)
	}
	if err := k.alloc.WalkRegionNodes(ctx, peer.Region, "", wrapped); err != nil {
		return nil, 0, err
	}
	slices.SortFunc(pool, func(a, b candidate) int { return bytes.Compare(a.rank, b.rank) })
	var committee []string
	operators, agents := map[string]bool{}, map[string]bool{}
	for _, c := range pool {
		if len(committee) >= int(p.CommitteeSize) {
			break
		}
		if operators[c.operator] || agents[c.agent] {
			continue
		}
		operators[c.operator], agents[c.agent] = true, true
		committee = append(committee, c.id)
	}
	return committee, scanned, nil
}

// MinCommittee is the smallest committee a challenge may have: a majority of committee_size, so that no
// single answer decides a challenge when the region is short of nodes.
func MinCommittee(p types.Params) int { return int(p.CommitteeSize)/2 + 1 }

// AnswerChallenge records a committee member's measurement; the last answer decides the challenge at once.
func (k Keeper) AnswerChallenge(ctx context.Context, msg *types.MsgAnswerChallenge) (*types.MsgAnswerChallengeResponse, error) {
	if err := msg.ValidateBasic(); err != nil {
		return nil, err
	}
	c, err := k.GetChallenge(ctx, msg.ChallengeId)
	if err != nil {
		return nil, err
	}
	sdkCtx := sdk.UnwrapSDKContext(ctx)
	h := sdkCtx.BlockHeight()
	if c.Status != types.CHALLENGE_STATUS_OPEN {
		return nil, errorsmod.Wrapf(types.ErrChallengeClosed, "challenge %d was decided at height %d (%s); it takes no more answers", c.Id, c.ResolvedHeight, c.Status)
	}
	if h > c.DeadlineHeight {
		return nil, errorsmod.Wrapf(types.ErrChallengeClosed, "answers to challenge %d were due by height %d (now %d)", c.Id, c.DeadlineHeight, h)
	}
	if !slices.Contains(c.Committee, msg.NodeId) {
		return nil, errorsmod.Wrapf(types.ErrNotCommitteeMember, "node %s is not on the committee of challenge %d (%v)", msg.NodeId, c.Id, c.Committee)
	}
	agent, err := k.canonicalAddress(msg.Agent)
	if err != nil {
		return nil, errorsmod.Wrapf(types.ErrInvalidAddress, "agent %q: %v", msg.Agent, err)
	}
	member, err := k.alloc.GetNode(ctx, msg.NodeId)
	if err != nil {
		return nil, errorsmod.Wrapf(types.ErrUnknownNode, "node %s: %v", msg.NodeId, err)
	}
	if member.Agent != agent {
		return nil, errorsmod.Wrapf(types.ErrNotNodeAgent, "%s signed for node %s, whose agent is %s; the member's agent answers", agent, member.Id, member.Agent)
	}
	if slices.ContainsFunc(c.Answers, func(a types.ChallengeAnswer) bool { return a.NodeId == msg.NodeId }) {
		return nil, errorsmod.Wrapf(types.ErrAlreadyAnswered, "node %s already answered challenge %d; one answer per member", msg.NodeId, c.Id)
	}
	a := types.ChallengeAnswer{NodeId: msg.NodeId, RttUs: msg.RttUs, ThroughputKbps: msg.ThroughputKbps, Height: h}
	c.Answers = append(c.Answers, a)
	if err := sdkCtx.EventManager().EmitTypedEvent(&types.EventChallengeAnswered{ChallengeId: c.Id, Answer: a, Answers: uint32(len(c.Answers))}); err != nil {
		return nil, err
	}
	if len(c.Answers) < len(c.Committee) {
		return &types.MsgAnswerChallengeResponse{Status: c.Status}, k.Challenges.Set(ctx, c.Id, c)
	}
	p, err := k.Params.Get(ctx)
	if err != nil {
		return nil, err
	}
	c, err = k.resolveChallenge(ctx, p, c)
	if err != nil {
		return nil, err
	}
	return &types.MsgAnswerChallengeResponse{Resolved: true, Status: c.Status}, nil
}

// GetChallenge returns a challenge by id, or ErrChallengeNotFound.
func (k Keeper) GetChallenge(ctx context.Context, id uint64) (types.Challenge, error) {
	c, err := k.Challenges.Get(ctx, id)
	if errors.Is(err, collections.ErrNotFound) {
		return c, errorsmod.Wrapf(types.ErrChallengeNotFound, "no challenge with id %d", id)
	}
	return c, err
}

// resolveChallenge decides an open challenge on the answers it has, moves the bond and the forfeit, and
// stores it.
func (k Keeper) resolveChallenge(ctx context.Context, p types.Params, c types.Challenge) (types.Challenge, error) {
	sdkCtx := sdk.UnwrapSDKContext(ctx)
	c.ResolvedHeight = sdkCtx.BlockHeight()
	switch {
	case len(c.Answers) < types.ChallengeQuorum(len(c.Committee)):
		c.Status = types.CHALLENGE_STATUS_VOID
		if err := k.payFromModule(ctx, c.Challenger, c.Bond); err != nil {
			return c, err
		}
		cur, err := k.Epoch.Get(ctx)
		if err != nil {
			return c, err
		}
		for _, m := range c.Committee {
			if slices.ContainsFunc(c.Answers, func(a types.ChallengeAnswer) bool { return a.NodeId == m }) {
				continue
			}
			if _, err := k.adjustReputation(ctx, m, cur.Number, -int64(p.ReputationDisputePenaltyBps), types.REPUTATION_REASON_COMMITTEE_SILENT); err != nil {
				return c, err
			}
		}
	default:
		c.MedianRttUs, c.MedianThroughputKbps = types.AnswerMedians(c.Answers)
		c.Status = types.ChallengeVerdict(c, c.MedianRttUs, c.MedianThroughputKbps, p.ToleranceBps)
		if c.Status == types.CHALLENGE_STATUS_UPHELD {
			if err := k.upholdChallenge(ctx, p, &c); err != nil {
				return c, err
			}
		} else {
			if err := k.rejectChallenge(ctx, p, &c); err != nil {
				return c, err
			}
		}
	}
	if err := k.ChallengeDeadlines.Remove(ctx, collections.Join(c.DeadlineHeight, c.Id)); err != nil {
		return c, err
	}
	if err := k.Challenges.Set(ctx, c.Id, c); err != nil {
		return c, err
	}
	k.logger.Info("challenge resolved", "challenge", c.Id, "status", c.Status.String(), "answers", len(c.Answers), "forfeited", c.Forfeited.String())
	return c, sdkCtx.EventManager().EmitTypedEvent(&types.EventChallengeResolved{Challenge: c})
}

// upholdChallenge punishes the node: challenge_slash_bps of its stake (the reward to the challenger, the rest
// burned), the challenger's bond back, and a CHALLENGE_LOST fault for the report's epoch, unless it has one,
// that may slash and jail it (max_faults).
func (k Keeper) upholdChallenge(ctx context.Context, p types.Params, c *types.Challenge) error {
	if err := k.payFromModule(ctx, c.Challenger, c.Bond); err != nil {
		return err
	}
	if n, err := k.alloc.GetNode(ctx, c.NodeId); err == nil && n.Stake.IsPositive() {
		slashed, _, err := k.alloc.SlashStake(ctx, c.NodeId, p.ChallengeSlashBps, types.ModuleName)
		if err != nil {
			return err
		}
		if err := k.splitForfeit(ctx, p, c, slashed, c.Challenger); err != nil {
			return err
		}
	} else if err != nil && !isNodeNotFound(err) {
		return err
	}
	// One false report is one fault: a second challenge upheld against the same node's report (another of
	// its links) slashes and rewards again but points to the epoch's CHALLENGE_LOST fault rather than
	// counting another towards max_faults.
	if f, found, err := k.faultOf(ctx, c.NodeId, c.Epoch, types.FAULT_KIND_CHALLENGE_LOST); err != nil {
		return err
	} else if found {
		c.FaultId = f.Id
		return nil
	}
	f, over, err := k.recordFault(ctx, p, types.Fault{
		NodeId: c.NodeId, Epoch: c.Epoch, Kind: types.FAULT_KIND_CHALLENGE_LOST,
		Detail: "challenge upheld: the committee's measurements contradict the report's link to " + c.PeerNodeId,
	})
	if err != nil {
		return err
	}
	c.FaultId = f.Id
	if over {
		if _, err := k.slash(ctx, p, c.NodeId, c.Epoch); err != nil {
			return err
		}
	}
	return nil
}

// rejectChallenge forfeits the challenger's bond: the reward to the node's operator, the rest burned.
func (k Keeper) rejectChallenge(ctx context.Context, p types.Params, c *types.Challenge) error {
	operator := ""
	if n, err := k.alloc.GetNode(ctx, c.NodeId); err == nil {
		operator = n.Operator
	} else if !isNodeNotFound(err) {
		return err
	}
	return k.splitForfeit(ctx, p, c, c.Bond, operator)
}

// splitForfeit records what the loser forfeited (held in x/audit's module account), pays
// challenge_reward_bps of it to the winner (burned with the rest when there is no winner to pay) and burns
// the rest.
func (k Keeper) splitForfeit(ctx context.Context, p types.Params, c *types.Challenge, forfeit sdk.Coin, winner string) error {
	c.Forfeited = forfeit
	reward := sdk.NewCoin(forfeit.Denom, forfeit.Amount.MulRaw(int64(p.ChallengeRewardBps)).QuoRaw(int64(types.BpsDenominator)))
	if winner == "" {
		reward = sdk.NewCoin(forfeit.Denom, math.ZeroInt())
	}
	c.Reward = reward
	if reward.IsPositive() {
		if err := k.payFromModule(ctx, winner, reward); err != nil {
			return err
		}
	}
	if burn := forfeit.Sub(reward); burn.IsPositive() {
		return k.bank.BurnCoins(ctx, types.ModuleName, sdk.NewCoins(burn))
	}
	return nil
}

// payFromModule sends amount from x/audit's module account to the account to (nothing when not positive).
func (k Keeper) payFromModule(ctx context.Context, to string, amount sdk.Coin) error {
	if !amount.IsPositive() {
		return nil
	}
	addr, err := k.alloc.AddressCodec().StringToBytes(to)
	if err != nil {
		return err
	}
	return k.bank.SendCoinsFromModuleToAccount(ctx, types.ModuleName, addr, sdk.NewCoins(amount))
}

// resolveTimedOut runs in EndBlock: it decides the open challenges whose deadline has passed (deadline
// height <= this block, after its transactions), oldest deadline first, at most
// max_challenges_resolved_per_block; the rest wait for the next block.
func (k Keeper) resolveTimedOut(ctx context.Context, p types.Params) error {
	h := sdk.UnwrapSDKContext(ctx).BlockHeight()
	rng := new(collections.Range[collections.Pair[int64, uint64]]).EndExclusive(collections.Join(h+1, uint64(0)))
	it, err := k.ChallengeDeadlines.Iterate(ctx, rng)
	if err != nil {
		return err
	}
	var due []uint64
	for ; it.Valid() && len(due) < int(p.MaxChallengesResolvedPerBlock); it.Next() {
		key, err := it.Key()
		if err != nil {
			return errors.Join(err, it.Close())
		}
		due = append(due, key.K2())
	}
	if err := it.Close(); err != nil {
		return err
	}
	sdkCtx := sdk.UnwrapSDKContext(ctx)
	for _, id := range due {
		c, err := k.GetChallenge(ctx, id)
		if err != nil {
			return err
		}
		// Each challenge is decided in its own cache: a failure (a broken invariant elsewhere, not user input)
		// rolls back that challenge only, which stays queued and is retried in the next block.
		cache, write := sdkCtx.CacheContext()
		if _, err := k.resolveChallenge(cache, p, c); err != nil {
			k.logger.Error("challenge resolution failed; retried next block", "challenge", id, "err", err)
			continue
		}
		write()
	}
	return nil
}

// openBonds sums the bonds of the open challenges: what x/audit's module account holds between blocks.
func (k Keeper) openBonds(ctx context.Context) (sdk.Coins, error) {
	sum := sdk.NewCoins()
	err := k.ChallengeDeadlines.Walk(ctx, nil, func(key collections.Pair[int64, uint64]) (bool, error) {
		c, err := k.Challenges.Get(ctx, key.K2())
		if err != nil {
			return true, err
		}
		sum = sum.Add(c.Bond)
		return false, nil
	})
	return sum, err
}

// CheckChallenges is the challenge part of the telemetry invariant: every challenge valid under its id,
// below the next id and indexed; the OPEN ones, and only they, queued by deadline; each challenged link
// mapped to its challenge; and x/audit's module account holding exactly the open bonds.
func (k Keeper) CheckChallenges(ctx context.Context) error {
	next, err := k.ChallengeSeq.Peek(ctx)
	if err != nil {
		return err
	}
	open, n := 0, 0
	err = k.Challenges.Walk(ctx, nil, func(id uint64, c types.Challenge) (bool, error) {
		n++
		if c.Id != id || id >= max(next, 1) {
			return true, errorsmod.Wrapf(types.ErrInvalidChallenge, "challenge %d stored under id %d; next id %d", c.Id, id, next)
		}
		if err := c.Validate(); err != nil {
			return true, err
		}
		queued, err := k.ChallengeDeadlines.Has(ctx, collections.Join(c.DeadlineHeight, id))
		if err != nil {
			return true, err
		}
		if queued != (c.Status == types.CHALLENGE_STATUS_OPEN) {
			return true, errorsmod.Wrapf(types.ErrInvalidChallenge, "challenge %d is %s but queued by deadline: %v", id, c.Status, queued)
		}
		if queued {
			open++
		}
		link, err := k.ChallengedLinks.Get(ctx, collections.Join3(c.NodeId, c.Epoch, c.PeerNodeId))
		if err != nil || link != id {
			return true, errorsmod.Wrapf(types.ErrInvalidChallenge, "challenged_links maps the link %s-%s of epoch %d to challenge %d, not to its challenge %d (%v)",
				c.NodeId, c.PeerNodeId, c.Epoch, link, id, err)
		}
		return false, nil
	})
	if err != nil {
		return err
	}
	queued, links := 0, 0
	if err := k.ChallengeDeadlines.Walk(ctx, nil, func(collections.Pair[int64, uint64]) (bool, error) {
		queued++
		return false, nil
	}); err != nil {
		return err
	}
	if err := k.ChallengedLinks.Walk(ctx, nil, func(collections.Triple[string, uint64, string], uint64) (bool, error) {
		links++
		return false, nil
	}); err != nil {
		return err
	}
	if queued != open || links != n {
		return errorsmod.Wrapf(types.ErrInvalidChallenge, "%d deadline entries for %d open challenges, %d link entries for %d challenges", queued, open, links, n)
	}
	bonds, err := k.openBonds(ctx)
	if err != nil {
		return err
	}
	if bal := k.bank.GetAllBalances(ctx, authtypes.NewModuleAddress(types.ModuleName)); !bal.Equal(bonds) {
		return errorsmod.Wrapf(types.ErrInvalidGenesis, "x/audit's module account holds %s; between blocks it holds exactly the open challenges' bonds %s", bal, bonds)
	}
	return nil
}
