package app

import (
	"context"

	"github.com/cosmos/cosmos-sdk/types/module"
	upgradetypes "github.com/cosmos/cosmos-sdk/x/upgrade/types"
)

// The software upgrades (governance MsgSoftwareUpgrade plans) this binary can perform. Each adds and
// removes no store; its handler runs the module migrations from the versions the chain ran before the
// upgrade to this binary's, so a chain that skipped an earlier upgrade binary still ends at this one's
// versions.
const (
	// UpgradeCapacityEntries moves x/allocation from consensus version 1 to 2: the capacity index entries
	// get their values (x/allocation/keeper.Migrator.Migrate1to2).
	UpgradeCapacityEntries = "capacity-entries"
	// UpgradeBridgeUpkeep moves x/audit from consensus version 1 to 2: the bridge's signing windows and the
	// pruning of bridge records, with their params (x/audit/keeper.Migrator.Migrate1to2).
	UpgradeBridgeUpkeep = "bridge-upkeep"
	// UpgradeLeasePruning moves x/lease from consensus version 1 to 2: ended leases and finished settlement
	// batches are pruned after retention_blocks, with their params, and bridged batches' totals are counted
	// (x/lease/keeper.Migrator.Migrate1to2).
	UpgradeLeasePruning = "lease-pruning"
	// UpgradeGPUTelemetryFields moves x/audit from consensus version 2 to 3: telemetry GPU entries carry
	// the SM and memory clocks and name the values NVML could not read (x/audit/keeper.Migrator.Migrate2to3;
	// no state changes). Upgrade the chain before the agents: a version 2 chain refuses their reports.
	UpgradeGPUTelemetryFields = "gpu-telemetry-fields"
)

// Upgrades lists the upgrade names, oldest first.
var Upgrades = []string{UpgradeCapacityEntries, UpgradeBridgeUpkeep, UpgradeLeasePruning, UpgradeGPUTelemetryFields}

// registerUpgradeHandlers sets the handler of every upgrade this binary can perform.
func (app *App) registerUpgradeHandlers() {
	for _, name := range Upgrades {
		app.UpgradeKeeper.SetUpgradeHandler(name,
			func(ctx context.Context, _ upgradetypes.Plan, fromVM module.VersionMap) (module.VersionMap, error) {
				return app.ModuleManager.RunMigrations(ctx, app.configurator, fromVM)
			})
	}
}
