package allocation

import (
	autocliv1 "cosmossdk.io/api/cosmos/autocli/v1"
)

// AutoCLIOptions describes the CLI of the module. register-node is hand-written (client/cli) because its
// --gpus flag takes the compact 8xH100:81920 form; everything else is generated.
func (AppModule) AutoCLIOptions() *autocliv1.ModuleOptions {
	return &autocliv1.ModuleOptions{
		Query: &autocliv1.ServiceCommandDescriptor{
			Service: "nro.allocation.v1.Query",
			RpcCommandOptions: []*autocliv1.RpcCommandOptions{
				{RpcMethod: "Params", Use: "params", Short: "Show the x/allocation parameters"},
				{
					RpcMethod:      "Node",
					Use:            "node NODE_ID",
					Short:          "Show one registered node",
					PositionalArgs: []*autocliv1.PositionalArgDescriptor{{ProtoField: "node_id"}},
				},
				{
					RpcMethod: "Nodes",
					Use:       "nodes",
					Short:     "List registered nodes",
					Long:      "List registered nodes, optionally filtered by --operator, --region, --status (active, unbonding or jailed) and --gpu-model.",
					Example:   "nrod q allocation nodes --region aws:us-east-1 --gpu-model H100 -o json",
				},
				{
					RpcMethod:      "Proposals",
					Use:            "proposals LEASE_ID",
					Short:          "List the proposals kept for a pending lease, best first",
					PositionalArgs: []*autocliv1.PositionalArgDescriptor{{ProtoField: "lease_id"}},
				},
				{
					RpcMethod:      "RegionLink",
					Use:            "region-link REGION_A REGION_B",
					Short:          "Show the RTT (µs) and bandwidth (Mbit/s) between two regions used for scoring",
					Example:        "nrod q allocation region-link aws:us-east-1 aws:us-west-2",
					PositionalArgs: []*autocliv1.PositionalArgDescriptor{{ProtoField: "region_a"}, {ProtoField: "region_b"}},
				},
				{RpcMethod: "RegionLinks", Use: "region-links", Short: "List the region link table"},
				{RpcMethod: "PendingAllocations", Use: "pending", Short: "List leases waiting for allocation, in the order they are tried"},
				{
					RpcMethod:      "NodesByOperator",
					Use:            "nodes-by-operator OPERATOR",
					Short:          "List the nodes of one operator",
					PositionalArgs: []*autocliv1.PositionalArgDescriptor{{ProtoField: "operator"}},
				},
			},
		},
		Tx: &autocliv1.ServiceCommandDescriptor{
			Service:              "nro.allocation.v1.Msg",
			EnhanceCustomCommand: true,
			RpcCommandOptions: []*autocliv1.RpcCommandOptions{
				{RpcMethod: "RegisterNode", Skip: true},
				{RpcMethod: "ProposeAllocation", Skip: true},
				{
					RpcMethod:      "UpdateNode",
					Use:            "update-node NODE_ID",
					Short:          "Change a node's price, bandwidth, agent or Ethereum payout address (operator only)",
					Example:        "nrod tx allocation update-node gpu-node-1 --price-per-gpu-hour 2400000unro --from provider",
					PositionalArgs: []*autocliv1.PositionalArgDescriptor{{ProtoField: "node_id"}},
				},
				{
					RpcMethod:      "AddStake",
					Use:            "add-stake NODE_ID AMOUNT",
					Short:          "Add stake to a node (operator only)",
					Example:        "nrod tx allocation add-stake gpu-node-1 100000000unro --from provider",
					PositionalArgs: []*autocliv1.PositionalArgDescriptor{{ProtoField: "node_id"}, {ProtoField: "amount"}},
				},
				{
					RpcMethod:      "DeregisterNode",
					Use:            "deregister-node NODE_ID",
					Short:          "Deregister a node; its stake returns after unbonding_blocks (operator only)",
					PositionalArgs: []*autocliv1.PositionalArgDescriptor{{ProtoField: "node_id"}},
				},
				{
					RpcMethod:      "UnjailNode",
					Use:            "unjail-node NODE_ID",
					Short:          "Return a JAILED node to ACTIVE after its jail time, with stake at the minimum again (operator only)",
					Example:        "nrod tx allocation unjail-node gpu-node-1 --from provider",
					PositionalArgs: []*autocliv1.PositionalArgDescriptor{{ProtoField: "node_id"}},
				},
				{RpcMethod: "UpdateParams", Skip: true}, // governance only
			},
		},
	}
}
