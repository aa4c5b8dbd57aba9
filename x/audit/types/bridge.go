package types

import (
	"math/big"

	"github.com/ethereum/go-ethereum/common"

	"github.com/consensus-nro/nro/contracts"
	leasetypes "github.com/consensus-nro/nro/x/lease/types"
)

// ContractBatch is a settlement batch as the settlement contract takes and signs it (contracts.Batch).
func ContractBatch(b leasetypes.SettlementBatch) contracts.Batch {
	out := contracts.Batch{
		Nonce:   new(big.Int).SetUint64(b.Nonce),
		Timeout: new(big.Int).SetUint64(b.Timeout),
		Payouts: make([]contracts.Payout, len(b.Payouts)),
	}
	for i, p := range b.Payouts {
		out.Payouts[i] = contracts.Payout{Recipient: common.HexToAddress(p.EthAddress), Amount: p.Amount.BigInt()}
	}
	return out
}

// Contract returns the valset's signers and powers in the contract's order (ascending address).
func (vs BridgeValset) Contract() ([]common.Address, []*big.Int) {
	signers := make([]common.Address, len(vs.Members))
	powers := make([]*big.Int, len(vs.Members))
	for i, m := range vs.Members {
		signers[i] = common.HexToAddress(m.EthAddress)
		powers[i] = new(big.Int).SetUint64(m.Power)
	}
	return signers, powers
}

// TotalPower is the sum of the members' normalised powers (at most 2^32).
func (vs BridgeValset) TotalPower() uint64 {
	var t uint64
	for _, m := range vs.Members {
		t += m.Power
	}
	return t
}

// ValsetDigest is what the current valset signs to install vs: contracts.ValsetUpdateDigest of its
// checkpoint, under the bridge params.
func ValsetDigest(p Params, vs BridgeValset) (common.Hash, error) {
	id, err := ParseBridgeID(p.BridgeId)
	if err != nil {
		return common.Hash{}, err
	}
	signers, powers := vs.Contract()
	cp, err := contracts.Checkpoint(id, new(big.Int).SetUint64(vs.Nonce), signers, powers)
	if err != nil {
		return common.Hash{}, err
	}
	return contracts.ValsetUpdateDigest(id, new(big.Int).SetUint64(p.EthChainId), common.HexToAddress(p.SettlementContract), cp)
}

// BatchDigest is what the current valset signs to execute b, under the bridge params.
func BatchDigest(p Params, b leasetypes.SettlementBatch) (common.Hash, error) {
	id, err := ParseBridgeID(p.BridgeId)
	if err != nil {
		return common.Hash{}, err
	}
	return contracts.BatchDigest(id, new(big.Int).SetUint64(p.EthChainId), common.HexToAddress(p.SettlementContract), ContractBatch(b))
}
