package lease

import (
	autocliv1 "cosmossdk.io/api/cosmos/autocli/v1"
)

// AutoCLIOptions describes the CLI of the module. create is hand-written (client/cli) because its spec is a
// nested message with a comma-separated region list; everything else is generated.
func (AppModule) AutoCLIOptions() *autocliv1.ModuleOptions {
	return &autocliv1.ModuleOptions{
		Query: &autocliv1.ServiceCommandDescriptor{
			Service: "nro.lease.v1.Query",
			RpcCommandOptions: []*autocliv1.RpcCommandOptions{
				{RpcMethod: "Params", Use: "params", Short: "Show the x/lease parameters"},
				{
					RpcMethod:      "Lease",
					Use:            "lease LEASE_ID",
					Short:          "Show one lease with its unspent escrow and what it owes now",
					PositionalArgs: []*autocliv1.PositionalArgDescriptor{{ProtoField: "lease_id"}},
				},
				{
					RpcMethod: "Leases",
					Use:       "leases",
					Short:     "List leases",
					Long:      "List leases, optionally filtered by --submitter, --state (pending, active, closed, cancelled or expired) and --node-id; filters combine.",
					Example:   "nrod q lease leases --state active --node-id gpu-node-1 -o json",
				},
				{
					RpcMethod: "SettlementRecords",
					Use:       "settlement-records",
					Short:     "List settlement records: what each node earned from each closed lease",
					Long:      "List settlement records in id order, optionally of one lease (--lease-id) or one node (--node-id).",
					Example:   "nrod q lease settlement-records --lease-id 1",
				},
				{
					RpcMethod:      "Batch",
					Use:            "batch [nonce]",
					Short:          "Show a settlement batch for the Ethereum bridge: payouts, records, timeout, state",
					Example:        "nrod q lease batch 1 -o json",
					PositionalArgs: []*autocliv1.PositionalArgDescriptor{{ProtoField: "nonce"}},
				},
				{
					RpcMethod: "Batches",
					Use:       "batches",
					Short:     "List settlement batches in nonce order, optionally in one state (--state BATCH_STATE_PENDING)",
					Example:   "nrod q lease batches --state BATCH_STATE_PENDING",
				},
			},
		},
		Tx: &autocliv1.ServiceCommandDescriptor{
			Service:              "nro.lease.v1.Msg",
			EnhanceCustomCommand: true,
			RpcCommandOptions: []*autocliv1.RpcCommandOptions{
				{RpcMethod: "CreateLease", Skip: true}, // hand-written: nrod tx lease create
				{
					RpcMethod:      "CancelLease",
					Use:            "cancel LEASE_ID",
					Short:          "Cancel a PENDING lease with a full refund (submitter only)",
					Example:        "nrod tx lease cancel 1 --from submitter",
					PositionalArgs: []*autocliv1.PositionalArgDescriptor{{ProtoField: "lease_id"}},
				},
				{
					RpcMethod:      "TopUpLease",
					Use:            "top-up LEASE_ID AMOUNT",
					Short:          "Add to the deposit of a PENDING or ACTIVE lease; an ACTIVE lease then runs longer (anyone may pay)",
					Example:        "nrod tx lease top-up 1 10000000000unro --from payer",
					PositionalArgs: []*autocliv1.PositionalArgDescriptor{{ProtoField: "lease_id"}, {ProtoField: "amount"}},
				},
				{
					RpcMethod:      "CloseLease",
					Use:            "close LEASE_ID",
					Short:          "Close an ACTIVE lease: providers are paid up to now, the rest is refunded (submitter only)",
					Example:        "nrod tx lease close 1 --from submitter",
					PositionalArgs: []*autocliv1.PositionalArgDescriptor{{ProtoField: "lease_id"}},
				},
				{RpcMethod: "UpdateParams", Skip: true}, // governance only
			},
		},
	}
}
