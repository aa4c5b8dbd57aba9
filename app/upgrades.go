package app

import (
	"context"

	"github.com/cosmos/cosmos-sdk/types/module"
	upgradetypes "github.com/cosmos/cosmos-sdk/x/upgrade/types"
)

// UpgradeCapacityEntries is the name of the software upgrade (a governance MsgSoftwareUpgrade plan) that
// moves x/allocation from consensus version 1 to 2: the capacity index entries get their values (see
// x/allocation/keeper.Migrator.Migrate1to2). It adds and removes no store.
const UpgradeCapacityEntries = "capacity-entries"

// registerUpgradeHandlers sets the handler of every upgrade this binary can perform. A handler runs the
// module migrations from the versions the chain ran before the upgrade to this binary's.
func (app *App) registerUpgradeHandlers() {
	app.UpgradeKeeper.SetUpgradeHandler(UpgradeCapacityEntries,
		func(ctx context.Context, _ upgradetypes.Plan, fromVM module.VersionMap) (module.VersionMap, error) {
			return app.ModuleManager.RunMigrations(ctx, app.configurator, fromVM)
		})
}
