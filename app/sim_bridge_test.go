//go:build sims

package app

import (
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"cosmossdk.io/collections"
	"github.com/stretchr/testify/require"

	cmtproto "github.com/cometbft/cometbft/proto/tendermint/types"

	"github.com/cosmos/cosmos-sdk/testutil/simsx"
	sdk "github.com/cosmos/cosmos-sdk/types"
	simtypes "github.com/cosmos/cosmos-sdk/types/simulation"
	"github.com/cosmos/cosmos-sdk/x/simulation/client/cli"

	audittypes "github.com/consensus-nro/nro/x/audit/types"
	leasetypes "github.com/consensus-nro/nro/x/lease/types"
)

// bridgeTally is what one simulated chain's bridge did over a run, read from the state at every Commit (the
// confirmations and attestations of closed batches are pruned, so the last state alone would undercount).
type bridgeTally struct {
	// confirms and attests hold the most confirmations and executed-batch attestations seen per batch nonce:
	// they are only ever added until pruned, so the maximum is what was delivered.
	confirms map[uint64]int
	attests  map[uint64]int
}

// bridgeTallies holds the tally of every simulated app, filled by observeBridge (called by newSimApp's
// Precommiter: it only reads the state) and taken by recordBridge.
var bridgeTallies sync.Map // *App -> *bridgeTally

// batchSignatures counts x/audit's confirmations and attestation votes per batch nonce.
func batchSignatures(app *App, ctx sdk.Context) (confirms, attests map[uint64]int, err error) {
	confirms, attests = map[uint64]int{}, map[uint64]int{}
	if err := app.AuditKeeper.BatchConfirms.Walk(ctx, nil, func(k collections.Pair[uint64, string], _ audittypes.BridgeConfirm) (bool, error) {
		confirms[k.K1()]++
		return false, nil
	}); err != nil {
		return nil, nil, err
	}
	err = app.AuditKeeper.AttestVotes.Walk(ctx, nil, func(k collections.Pair[uint64, string]) (bool, error) {
		attests[k.K1()]++
		return false, nil
	})
	return confirms, attests, err
}

func observeBridge(app *App, ctx sdk.Context) error {
	v, _ := bridgeTallies.LoadOrStore(app, &bridgeTally{confirms: map[uint64]int{}, attests: map[uint64]int{}})
	t := v.(*bridgeTally)
	confirms, attests, err := batchSignatures(app, ctx)
	if err != nil {
		return err
	}
	for n, c := range confirms {
		t.confirms[n] = max(t.confirms[n], c)
	}
	for n, c := range attests {
		t.attests[n] = max(t.attests[n], c)
	}
	return nil
}

// bridgeRun is the bridge's work in one seed's run.
type bridgeRun struct {
	bridgeEnabled bool
	// records counts the bridged settlement records; batches the batches by state.
	records int
	batches map[string]int
	// confirms and attests count the batch confirmations and executed-batch attestations delivered;
	// mostAttests is the most attestations one batch had.
	confirms, attests, mostAttests int
	// observed is the newest batch x/audit's upkeep queued for its signing window and pruning; pruned
	// counts the closed batches whose confirmations and attestations x/audit pruned.
	observed uint64
	pruned   int
	// validators and signers are the bonded validators and the registered Ethereum signers at the end.
	validators, signers int
	// retention is x/lease's retention_blocks; leasesPruned and batchesPruned count the leases and batches
	// x/lease made that it no longer holds.
	retention                   uint64
	leasesPruned, batchesPruned int
}

func (b bridgeRun) String() string {
	return fmt.Sprintf("{bridge_enabled %t, %d bridged records, batches %v, %d confirmations, %d attestations (at most %d on one batch), x/audit observed up to batch %d and pruned %d, %d validators, %d signers, x/lease retention %d pruned %d leases and %d batches}",
		b.bridgeEnabled, b.records, b.batches, b.confirms, b.attests, b.mostAttests, b.observed, b.pruned, b.validators, b.signers,
		b.retention, b.leasesPruned, b.batchesPruned)
}

// recordBridge reads a finished run's bridge: batches and records from the last state, confirmations and
// attestations from the tally.
func recordBridge(tb testing.TB, ti simsx.TestInstance[*App]) bridgeRun {
	tb.Helper()
	app := ti.App
	ctx := app.NewContextLegacy(true, cmtproto.Header{Height: app.LastBlockHeight()})
	params, err := app.LeaseKeeper.Params.Get(ctx)
	require.NoError(tb, err)
	run := bridgeRun{bridgeEnabled: params.BridgeEnabled, batches: map[string]int{}, retention: params.RetentionBlocks}
	stored := 0
	require.NoError(tb, app.LeaseKeeper.Leases.Walk(ctx, nil, func(uint64, leasetypes.Lease) (bool, error) {
		stored++
		return false, nil
	}))
	nextLease, err := app.LeaseKeeper.LeaseSeq.Peek(ctx)
	require.NoError(tb, err)
	run.leasesPruned = int(max(nextLease, 1)-1) - stored
	require.NoError(tb, app.LeaseKeeper.SettlementRecords.Walk(ctx, nil, func(_ uint64, r leasetypes.SettlementRecord) (bool, error) {
		if r.Bridged {
			run.records++
		}
		return false, nil
	}))
	tally := &bridgeTally{confirms: map[uint64]int{}, attests: map[uint64]int{}}
	if v, ok := bridgeTallies.LoadAndDelete(app); ok {
		tally = v.(*bridgeTally)
	}
	confirmsNow, attestsNow, err := batchSignatures(app, ctx)
	require.NoError(tb, err)
	require.NoError(tb, app.LeaseKeeper.Batches.Walk(ctx, nil, func(nonce uint64, b leasetypes.SettlementBatch) (bool, error) {
		run.batches[strings.TrimPrefix(b.State.String(), "BATCH_STATE_")]++
		run.confirms += tally.confirms[nonce]
		run.attests += tally.attests[nonce]
		run.mostAttests = max(run.mostAttests, tally.attests[nonce])
		if b.State != leasetypes.BATCH_STATE_PENDING && tally.confirms[nonce]+tally.attests[nonce] > 0 && confirmsNow[nonce]+attestsNow[nonce] == 0 {
			run.pruned++
		}
		return false, nil
	}))
	storedBatches := 0
	for _, n := range run.batches {
		storedBatches += n
	}
	nextBatch, err := app.LeaseKeeper.BatchSeq.Peek(ctx)
	require.NoError(tb, err)
	run.batchesPruned = int(max(nextBatch, 1)-1) - storedBatches
	run.observed, err = app.AuditKeeper.LastObservedBatch.Get(ctx)
	if !errors.Is(err, collections.ErrNotFound) {
		require.NoError(tb, err)
	}
	require.NoError(tb, app.StakingKeeper.IterateLastValidatorPowers(ctx, func(sdk.ValAddress, int64) bool {
		run.validators++
		return false
	}))
	require.NoError(tb, app.AuditKeeper.EthSigners.Walk(ctx, nil, func(string, audittypes.EthSigner) (bool, error) {
		run.signers++
		return false, nil
	}))
	tb.Logf("seed %d: bridge %v", ti.Cfg.Seed, run)
	return run
}

// bridgeTotals sums the runs of several seeds.
func bridgeTotals(runs map[int64]bridgeRun) (batches, confirms, attests, bridged int) {
	for _, b := range runs {
		for _, n := range b.batches {
			batches += n
		}
		confirms += b.confirms
		attests += b.attests
		bridged += b.batches["BRIDGED"]
	}
	return batches, confirms, attests, bridged
}

// requireBatches fails unless some seed made a settlement batch and delivered a confirmation of one.
// Whether a batch becomes BRIDGED depends on the seed's validator count (more than 2/3 of the power must
// attest at the app's default weights): it is logged, and required by TestSimSettlementBatches. The caller
// holds s.mu.
func (s *allocationStats) requireBatches(t *testing.T) {
	t.Helper()
	batches, confirms, attests, bridged := bridgeTotals(s.bridge)
	t.Logf("x/lease settlement batches of each seed: %v; in all: %d batches, %d confirmations, %d attestations, %d batches BRIDGED",
		s.bridge, batches, confirms, attests, bridged)
	require.Positive(t, batches, "no settlement batch was made in any seed")
	require.Positive(t, confirms, "no MsgConfirmBatch was delivered in any seed")
}

// settlementBatchSeeds are TestSimSettlementBatches' seeds; a -Seed given on the command line replaces them.
var settlementBatchSeeds = []int64{7, 2989}

// TestSimSettlementBatches runs short simulations in which the validators' signers and the relayer keep up
// with the settlement batches — MsgConfirmBatch and MsgAttestBatchExecuted at five times the app's weights,
// through a params file — and requires the bridge end to end: bridged settlement records batched, the
// batches signed, executed-batch attestations with more than 2/3 of the power making batches BRIDGED, and
// x/audit's upkeep observing the batches; every invariant holds after every block. Without -NumBlocks and
// -BlockSize it runs 50 blocks of 100 operations, as `make test-sim-determinism` does.
func TestSimSettlementBatches(t *testing.T) {
	cfg := cli.NewConfigFromFlags()
	cfg.ChainID = simsx.SimAppChainID
	seeds := settlementBatchSeeds
	given := map[string]bool{}
	flag.Visit(func(f *flag.Flag) { given[f.Name] = true })
	if !given["NumBlocks"] {
		cfg.NumBlocks = 50
	}
	if !given["BlockSize"] {
		cfg.BlockSize = 100
	}
	if given["Seed"] {
		seeds = []int64{cli.FlagSeedValue}
	}
	cfg.Commit = true // the invariants and the bridge tally run at Commit
	if cfg.ParamsFile == "" {
		cfg.ParamsFile = filepath.Join(t.TempDir(), "sim_params.json")
		require.NoError(t, os.WriteFile(cfg.ParamsFile, []byte(`{"op_weight_msg_confirm_batch": 200, "op_weight_msg_attest_batch_executed": 100}`), 0o600))
	}
	var mu sync.Mutex
	runs := map[int64]bridgeRun{}
	t.Run("seeds", func(t *testing.T) {
		for _, seed := range seeds {
			t.Run(fmt.Sprintf("seed: %d", seed), func(t *testing.T) {
				t.Parallel()
				simsx.RunWithSeed(t, cfg, newSimApp, setupStateFactory, seed, nil, checkStakeInvariant,
					func(tb testing.TB, ti simsx.TestInstance[*App], _ []simtypes.Account) {
						tb.Helper()
						run := recordBridge(tb, ti)
						mu.Lock()
						defer mu.Unlock()
						runs[seed] = run
					})
			})
		}
	})
	if t.Failed() {
		return
	}
	batches, confirms, attests, bridged := bridgeTotals(runs)
	t.Logf("in all: %d batches, %d confirmations, %d attestations, %d batches BRIDGED", batches, confirms, attests, bridged)
	require.Positive(t, batches, "no settlement batch was made in any seed")
	require.Positive(t, confirms, "no MsgConfirmBatch was delivered in any seed")
	require.Positive(t, bridged, "no settlement batch became BRIDGED in any seed")
	observed := false
	for _, r := range runs {
		observed = observed || r.observed > 0
	}
	require.True(t, observed, "x/audit's bridge upkeep observed no batch in any seed")
	leasesPruned, batchesPruned := 0, 0
	for _, r := range runs {
		leasesPruned += r.leasesPruned
		batchesPruned += r.batchesPruned
	}
	require.Positive(t, leasesPruned, "x/lease pruned no ended lease in any seed")
	require.Positive(t, batchesPruned, "x/lease pruned no finished batch in any seed")
}
