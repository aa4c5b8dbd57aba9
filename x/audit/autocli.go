package audit

import (
	autocliv1 "cosmossdk.io/api/cosmos/autocli/v1"
)

// AutoCLIOptions describes the CLI of the module: the queries are generated. There is no Msg service yet, so
// Tx is left nil and AutoCLI adds no `nrod tx audit` command. `nrod audit verify-decision` is hand-written
// (x/audit/client/cli) because it runs the scorer locally on a queried record.
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
			},
		},
	}
}
