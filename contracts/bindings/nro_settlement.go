// Code generated via abigen V2 - DO NOT EDIT.
// This file is a generated binding and any manual changes will be lost.

package bindings

import (
	"bytes"
	"errors"
	"math/big"

	"github.com/ethereum/go-ethereum/accounts/abi"
	"github.com/ethereum/go-ethereum/accounts/abi/bind/v2"
	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/core/types"
)

// Reference imports to suppress errors if they are not otherwise used.
var (
	_ = bytes.Equal
	_ = errors.New
	_ = big.NewInt
	_ = common.Big1
	_ = types.BloomLookup
	_ = abi.ConvertType
)

// NROSettlementBatch is an auto generated low-level Go binding around an user-defined struct.
type NROSettlementBatch struct {
	Nonce   *big.Int
	Payouts []NROSettlementPayout
	Timeout *big.Int
}

// NROSettlementPayout is an auto generated low-level Go binding around an user-defined struct.
type NROSettlementPayout struct {
	Recipient common.Address
	Amount    *big.Int
}

// NROSettlementSig is an auto generated low-level Go binding around an user-defined struct.
type NROSettlementSig struct {
	V uint8
	R [32]byte
	S [32]byte
}

// NROSettlementValset is an auto generated low-level Go binding around an user-defined struct.
type NROSettlementValset struct {
	Signers []common.Address
	Powers  []*big.Int
	Nonce   *big.Int
}

// NROSettlementMetaData contains all meta data concerning the NROSettlement contract.
var NROSettlementMetaData = bind.MetaData{
	ABI: "[{\"inputs\":[{\"internalType\":\"bytes32\",\"name\":\"bridgeId_\",\"type\":\"bytes32\"},{\"components\":[{\"internalType\":\"address[]\",\"name\":\"signers\",\"type\":\"address[]\"},{\"internalType\":\"uint256[]\",\"name\":\"powers\",\"type\":\"uint256[]\"},{\"internalType\":\"uint256\",\"name\":\"nonce\",\"type\":\"uint256\"}],\"internalType\":\"structNROSettlement.Valset\",\"name\":\"initialValset\",\"type\":\"tuple\"}],\"stateMutability\":\"nonpayable\",\"type\":\"constructor\"},{\"inputs\":[{\"internalType\":\"uint256\",\"name\":\"timeout\",\"type\":\"uint256\"},{\"internalType\":\"uint256\",\"name\":\"blockTimestamp\",\"type\":\"uint256\"}],\"name\":\"BatchTimedOut\",\"type\":\"error\"},{\"inputs\":[{\"internalType\":\"uint256\",\"name\":\"signedPower\",\"type\":\"uint256\"},{\"internalType\":\"uint256\",\"name\":\"totalPower\",\"type\":\"uint256\"}],\"name\":\"InsufficientPower\",\"type\":\"error\"},{\"inputs\":[],\"name\":\"InvalidCheckpoint\",\"type\":\"error\"},{\"inputs\":[{\"internalType\":\"uint256\",\"name\":\"index\",\"type\":\"uint256\"}],\"name\":\"InvalidSignature\",\"type\":\"error\"},{\"inputs\":[],\"name\":\"MalformedValset\",\"type\":\"error\"},{\"inputs\":[],\"name\":\"SigCountMismatch\",\"type\":\"error\"},{\"inputs\":[{\"internalType\":\"uint256\",\"name\":\"batchNonce\",\"type\":\"uint256\"},{\"internalType\":\"uint256\",\"name\":\"lastNonce\",\"type\":\"uint256\"}],\"name\":\"StaleBatchNonce\",\"type\":\"error\"},{\"inputs\":[{\"internalType\":\"uint256\",\"name\":\"newNonce\",\"type\":\"uint256\"},{\"internalType\":\"uint256\",\"name\":\"currentNonce\",\"type\":\"uint256\"}],\"name\":\"StaleValsetNonce\",\"type\":\"error\"},{\"inputs\":[{\"internalType\":\"uint256\",\"name\":\"total\",\"type\":\"uint256\"}],\"name\":\"TotalPowerTooHigh\",\"type\":\"error\"},{\"inputs\":[{\"internalType\":\"uint256\",\"name\":\"index\",\"type\":\"uint256\"}],\"name\":\"ValsetNotSorted\",\"type\":\"error\"},{\"inputs\":[{\"internalType\":\"uint256\",\"name\":\"index\",\"type\":\"uint256\"}],\"name\":\"ZeroPower\",\"type\":\"error\"},{\"anonymous\":false,\"inputs\":[{\"indexed\":true,\"internalType\":\"uint256\",\"name\":\"batchNonce\",\"type\":\"uint256\"},{\"indexed\":false,\"internalType\":\"uint256\",\"name\":\"totalAmount\",\"type\":\"uint256\"},{\"indexed\":false,\"internalType\":\"uint256\",\"name\":\"payoutCount\",\"type\":\"uint256\"}],\"name\":\"BatchExecuted\",\"type\":\"event\"},{\"anonymous\":false,\"inputs\":[{\"indexed\":true,\"internalType\":\"uint256\",\"name\":\"valsetNonce\",\"type\":\"uint256\"},{\"indexed\":false,\"internalType\":\"bytes32\",\"name\":\"checkpoint\",\"type\":\"bytes32\"},{\"indexed\":false,\"internalType\":\"address[]\",\"name\":\"signers\",\"type\":\"address[]\"},{\"indexed\":false,\"internalType\":\"uint256[]\",\"name\":\"powers\",\"type\":\"uint256[]\"}],\"name\":\"ValsetUpdated\",\"type\":\"event\"},{\"inputs\":[],\"name\":\"BATCH_METHOD\",\"outputs\":[{\"internalType\":\"bytes32\",\"name\":\"\",\"type\":\"bytes32\"}],\"stateMutability\":\"view\",\"type\":\"function\"},{\"inputs\":[],\"name\":\"CHECKPOINT_METHOD\",\"outputs\":[{\"internalType\":\"bytes32\",\"name\":\"\",\"type\":\"bytes32\"}],\"stateMutability\":\"view\",\"type\":\"function\"},{\"inputs\":[],\"name\":\"MAX_TOTAL_POWER\",\"outputs\":[{\"internalType\":\"uint256\",\"name\":\"\",\"type\":\"uint256\"}],\"stateMutability\":\"view\",\"type\":\"function\"},{\"inputs\":[],\"name\":\"VALSET_METHOD\",\"outputs\":[{\"internalType\":\"bytes32\",\"name\":\"\",\"type\":\"bytes32\"}],\"stateMutability\":\"view\",\"type\":\"function\"},{\"inputs\":[{\"components\":[{\"internalType\":\"uint256\",\"name\":\"nonce\",\"type\":\"uint256\"},{\"components\":[{\"internalType\":\"address\",\"name\":\"recipient\",\"type\":\"address\"},{\"internalType\":\"uint256\",\"name\":\"amount\",\"type\":\"uint256\"}],\"internalType\":\"structNROSettlement.Payout[]\",\"name\":\"payouts\",\"type\":\"tuple[]\"},{\"internalType\":\"uint256\",\"name\":\"timeout\",\"type\":\"uint256\"}],\"internalType\":\"structNROSettlement.Batch\",\"name\":\"batch\",\"type\":\"tuple\"}],\"name\":\"batchDigest\",\"outputs\":[{\"internalType\":\"bytes32\",\"name\":\"\",\"type\":\"bytes32\"}],\"stateMutability\":\"view\",\"type\":\"function\"},{\"inputs\":[],\"name\":\"bridgeId\",\"outputs\":[{\"internalType\":\"bytes32\",\"name\":\"\",\"type\":\"bytes32\"}],\"stateMutability\":\"view\",\"type\":\"function\"},{\"inputs\":[],\"name\":\"lastBatchNonce\",\"outputs\":[{\"internalType\":\"uint256\",\"name\":\"\",\"type\":\"uint256\"}],\"stateMutability\":\"view\",\"type\":\"function\"},{\"inputs\":[],\"name\":\"lastValsetCheckpoint\",\"outputs\":[{\"internalType\":\"bytes32\",\"name\":\"\",\"type\":\"bytes32\"}],\"stateMutability\":\"view\",\"type\":\"function\"},{\"inputs\":[],\"name\":\"lastValsetNonce\",\"outputs\":[{\"internalType\":\"uint256\",\"name\":\"\",\"type\":\"uint256\"}],\"stateMutability\":\"view\",\"type\":\"function\"},{\"inputs\":[{\"components\":[{\"internalType\":\"address[]\",\"name\":\"signers\",\"type\":\"address[]\"},{\"internalType\":\"uint256[]\",\"name\":\"powers\",\"type\":\"uint256[]\"},{\"internalType\":\"uint256\",\"name\":\"nonce\",\"type\":\"uint256\"}],\"internalType\":\"structNROSettlement.Valset\",\"name\":\"vs\",\"type\":\"tuple\"}],\"name\":\"makeCheckpoint\",\"outputs\":[{\"internalType\":\"bytes32\",\"name\":\"\",\"type\":\"bytes32\"}],\"stateMutability\":\"view\",\"type\":\"function\"},{\"inputs\":[{\"components\":[{\"internalType\":\"address[]\",\"name\":\"signers\",\"type\":\"address[]\"},{\"internalType\":\"uint256[]\",\"name\":\"powers\",\"type\":\"uint256[]\"},{\"internalType\":\"uint256\",\"name\":\"nonce\",\"type\":\"uint256\"}],\"internalType\":\"structNROSettlement.Valset\",\"name\":\"currentValset\",\"type\":\"tuple\"},{\"components\":[{\"internalType\":\"uint8\",\"name\":\"v\",\"type\":\"uint8\"},{\"internalType\":\"bytes32\",\"name\":\"r\",\"type\":\"bytes32\"},{\"internalType\":\"bytes32\",\"name\":\"s\",\"type\":\"bytes32\"}],\"internalType\":\"structNROSettlement.Sig[]\",\"name\":\"sigs\",\"type\":\"tuple[]\"},{\"components\":[{\"internalType\":\"uint256\",\"name\":\"nonce\",\"type\":\"uint256\"},{\"components\":[{\"internalType\":\"address\",\"name\":\"recipient\",\"type\":\"address\"},{\"internalType\":\"uint256\",\"name\":\"amount\",\"type\":\"uint256\"}],\"internalType\":\"structNROSettlement.Payout[]\",\"name\":\"payouts\",\"type\":\"tuple[]\"},{\"internalType\":\"uint256\",\"name\":\"timeout\",\"type\":\"uint256\"}],\"internalType\":\"structNROSettlement.Batch\",\"name\":\"batch\",\"type\":\"tuple\"}],\"name\":\"submitBatch\",\"outputs\":[],\"stateMutability\":\"nonpayable\",\"type\":\"function\"},{\"inputs\":[],\"name\":\"token\",\"outputs\":[{\"internalType\":\"contractWrappedNRO\",\"name\":\"\",\"type\":\"address\"}],\"stateMutability\":\"view\",\"type\":\"function\"},{\"inputs\":[{\"components\":[{\"internalType\":\"address[]\",\"name\":\"signers\",\"type\":\"address[]\"},{\"internalType\":\"uint256[]\",\"name\":\"powers\",\"type\":\"uint256[]\"},{\"internalType\":\"uint256\",\"name\":\"nonce\",\"type\":\"uint256\"}],\"internalType\":\"structNROSettlement.Valset\",\"name\":\"newValset\",\"type\":\"tuple\"},{\"components\":[{\"internalType\":\"address[]\",\"name\":\"signers\",\"type\":\"address[]\"},{\"internalType\":\"uint256[]\",\"name\":\"powers\",\"type\":\"uint256[]\"},{\"internalType\":\"uint256\",\"name\":\"nonce\",\"type\":\"uint256\"}],\"internalType\":\"structNROSettlement.Valset\",\"name\":\"currentValset\",\"type\":\"tuple\"},{\"components\":[{\"internalType\":\"uint8\",\"name\":\"v\",\"type\":\"uint8\"},{\"internalType\":\"bytes32\",\"name\":\"r\",\"type\":\"bytes32\"},{\"internalType\":\"bytes32\",\"name\":\"s\",\"type\":\"bytes32\"}],\"internalType\":\"structNROSettlement.Sig[]\",\"name\":\"sigs\",\"type\":\"tuple[]\"}],\"name\":\"updateValset\",\"outputs\":[],\"stateMutability\":\"nonpayable\",\"type\":\"function\"},{\"inputs\":[{\"components\":[{\"internalType\":\"address[]\",\"name\":\"signers\",\"type\":\"address[]\"},{\"internalType\":\"uint256[]\",\"name\":\"powers\",\"type\":\"uint256[]\"},{\"internalType\":\"uint256\",\"name\":\"nonce\",\"type\":\"uint256\"}],\"internalType\":\"structNROSettlement.Valset\",\"name\":\"newValset\",\"type\":\"tuple\"}],\"name\":\"valsetUpdateDigest\",\"outputs\":[{\"internalType\":\"bytes32\",\"name\":\"\",\"type\":\"bytes32\"}],\"stateMutability\":\"view\",\"type\":\"function\"}]",
	ID:  "NROSettlement",
	Bin: "0x60c060405234801561000f575f5ffd5b5060405161227038038061227083398101604081905261002e91610393565b610037816100e7565b6080829052604051309061004a9061028e565b6001600160a01b039091168152602001604051809103905ff080158015610073573d5f5f3e3d5ffd5b506001600160a01b031660a0525f61008a8261023d565b5f819055604080840151600181905584516020860151925193945090927f9d917a4b162b3269a51d65ea7d208014cb13492aab8b46960435524451b87bb3926100d792869290919061051e565b60405180910390a25050506105cd565b8051518015806100fc57508160200151518114155b1561011a5760405163421079d960e11b815260040160405180910390fd5b5f80805b8381101561020d57816001600160a01b0316855f0151828151811061014557610145610552565b60200260200101516001600160a01b03161161017c5760405163644cb93560e11b8152600481018290526024015b60405180910390fd5b845180518290811061019057610190610552565b60200260200101519150846020015181815181106101b0576101b0610552565b60200260200101515f036101da576040516328baf61b60e21b815260048101829052602401610173565b846020015181815181106101f0576101f0610552565b6020026020010151836102039190610566565b925060010161011e565b5064010000000082111561023757604051637a37f03f60e01b815260048101839052602401610173565b50505050565b5f6080516918da1958dadc1bda5b9d60b21b8360400151845f0151856020015160405160200161027195949392919061058b565b604051602081830303815290604052805190602001209050919050565b610a088061186883390190565b634e487b7160e01b5f52604160045260245ffd5b604051606081016001600160401b03811182821017156102d1576102d161029b565b60405290565b604051601f8201601f191681016001600160401b03811182821017156102ff576102ff61029b565b604052919050565b5f6001600160401b0382111561031f5761031f61029b565b5060051b60200190565b5f82601f830112610338575f5ffd5b815161034b61034682610307565b6102d7565b8082825260208201915060208360051b86010192508583111561036c575f5ffd5b602085015b83811015610389578051835260209283019201610371565b5095945050505050565b5f5f604083850312156103a4575f5ffd5b825160208401519092506001600160401b038111156103c1575f5ffd5b8301606081860312156103d2575f5ffd5b6103da6102af565b81516001600160401b038111156103ef575f5ffd5b8201601f810187136103ff575f5ffd5b805161040d61034682610307565b8082825260208201915060208360051b85010192508983111561042e575f5ffd5b6020840193505b828410156104645783516001600160a01b0381168114610453575f5ffd5b825260209384019390910190610435565b845250505060208201516001600160401b03811115610481575f5ffd5b61048d87828501610329565b60208301525060409182015191810191909152919491935090915050565b5f8151808452602084019350602083015f5b828110156104e45781516001600160a01b03168652602095860195909101906001016104bd565b5093949350505050565b5f8151808452602084019350602083015f5b828110156104e4578151865260209586019590910190600101610500565b838152606060208201525f61053660608301856104ab565b828103604084015261054881856104ee565b9695505050505050565b634e487b7160e01b5f52603260045260245ffd5b8082018082111561058557634e487b7160e01b5f52601160045260245ffd5b92915050565b85815284602082015283604082015260a060608201525f6105af60a08301856104ab565b82810360808401526105c181856104ee565b98975050505050505050565b60805160a0516112576106115f395f81816101e8015261050101525f81816101c10152818161028a0152818161035f015281816103ce01526105da01526112575ff3fe608060405234801561000f575f5ffd5b50600436106100e5575f3560e01c806380c3592d11610088578063eb55e20311610063578063eb55e203146101a0578063f2399395146101b3578063f570bb36146101bc578063fc0c546a146101e3575f5ffd5b806380c3592d14610183578063a1b926071461018b578063e47b2d9514610194575f5ffd5b8063293cf18e116100c3578063293cf18e1461013a57806330f705bd1461014d578063414651931461015c57806348b236d414610170575f5ffd5b8063027ecf18146100e957806302e0fca7146100fe57806316f2b2bd14610127575b5f5ffd5b6100fc6100f7366004610acf565b610222565b005b6101146b76616c73657455706461746560a01b81565b6040519081526020015b60405180910390f35b610114610135366004610d6a565b61035c565b610114610148366004610d6a565b6103cb565b610114640c4c2e8c6d60db1b81565b6101146918da1958dadc1bda5b9d60b21b81565b6100fc61017e366004610da3565b61041c565b6101145f5481565b61011460015481565b61011464010000000081565b6101146101ae366004610f11565b6105d7565b61011460025481565b6101147f000000000000000000000000000000000000000000000000000000000000000081565b61020a7f000000000000000000000000000000000000000000000000000000000000000081565b6040516001600160a01b03909116815260200161011e565b826040013584604001351161025e576040805163325eb87160e21b81528186013560048201529084013560248201526044015b60405180910390fd5b61026f61026a85610f42565b61063f565b61027883610790565b5f61028561013586610f42565b90505f7f00000000000000000000000000000000000000000000000000000000000000006b76616c73657455706461746560a01b4630856040516020016102d0959493929190610f53565b6040516020818303038152906040528051906020012090506102f4858585846107bf565b5f829055604086013560018190557f9d917a4b162b3269a51d65ea7d208014cb13492aab8b46960435524451b87bb38361032e8980610f7f565b61033b60208c018c610f7f565b60405161034c959493929190610fc4565b60405180910390a2505050505050565b5f7f00000000000000000000000000000000000000000000000000000000000000006918da1958dadc1bda5b9d60b21b8360400151845f015185602001516040516020016103ae959493929190611046565b604051602081830303815290604052805190602001209050919050565b5f7f00000000000000000000000000000000000000000000000000000000000000006b76616c73657455706461746560a01b46306104088661035c565b6040516020016103ae959493929190610f53565b60025481351161044d57600254604051630b0d01f960e31b8152823560048201526024810191909152604401610255565b8060400135421061047d5760408051632fcad35160e01b8152908201356004820152426024820152604401610255565b61048684610790565b61049d8484846104986101ae866110e5565b6107bf565b80356002555f806104b160208401846110f0565b91505f90505b8181101561059d57366104cd60208601866110f0565b838181106104dd576104dd611135565b90506040020190508060200135846104f5919061115d565b93506001600160a01b037f0000000000000000000000000000000000000000000000000000000000000000166340c10f196105336020840184611170565b6040516001600160e01b031960e084901b1681526001600160a01b039091166004820152602084013560248201526044015f604051808303815f87803b15801561057b575f5ffd5b505af115801561058d573d5f5f3e3d5ffd5b50505050508060010190506104b7565b5060408051838152602081018390528435917f2403003b183ff811dedab647749b7525f94e39ff05e4a7b4f02743c21b6c1622910161034c565b5f7f0000000000000000000000000000000000000000000000000000000000000000640c4c2e8c6d60db1b4630856040516020016106159190611190565b604051602081830303815290604052805190602001206040516020016103ae959493929190610f53565b80515180158061065457508160200151518114155b156106725760405163421079d960e11b815260040160405180910390fd5b5f80805b8381101561076057816001600160a01b0316855f0151828151811061069d5761069d611135565b60200260200101516001600160a01b0316116106cf5760405163644cb93560e11b815260048101829052602401610255565b84518051829081106106e3576106e3611135565b602002602001015191508460200151818151811061070357610703611135565b60200260200101515f0361072d576040516328baf61b60e21b815260048101829052602401610255565b8460200151818151811061074357610743611135565b602002602001015183610756919061115d565b9250600101610676565b5064010000000082111561078a57604051637a37f03f60e01b815260048101839052602401610255565b50505050565b5f5461079e61013583610f42565b146107bc57604051630f0f97d160e01b815260040160405180910390fd5b50565b5f6107ca8580610f7f565b9150508281146107ed5760405163052d708f60e11b815260040160405180910390fd5b7f19457468657265756d205369676e6564204d6573736167653a0a3332000000005f908152601c839052603c81209080805b84811015610959575f61083560208b018b610f7f565b8381811061084557610845611135565b905060200201359050808461085a919061115d565b93503689898481811061086f5761086f611135565b6060029190910191506108879050602082018261120c565b60ff165f03610897575050610951565b5f806108b9886108aa602086018661120c565b856020013586604001356109aa565b5090925090505f8160038111156108d2576108d261122c565b14158061091f57506108e48d80610f7f565b868181106108f4576108f4611135565b90506020020160208101906109099190611170565b6001600160a01b0316826001600160a01b031614155b1561094057604051630a57f30960e31b815260048101869052602401610255565b61094a848761115d565b9550505050505b60010161081f565b5061096a6401000000006002611240565b610975826003611240565b116109a05760405162bfb6ab60e01b8152600481018290526401000000006024820152604401610255565b5050505050505050565b5f80807f7fffffffffffffffffffffffffffffff5d576e7357a4501ddfe92f46681b20a08411156109e357505f91506003905082610a68565b604080515f808252602082018084528a905260ff891692820192909252606081018790526080810186905260019060a0016020604051602081039080840390855afa158015610a34573d5f5f3e3d5ffd5b5050604051601f1901519150506001600160a01b038116610a5f57505f925060019150829050610a68565b92505f91508190505b9450945094915050565b5f60608284031215610a82575f5ffd5b50919050565b5f5f83601f840112610a98575f5ffd5b5081356001600160401b03811115610aae575f5ffd5b602083019150836020606083028501011115610ac8575f5ffd5b9250929050565b5f5f5f5f60608587031215610ae2575f5ffd5b84356001600160401b03811115610af7575f5ffd5b610b0387828801610a72565b94505060208501356001600160401b03811115610b1e575f5ffd5b610b2a87828801610a72565b93505060408501356001600160401b03811115610b45575f5ffd5b610b5187828801610a88565b95989497509550505050565b634e487b7160e01b5f52604160045260245ffd5b604051606081016001600160401b0381118282101715610b9357610b93610b5d565b60405290565b604080519081016001600160401b0381118282101715610b9357610b93610b5d565b604051601f8201601f191681016001600160401b0381118282101715610be357610be3610b5d565b604052919050565b5f6001600160401b03821115610c0357610c03610b5d565b5060051b60200190565b80356001600160a01b0381168114610c23575f5ffd5b919050565b5f82601f830112610c37575f5ffd5b8135610c4a610c4582610beb565b610bbb565b8082825260208201915060208360051b860101925085831115610c6b575f5ffd5b602085015b83811015610c88578035835260209283019201610c70565b5095945050505050565b5f60608284031215610ca2575f5ffd5b610caa610b71565b905081356001600160401b03811115610cc1575f5ffd5b8201601f81018413610cd1575f5ffd5b8035610cdf610c4582610beb565b8082825260208201915060208360051b850101925086831115610d00575f5ffd5b6020840193505b82841015610d2957610d1884610c0d565b825260209384019390910190610d07565b845250505060208201356001600160401b03811115610d46575f5ffd5b610d5284828501610c28565b60208301525060409182013591810191909152919050565b5f60208284031215610d7a575f5ffd5b81356001600160401b03811115610d8f575f5ffd5b610d9b84828501610c92565b949350505050565b5f5f5f5f60608587031215610db6575f5ffd5b84356001600160401b03811115610dcb575f5ffd5b610dd787828801610a72565b94505060208501356001600160401b03811115610df2575f5ffd5b610dfe87828801610a88565b90945092505060408501356001600160401b03811115610e1c575f5ffd5b610e2887828801610a72565b91505092959194509250565b5f60608284031215610e44575f5ffd5b610e4c610b71565b82358152905060208201356001600160401b03811115610e6a575f5ffd5b8201601f81018413610e7a575f5ffd5b8035610e88610c4582610beb565b8082825260208201915060208360061b850101925086831115610ea9575f5ffd5b6020840193505b82841015610ef75760408488031215610ec7575f5ffd5b610ecf610b99565b610ed885610c0d565b8152602085810135818301529083526040909401939190910190610eb0565b602085015250505060409182013591810191909152919050565b5f60208284031215610f21575f5ffd5b81356001600160401b03811115610f36575f5ffd5b610d9b84828501610e34565b5f610f4d3683610c92565b92915050565b948552602085019390935260408401919091526001600160a01b03166060830152608082015260a00190565b5f5f8335601e19843603018112610f94575f5ffd5b8301803591506001600160401b03821115610fad575f5ffd5b6020019150600581901b3603821315610ac8575f5ffd5b85815260606020820181905281018490525f8560808301825b8781101561100b576001600160a01b03610ff684610c0d565b16825260209283019290910190600101610fdd565b5083810360408501528481526001600160fb1b0385111561102a575f5ffd5b8460051b91508186602083013701602001979650505050505050565b5f60a0820187835286602084015285604084015260a0606084015280855180835260c0850191506020870192505f5b8181101561109c5783516001600160a01b0316835260209384019390920191600101611075565b50508381036080850152845180825260209182019250908501905f5b818110156110d65782518452602093840193909201916001016110b8565b50919998505050505050505050565b5f610f4d3683610e34565b5f5f8335601e19843603018112611105575f5ffd5b8301803591506001600160401b0382111561111e575f5ffd5b6020019150600681901b3603821315610ac8575f5ffd5b634e487b7160e01b5f52603260045260245ffd5b634e487b7160e01b5f52601160045260245ffd5b80820180821115610f4d57610f4d611149565b5f60208284031215611180575f5ffd5b61118982610c0d565b9392505050565b602080825282518282015282810151606060408401528051608084018190525f929190910190829060a08501905b808310156111f557835180516001600160a01b031683526020908101518184015290930192600192909201916040909101906111be565b506040860151606086015280935050505092915050565b5f6020828403121561121c575f5ffd5b813560ff81168114611189575f5ffd5b634e487b7160e01b5f52602160045260245ffd5b8082028115828204841417610f4d57610f4d6111495660a060405234801561000f575f5ffd5b50604051610a08380380610a0883398101604081905261002e916100c6565b6040518060400160405280600b81526020016a57726170706564204e524f60a81b81525060405180604001604052806004815260200163774e524f60e01b815250816003908161007e919061018b565b50600461008b828261018b565b5050506001600160a01b0381166100b5576040516341f2769560e11b815260040160405180910390fd5b6001600160a01b0316608052610245565b5f602082840312156100d6575f5ffd5b81516001600160a01b03811681146100ec575f5ffd5b9392505050565b634e487b7160e01b5f52604160045260245ffd5b600181811c9082168061011b57607f821691505b60208210810361013957634e487b7160e01b5f52602260045260245ffd5b50919050565b601f82111561018657805f5260205f20601f840160051c810160208510156101645750805b601f840160051c820191505b81811015610183575f8155600101610170565b50505b505050565b81516001600160401b038111156101a4576101a46100f3565b6101b8816101b28454610107565b8461013f565b6020601f8211600181146101ea575f83156101d35750848201515b5f19600385901b1c1916600184901b178455610183565b5f84815260208120601f198516915b8281101561021957878501518255602094850194600190920191016101f9565b508482101561023657868401515f19600387901b60f8161c191681555b50505050600190811b01905550565b6080516107a56102635f395f818160cd01526102c501526107a55ff3fe608060405234801561000f575f5ffd5b50600436106100a6575f3560e01c8063313ce5671161006e578063313ce5671461014f57806340c10f191461015e57806370a082311461017357806395d89b411461019b578063a9059cbb146101a3578063dd62ed3e146101b6575f5ffd5b806306fdde03146100aa57806307546172146100c8578063095ea7b31461010757806318160ddd1461012a57806323b872dd1461013c575b5f5ffd5b6100b26101ee565b6040516100bf919061064b565b60405180910390f35b6100ef7f000000000000000000000000000000000000000000000000000000000000000081565b6040516001600160a01b0390911681526020016100bf565b61011a61011536600461069b565b61027e565b60405190151581526020016100bf565b6002545b6040519081526020016100bf565b61011a61014a3660046106c3565b610297565b604051600681526020016100bf565b61017161016c36600461069b565b6102ba565b005b61012e6101813660046106fd565b6001600160a01b03165f9081526020819052604090205490565b6100b2610318565b61011a6101b136600461069b565b610327565b61012e6101c436600461071d565b6001600160a01b039182165f90815260016020908152604080832093909416825291909152205490565b6060600380546101fd9061074e565b80601f01602080910402602001604051908101604052809291908181526020018280546102299061074e565b80156102745780601f1061024b57610100808354040283529160200191610274565b820191905f5260205f20905b81548152906001019060200180831161025757829003601f168201915b5050505050905090565b5f3361028b818585610334565b60019150505b92915050565b5f336102a4858285610346565b6102af8585856103c2565b506001949350505050565b336001600160a01b037f0000000000000000000000000000000000000000000000000000000000000000161461030a57604051632620fb6760e11b81523360048201526024015b60405180910390fd5b610314828261041f565b5050565b6060600480546101fd9061074e565b5f3361028b8185856103c2565b6103418383836001610453565b505050565b6001600160a01b038381165f908152600160209081526040808320938616835292905220545f198110156103bc57818110156103ae57604051637dc7a0d960e11b81526001600160a01b03841660048201526024810182905260448101839052606401610301565b6103bc84848484035f610453565b50505050565b6001600160a01b0383166103eb57604051634b637e8f60e11b81525f6004820152602401610301565b6001600160a01b0382166104145760405163ec442f0560e01b81525f6004820152602401610301565b610341838383610525565b6001600160a01b0382166104485760405163ec442f0560e01b81525f6004820152602401610301565b6103145f8383610525565b6001600160a01b03841661047c5760405163e602df0560e01b81525f6004820152602401610301565b6001600160a01b0383166104a557604051634a1406b160e11b81525f6004820152602401610301565b6001600160a01b038085165f90815260016020908152604080832093871683529290522082905580156103bc57826001600160a01b0316846001600160a01b03167f8c5be1e5ebec7d5bd14f71427d1e84f3dd0314c0f7b2291e5b200ac8c7c3b9258460405161051791815260200190565b60405180910390a350505050565b6001600160a01b03831661054f578060025f8282546105449190610786565b909155506105bf9050565b6001600160a01b0383165f90815260208190526040902054818110156105a15760405163391434e360e21b81526001600160a01b03851660048201526024810182905260448101839052606401610301565b6001600160a01b0384165f9081526020819052604090209082900390555b6001600160a01b0382166105db576002805482900390556105f9565b6001600160a01b0382165f9081526020819052604090208054820190555b816001600160a01b0316836001600160a01b03167fddf252ad1be2c89b69c2b068fc378daa952ba7f163c4a11628f55a4df523b3ef8360405161063e91815260200190565b60405180910390a3505050565b602081525f82518060208401528060208501604085015e5f604082850101526040601f19601f83011684010191505092915050565b80356001600160a01b0381168114610696575f5ffd5b919050565b5f5f604083850312156106ac575f5ffd5b6106b583610680565b946020939093013593505050565b5f5f5f606084860312156106d5575f5ffd5b6106de84610680565b92506106ec60208501610680565b929592945050506040919091013590565b5f6020828403121561070d575f5ffd5b61071682610680565b9392505050565b5f5f6040838503121561072e575f5ffd5b61073783610680565b915061074560208401610680565b90509250929050565b600181811c9082168061076257607f821691505b60208210810361078057634e487b7160e01b5f52602260045260245ffd5b50919050565b8082018082111561029157634e487b7160e01b5f52601160045260245ffd",
}

// NROSettlement is an auto generated Go binding around an Ethereum contract.
type NROSettlement struct {
	abi abi.ABI
}

// GetABI returns the ABI associated with this contract binding.
func (c *NROSettlement) GetABI() abi.ABI {
	return c.abi
}

// NewNROSettlement creates a new instance of NROSettlement.
func NewNROSettlement() *NROSettlement {
	parsed, err := NROSettlementMetaData.ParseABI()
	if err != nil {
		panic(errors.New("invalid ABI: " + err.Error()))
	}
	return &NROSettlement{abi: *parsed}
}

// Instance creates a wrapper for a deployed contract instance at the given address.
// Use this to create the instance object passed to abigen v2 library functions Call, Transact, etc.
func (c *NROSettlement) Instance(backend bind.ContractBackend, addr common.Address) *bind.BoundContract {
	return bind.NewBoundContract(addr, c.abi, backend, backend, backend)
}

// PackConstructor is the Go binding used to pack the parameters required for
// contract deployment.
//
// Solidity: constructor(bytes32 bridgeId_, (address[],uint256[],uint256) initialValset) returns()
func (nROSettlement *NROSettlement) PackConstructor(bridgeId_ [32]byte, initialValset NROSettlementValset) []byte {
	enc, err := nROSettlement.abi.Pack("", bridgeId_, initialValset)
	if err != nil {
		panic(err)
	}
	return enc
}

// PackBATCHMETHOD is the Go binding used to pack the parameters required for calling
// the contract method with ID 0x30f705bd.  This method will panic if any
// invalid/nil inputs are passed.
//
// Solidity: function BATCH_METHOD() view returns(bytes32)
func (nROSettlement *NROSettlement) PackBATCHMETHOD() []byte {
	enc, err := nROSettlement.abi.Pack("BATCH_METHOD")
	if err != nil {
		panic(err)
	}
	return enc
}

// TryPackBATCHMETHOD is the Go binding used to pack the parameters required for calling
// the contract method with ID 0x30f705bd.  This method will return an error
// if any inputs are invalid/nil.
//
// Solidity: function BATCH_METHOD() view returns(bytes32)
func (nROSettlement *NROSettlement) TryPackBATCHMETHOD() ([]byte, error) {
	return nROSettlement.abi.Pack("BATCH_METHOD")
}

// UnpackBATCHMETHOD is the Go binding that unpacks the parameters returned
// from invoking the contract method with ID 0x30f705bd.
//
// Solidity: function BATCH_METHOD() view returns(bytes32)
func (nROSettlement *NROSettlement) UnpackBATCHMETHOD(data []byte) ([32]byte, error) {
	out, err := nROSettlement.abi.Unpack("BATCH_METHOD", data)
	if err != nil {
		return *new([32]byte), err
	}
	out0 := *abi.ConvertType(out[0], new([32]byte)).(*[32]byte)
	return out0, nil
}

// PackCHECKPOINTMETHOD is the Go binding used to pack the parameters required for calling
// the contract method with ID 0x41465193.  This method will panic if any
// invalid/nil inputs are passed.
//
// Solidity: function CHECKPOINT_METHOD() view returns(bytes32)
func (nROSettlement *NROSettlement) PackCHECKPOINTMETHOD() []byte {
	enc, err := nROSettlement.abi.Pack("CHECKPOINT_METHOD")
	if err != nil {
		panic(err)
	}
	return enc
}

// TryPackCHECKPOINTMETHOD is the Go binding used to pack the parameters required for calling
// the contract method with ID 0x41465193.  This method will return an error
// if any inputs are invalid/nil.
//
// Solidity: function CHECKPOINT_METHOD() view returns(bytes32)
func (nROSettlement *NROSettlement) TryPackCHECKPOINTMETHOD() ([]byte, error) {
	return nROSettlement.abi.Pack("CHECKPOINT_METHOD")
}

// UnpackCHECKPOINTMETHOD is the Go binding that unpacks the parameters returned
// from invoking the contract method with ID 0x41465193.
//
// Solidity: function CHECKPOINT_METHOD() view returns(bytes32)
func (nROSettlement *NROSettlement) UnpackCHECKPOINTMETHOD(data []byte) ([32]byte, error) {
	out, err := nROSettlement.abi.Unpack("CHECKPOINT_METHOD", data)
	if err != nil {
		return *new([32]byte), err
	}
	out0 := *abi.ConvertType(out[0], new([32]byte)).(*[32]byte)
	return out0, nil
}

// PackMAXTOTALPOWER is the Go binding used to pack the parameters required for calling
// the contract method with ID 0xe47b2d95.  This method will panic if any
// invalid/nil inputs are passed.
//
// Solidity: function MAX_TOTAL_POWER() view returns(uint256)
func (nROSettlement *NROSettlement) PackMAXTOTALPOWER() []byte {
	enc, err := nROSettlement.abi.Pack("MAX_TOTAL_POWER")
	if err != nil {
		panic(err)
	}
	return enc
}

// TryPackMAXTOTALPOWER is the Go binding used to pack the parameters required for calling
// the contract method with ID 0xe47b2d95.  This method will return an error
// if any inputs are invalid/nil.
//
// Solidity: function MAX_TOTAL_POWER() view returns(uint256)
func (nROSettlement *NROSettlement) TryPackMAXTOTALPOWER() ([]byte, error) {
	return nROSettlement.abi.Pack("MAX_TOTAL_POWER")
}

// UnpackMAXTOTALPOWER is the Go binding that unpacks the parameters returned
// from invoking the contract method with ID 0xe47b2d95.
//
// Solidity: function MAX_TOTAL_POWER() view returns(uint256)
func (nROSettlement *NROSettlement) UnpackMAXTOTALPOWER(data []byte) (*big.Int, error) {
	out, err := nROSettlement.abi.Unpack("MAX_TOTAL_POWER", data)
	if err != nil {
		return new(big.Int), err
	}
	out0 := abi.ConvertType(out[0], new(big.Int)).(*big.Int)
	return out0, nil
}

// PackVALSETMETHOD is the Go binding used to pack the parameters required for calling
// the contract method with ID 0x02e0fca7.  This method will panic if any
// invalid/nil inputs are passed.
//
// Solidity: function VALSET_METHOD() view returns(bytes32)
func (nROSettlement *NROSettlement) PackVALSETMETHOD() []byte {
	enc, err := nROSettlement.abi.Pack("VALSET_METHOD")
	if err != nil {
		panic(err)
	}
	return enc
}

// TryPackVALSETMETHOD is the Go binding used to pack the parameters required for calling
// the contract method with ID 0x02e0fca7.  This method will return an error
// if any inputs are invalid/nil.
//
// Solidity: function VALSET_METHOD() view returns(bytes32)
func (nROSettlement *NROSettlement) TryPackVALSETMETHOD() ([]byte, error) {
	return nROSettlement.abi.Pack("VALSET_METHOD")
}

// UnpackVALSETMETHOD is the Go binding that unpacks the parameters returned
// from invoking the contract method with ID 0x02e0fca7.
//
// Solidity: function VALSET_METHOD() view returns(bytes32)
func (nROSettlement *NROSettlement) UnpackVALSETMETHOD(data []byte) ([32]byte, error) {
	out, err := nROSettlement.abi.Unpack("VALSET_METHOD", data)
	if err != nil {
		return *new([32]byte), err
	}
	out0 := *abi.ConvertType(out[0], new([32]byte)).(*[32]byte)
	return out0, nil
}

// PackBatchDigest is the Go binding used to pack the parameters required for calling
// the contract method with ID 0xeb55e203.  This method will panic if any
// invalid/nil inputs are passed.
//
// Solidity: function batchDigest((uint256,(address,uint256)[],uint256) batch) view returns(bytes32)
func (nROSettlement *NROSettlement) PackBatchDigest(batch NROSettlementBatch) []byte {
	enc, err := nROSettlement.abi.Pack("batchDigest", batch)
	if err != nil {
		panic(err)
	}
	return enc
}

// TryPackBatchDigest is the Go binding used to pack the parameters required for calling
// the contract method with ID 0xeb55e203.  This method will return an error
// if any inputs are invalid/nil.
//
// Solidity: function batchDigest((uint256,(address,uint256)[],uint256) batch) view returns(bytes32)
func (nROSettlement *NROSettlement) TryPackBatchDigest(batch NROSettlementBatch) ([]byte, error) {
	return nROSettlement.abi.Pack("batchDigest", batch)
}

// UnpackBatchDigest is the Go binding that unpacks the parameters returned
// from invoking the contract method with ID 0xeb55e203.
//
// Solidity: function batchDigest((uint256,(address,uint256)[],uint256) batch) view returns(bytes32)
func (nROSettlement *NROSettlement) UnpackBatchDigest(data []byte) ([32]byte, error) {
	out, err := nROSettlement.abi.Unpack("batchDigest", data)
	if err != nil {
		return *new([32]byte), err
	}
	out0 := *abi.ConvertType(out[0], new([32]byte)).(*[32]byte)
	return out0, nil
}

// PackBridgeId is the Go binding used to pack the parameters required for calling
// the contract method with ID 0xf570bb36.  This method will panic if any
// invalid/nil inputs are passed.
//
// Solidity: function bridgeId() view returns(bytes32)
func (nROSettlement *NROSettlement) PackBridgeId() []byte {
	enc, err := nROSettlement.abi.Pack("bridgeId")
	if err != nil {
		panic(err)
	}
	return enc
}

// TryPackBridgeId is the Go binding used to pack the parameters required for calling
// the contract method with ID 0xf570bb36.  This method will return an error
// if any inputs are invalid/nil.
//
// Solidity: function bridgeId() view returns(bytes32)
func (nROSettlement *NROSettlement) TryPackBridgeId() ([]byte, error) {
	return nROSettlement.abi.Pack("bridgeId")
}

// UnpackBridgeId is the Go binding that unpacks the parameters returned
// from invoking the contract method with ID 0xf570bb36.
//
// Solidity: function bridgeId() view returns(bytes32)
func (nROSettlement *NROSettlement) UnpackBridgeId(data []byte) ([32]byte, error) {
	out, err := nROSettlement.abi.Unpack("bridgeId", data)
	if err != nil {
		return *new([32]byte), err
	}
	out0 := *abi.ConvertType(out[0], new([32]byte)).(*[32]byte)
	return out0, nil
}

// PackLastBatchNonce is the Go binding used to pack the parameters required for calling
// the contract method with ID 0xf2399395.  This method will panic if any
// invalid/nil inputs are passed.
//
// Solidity: function lastBatchNonce() view returns(uint256)
func (nROSettlement *NROSettlement) PackLastBatchNonce() []byte {
	enc, err := nROSettlement.abi.Pack("lastBatchNonce")
	if err != nil {
		panic(err)
	}
	return enc
}

// TryPackLastBatchNonce is the Go binding used to pack the parameters required for calling
// the contract method with ID 0xf2399395.  This method will return an error
// if any inputs are invalid/nil.
//
// Solidity: function lastBatchNonce() view returns(uint256)
func (nROSettlement *NROSettlement) TryPackLastBatchNonce() ([]byte, error) {
	return nROSettlement.abi.Pack("lastBatchNonce")
}

// UnpackLastBatchNonce is the Go binding that unpacks the parameters returned
// from invoking the contract method with ID 0xf2399395.
//
// Solidity: function lastBatchNonce() view returns(uint256)
func (nROSettlement *NROSettlement) UnpackLastBatchNonce(data []byte) (*big.Int, error) {
	out, err := nROSettlement.abi.Unpack("lastBatchNonce", data)
	if err != nil {
		return new(big.Int), err
	}
	out0 := abi.ConvertType(out[0], new(big.Int)).(*big.Int)
	return out0, nil
}

// PackLastValsetCheckpoint is the Go binding used to pack the parameters required for calling
// the contract method with ID 0x80c3592d.  This method will panic if any
// invalid/nil inputs are passed.
//
// Solidity: function lastValsetCheckpoint() view returns(bytes32)
func (nROSettlement *NROSettlement) PackLastValsetCheckpoint() []byte {
	enc, err := nROSettlement.abi.Pack("lastValsetCheckpoint")
	if err != nil {
		panic(err)
	}
	return enc
}

// TryPackLastValsetCheckpoint is the Go binding used to pack the parameters required for calling
// the contract method with ID 0x80c3592d.  This method will return an error
// if any inputs are invalid/nil.
//
// Solidity: function lastValsetCheckpoint() view returns(bytes32)
func (nROSettlement *NROSettlement) TryPackLastValsetCheckpoint() ([]byte, error) {
	return nROSettlement.abi.Pack("lastValsetCheckpoint")
}

// UnpackLastValsetCheckpoint is the Go binding that unpacks the parameters returned
// from invoking the contract method with ID 0x80c3592d.
//
// Solidity: function lastValsetCheckpoint() view returns(bytes32)
func (nROSettlement *NROSettlement) UnpackLastValsetCheckpoint(data []byte) ([32]byte, error) {
	out, err := nROSettlement.abi.Unpack("lastValsetCheckpoint", data)
	if err != nil {
		return *new([32]byte), err
	}
	out0 := *abi.ConvertType(out[0], new([32]byte)).(*[32]byte)
	return out0, nil
}

// PackLastValsetNonce is the Go binding used to pack the parameters required for calling
// the contract method with ID 0xa1b92607.  This method will panic if any
// invalid/nil inputs are passed.
//
// Solidity: function lastValsetNonce() view returns(uint256)
func (nROSettlement *NROSettlement) PackLastValsetNonce() []byte {
	enc, err := nROSettlement.abi.Pack("lastValsetNonce")
	if err != nil {
		panic(err)
	}
	return enc
}

// TryPackLastValsetNonce is the Go binding used to pack the parameters required for calling
// the contract method with ID 0xa1b92607.  This method will return an error
// if any inputs are invalid/nil.
//
// Solidity: function lastValsetNonce() view returns(uint256)
func (nROSettlement *NROSettlement) TryPackLastValsetNonce() ([]byte, error) {
	return nROSettlement.abi.Pack("lastValsetNonce")
}

// UnpackLastValsetNonce is the Go binding that unpacks the parameters returned
// from invoking the contract method with ID 0xa1b92607.
//
// Solidity: function lastValsetNonce() view returns(uint256)
func (nROSettlement *NROSettlement) UnpackLastValsetNonce(data []byte) (*big.Int, error) {
	out, err := nROSettlement.abi.Unpack("lastValsetNonce", data)
	if err != nil {
		return new(big.Int), err
	}
	out0 := abi.ConvertType(out[0], new(big.Int)).(*big.Int)
	return out0, nil
}

// PackMakeCheckpoint is the Go binding used to pack the parameters required for calling
// the contract method with ID 0x16f2b2bd.  This method will panic if any
// invalid/nil inputs are passed.
//
// Solidity: function makeCheckpoint((address[],uint256[],uint256) vs) view returns(bytes32)
func (nROSettlement *NROSettlement) PackMakeCheckpoint(vs NROSettlementValset) []byte {
	enc, err := nROSettlement.abi.Pack("makeCheckpoint", vs)
	if err != nil {
		panic(err)
	}
	return enc
}

// TryPackMakeCheckpoint is the Go binding used to pack the parameters required for calling
// the contract method with ID 0x16f2b2bd.  This method will return an error
// if any inputs are invalid/nil.
//
// Solidity: function makeCheckpoint((address[],uint256[],uint256) vs) view returns(bytes32)
func (nROSettlement *NROSettlement) TryPackMakeCheckpoint(vs NROSettlementValset) ([]byte, error) {
	return nROSettlement.abi.Pack("makeCheckpoint", vs)
}

// UnpackMakeCheckpoint is the Go binding that unpacks the parameters returned
// from invoking the contract method with ID 0x16f2b2bd.
//
// Solidity: function makeCheckpoint((address[],uint256[],uint256) vs) view returns(bytes32)
func (nROSettlement *NROSettlement) UnpackMakeCheckpoint(data []byte) ([32]byte, error) {
	out, err := nROSettlement.abi.Unpack("makeCheckpoint", data)
	if err != nil {
		return *new([32]byte), err
	}
	out0 := *abi.ConvertType(out[0], new([32]byte)).(*[32]byte)
	return out0, nil
}

// PackSubmitBatch is the Go binding used to pack the parameters required for calling
// the contract method with ID 0x48b236d4.  This method will panic if any
// invalid/nil inputs are passed.
//
// Solidity: function submitBatch((address[],uint256[],uint256) currentValset, (uint8,bytes32,bytes32)[] sigs, (uint256,(address,uint256)[],uint256) batch) returns()
func (nROSettlement *NROSettlement) PackSubmitBatch(currentValset NROSettlementValset, sigs []NROSettlementSig, batch NROSettlementBatch) []byte {
	enc, err := nROSettlement.abi.Pack("submitBatch", currentValset, sigs, batch)
	if err != nil {
		panic(err)
	}
	return enc
}

// TryPackSubmitBatch is the Go binding used to pack the parameters required for calling
// the contract method with ID 0x48b236d4.  This method will return an error
// if any inputs are invalid/nil.
//
// Solidity: function submitBatch((address[],uint256[],uint256) currentValset, (uint8,bytes32,bytes32)[] sigs, (uint256,(address,uint256)[],uint256) batch) returns()
func (nROSettlement *NROSettlement) TryPackSubmitBatch(currentValset NROSettlementValset, sigs []NROSettlementSig, batch NROSettlementBatch) ([]byte, error) {
	return nROSettlement.abi.Pack("submitBatch", currentValset, sigs, batch)
}

// PackToken is the Go binding used to pack the parameters required for calling
// the contract method with ID 0xfc0c546a.  This method will panic if any
// invalid/nil inputs are passed.
//
// Solidity: function token() view returns(address)
func (nROSettlement *NROSettlement) PackToken() []byte {
	enc, err := nROSettlement.abi.Pack("token")
	if err != nil {
		panic(err)
	}
	return enc
}

// TryPackToken is the Go binding used to pack the parameters required for calling
// the contract method with ID 0xfc0c546a.  This method will return an error
// if any inputs are invalid/nil.
//
// Solidity: function token() view returns(address)
func (nROSettlement *NROSettlement) TryPackToken() ([]byte, error) {
	return nROSettlement.abi.Pack("token")
}

// UnpackToken is the Go binding that unpacks the parameters returned
// from invoking the contract method with ID 0xfc0c546a.
//
// Solidity: function token() view returns(address)
func (nROSettlement *NROSettlement) UnpackToken(data []byte) (common.Address, error) {
	out, err := nROSettlement.abi.Unpack("token", data)
	if err != nil {
		return *new(common.Address), err
	}
	out0 := *abi.ConvertType(out[0], new(common.Address)).(*common.Address)
	return out0, nil
}

// PackUpdateValset is the Go binding used to pack the parameters required for calling
// the contract method with ID 0x027ecf18.  This method will panic if any
// invalid/nil inputs are passed.
//
// Solidity: function updateValset((address[],uint256[],uint256) newValset, (address[],uint256[],uint256) currentValset, (uint8,bytes32,bytes32)[] sigs) returns()
func (nROSettlement *NROSettlement) PackUpdateValset(newValset NROSettlementValset, currentValset NROSettlementValset, sigs []NROSettlementSig) []byte {
	enc, err := nROSettlement.abi.Pack("updateValset", newValset, currentValset, sigs)
	if err != nil {
		panic(err)
	}
	return enc
}

// TryPackUpdateValset is the Go binding used to pack the parameters required for calling
// the contract method with ID 0x027ecf18.  This method will return an error
// if any inputs are invalid/nil.
//
// Solidity: function updateValset((address[],uint256[],uint256) newValset, (address[],uint256[],uint256) currentValset, (uint8,bytes32,bytes32)[] sigs) returns()
func (nROSettlement *NROSettlement) TryPackUpdateValset(newValset NROSettlementValset, currentValset NROSettlementValset, sigs []NROSettlementSig) ([]byte, error) {
	return nROSettlement.abi.Pack("updateValset", newValset, currentValset, sigs)
}

// PackValsetUpdateDigest is the Go binding used to pack the parameters required for calling
// the contract method with ID 0x293cf18e.  This method will panic if any
// invalid/nil inputs are passed.
//
// Solidity: function valsetUpdateDigest((address[],uint256[],uint256) newValset) view returns(bytes32)
func (nROSettlement *NROSettlement) PackValsetUpdateDigest(newValset NROSettlementValset) []byte {
	enc, err := nROSettlement.abi.Pack("valsetUpdateDigest", newValset)
	if err != nil {
		panic(err)
	}
	return enc
}

// TryPackValsetUpdateDigest is the Go binding used to pack the parameters required for calling
// the contract method with ID 0x293cf18e.  This method will return an error
// if any inputs are invalid/nil.
//
// Solidity: function valsetUpdateDigest((address[],uint256[],uint256) newValset) view returns(bytes32)
func (nROSettlement *NROSettlement) TryPackValsetUpdateDigest(newValset NROSettlementValset) ([]byte, error) {
	return nROSettlement.abi.Pack("valsetUpdateDigest", newValset)
}

// UnpackValsetUpdateDigest is the Go binding that unpacks the parameters returned
// from invoking the contract method with ID 0x293cf18e.
//
// Solidity: function valsetUpdateDigest((address[],uint256[],uint256) newValset) view returns(bytes32)
func (nROSettlement *NROSettlement) UnpackValsetUpdateDigest(data []byte) ([32]byte, error) {
	out, err := nROSettlement.abi.Unpack("valsetUpdateDigest", data)
	if err != nil {
		return *new([32]byte), err
	}
	out0 := *abi.ConvertType(out[0], new([32]byte)).(*[32]byte)
	return out0, nil
}

// NROSettlementBatchExecuted represents a BatchExecuted event raised by the NROSettlement contract.
type NROSettlementBatchExecuted struct {
	BatchNonce  *big.Int
	TotalAmount *big.Int
	PayoutCount *big.Int
	Raw         *types.Log // Blockchain specific contextual infos
}

const NROSettlementBatchExecutedEventName = "BatchExecuted"

// ContractEventName returns the user-defined event name.
func (NROSettlementBatchExecuted) ContractEventName() string {
	return NROSettlementBatchExecutedEventName
}

// UnpackBatchExecutedEvent is the Go binding that unpacks the event data emitted
// by contract.
//
// Solidity: event BatchExecuted(uint256 indexed batchNonce, uint256 totalAmount, uint256 payoutCount)
func (nROSettlement *NROSettlement) UnpackBatchExecutedEvent(log *types.Log) (*NROSettlementBatchExecuted, error) {
	event := "BatchExecuted"
	if len(log.Topics) == 0 {
		return nil, bind.ErrNoEventSignature
	}
	if log.Topics[0] != nROSettlement.abi.Events[event].ID {
		return nil, bind.ErrEventSignatureMismatch
	}
	out := new(NROSettlementBatchExecuted)
	if len(log.Data) > 0 {
		if err := nROSettlement.abi.UnpackIntoInterface(out, event, log.Data); err != nil {
			return nil, err
		}
	}
	var indexed abi.Arguments
	for _, arg := range nROSettlement.abi.Events[event].Inputs {
		if arg.Indexed {
			indexed = append(indexed, arg)
		}
	}
	if err := abi.ParseTopics(out, indexed, log.Topics[1:]); err != nil {
		return nil, err
	}
	out.Raw = log
	return out, nil
}

// NROSettlementValsetUpdated represents a ValsetUpdated event raised by the NROSettlement contract.
type NROSettlementValsetUpdated struct {
	ValsetNonce *big.Int
	Checkpoint  [32]byte
	Signers     []common.Address
	Powers      []*big.Int
	Raw         *types.Log // Blockchain specific contextual infos
}

const NROSettlementValsetUpdatedEventName = "ValsetUpdated"

// ContractEventName returns the user-defined event name.
func (NROSettlementValsetUpdated) ContractEventName() string {
	return NROSettlementValsetUpdatedEventName
}

// UnpackValsetUpdatedEvent is the Go binding that unpacks the event data emitted
// by contract.
//
// Solidity: event ValsetUpdated(uint256 indexed valsetNonce, bytes32 checkpoint, address[] signers, uint256[] powers)
func (nROSettlement *NROSettlement) UnpackValsetUpdatedEvent(log *types.Log) (*NROSettlementValsetUpdated, error) {
	event := "ValsetUpdated"
	if len(log.Topics) == 0 {
		return nil, bind.ErrNoEventSignature
	}
	if log.Topics[0] != nROSettlement.abi.Events[event].ID {
		return nil, bind.ErrEventSignatureMismatch
	}
	out := new(NROSettlementValsetUpdated)
	if len(log.Data) > 0 {
		if err := nROSettlement.abi.UnpackIntoInterface(out, event, log.Data); err != nil {
			return nil, err
		}
	}
	var indexed abi.Arguments
	for _, arg := range nROSettlement.abi.Events[event].Inputs {
		if arg.Indexed {
			indexed = append(indexed, arg)
		}
	}
	if err := abi.ParseTopics(out, indexed, log.Topics[1:]); err != nil {
		return nil, err
	}
	out.Raw = log
	return out, nil
}

// UnpackError attempts to decode the provided error data using user-defined
// error definitions.
func (nROSettlement *NROSettlement) UnpackError(raw []byte) (any, error) {
	if bytes.Equal(raw[:4], nROSettlement.abi.Errors["BatchTimedOut"].ID.Bytes()[:4]) {
		return nROSettlement.UnpackBatchTimedOutError(raw[4:])
	}
	if bytes.Equal(raw[:4], nROSettlement.abi.Errors["InsufficientPower"].ID.Bytes()[:4]) {
		return nROSettlement.UnpackInsufficientPowerError(raw[4:])
	}
	if bytes.Equal(raw[:4], nROSettlement.abi.Errors["InvalidCheckpoint"].ID.Bytes()[:4]) {
		return nROSettlement.UnpackInvalidCheckpointError(raw[4:])
	}
	if bytes.Equal(raw[:4], nROSettlement.abi.Errors["InvalidSignature"].ID.Bytes()[:4]) {
		return nROSettlement.UnpackInvalidSignatureError(raw[4:])
	}
	if bytes.Equal(raw[:4], nROSettlement.abi.Errors["MalformedValset"].ID.Bytes()[:4]) {
		return nROSettlement.UnpackMalformedValsetError(raw[4:])
	}
	if bytes.Equal(raw[:4], nROSettlement.abi.Errors["SigCountMismatch"].ID.Bytes()[:4]) {
		return nROSettlement.UnpackSigCountMismatchError(raw[4:])
	}
	if bytes.Equal(raw[:4], nROSettlement.abi.Errors["StaleBatchNonce"].ID.Bytes()[:4]) {
		return nROSettlement.UnpackStaleBatchNonceError(raw[4:])
	}
	if bytes.Equal(raw[:4], nROSettlement.abi.Errors["StaleValsetNonce"].ID.Bytes()[:4]) {
		return nROSettlement.UnpackStaleValsetNonceError(raw[4:])
	}
	if bytes.Equal(raw[:4], nROSettlement.abi.Errors["TotalPowerTooHigh"].ID.Bytes()[:4]) {
		return nROSettlement.UnpackTotalPowerTooHighError(raw[4:])
	}
	if bytes.Equal(raw[:4], nROSettlement.abi.Errors["ValsetNotSorted"].ID.Bytes()[:4]) {
		return nROSettlement.UnpackValsetNotSortedError(raw[4:])
	}
	if bytes.Equal(raw[:4], nROSettlement.abi.Errors["ZeroPower"].ID.Bytes()[:4]) {
		return nROSettlement.UnpackZeroPowerError(raw[4:])
	}
	return nil, errors.New("Unknown error")
}

// NROSettlementBatchTimedOut represents a BatchTimedOut error raised by the NROSettlement contract.
type NROSettlementBatchTimedOut struct {
	Timeout        *big.Int
	BlockTimestamp *big.Int
}

// ErrorID returns the hash of canonical representation of the error's signature.
//
// Solidity: error BatchTimedOut(uint256 timeout, uint256 blockTimestamp)
func NROSettlementBatchTimedOutErrorID() common.Hash {
	return common.HexToHash("0x2fcad3516990d6bb4965d219eeaf1e21a84a4b551cd3d03e6671eef03970393d")
}

// UnpackBatchTimedOutError is the Go binding used to decode the provided
// error data into the corresponding Go error struct.
//
// Solidity: error BatchTimedOut(uint256 timeout, uint256 blockTimestamp)
func (nROSettlement *NROSettlement) UnpackBatchTimedOutError(raw []byte) (*NROSettlementBatchTimedOut, error) {
	out := new(NROSettlementBatchTimedOut)
	if err := nROSettlement.abi.UnpackIntoInterface(out, "BatchTimedOut", raw); err != nil {
		return nil, err
	}
	return out, nil
}

// NROSettlementInsufficientPower represents a InsufficientPower error raised by the NROSettlement contract.
type NROSettlementInsufficientPower struct {
	SignedPower *big.Int
	TotalPower  *big.Int
}

// ErrorID returns the hash of canonical representation of the error's signature.
//
// Solidity: error InsufficientPower(uint256 signedPower, uint256 totalPower)
func NROSettlementInsufficientPowerErrorID() common.Hash {
	return common.HexToHash("0x00bfb6abc91300e23f23fef9f8adbfb149cb9bb556ab8e6efed6c3856e12d198")
}

// UnpackInsufficientPowerError is the Go binding used to decode the provided
// error data into the corresponding Go error struct.
//
// Solidity: error InsufficientPower(uint256 signedPower, uint256 totalPower)
func (nROSettlement *NROSettlement) UnpackInsufficientPowerError(raw []byte) (*NROSettlementInsufficientPower, error) {
	out := new(NROSettlementInsufficientPower)
	if err := nROSettlement.abi.UnpackIntoInterface(out, "InsufficientPower", raw); err != nil {
		return nil, err
	}
	return out, nil
}

// NROSettlementInvalidCheckpoint represents a InvalidCheckpoint error raised by the NROSettlement contract.
type NROSettlementInvalidCheckpoint struct {
}

// ErrorID returns the hash of canonical representation of the error's signature.
//
// Solidity: error InvalidCheckpoint()
func NROSettlementInvalidCheckpointErrorID() common.Hash {
	return common.HexToHash("0x0f0f97d1838e0f1db76ade93cc59c890e9a9754aabab10da4394baf40bb3966a")
}

// UnpackInvalidCheckpointError is the Go binding used to decode the provided
// error data into the corresponding Go error struct.
//
// Solidity: error InvalidCheckpoint()
func (nROSettlement *NROSettlement) UnpackInvalidCheckpointError(raw []byte) (*NROSettlementInvalidCheckpoint, error) {
	out := new(NROSettlementInvalidCheckpoint)
	if err := nROSettlement.abi.UnpackIntoInterface(out, "InvalidCheckpoint", raw); err != nil {
		return nil, err
	}
	return out, nil
}

// NROSettlementInvalidSignature represents a InvalidSignature error raised by the NROSettlement contract.
type NROSettlementInvalidSignature struct {
	Index *big.Int
}

// ErrorID returns the hash of canonical representation of the error's signature.
//
// Solidity: error InvalidSignature(uint256 index)
func NROSettlementInvalidSignatureErrorID() common.Hash {
	return common.HexToHash("0x52bf9848f4f569cd5e845a26f8524878f8ac004dcaace7433d78683624c84a76")
}

// UnpackInvalidSignatureError is the Go binding used to decode the provided
// error data into the corresponding Go error struct.
//
// Solidity: error InvalidSignature(uint256 index)
func (nROSettlement *NROSettlement) UnpackInvalidSignatureError(raw []byte) (*NROSettlementInvalidSignature, error) {
	out := new(NROSettlementInvalidSignature)
	if err := nROSettlement.abi.UnpackIntoInterface(out, "InvalidSignature", raw); err != nil {
		return nil, err
	}
	return out, nil
}

// NROSettlementMalformedValset represents a MalformedValset error raised by the NROSettlement contract.
type NROSettlementMalformedValset struct {
}

// ErrorID returns the hash of canonical representation of the error's signature.
//
// Solidity: error MalformedValset()
func NROSettlementMalformedValsetErrorID() common.Hash {
	return common.HexToHash("0x8420f3b2e4f6e933d4f83d33e230061d6cca2908c0efd524993a7472e0f9d97d")
}

// UnpackMalformedValsetError is the Go binding used to decode the provided
// error data into the corresponding Go error struct.
//
// Solidity: error MalformedValset()
func (nROSettlement *NROSettlement) UnpackMalformedValsetError(raw []byte) (*NROSettlementMalformedValset, error) {
	out := new(NROSettlementMalformedValset)
	if err := nROSettlement.abi.UnpackIntoInterface(out, "MalformedValset", raw); err != nil {
		return nil, err
	}
	return out, nil
}

// NROSettlementSigCountMismatch represents a SigCountMismatch error raised by the NROSettlement contract.
type NROSettlementSigCountMismatch struct {
}

// ErrorID returns the hash of canonical representation of the error's signature.
//
// Solidity: error SigCountMismatch()
func NROSettlementSigCountMismatchErrorID() common.Hash {
	return common.HexToHash("0x0a5ae11e48be7912f63f5275b77951e28cb06908e30a85bf4a1723b95752b500")
}

// UnpackSigCountMismatchError is the Go binding used to decode the provided
// error data into the corresponding Go error struct.
//
// Solidity: error SigCountMismatch()
func (nROSettlement *NROSettlement) UnpackSigCountMismatchError(raw []byte) (*NROSettlementSigCountMismatch, error) {
	out := new(NROSettlementSigCountMismatch)
	if err := nROSettlement.abi.UnpackIntoInterface(out, "SigCountMismatch", raw); err != nil {
		return nil, err
	}
	return out, nil
}

// NROSettlementStaleBatchNonce represents a StaleBatchNonce error raised by the NROSettlement contract.
type NROSettlementStaleBatchNonce struct {
	BatchNonce *big.Int
	LastNonce  *big.Int
}

// ErrorID returns the hash of canonical representation of the error's signature.
//
// Solidity: error StaleBatchNonce(uint256 batchNonce, uint256 lastNonce)
func NROSettlementStaleBatchNonceErrorID() common.Hash {
	return common.HexToHash("0x58680fc8cead821dc27abd2190f32422ba0e22df473c71fe0d07595642e4dfd0")
}

// UnpackStaleBatchNonceError is the Go binding used to decode the provided
// error data into the corresponding Go error struct.
//
// Solidity: error StaleBatchNonce(uint256 batchNonce, uint256 lastNonce)
func (nROSettlement *NROSettlement) UnpackStaleBatchNonceError(raw []byte) (*NROSettlementStaleBatchNonce, error) {
	out := new(NROSettlementStaleBatchNonce)
	if err := nROSettlement.abi.UnpackIntoInterface(out, "StaleBatchNonce", raw); err != nil {
		return nil, err
	}
	return out, nil
}

// NROSettlementStaleValsetNonce represents a StaleValsetNonce error raised by the NROSettlement contract.
type NROSettlementStaleValsetNonce struct {
	NewNonce     *big.Int
	CurrentNonce *big.Int
}

// ErrorID returns the hash of canonical representation of the error's signature.
//
// Solidity: error StaleValsetNonce(uint256 newNonce, uint256 currentNonce)
func NROSettlementStaleValsetNonceErrorID() common.Hash {
	return common.HexToHash("0xc97ae1c4e33d8b318d057f2136938dff04ec0cd86063eb6cc8a683f2dba270ec")
}

// UnpackStaleValsetNonceError is the Go binding used to decode the provided
// error data into the corresponding Go error struct.
//
// Solidity: error StaleValsetNonce(uint256 newNonce, uint256 currentNonce)
func (nROSettlement *NROSettlement) UnpackStaleValsetNonceError(raw []byte) (*NROSettlementStaleValsetNonce, error) {
	out := new(NROSettlementStaleValsetNonce)
	if err := nROSettlement.abi.UnpackIntoInterface(out, "StaleValsetNonce", raw); err != nil {
		return nil, err
	}
	return out, nil
}

// NROSettlementTotalPowerTooHigh represents a TotalPowerTooHigh error raised by the NROSettlement contract.
type NROSettlementTotalPowerTooHigh struct {
	Total *big.Int
}

// ErrorID returns the hash of canonical representation of the error's signature.
//
// Solidity: error TotalPowerTooHigh(uint256 total)
func NROSettlementTotalPowerTooHighErrorID() common.Hash {
	return common.HexToHash("0x7a37f03f3182bc5983846d69072591b98dd39fc52268a6e42a53748071c2ce68")
}

// UnpackTotalPowerTooHighError is the Go binding used to decode the provided
// error data into the corresponding Go error struct.
//
// Solidity: error TotalPowerTooHigh(uint256 total)
func (nROSettlement *NROSettlement) UnpackTotalPowerTooHighError(raw []byte) (*NROSettlementTotalPowerTooHigh, error) {
	out := new(NROSettlementTotalPowerTooHigh)
	if err := nROSettlement.abi.UnpackIntoInterface(out, "TotalPowerTooHigh", raw); err != nil {
		return nil, err
	}
	return out, nil
}

// NROSettlementValsetNotSorted represents a ValsetNotSorted error raised by the NROSettlement contract.
type NROSettlementValsetNotSorted struct {
	Index *big.Int
}

// ErrorID returns the hash of canonical representation of the error's signature.
//
// Solidity: error ValsetNotSorted(uint256 index)
func NROSettlementValsetNotSortedErrorID() common.Hash {
	return common.HexToHash("0xc899726ac0af6c8112b622eb1a981590e4aed6430deb0c9aadab8d8127235776")
}

// UnpackValsetNotSortedError is the Go binding used to decode the provided
// error data into the corresponding Go error struct.
//
// Solidity: error ValsetNotSorted(uint256 index)
func (nROSettlement *NROSettlement) UnpackValsetNotSortedError(raw []byte) (*NROSettlementValsetNotSorted, error) {
	out := new(NROSettlementValsetNotSorted)
	if err := nROSettlement.abi.UnpackIntoInterface(out, "ValsetNotSorted", raw); err != nil {
		return nil, err
	}
	return out, nil
}

// NROSettlementZeroPower represents a ZeroPower error raised by the NROSettlement contract.
type NROSettlementZeroPower struct {
	Index *big.Int
}

// ErrorID returns the hash of canonical representation of the error's signature.
//
// Solidity: error ZeroPower(uint256 index)
func NROSettlementZeroPowerErrorID() common.Hash {
	return common.HexToHash("0xa2ebd86ccfd21b1a7e7c66ea7438d72066d18262607927dbe92dbd22ab2925ec")
}

// UnpackZeroPowerError is the Go binding used to decode the provided
// error data into the corresponding Go error struct.
//
// Solidity: error ZeroPower(uint256 index)
func (nROSettlement *NROSettlement) UnpackZeroPowerError(raw []byte) (*NROSettlementZeroPower, error) {
	out := new(NROSettlementZeroPower)
	if err := nROSettlement.abi.UnpackIntoInterface(out, "ZeroPower", raw); err != nil {
		return nil, err
	}
	return out, nil
}
