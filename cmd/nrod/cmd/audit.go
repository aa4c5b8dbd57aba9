package cmd

import (
	"github.com/spf13/cobra"

	"github.com/cosmos/cosmos-sdk/client"

	auditcli "github.com/consensus-nro/nro/x/audit/client/cli"
)

// NewAuditCmd returns `nrod audit`: tools that re-check the chain's records off-chain. The logic lives in
// x/audit/client/cli; this is only the command group.
func NewAuditCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:                        "audit",
		Short:                      "Re-check the chain's allocation records off-chain",
		SuggestionsMinimumDistance: 2,
		RunE:                       client.ValidateCmd,
	}
	cmd.AddCommand(auditcli.NewVerifyDecisionCmd())
	return cmd
}
