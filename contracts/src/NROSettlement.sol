// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.30;

import {ECDSA} from "@openzeppelin/contracts/utils/cryptography/ECDSA.sol";
import {MessageHashUtils} from "@openzeppelin/contracts/utils/cryptography/MessageHashUtils.sol";
import {WrappedNRO} from "./WrappedNRO.sol";

/// @title NROSettlement
/// @notice Ethereum side of the NRO settlement bridge. Gravity-Bridge-style:
///         the contract stores only a checkpoint (hash) of the current
///         validator set; every call passes the full current valset, which is
///         checked against the checkpoint, plus one signature slot per member.
///         More than 2/3 of the current valset's power must sign.
/// @dev See contracts/README.md for the exact digest formats.
///      No owner, no admin, no upgradability.
contract NROSettlement {
    // ---------------------------------------------------------------------
    // Types
    // ---------------------------------------------------------------------

    /// @notice A validator set. `signers` must be strictly ascending (which
    ///         also makes them unique), `powers[i]` is the power of
    ///         `signers[i]`. The chain normalises powers so that they sum to
    ///         (at most) 2^32; the contract uses the actual sum as the total.
    struct Valset {
        address[] signers;
        uint256[] powers;
        uint256 nonce;
    }

    /// @notice One signature slot. `v == 0` means "this member did not sign".
    struct Sig {
        uint8 v;
        bytes32 r;
        bytes32 s;
    }

    struct Payout {
        address recipient;
        uint256 amount;
    }

    /// @notice A settlement batch. `timeout` is a Unix time in seconds: the
    ///         batch is valid only while block.timestamp < timeout. (The chain
    ///         sets it from its own block time; it needs no view of Ethereum.)
    struct Batch {
        uint256 nonce;
        Payout[] payouts;
        uint256 timeout;
    }

    // ---------------------------------------------------------------------
    // Constants / immutables / state
    // ---------------------------------------------------------------------

    /// @notice Upper bound of the total power of a valset (powers are
    ///         normalised to 2^32 by the chain).
    uint256 public constant MAX_TOTAL_POWER = 1 << 32;

    bytes32 public constant CHECKPOINT_METHOD = bytes32("checkpoint");
    bytes32 public constant VALSET_METHOD = bytes32("valsetUpdate");
    bytes32 public constant BATCH_METHOD = bytes32("batch");

    /// @notice Identifies this bridge instance (set by the chain at genesis).
    bytes32 public immutable bridgeId;

    /// @notice The wNRO token; this contract is its only minter.
    WrappedNRO public immutable token;

    bytes32 public lastValsetCheckpoint;
    uint256 public lastValsetNonce;
    uint256 public lastBatchNonce;

    // ---------------------------------------------------------------------
    // Events / errors
    // ---------------------------------------------------------------------

    event ValsetUpdated(uint256 indexed valsetNonce, bytes32 checkpoint, address[] signers, uint256[] powers);
    event BatchExecuted(uint256 indexed batchNonce, uint256 totalAmount, uint256 payoutCount);

    error MalformedValset();
    error ValsetNotSorted(uint256 index);
    error ZeroPower(uint256 index);
    error TotalPowerTooHigh(uint256 total);
    error InvalidCheckpoint();
    error SigCountMismatch();
    error InvalidSignature(uint256 index);
    error InsufficientPower(uint256 signedPower, uint256 totalPower);
    error StaleValsetNonce(uint256 newNonce, uint256 currentNonce);
    error StaleBatchNonce(uint256 batchNonce, uint256 lastNonce);
    error BatchTimedOut(uint256 timeout, uint256 blockTimestamp);

    // ---------------------------------------------------------------------
    // Constructor
    // ---------------------------------------------------------------------

    constructor(bytes32 bridgeId_, Valset memory initialValset) {
        _validateValset(initialValset);
        bridgeId = bridgeId_;
        token = new WrappedNRO(address(this));
        bytes32 cp = makeCheckpoint(initialValset);
        lastValsetCheckpoint = cp;
        lastValsetNonce = initialValset.nonce;
        emit ValsetUpdated(initialValset.nonce, cp, initialValset.signers, initialValset.powers);
    }

    // ---------------------------------------------------------------------
    // Views: digests
    // ---------------------------------------------------------------------

    /// @notice keccak256(abi.encode(bridgeId, "checkpoint", nonce, signers, powers))
    function makeCheckpoint(Valset memory vs) public view returns (bytes32) {
        return keccak256(abi.encode(bridgeId, CHECKPOINT_METHOD, vs.nonce, vs.signers, vs.powers));
    }

    /// @notice Digest the current valset signs to install `newValset`
    ///         (before the EIP-191 prefix is applied).
    function valsetUpdateDigest(Valset memory newValset) public view returns (bytes32) {
        return keccak256(
            abi.encode(bridgeId, VALSET_METHOD, block.chainid, address(this), makeCheckpoint(newValset))
        );
    }

    /// @notice Digest the current valset signs to execute `batch`
    ///         (before the EIP-191 prefix is applied).
    function batchDigest(Batch memory batch) public view returns (bytes32) {
        return keccak256(
            abi.encode(bridgeId, BATCH_METHOD, block.chainid, address(this), keccak256(abi.encode(batch)))
        );
    }

    // ---------------------------------------------------------------------
    // State-changing entry points (callable by anyone, e.g. a relayer)
    // ---------------------------------------------------------------------

    function updateValset(Valset calldata newValset, Valset calldata currentValset, Sig[] calldata sigs) external {
        if (newValset.nonce <= currentValset.nonce) {
            revert StaleValsetNonce(newValset.nonce, currentValset.nonce);
        }
        _validateValset(newValset);
        _checkCurrentValset(currentValset);

        bytes32 newCheckpoint = makeCheckpoint(newValset);
        bytes32 digest = keccak256(
            abi.encode(bridgeId, VALSET_METHOD, block.chainid, address(this), newCheckpoint)
        );
        _checkSignatures(currentValset, sigs, digest);

        lastValsetCheckpoint = newCheckpoint;
        lastValsetNonce = newValset.nonce;
        emit ValsetUpdated(newValset.nonce, newCheckpoint, newValset.signers, newValset.powers);
    }

    function submitBatch(Valset calldata currentValset, Sig[] calldata sigs, Batch calldata batch) external {
        if (batch.nonce <= lastBatchNonce) revert StaleBatchNonce(batch.nonce, lastBatchNonce);
        if (block.timestamp >= batch.timeout) revert BatchTimedOut(batch.timeout, block.timestamp);
        _checkCurrentValset(currentValset);
        _checkSignatures(currentValset, sigs, batchDigest(batch));

        // Effects before interactions (the token is trusted and has no hooks).
        lastBatchNonce = batch.nonce;

        uint256 total;
        uint256 n = batch.payouts.length;
        for (uint256 i = 0; i < n; ++i) {
            Payout calldata p = batch.payouts[i];
            total += p.amount;
            token.mint(p.recipient, p.amount);
        }
        emit BatchExecuted(batch.nonce, total, n);
    }

    // ---------------------------------------------------------------------
    // Internal
    // ---------------------------------------------------------------------

    function _validateValset(Valset memory vs) internal pure {
        uint256 n = vs.signers.length;
        if (n == 0 || n != vs.powers.length) revert MalformedValset();
        uint256 total;
        address prev = address(0);
        for (uint256 i = 0; i < n; ++i) {
            // Strictly ascending and non-zero: no duplicate members.
            if (vs.signers[i] <= prev) revert ValsetNotSorted(i);
            prev = vs.signers[i];
            if (vs.powers[i] == 0) revert ZeroPower(i);
            total += vs.powers[i];
        }
        if (total > MAX_TOTAL_POWER) revert TotalPowerTooHigh(total);
    }

    function _checkCurrentValset(Valset calldata vs) internal view {
        if (makeCheckpoint(vs) != lastValsetCheckpoint) revert InvalidCheckpoint();
    }

    /// @dev sigs[i] is the signature of vs.signers[i] (v == 0: absent). Each
    ///      slot is counted at most once and signers are unique, so a
    ///      duplicated signature cannot be counted twice: placed in another
    ///      slot it recovers to the wrong address and the call reverts.
    ///      OZ ECDSA rejects malleable (high-s) and otherwise invalid
    ///      signatures.
    function _checkSignatures(Valset calldata vs, Sig[] calldata sigs, bytes32 digest) internal pure {
        uint256 n = vs.signers.length;
        if (sigs.length != n) revert SigCountMismatch();
        bytes32 ethDigest = MessageHashUtils.toEthSignedMessageHash(digest);
        uint256 total;
        uint256 signed;
        for (uint256 i = 0; i < n; ++i) {
            uint256 power = vs.powers[i];
            total += power;
            Sig calldata sig = sigs[i];
            if (sig.v == 0) continue;
            (address rec, ECDSA.RecoverError err,) = ECDSA.tryRecover(ethDigest, sig.v, sig.r, sig.s);
            if (err != ECDSA.RecoverError.NoError || rec != vs.signers[i]) revert InvalidSignature(i);
            signed += power;
        }
        // Strictly more than 2/3 of MAX_TOTAL_POWER, not of the valset's sum: the chain normalises powers over
        // all bonded stake, so the stake of validators without a registered signer counts as not signing.
        if (signed * 3 <= MAX_TOTAL_POWER * 2) revert InsufficientPower(signed, MAX_TOTAL_POWER);
    }
}
