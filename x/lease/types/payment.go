package types

import (
	"fmt"

	"cosmossdk.io/math"
)

// Payment arithmetic. Everything is integer (math.Int) and cumulative from the activation height, so that
// however often a lease is settled, the total is the same as one settlement at the end and no rounding
// error accumulates:
//
//	R_i        = gpus_i × price_i                      (per hour, fee included)
//	owed_i(E)  = floor(R_i × E / blocks_per_hour)      (E blocks after activation)
//	fee_i(E)   = floor(owed_i(E) × take_bps / 10000)
//
// A settlement at E pays node i the increment owed_i(E) − paid_i, of which fee_i(E) − fee(paid_i) goes to
// the fee collector and the rest to the node's operator.

// MaxPriceAmount bounds prices (10^30 of the base denom) so that the products of the payment arithmetic
// stay far inside math.Int's 256 bits.
var MaxPriceAmount = math.NewIntWithDecimal(1, 30)

// NodeRate is R_i: what a lease node costs per hour, fee included.
func NodeRate(n LeaseNode) math.Int {
	return n.PricePerGpuHour.Amount.Mul(math.NewIntFromUint64(uint64(n.Gpus)))
}

// TotalRate is R = Σ R_i over the nodes of a placement.
func TotalRate(nodes []LeaseNode) math.Int {
	r := math.ZeroInt()
	for _, n := range nodes {
		r = r.Add(NodeRate(n))
	}
	return r
}

// Owed is owed_i(E) = floor(rate × blocks / blocksPerHour): what a node with this hourly rate has earned,
// fee included, blocks after activation. blocks < 0 counts as 0.
func Owed(rate math.Int, blocks int64, blocksPerHour uint64) math.Int {
	if blocks <= 0 {
		return math.ZeroInt()
	}
	return rate.Mul(math.NewInt(blocks)).Quo(math.NewIntFromUint64(blocksPerHour))
}

// Fee is floor(amount × takeBps / 10000).
func Fee(amount math.Int, takeBps uint32) math.Int {
	return amount.Mul(math.NewIntFromUint64(uint64(takeBps))).QuoRaw(BpsDenominator)
}

// CeilDiv is ceil(a / b) for a ≥ 0, b > 0.
func CeilDiv(a, b math.Int) math.Int {
	return a.Add(b).SubRaw(1).Quo(b)
}

// FundedBlocks is E* = floor(deposit × blocksPerHour / rate): how many blocks after activation a deposit
// pays for at the total rate. Σ owed_i(E*) ≤ floor(R × E* / bph) ≤ deposit, so the escrow always covers
// every settlement up to E*.
func FundedBlocks(deposit, rate math.Int, blocksPerHour uint64) math.Int {
	return deposit.Mul(math.NewIntFromUint64(blocksPerHour)).Quo(rate)
}

// DeadlineHeight is when an active lease closes on its own: at endHeight, or earlier at activated + E*
// when the deposit runs out first.
func DeadlineHeight(activatedHeight, endHeight int64, deposit, rate math.Int, blocksPerHour uint64) int64 {
	funded := FundedBlocks(deposit, rate, blocksPerHour)
	if funded.GTE(math.NewInt(endHeight - activatedHeight)) {
		return endHeight
	}
	return activatedHeight + funded.Int64()
}

// NodePayment is what one settlement pays for one lease node.
type NodePayment struct {
	// Gross is the increment owed_i(E) − paid_i, fee included.
	Gross math.Int
	// Fee is the part of Gross that goes to the fee collector: fee_i(E) − fee(paid_i).
	Fee math.Int
}

// Provider is what the node's operator receives.
func (p NodePayment) Provider() math.Int { return p.Gross.Sub(p.Fee) }

// SettleNodes computes, for each node, what settling up to blocks after activation pays on top of what the
// node has been paid (LeaseNode.paid). It fails if a node has been paid more than it is owed, which only a
// corrupt state or a settlement height going backwards can cause.
func SettleNodes(nodes []LeaseNode, blocks int64, blocksPerHour uint64, takeBps uint32) ([]NodePayment, error) {
	out := make([]NodePayment, len(nodes))
	for i, n := range nodes {
		p, ok := settleNode(n, blocks, blocksPerHour, takeBps)
		if !ok {
			return nil, fmt.Errorf("node %s: paid %s exceeds the %s owed after %d blocks", n.NodeId, n.Paid, Owed(NodeRate(n), blocks, blocksPerHour), blocks)
		}
		out[i] = p
	}
	return out, nil
}

// settleNode is one node's payment for blocks after activation: owed(blocks) − paid and its fee; ok is false
// when the node has been paid more than it is owed.
func settleNode(n LeaseNode, blocks int64, blocksPerHour uint64, takeBps uint32) (NodePayment, bool) {
	paid := n.Paid
	if paid.IsNil() {
		paid = math.ZeroInt()
	}
	owed := Owed(NodeRate(n), blocks, blocksPerHour)
	if owed.LT(paid) {
		return NodePayment{}, false
	}
	return NodePayment{Gross: owed.Sub(paid), Fee: Fee(owed, takeBps).Sub(Fee(paid, takeBps))}, true
}

// SumPayments adds up gross and fee of several node payments.
func SumPayments(ps []NodePayment) NodePayment {
	sum := NodePayment{Gross: math.ZeroInt(), Fee: math.ZeroInt()}
	for _, p := range ps {
		sum.Gross = sum.Gross.Add(p.Gross)
		sum.Fee = sum.Fee.Add(p.Fee)
	}
	return sum
}
