package types

import (
	"slices"

	errorsmod "cosmossdk.io/errors"

	sdk "github.com/cosmos/cosmos-sdk/types"
)

// validateMeasurement checks a challenge's or an answer's own measurement of a link: both values measured
// and within the bounds of a telemetry link.
func validateMeasurement(what string, rttUs, kbps uint64) error {
	if rttUs == 0 || rttUs > MaxRTTUs || kbps == 0 || kbps > MaxThroughputKbps {
		return errorsmod.Wrapf(ErrInvalidChallenge, "%s: rtt_us %d and throughput_kbps %d: want 1..%d µs and 1..%d kbit/s, as a probe measures them",
			what, rttUs, kbps, MaxRTTUs, MaxThroughputKbps)
	}
	return nil
}

// ValidateBasic runs the stateless checks of a challenge.
func (msg *MsgChallengeTelemetry) ValidateBasic() error {
	if _, err := sdk.AccAddressFromBech32(msg.Challenger); err != nil {
		return errorsmod.Wrapf(ErrInvalidAddress, "challenger %q: %v", msg.Challenger, err)
	}
	if err := ValidateNodeID("node_id", msg.NodeId); err != nil {
		return err
	}
	if err := ValidateNodeID("peer_node_id", msg.PeerNodeId); err != nil {
		return err
	}
	if msg.PeerNodeId == msg.NodeId {
		return errorsmod.Wrapf(ErrInvalidChallenge, "peer_node_id %s is the challenged node; name the other end of the link", msg.PeerNodeId)
	}
	if msg.Epoch == 0 {
		return errorsmod.Wrap(ErrInvalidChallenge, "epoch 0: epochs are numbered from 1 (nrod q audit telemetry NODE_ID)")
	}
	if err := msg.Bond.Validate(); err != nil || !msg.Bond.IsPositive() {
		return errorsmod.Wrapf(ErrChallengeBond, "bond %s: a challenge needs a positive bond, at least min_challenge_bond (nrod q audit params)", msg.Bond)
	}
	return validateMeasurement("counter-evidence", msg.RttUs, msg.ThroughputKbps)
}

// ValidateBasic runs the stateless checks of a committee answer.
func (msg *MsgAnswerChallenge) ValidateBasic() error {
	if _, err := sdk.AccAddressFromBech32(msg.Agent); err != nil {
		return errorsmod.Wrapf(ErrInvalidAddress, "agent %q: %v", msg.Agent, err)
	}
	if msg.ChallengeId == 0 {
		return errorsmod.Wrap(ErrInvalidChallenge, "challenge_id 0: ids start at 1")
	}
	if err := ValidateNodeID("node_id", msg.NodeId); err != nil {
		return err
	}
	return validateMeasurement("answer", msg.RttUs, msg.ThroughputKbps)
}

// ChallengeQuorum is how many answers a committee of n must give for a verdict: more than half.
func ChallengeQuorum(n int) int { return n/2 + 1 }

// AnswerMedians are the lower medians of a challenge's answers.
func AnswerMedians(answers []ChallengeAnswer) (rttUs, kbps uint64) {
	rtts := make([]uint64, len(answers))
	tputs := make([]uint64, len(answers))
	for i, a := range answers {
		rtts[i], tputs[i] = a.RttUs, a.ThroughputKbps
	}
	return LowerMedian(rtts), LowerMedian(tputs)
}

// ChallengeVerdict decides a challenge from the committee's medians: UPHELD when the report's claim is
// beyond toleranceBps of the medians (RTT or throughput) and the challenger's measurement is strictly nearer
// to them (the sum of both deviations in basis points); REJECTED otherwise: a claim within tolerance, or a
// counter-claim no better than it, leaves the report standing.
func ChallengeVerdict(c Challenge, medRtt, medKbps uint64, toleranceBps uint32) ChallengeStatus {
	off := BeyondTolerance(c.ClaimedRttUs, medRtt, toleranceBps) || BeyondTolerance(c.ClaimedThroughputKbps, medKbps, toleranceBps)
	claim := DeviationBps(c.ClaimedRttUs, medRtt) + DeviationBps(c.ClaimedThroughputKbps, medKbps)
	counter := DeviationBps(c.CounterRttUs, medRtt) + DeviationBps(c.CounterThroughputKbps, medKbps)
	if off && counter < claim {
		return CHALLENGE_STATUS_UPHELD
	}
	return CHALLENGE_STATUS_REJECTED
}

// Validate checks a stored challenge (genesis import, invariant): ids, addresses, the link, a committee of
// distinct nodes, answers only from it and at most one each, heights in order, and a verdict consistent with
// the status.
func (c Challenge) Validate() error {
	if c.Id == 0 {
		return errorsmod.Wrap(ErrInvalidChallenge, "challenge id 0: ids start at 1")
	}
	if _, err := sdk.AccAddressFromBech32(c.Challenger); err != nil {
		return errorsmod.Wrapf(ErrInvalidChallenge, "challenge %d: challenger %q: %v", c.Id, c.Challenger, err)
	}
	for _, f := range []struct{ name, id string }{{"node_id", c.NodeId}, {"peer_node_id", c.PeerNodeId}} {
		if err := ValidateNodeID(f.name, f.id); err != nil {
			return errorsmod.Wrapf(err, "challenge %d", c.Id)
		}
	}
	if c.Epoch == 0 || c.Height <= 0 || c.DeadlineHeight <= c.Height {
		return errorsmod.Wrapf(ErrInvalidChallenge, "challenge %d: want epoch >= 1 and 0 < height (%d) < deadline_height (%d)", c.Id, c.Height, c.DeadlineHeight)
	}
	if err := c.Bond.Validate(); err != nil || !c.Bond.IsPositive() {
		return errorsmod.Wrapf(ErrInvalidChallenge, "challenge %d: bond %s must be positive", c.Id, c.Bond)
	}
	if len(c.Committee) == 0 || len(c.Committee) > int(MaxCommitteeSize) {
		return errorsmod.Wrapf(ErrInvalidChallenge, "challenge %d: a committee of %d; want 1..%d nodes", c.Id, len(c.Committee), MaxCommitteeSize)
	}
	seen := map[string]bool{}
	for _, m := range c.Committee {
		if seen[m] || m == c.NodeId || m == c.PeerNodeId {
			return errorsmod.Wrapf(ErrInvalidChallenge, "challenge %d: committee member %s is listed twice or is a party", c.Id, m)
		}
		seen[m] = true
	}
	answered := map[string]bool{}
	for _, a := range c.Answers {
		if !slices.Contains(c.Committee, a.NodeId) || answered[a.NodeId] || a.Height < c.Height || a.Height > c.DeadlineHeight {
			return errorsmod.Wrapf(ErrInvalidChallenge, "challenge %d: answer of %s at height %d is not one per committee member within %d..%d", c.Id, a.NodeId, a.Height, c.Height, c.DeadlineHeight)
		}
		answered[a.NodeId] = true
		if err := validateMeasurement("answer of "+a.NodeId, a.RttUs, a.ThroughputKbps); err != nil {
			return err
		}
	}
	for _, coin := range []sdk.Coin{c.Forfeited, c.Reward} {
		if err := coin.Validate(); err != nil {
			return errorsmod.Wrapf(ErrInvalidChallenge, "challenge %d: forfeited or reward %s: %v", c.Id, coin, err)
		}
	}
	open := c.Status == CHALLENGE_STATUS_OPEN
	switch c.Status {
	case CHALLENGE_STATUS_OPEN, CHALLENGE_STATUS_UPHELD, CHALLENGE_STATUS_REJECTED, CHALLENGE_STATUS_VOID:
	default:
		return errorsmod.Wrapf(ErrInvalidChallenge, "challenge %d: status %s", c.Id, c.Status)
	}
	if open != (c.ResolvedHeight == 0) || (!open && c.ResolvedHeight < c.Height) {
		return errorsmod.Wrapf(ErrInvalidChallenge, "challenge %d: a %s challenge has resolved_height %d", c.Id, c.Status, c.ResolvedHeight)
	}
	if (c.Status == CHALLENGE_STATUS_UPHELD) != (c.FaultId != 0) {
		return errorsmod.Wrapf(ErrInvalidChallenge, "challenge %d: only an upheld challenge records a fault (fault_id %d)", c.Id, c.FaultId)
	}
	if c.Status == CHALLENGE_STATUS_UPHELD || c.Status == CHALLENGE_STATUS_REJECTED {
		if len(c.Answers) < ChallengeQuorum(len(c.Committee)) {
			return errorsmod.Wrapf(ErrInvalidChallenge, "challenge %d: %s on %d answers of a committee of %d; a verdict needs %d", c.Id, c.Status, len(c.Answers), len(c.Committee), ChallengeQuorum(len(c.Committee)))
		}
	}
	return nil
}
