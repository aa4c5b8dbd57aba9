package audit

import (
	autocliv1 "cosmossdk.io/api/cosmos/autocli/v1"
)

// AutoCLIOptions describes the CLI of the module: the queries are generated. `nrod tx audit
// submit-telemetry` is hand-written (x/audit/client/cli) because it reads a whole report (lists of nested
// GPU and link entries) from one JSON file; UpdateParams is governance only. `nrod audit verify-decision` is
// hand-written because it runs the scorer locally on a queried record.
func (AppModule) AutoCLIOptions() *autocliv1.ModuleOptions {
	return &autocliv1.ModuleOptions{
		Query: &autocliv1.ServiceCommandDescriptor{
			Service: "nro.audit.v1.Query",
			RpcCommandOptions: []*autocliv1.RpcCommandOptions{
				{
					RpcMethod:      "Decision",
					Use:            "decision DECISION_ID",
					Short:          "Show one allocation decision record: its inputs, every candidate's score and the winner",
					Example:        "nrod q audit decision 1 -o json > decision-1.json && nrod audit verify-decision --file decision-1.json",
					PositionalArgs: []*autocliv1.PositionalArgDescriptor{{ProtoField: "decision_id"}},
				},
				{
					RpcMethod: "Decisions",
					Use:       "decisions",
					Short:     "List allocation decision records, oldest first",
					Long: "List allocation decision records, oldest first, optionally filtered by --lease-id, --node-id " +
						"(decisions that placed work on the node) and an inclusive height range --min-height/--max-height. " +
						"Filters combine (AND).",
					Example: "nrod q audit decisions --node-id gpu-node-1 --min-height 1000 --max-height 2000 -o json",
				},
				{RpcMethod: "Params", Use: "params", Short: "Show the x/audit parameters"},
				{
					RpcMethod: "Epoch",
					Use:       "epoch",
					Short:     "Show the current telemetry epoch, when the next starts and until when the previous one takes reports",
				},
				{
					RpcMethod:      "TelemetryReport",
					Use:            "telemetry-report NODE_ID EPOCH",
					Short:          "Show one node's telemetry report for one epoch",
					Example:        "nrod q audit telemetry-report gpu-node-1 12 -o json",
					PositionalArgs: []*autocliv1.PositionalArgDescriptor{{ProtoField: "node_id"}, {ProtoField: "epoch"}},
				},
				{
					RpcMethod: "Telemetry",
					Use:       "telemetry",
					Short:     "List telemetry reports by node and/or epoch range",
					Long: "List telemetry reports: one node's in epoch order (--node-id), or every node's by epoch then node id, " +
						"within an inclusive epoch range --min-epoch/--max-epoch (0 leaves an end open); --disputed-only keeps " +
						"the disputed ones. Filters combine (AND).",
					Example: "nrod q audit telemetry --node-id gpu-node-1 --min-epoch 10 --max-epoch 20 -o json",
				},
				{
					RpcMethod:      "Link",
					Use:            "link NODE_A NODE_B",
					Short:          "Show the link matrix entry between two nodes (either order): recent reports from both ends and their medians",
					Example:        "nrod q audit link gpu-node-1 gpu-node-2 -o json",
					PositionalArgs: []*autocliv1.PositionalArgDescriptor{{ProtoField: "node_a"}, {ProtoField: "node_b"}},
				},
				{
					RpcMethod: "Links",
					Use:       "links",
					Short:     "List the link matrix, or the links of one node (--node-id)",
					Example:   "nrod q audit links --node-id gpu-node-1 -o json",
				},
				{
					RpcMethod: "Faults",
					Use:       "faults",
					Short:     "List faults by node and/or epoch range",
					Long: "List faults: one node's in epoch order (--node-id), every fault in an inclusive epoch range " +
						"(--min-epoch/--max-epoch) in epoch order, or every fault in id order; --kind keeps one kind " +
						"(fault-kind-missed-epoch or fault-kind-gpu-absent). Filters combine (AND).",
					Example: "nrod q audit faults --node-id gpu-node-1 --kind fault-kind-missed-epoch",
				},
				{
					RpcMethod:      "Reputation",
					Use:            "reputation NODE_ID",
					Short:          "Show a node's reputation, its report and fault counts, and its faults within the fault window",
					Example:        "nrod q audit reputation gpu-node-1 -o json",
					PositionalArgs: []*autocliv1.PositionalArgDescriptor{{ProtoField: "node_id"}},
				},
				{
					RpcMethod:      "Slash",
					Use:            "slash SLASH_ID",
					Short:          "Show a slash: the faults counted, the stake taken and where it went, the leases moved",
					Example:        "nrod q audit slash 1 -o json",
					PositionalArgs: []*autocliv1.PositionalArgDescriptor{{ProtoField: "slash_id"}},
				},
				{
					RpcMethod: "Slashes",
					Use:       "slashes",
					Short:     "List slashes, oldest first, optionally of one node (--node-id)",
					Example:   "nrod q audit slashes --node-id gpu-node-1 -o json",
				},
				{
					RpcMethod:      "Challenge",
					Use:            "challenge CHALLENGE_ID",
					Short:          "Show a challenge: the disputed link, the committee, its answers and the verdict",
					Example:        "nrod q audit challenge 1 -o json",
					PositionalArgs: []*autocliv1.PositionalArgDescriptor{{ProtoField: "challenge_id"}},
				},
				{
					RpcMethod: "Challenges",
					Use:       "challenges",
					Short:     "List challenges in id order, optionally against one node (--node-id) or in one status (--status)",
					Example:   "nrod q audit challenges --node-id gpu-node-1 --status CHALLENGE_STATUS_OPEN -o json",
				},
				{RpcMethod: "EthSigners", Use: "eth-signers", Short: "List the validators' Ethereum bridge signers and orchestrators"},
				{
					RpcMethod:      "Valset",
					Use:            "valset [nonce]",
					Short:          "Show a bridge valset (signers in address order, powers of 2^32); nonce 0 is the latest",
					Example:        "nrod q audit valset 0 -o json",
					PositionalArgs: []*autocliv1.PositionalArgDescriptor{{ProtoField: "nonce"}},
				},
				{RpcMethod: "Valsets", Use: "valsets", Short: "List the bridge valsets in nonce order"},
				{
					RpcMethod:      "ValsetConfirms",
					Use:            "valset-confirms [nonce]",
					Short:          "List the validators' signatures of the update to a bridge valset",
					PositionalArgs: []*autocliv1.PositionalArgDescriptor{{ProtoField: "nonce"}},
				},
				{
					RpcMethod:      "BatchConfirms",
					Use:            "batch-confirms [nonce]",
					Short:          "List the validators' signatures of a settlement batch",
					PositionalArgs: []*autocliv1.PositionalArgDescriptor{{ProtoField: "nonce"}},
				},
				{
					RpcMethod:      "BatchAttestations",
					Use:            "batch-attestations [nonce]",
					Short:          "List the attested claims that the settlement contract executed a batch, with their voters",
					PositionalArgs: []*autocliv1.PositionalArgDescriptor{{ProtoField: "nonce"}},
				},
			},
		},
		Tx: &autocliv1.ServiceCommandDescriptor{
			Service:              "nro.audit.v1.Msg",
			EnhanceCustomCommand: true,
			RpcCommandOptions: []*autocliv1.RpcCommandOptions{
				{RpcMethod: "SubmitTelemetry", Skip: true}, // hand-written: nrod tx audit submit-telemetry
				{RpcMethod: "UpdateParams", Skip: true},    // governance only
				// The bridge messages carry Ethereum signatures; the validators' nro-relayer (signer role) makes
				// and sends them. RegisterEthSigner is listed for operators who sign the registration digest
				// themselves (contracts.SignerRegistrationDigest); its signature is hex.
				{
					RpcMethod: "RegisterEthSigner",
					Use:       "register-eth-signer ETH_ADDRESS ORCHESTRATOR ETH_SIGNATURE",
					Short:     "Register your validator's Ethereum bridge signer and orchestrator (from the validator's operator account)",
					PositionalArgs: []*autocliv1.PositionalArgDescriptor{
						{ProtoField: "eth_address"}, {ProtoField: "orchestrator"}, {ProtoField: "eth_signature"},
					},
				},
				{RpcMethod: "ConfirmValset", Skip: true},       // nro-relayer signer role
				{RpcMethod: "ConfirmBatch", Skip: true},        // nro-relayer signer role
				{RpcMethod: "AttestBatchExecuted", Skip: true}, // nro-relayer signer role
				{
					RpcMethod: "ChallengeTelemetry",
					Use:       "challenge NODE_ID EPOCH PEER_NODE_ID RTT_US THROUGHPUT_KBPS BOND",
					Short:     "Challenge the link NODE_ID-PEER_NODE_ID of NODE_ID's report for EPOCH with your own measurement and a bond",
					Long: "Bonds BOND (at least min_challenge_bond) on the claim that the link measures RTT_US and THROUGHPUT_KBPS, not " +
						"what the report says. A committee of agents in the peer's region is drawn from the block hash and must answer " +
						"within challenge_blocks; the lower medians of their answers decide. The response lists the committee.",
					Example: "nrod tx audit challenge gpu-node-1 12 gpu-node-2 1500 9000000 10000000unro --from alice",
					PositionalArgs: []*autocliv1.PositionalArgDescriptor{
						{ProtoField: "node_id"}, {ProtoField: "epoch"}, {ProtoField: "peer_node_id"},
						{ProtoField: "rtt_us"}, {ProtoField: "throughput_kbps"}, {ProtoField: "bond"},
					},
				},
				{
					RpcMethod: "AnswerChallenge",
					Use:       "answer-challenge CHALLENGE_ID NODE_ID RTT_US THROUGHPUT_KBPS",
					Short:     "Answer a challenge as committee member NODE_ID (its agent signs) with your probe of the challenged node",
					Example:   "nrod tx audit answer-challenge 1 gpu-node-7 1480 9100000 --from agent-7",
					PositionalArgs: []*autocliv1.PositionalArgDescriptor{
						{ProtoField: "challenge_id"}, {ProtoField: "node_id"}, {ProtoField: "rtt_us"}, {ProtoField: "throughput_kbps"},
					},
				},
			},
		},
	}
}
