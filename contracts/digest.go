// Package contracts holds the Go-side helpers for the NRO settlement bridge
// contracts (contracts/src). The digests computed here are exactly the ones
// NROSettlement verifies; the chain side and the relayer should use them
// instead of re-implementing the encoding. See contracts/README.md.
package contracts

import (
	"crypto/ecdsa"
	"fmt"
	"math/big"

	"github.com/ethereum/go-ethereum/accounts/abi"
	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/crypto"
)

// TotalPower is the total a valset's powers are normalised to (2^32). The
// contract rejects valsets whose powers sum to more than this.
const TotalPower uint64 = 1 << 32

// Method tags (bytes32, right-padded ASCII) mixed into the digests.
var (
	CheckpointMethod = methodTag("checkpoint")
	ValsetMethod     = methodTag("valsetUpdate")
	BatchMethod      = methodTag("batch")
)

// Payout is one mint of a batch. Field names match the Solidity struct.
type Payout struct {
	Recipient common.Address
	Amount    *big.Int
}

// Batch mirrors NROSettlement.Batch. Timeout is a Unix time in seconds (block.timestamp).
type Batch struct {
	Nonce   *big.Int
	Payouts []Payout
	Timeout *big.Int
}

func methodTag(s string) [32]byte {
	var b [32]byte
	copy(b[:], s)
	return b
}

func mustType(t string, comps []abi.ArgumentMarshaling) abi.Type {
	typ, err := abi.NewType(t, "", comps)
	if err != nil {
		panic(err)
	}
	return typ
}

var (
	tBytes32   = mustType("bytes32", nil)
	tUint256   = mustType("uint256", nil)
	tAddress   = mustType("address", nil)
	tAddresses = mustType("address[]", nil)
	tUint256s  = mustType("uint256[]", nil)
	tBatch     = mustType("tuple", []abi.ArgumentMarshaling{
		{Name: "nonce", Type: "uint256"},
		{Name: "payouts", Type: "tuple[]", Components: []abi.ArgumentMarshaling{
			{Name: "recipient", Type: "address"},
			{Name: "amount", Type: "uint256"},
		}},
		{Name: "timeout", Type: "uint256"},
	})

	checkpointArgs = abi.Arguments{{Type: tBytes32}, {Type: tBytes32}, {Type: tUint256}, {Type: tAddresses}, {Type: tUint256s}}
	signedArgs     = abi.Arguments{{Type: tBytes32}, {Type: tBytes32}, {Type: tUint256}, {Type: tAddress}, {Type: tBytes32}}
	batchArgs      = abi.Arguments{{Type: tBatch}}
)

// Checkpoint returns
// keccak256(abi.encode(bridgeId, bytes32("checkpoint"), nonce, signers, powers)).
func Checkpoint(bridgeID [32]byte, nonce *big.Int, signers []common.Address, powers []*big.Int) (common.Hash, error) {
	enc, err := checkpointArgs.Pack(bridgeID, CheckpointMethod, nonce, signers, powers)
	if err != nil {
		return common.Hash{}, fmt.Errorf("encode checkpoint: %w", err)
	}
	return crypto.Keccak256Hash(enc), nil
}

// ValsetUpdateDigest returns the digest the current valset signs to install
// the valset with checkpoint newCheckpoint:
// keccak256(abi.encode(bridgeId, bytes32("valsetUpdate"), chainId, contract, newCheckpoint)).
// Signers sign EthSignedHash of it.
func ValsetUpdateDigest(bridgeID [32]byte, chainID *big.Int, contract common.Address, newCheckpoint common.Hash) (common.Hash, error) {
	enc, err := signedArgs.Pack(bridgeID, ValsetMethod, chainID, contract, [32]byte(newCheckpoint))
	if err != nil {
		return common.Hash{}, fmt.Errorf("encode valset digest: %w", err)
	}
	return crypto.Keccak256Hash(enc), nil
}

// BatchHash returns keccak256(abi.encode(batch)) (the batch as one tuple).
func BatchHash(b Batch) (common.Hash, error) {
	if b.Payouts == nil {
		b.Payouts = []Payout{}
	}
	enc, err := batchArgs.Pack(b)
	if err != nil {
		return common.Hash{}, fmt.Errorf("encode batch: %w", err)
	}
	return crypto.Keccak256Hash(enc), nil
}

// BatchDigest returns the digest the current valset signs to execute batch:
// keccak256(abi.encode(bridgeId, bytes32("batch"), chainId, contract, keccak256(abi.encode(batch)))).
// Signers sign EthSignedHash of it.
func BatchDigest(bridgeID [32]byte, chainID *big.Int, contract common.Address, b Batch) (common.Hash, error) {
	bh, err := BatchHash(b)
	if err != nil {
		return common.Hash{}, err
	}
	enc, err := signedArgs.Pack(bridgeID, BatchMethod, chainID, contract, [32]byte(bh))
	if err != nil {
		return common.Hash{}, fmt.Errorf("encode batch digest: %w", err)
	}
	return crypto.Keccak256Hash(enc), nil
}

// EthSignedHash applies the EIP-191 prefix:
// keccak256("\x19Ethereum Signed Message:\n32" || digest).
func EthSignedHash(digest common.Hash) common.Hash {
	return crypto.Keccak256Hash([]byte("\x19Ethereum Signed Message:\n32"), digest[:])
}

// Sign signs EthSignedHash(digest) with key and returns (v, r, s) with v in
// {27, 28} and a low-s signature, as NROSettlement expects.
func Sign(key *ecdsa.PrivateKey, digest common.Hash) (v uint8, r, s [32]byte, err error) {
	sig, err := crypto.Sign(EthSignedHash(digest).Bytes(), key)
	if err != nil {
		return 0, r, s, err
	}
	copy(r[:], sig[:32])
	copy(s[:], sig[32:64])
	return sig[64] + 27, r, s, nil
}

// SignerRegistrationMethod tags the proof of an Ethereum key a validator registers as its bridge signer.
var SignerRegistrationMethod = methodTag("nro-eth-signer")

var registrationArgs = abi.Arguments{
	{Type: tBytes32}, {Type: mustType("string", nil)}, {Type: mustType("string", nil)}, {Type: mustType("string", nil)},
}

// SignerRegistrationDigest is what a validator's Ethereum key signs (EthSignedHash of it, as Sign does) to
// register as its bridge signer on the Cosmos chain chainID:
// keccak256(abi.encode(bytes32("nro-eth-signer"), chainID, validator, orchestrator)), validator being the
// nrovaloper address and orchestrator the account that will send its confirmations.
func SignerRegistrationDigest(chainID, validator, orchestrator string) (common.Hash, error) {
	enc, err := registrationArgs.Pack(SignerRegistrationMethod, chainID, validator, orchestrator)
	if err != nil {
		return common.Hash{}, fmt.Errorf("encode signer registration: %w", err)
	}
	return crypto.Keccak256Hash(enc), nil
}

// SignatureBytes packs (v, r, s) as 65 bytes r ‖ s ‖ v, the form the chain stores.
func SignatureBytes(v uint8, r, s [32]byte) []byte {
	out := make([]byte, 65)
	copy(out, r[:])
	copy(out[32:], s[:])
	out[64] = v
	return out
}

// SplitSignature is the inverse of SignatureBytes.
func SplitSignature(sig []byte) (v uint8, r, s [32]byte, err error) {
	if len(sig) != 65 {
		return 0, r, s, fmt.Errorf("signature is %d bytes; want 65 (r ‖ s ‖ v)", len(sig))
	}
	copy(r[:], sig[:32])
	copy(s[:], sig[32:64])
	return sig[64], r, s, nil
}

// RecoverSigner returns the address whose key signed EthSignedHash(digest) with sig (65 bytes r ‖ s ‖ v,
// v 27 or 28). It refuses what the settlement contract would refuse: another v, a zero or out-of-range r or
// s, and a high s (a malleated copy of a valid signature), so that a signature the chain accepts is one the
// contract accepts.
func RecoverSigner(digest common.Hash, sig []byte) (common.Address, error) {
	v, r, s, err := SplitSignature(sig)
	if err != nil {
		return common.Address{}, err
	}
	if v != 27 && v != 28 {
		return common.Address{}, fmt.Errorf("signature v is %d; want 27 or 28", v)
	}
	if !crypto.ValidateSignatureValues(v-27, new(big.Int).SetBytes(r[:]), new(big.Int).SetBytes(s[:]), true) {
		return common.Address{}, fmt.Errorf("signature r or s is out of range, or s is in the upper half of the curve order (malleable)")
	}
	raw := make([]byte, 65)
	copy(raw, sig[:64])
	raw[64] = v - 27
	pub, err := crypto.SigToPub(EthSignedHash(digest).Bytes(), raw)
	if err != nil {
		return common.Address{}, fmt.Errorf("recover signer: %w", err)
	}
	return crypto.PubkeyToAddress(*pub), nil
}
