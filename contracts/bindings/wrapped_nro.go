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

// WrappedNROMetaData contains all meta data concerning the WrappedNRO contract.
var WrappedNROMetaData = bind.MetaData{
	ABI: "[{\"inputs\":[{\"internalType\":\"address\",\"name\":\"minter_\",\"type\":\"address\"}],\"stateMutability\":\"nonpayable\",\"type\":\"constructor\"},{\"inputs\":[{\"internalType\":\"address\",\"name\":\"spender\",\"type\":\"address\"},{\"internalType\":\"uint256\",\"name\":\"allowance\",\"type\":\"uint256\"},{\"internalType\":\"uint256\",\"name\":\"needed\",\"type\":\"uint256\"}],\"name\":\"ERC20InsufficientAllowance\",\"type\":\"error\"},{\"inputs\":[{\"internalType\":\"address\",\"name\":\"sender\",\"type\":\"address\"},{\"internalType\":\"uint256\",\"name\":\"balance\",\"type\":\"uint256\"},{\"internalType\":\"uint256\",\"name\":\"needed\",\"type\":\"uint256\"}],\"name\":\"ERC20InsufficientBalance\",\"type\":\"error\"},{\"inputs\":[{\"internalType\":\"address\",\"name\":\"approver\",\"type\":\"address\"}],\"name\":\"ERC20InvalidApprover\",\"type\":\"error\"},{\"inputs\":[{\"internalType\":\"address\",\"name\":\"receiver\",\"type\":\"address\"}],\"name\":\"ERC20InvalidReceiver\",\"type\":\"error\"},{\"inputs\":[{\"internalType\":\"address\",\"name\":\"sender\",\"type\":\"address\"}],\"name\":\"ERC20InvalidSender\",\"type\":\"error\"},{\"inputs\":[{\"internalType\":\"address\",\"name\":\"spender\",\"type\":\"address\"}],\"name\":\"ERC20InvalidSpender\",\"type\":\"error\"},{\"inputs\":[{\"internalType\":\"address\",\"name\":\"caller\",\"type\":\"address\"}],\"name\":\"OnlyMinter\",\"type\":\"error\"},{\"inputs\":[],\"name\":\"ZeroMinter\",\"type\":\"error\"},{\"anonymous\":false,\"inputs\":[{\"indexed\":true,\"internalType\":\"address\",\"name\":\"owner\",\"type\":\"address\"},{\"indexed\":true,\"internalType\":\"address\",\"name\":\"spender\",\"type\":\"address\"},{\"indexed\":false,\"internalType\":\"uint256\",\"name\":\"value\",\"type\":\"uint256\"}],\"name\":\"Approval\",\"type\":\"event\"},{\"anonymous\":false,\"inputs\":[{\"indexed\":true,\"internalType\":\"address\",\"name\":\"from\",\"type\":\"address\"},{\"indexed\":true,\"internalType\":\"address\",\"name\":\"to\",\"type\":\"address\"},{\"indexed\":false,\"internalType\":\"uint256\",\"name\":\"value\",\"type\":\"uint256\"}],\"name\":\"Transfer\",\"type\":\"event\"},{\"inputs\":[{\"internalType\":\"address\",\"name\":\"owner\",\"type\":\"address\"},{\"internalType\":\"address\",\"name\":\"spender\",\"type\":\"address\"}],\"name\":\"allowance\",\"outputs\":[{\"internalType\":\"uint256\",\"name\":\"\",\"type\":\"uint256\"}],\"stateMutability\":\"view\",\"type\":\"function\"},{\"inputs\":[{\"internalType\":\"address\",\"name\":\"spender\",\"type\":\"address\"},{\"internalType\":\"uint256\",\"name\":\"value\",\"type\":\"uint256\"}],\"name\":\"approve\",\"outputs\":[{\"internalType\":\"bool\",\"name\":\"\",\"type\":\"bool\"}],\"stateMutability\":\"nonpayable\",\"type\":\"function\"},{\"inputs\":[{\"internalType\":\"address\",\"name\":\"account\",\"type\":\"address\"}],\"name\":\"balanceOf\",\"outputs\":[{\"internalType\":\"uint256\",\"name\":\"\",\"type\":\"uint256\"}],\"stateMutability\":\"view\",\"type\":\"function\"},{\"inputs\":[],\"name\":\"decimals\",\"outputs\":[{\"internalType\":\"uint8\",\"name\":\"\",\"type\":\"uint8\"}],\"stateMutability\":\"pure\",\"type\":\"function\"},{\"inputs\":[{\"internalType\":\"address\",\"name\":\"to\",\"type\":\"address\"},{\"internalType\":\"uint256\",\"name\":\"amount\",\"type\":\"uint256\"}],\"name\":\"mint\",\"outputs\":[],\"stateMutability\":\"nonpayable\",\"type\":\"function\"},{\"inputs\":[],\"name\":\"minter\",\"outputs\":[{\"internalType\":\"address\",\"name\":\"\",\"type\":\"address\"}],\"stateMutability\":\"view\",\"type\":\"function\"},{\"inputs\":[],\"name\":\"name\",\"outputs\":[{\"internalType\":\"string\",\"name\":\"\",\"type\":\"string\"}],\"stateMutability\":\"view\",\"type\":\"function\"},{\"inputs\":[],\"name\":\"symbol\",\"outputs\":[{\"internalType\":\"string\",\"name\":\"\",\"type\":\"string\"}],\"stateMutability\":\"view\",\"type\":\"function\"},{\"inputs\":[],\"name\":\"totalSupply\",\"outputs\":[{\"internalType\":\"uint256\",\"name\":\"\",\"type\":\"uint256\"}],\"stateMutability\":\"view\",\"type\":\"function\"},{\"inputs\":[{\"internalType\":\"address\",\"name\":\"to\",\"type\":\"address\"},{\"internalType\":\"uint256\",\"name\":\"value\",\"type\":\"uint256\"}],\"name\":\"transfer\",\"outputs\":[{\"internalType\":\"bool\",\"name\":\"\",\"type\":\"bool\"}],\"stateMutability\":\"nonpayable\",\"type\":\"function\"},{\"inputs\":[{\"internalType\":\"address\",\"name\":\"from\",\"type\":\"address\"},{\"internalType\":\"address\",\"name\":\"to\",\"type\":\"address\"},{\"internalType\":\"uint256\",\"name\":\"value\",\"type\":\"uint256\"}],\"name\":\"transferFrom\",\"outputs\":[{\"internalType\":\"bool\",\"name\":\"\",\"type\":\"bool\"}],\"stateMutability\":\"nonpayable\",\"type\":\"function\"}]",
	ID:  "WrappedNRO",
	Bin: "0x60a060405234801561000f575f5ffd5b50604051610a08380380610a0883398101604081905261002e916100c6565b6040518060400160405280600b81526020016a57726170706564204e524f60a81b81525060405180604001604052806004815260200163774e524f60e01b815250816003908161007e919061018b565b50600461008b828261018b565b5050506001600160a01b0381166100b5576040516341f2769560e11b815260040160405180910390fd5b6001600160a01b0316608052610245565b5f602082840312156100d6575f5ffd5b81516001600160a01b03811681146100ec575f5ffd5b9392505050565b634e487b7160e01b5f52604160045260245ffd5b600181811c9082168061011b57607f821691505b60208210810361013957634e487b7160e01b5f52602260045260245ffd5b50919050565b601f82111561018657805f5260205f20601f840160051c810160208510156101645750805b601f840160051c820191505b81811015610183575f8155600101610170565b50505b505050565b81516001600160401b038111156101a4576101a46100f3565b6101b8816101b28454610107565b8461013f565b6020601f8211600181146101ea575f83156101d35750848201515b5f19600385901b1c1916600184901b178455610183565b5f84815260208120601f198516915b8281101561021957878501518255602094850194600190920191016101f9565b508482101561023657868401515f19600387901b60f8161c191681555b50505050600190811b01905550565b6080516107a56102635f395f818160cd01526102c501526107a55ff3fe608060405234801561000f575f5ffd5b50600436106100a6575f3560e01c8063313ce5671161006e578063313ce5671461014f57806340c10f191461015e57806370a082311461017357806395d89b411461019b578063a9059cbb146101a3578063dd62ed3e146101b6575f5ffd5b806306fdde03146100aa57806307546172146100c8578063095ea7b31461010757806318160ddd1461012a57806323b872dd1461013c575b5f5ffd5b6100b26101ee565b6040516100bf919061064b565b60405180910390f35b6100ef7f000000000000000000000000000000000000000000000000000000000000000081565b6040516001600160a01b0390911681526020016100bf565b61011a61011536600461069b565b61027e565b60405190151581526020016100bf565b6002545b6040519081526020016100bf565b61011a61014a3660046106c3565b610297565b604051600681526020016100bf565b61017161016c36600461069b565b6102ba565b005b61012e6101813660046106fd565b6001600160a01b03165f9081526020819052604090205490565b6100b2610318565b61011a6101b136600461069b565b610327565b61012e6101c436600461071d565b6001600160a01b039182165f90815260016020908152604080832093909416825291909152205490565b6060600380546101fd9061074e565b80601f01602080910402602001604051908101604052809291908181526020018280546102299061074e565b80156102745780601f1061024b57610100808354040283529160200191610274565b820191905f5260205f20905b81548152906001019060200180831161025757829003601f168201915b5050505050905090565b5f3361028b818585610334565b60019150505b92915050565b5f336102a4858285610346565b6102af8585856103c2565b506001949350505050565b336001600160a01b037f0000000000000000000000000000000000000000000000000000000000000000161461030a57604051632620fb6760e11b81523360048201526024015b60405180910390fd5b610314828261041f565b5050565b6060600480546101fd9061074e565b5f3361028b8185856103c2565b6103418383836001610453565b505050565b6001600160a01b038381165f908152600160209081526040808320938616835292905220545f198110156103bc57818110156103ae57604051637dc7a0d960e11b81526001600160a01b03841660048201526024810182905260448101839052606401610301565b6103bc84848484035f610453565b50505050565b6001600160a01b0383166103eb57604051634b637e8f60e11b81525f6004820152602401610301565b6001600160a01b0382166104145760405163ec442f0560e01b81525f6004820152602401610301565b610341838383610525565b6001600160a01b0382166104485760405163ec442f0560e01b81525f6004820152602401610301565b6103145f8383610525565b6001600160a01b03841661047c5760405163e602df0560e01b81525f6004820152602401610301565b6001600160a01b0383166104a557604051634a1406b160e11b81525f6004820152602401610301565b6001600160a01b038085165f90815260016020908152604080832093871683529290522082905580156103bc57826001600160a01b0316846001600160a01b03167f8c5be1e5ebec7d5bd14f71427d1e84f3dd0314c0f7b2291e5b200ac8c7c3b9258460405161051791815260200190565b60405180910390a350505050565b6001600160a01b03831661054f578060025f8282546105449190610786565b909155506105bf9050565b6001600160a01b0383165f90815260208190526040902054818110156105a15760405163391434e360e21b81526001600160a01b03851660048201526024810182905260448101839052606401610301565b6001600160a01b0384165f9081526020819052604090209082900390555b6001600160a01b0382166105db576002805482900390556105f9565b6001600160a01b0382165f9081526020819052604090208054820190555b816001600160a01b0316836001600160a01b03167fddf252ad1be2c89b69c2b068fc378daa952ba7f163c4a11628f55a4df523b3ef8360405161063e91815260200190565b60405180910390a3505050565b602081525f82518060208401528060208501604085015e5f604082850101526040601f19601f83011684010191505092915050565b80356001600160a01b0381168114610696575f5ffd5b919050565b5f5f604083850312156106ac575f5ffd5b6106b583610680565b946020939093013593505050565b5f5f5f606084860312156106d5575f5ffd5b6106de84610680565b92506106ec60208501610680565b929592945050506040919091013590565b5f6020828403121561070d575f5ffd5b61071682610680565b9392505050565b5f5f6040838503121561072e575f5ffd5b61073783610680565b915061074560208401610680565b90509250929050565b600181811c9082168061076257607f821691505b60208210810361078057634e487b7160e01b5f52602260045260245ffd5b50919050565b8082018082111561029157634e487b7160e01b5f52601160045260245ffd",
}

// WrappedNRO is an auto generated Go binding around an Ethereum contract.
type WrappedNRO struct {
	abi abi.ABI
}

// GetABI returns the ABI associated with this contract binding.
func (c *WrappedNRO) GetABI() abi.ABI {
	return c.abi
}

// NewWrappedNRO creates a new instance of WrappedNRO.
func NewWrappedNRO() *WrappedNRO {
	parsed, err := WrappedNROMetaData.ParseABI()
	if err != nil {
		panic(errors.New("invalid ABI: " + err.Error()))
	}
	return &WrappedNRO{abi: *parsed}
}

// Instance creates a wrapper for a deployed contract instance at the given address.
// Use this to create the instance object passed to abigen v2 library functions Call, Transact, etc.
func (c *WrappedNRO) Instance(backend bind.ContractBackend, addr common.Address) *bind.BoundContract {
	return bind.NewBoundContract(addr, c.abi, backend, backend, backend)
}

// PackConstructor is the Go binding used to pack the parameters required for
// contract deployment.
//
// Solidity: constructor(address minter_) returns()
func (wrappedNRO *WrappedNRO) PackConstructor(minter_ common.Address) []byte {
	enc, err := wrappedNRO.abi.Pack("", minter_)
	if err != nil {
		panic(err)
	}
	return enc
}

// PackAllowance is the Go binding used to pack the parameters required for calling
// the contract method with ID 0xdd62ed3e.  This method will panic if any
// invalid/nil inputs are passed.
//
// Solidity: function allowance(address owner, address spender) view returns(uint256)
func (wrappedNRO *WrappedNRO) PackAllowance(owner common.Address, spender common.Address) []byte {
	enc, err := wrappedNRO.abi.Pack("allowance", owner, spender)
	if err != nil {
		panic(err)
	}
	return enc
}

// TryPackAllowance is the Go binding used to pack the parameters required for calling
// the contract method with ID 0xdd62ed3e.  This method will return an error
// if any inputs are invalid/nil.
//
// Solidity: function allowance(address owner, address spender) view returns(uint256)
func (wrappedNRO *WrappedNRO) TryPackAllowance(owner common.Address, spender common.Address) ([]byte, error) {
	return wrappedNRO.abi.Pack("allowance", owner, spender)
}

// UnpackAllowance is the Go binding that unpacks the parameters returned
// from invoking the contract method with ID 0xdd62ed3e.
//
// Solidity: function allowance(address owner, address spender) view returns(uint256)
func (wrappedNRO *WrappedNRO) UnpackAllowance(data []byte) (*big.Int, error) {
	out, err := wrappedNRO.abi.Unpack("allowance", data)
	if err != nil {
		return new(big.Int), err
	}
	out0 := abi.ConvertType(out[0], new(big.Int)).(*big.Int)
	return out0, nil
}

// PackApprove is the Go binding used to pack the parameters required for calling
// the contract method with ID 0x095ea7b3.  This method will panic if any
// invalid/nil inputs are passed.
//
// Solidity: function approve(address spender, uint256 value) returns(bool)
func (wrappedNRO *WrappedNRO) PackApprove(spender common.Address, value *big.Int) []byte {
	enc, err := wrappedNRO.abi.Pack("approve", spender, value)
	if err != nil {
		panic(err)
	}
	return enc
}

// TryPackApprove is the Go binding used to pack the parameters required for calling
// the contract method with ID 0x095ea7b3.  This method will return an error
// if any inputs are invalid/nil.
//
// Solidity: function approve(address spender, uint256 value) returns(bool)
func (wrappedNRO *WrappedNRO) TryPackApprove(spender common.Address, value *big.Int) ([]byte, error) {
	return wrappedNRO.abi.Pack("approve", spender, value)
}

// UnpackApprove is the Go binding that unpacks the parameters returned
// from invoking the contract method with ID 0x095ea7b3.
//
// Solidity: function approve(address spender, uint256 value) returns(bool)
func (wrappedNRO *WrappedNRO) UnpackApprove(data []byte) (bool, error) {
	out, err := wrappedNRO.abi.Unpack("approve", data)
	if err != nil {
		return *new(bool), err
	}
	out0 := *abi.ConvertType(out[0], new(bool)).(*bool)
	return out0, nil
}

// PackBalanceOf is the Go binding used to pack the parameters required for calling
// the contract method with ID 0x70a08231.  This method will panic if any
// invalid/nil inputs are passed.
//
// Solidity: function balanceOf(address account) view returns(uint256)
func (wrappedNRO *WrappedNRO) PackBalanceOf(account common.Address) []byte {
	enc, err := wrappedNRO.abi.Pack("balanceOf", account)
	if err != nil {
		panic(err)
	}
	return enc
}

// TryPackBalanceOf is the Go binding used to pack the parameters required for calling
// the contract method with ID 0x70a08231.  This method will return an error
// if any inputs are invalid/nil.
//
// Solidity: function balanceOf(address account) view returns(uint256)
func (wrappedNRO *WrappedNRO) TryPackBalanceOf(account common.Address) ([]byte, error) {
	return wrappedNRO.abi.Pack("balanceOf", account)
}

// UnpackBalanceOf is the Go binding that unpacks the parameters returned
// from invoking the contract method with ID 0x70a08231.
//
// Solidity: function balanceOf(address account) view returns(uint256)
func (wrappedNRO *WrappedNRO) UnpackBalanceOf(data []byte) (*big.Int, error) {
	out, err := wrappedNRO.abi.Unpack("balanceOf", data)
	if err != nil {
		return new(big.Int), err
	}
	out0 := abi.ConvertType(out[0], new(big.Int)).(*big.Int)
	return out0, nil
}

// PackDecimals is the Go binding used to pack the parameters required for calling
// the contract method with ID 0x313ce567.  This method will panic if any
// invalid/nil inputs are passed.
//
// Solidity: function decimals() pure returns(uint8)
func (wrappedNRO *WrappedNRO) PackDecimals() []byte {
	enc, err := wrappedNRO.abi.Pack("decimals")
	if err != nil {
		panic(err)
	}
	return enc
}

// TryPackDecimals is the Go binding used to pack the parameters required for calling
// the contract method with ID 0x313ce567.  This method will return an error
// if any inputs are invalid/nil.
//
// Solidity: function decimals() pure returns(uint8)
func (wrappedNRO *WrappedNRO) TryPackDecimals() ([]byte, error) {
	return wrappedNRO.abi.Pack("decimals")
}

// UnpackDecimals is the Go binding that unpacks the parameters returned
// from invoking the contract method with ID 0x313ce567.
//
// Solidity: function decimals() pure returns(uint8)
func (wrappedNRO *WrappedNRO) UnpackDecimals(data []byte) (uint8, error) {
	out, err := wrappedNRO.abi.Unpack("decimals", data)
	if err != nil {
		return *new(uint8), err
	}
	out0 := *abi.ConvertType(out[0], new(uint8)).(*uint8)
	return out0, nil
}

// PackMint is the Go binding used to pack the parameters required for calling
// the contract method with ID 0x40c10f19.  This method will panic if any
// invalid/nil inputs are passed.
//
// Solidity: function mint(address to, uint256 amount) returns()
func (wrappedNRO *WrappedNRO) PackMint(to common.Address, amount *big.Int) []byte {
	enc, err := wrappedNRO.abi.Pack("mint", to, amount)
	if err != nil {
		panic(err)
	}
	return enc
}

// TryPackMint is the Go binding used to pack the parameters required for calling
// the contract method with ID 0x40c10f19.  This method will return an error
// if any inputs are invalid/nil.
//
// Solidity: function mint(address to, uint256 amount) returns()
func (wrappedNRO *WrappedNRO) TryPackMint(to common.Address, amount *big.Int) ([]byte, error) {
	return wrappedNRO.abi.Pack("mint", to, amount)
}

// PackMinter is the Go binding used to pack the parameters required for calling
// the contract method with ID 0x07546172.  This method will panic if any
// invalid/nil inputs are passed.
//
// Solidity: function minter() view returns(address)
func (wrappedNRO *WrappedNRO) PackMinter() []byte {
	enc, err := wrappedNRO.abi.Pack("minter")
	if err != nil {
		panic(err)
	}
	return enc
}

// TryPackMinter is the Go binding used to pack the parameters required for calling
// the contract method with ID 0x07546172.  This method will return an error
// if any inputs are invalid/nil.
//
// Solidity: function minter() view returns(address)
func (wrappedNRO *WrappedNRO) TryPackMinter() ([]byte, error) {
	return wrappedNRO.abi.Pack("minter")
}

// UnpackMinter is the Go binding that unpacks the parameters returned
// from invoking the contract method with ID 0x07546172.
//
// Solidity: function minter() view returns(address)
func (wrappedNRO *WrappedNRO) UnpackMinter(data []byte) (common.Address, error) {
	out, err := wrappedNRO.abi.Unpack("minter", data)
	if err != nil {
		return *new(common.Address), err
	}
	out0 := *abi.ConvertType(out[0], new(common.Address)).(*common.Address)
	return out0, nil
}

// PackName is the Go binding used to pack the parameters required for calling
// the contract method with ID 0x06fdde03.  This method will panic if any
// invalid/nil inputs are passed.
//
// Solidity: function name() view returns(string)
func (wrappedNRO *WrappedNRO) PackName() []byte {
	enc, err := wrappedNRO.abi.Pack("name")
	if err != nil {
		panic(err)
	}
	return enc
}

// TryPackName is the Go binding used to pack the parameters required for calling
// the contract method with ID 0x06fdde03.  This method will return an error
// if any inputs are invalid/nil.
//
// Solidity: function name() view returns(string)
func (wrappedNRO *WrappedNRO) TryPackName() ([]byte, error) {
	return wrappedNRO.abi.Pack("name")
}

// UnpackName is the Go binding that unpacks the parameters returned
// from invoking the contract method with ID 0x06fdde03.
//
// Solidity: function name() view returns(string)
func (wrappedNRO *WrappedNRO) UnpackName(data []byte) (string, error) {
	out, err := wrappedNRO.abi.Unpack("name", data)
	if err != nil {
		return *new(string), err
	}
	out0 := *abi.ConvertType(out[0], new(string)).(*string)
	return out0, nil
}

// PackSymbol is the Go binding used to pack the parameters required for calling
// the contract method with ID 0x95d89b41.  This method will panic if any
// invalid/nil inputs are passed.
//
// Solidity: function symbol() view returns(string)
func (wrappedNRO *WrappedNRO) PackSymbol() []byte {
	enc, err := wrappedNRO.abi.Pack("symbol")
	if err != nil {
		panic(err)
	}
	return enc
}

// TryPackSymbol is the Go binding used to pack the parameters required for calling
// the contract method with ID 0x95d89b41.  This method will return an error
// if any inputs are invalid/nil.
//
// Solidity: function symbol() view returns(string)
func (wrappedNRO *WrappedNRO) TryPackSymbol() ([]byte, error) {
	return wrappedNRO.abi.Pack("symbol")
}

// UnpackSymbol is the Go binding that unpacks the parameters returned
// from invoking the contract method with ID 0x95d89b41.
//
// Solidity: function symbol() view returns(string)
func (wrappedNRO *WrappedNRO) UnpackSymbol(data []byte) (string, error) {
	out, err := wrappedNRO.abi.Unpack("symbol", data)
	if err != nil {
		return *new(string), err
	}
	out0 := *abi.ConvertType(out[0], new(string)).(*string)
	return out0, nil
}

// PackTotalSupply is the Go binding used to pack the parameters required for calling
// the contract method with ID 0x18160ddd.  This method will panic if any
// invalid/nil inputs are passed.
//
// Solidity: function totalSupply() view returns(uint256)
func (wrappedNRO *WrappedNRO) PackTotalSupply() []byte {
	enc, err := wrappedNRO.abi.Pack("totalSupply")
	if err != nil {
		panic(err)
	}
	return enc
}

// TryPackTotalSupply is the Go binding used to pack the parameters required for calling
// the contract method with ID 0x18160ddd.  This method will return an error
// if any inputs are invalid/nil.
//
// Solidity: function totalSupply() view returns(uint256)
func (wrappedNRO *WrappedNRO) TryPackTotalSupply() ([]byte, error) {
	return wrappedNRO.abi.Pack("totalSupply")
}

// UnpackTotalSupply is the Go binding that unpacks the parameters returned
// from invoking the contract method with ID 0x18160ddd.
//
// Solidity: function totalSupply() view returns(uint256)
func (wrappedNRO *WrappedNRO) UnpackTotalSupply(data []byte) (*big.Int, error) {
	out, err := wrappedNRO.abi.Unpack("totalSupply", data)
	if err != nil {
		return new(big.Int), err
	}
	out0 := abi.ConvertType(out[0], new(big.Int)).(*big.Int)
	return out0, nil
}

// PackTransfer is the Go binding used to pack the parameters required for calling
// the contract method with ID 0xa9059cbb.  This method will panic if any
// invalid/nil inputs are passed.
//
// Solidity: function transfer(address to, uint256 value) returns(bool)
func (wrappedNRO *WrappedNRO) PackTransfer(to common.Address, value *big.Int) []byte {
	enc, err := wrappedNRO.abi.Pack("transfer", to, value)
	if err != nil {
		panic(err)
	}
	return enc
}

// TryPackTransfer is the Go binding used to pack the parameters required for calling
// the contract method with ID 0xa9059cbb.  This method will return an error
// if any inputs are invalid/nil.
//
// Solidity: function transfer(address to, uint256 value) returns(bool)
func (wrappedNRO *WrappedNRO) TryPackTransfer(to common.Address, value *big.Int) ([]byte, error) {
	return wrappedNRO.abi.Pack("transfer", to, value)
}

// UnpackTransfer is the Go binding that unpacks the parameters returned
// from invoking the contract method with ID 0xa9059cbb.
//
// Solidity: function transfer(address to, uint256 value) returns(bool)
func (wrappedNRO *WrappedNRO) UnpackTransfer(data []byte) (bool, error) {
	out, err := wrappedNRO.abi.Unpack("transfer", data)
	if err != nil {
		return *new(bool), err
	}
	out0 := *abi.ConvertType(out[0], new(bool)).(*bool)
	return out0, nil
}

// PackTransferFrom is the Go binding used to pack the parameters required for calling
// the contract method with ID 0x23b872dd.  This method will panic if any
// invalid/nil inputs are passed.
//
// Solidity: function transferFrom(address from, address to, uint256 value) returns(bool)
func (wrappedNRO *WrappedNRO) PackTransferFrom(from common.Address, to common.Address, value *big.Int) []byte {
	enc, err := wrappedNRO.abi.Pack("transferFrom", from, to, value)
	if err != nil {
		panic(err)
	}
	return enc
}

// TryPackTransferFrom is the Go binding used to pack the parameters required for calling
// the contract method with ID 0x23b872dd.  This method will return an error
// if any inputs are invalid/nil.
//
// Solidity: function transferFrom(address from, address to, uint256 value) returns(bool)
func (wrappedNRO *WrappedNRO) TryPackTransferFrom(from common.Address, to common.Address, value *big.Int) ([]byte, error) {
	return wrappedNRO.abi.Pack("transferFrom", from, to, value)
}

// UnpackTransferFrom is the Go binding that unpacks the parameters returned
// from invoking the contract method with ID 0x23b872dd.
//
// Solidity: function transferFrom(address from, address to, uint256 value) returns(bool)
func (wrappedNRO *WrappedNRO) UnpackTransferFrom(data []byte) (bool, error) {
	out, err := wrappedNRO.abi.Unpack("transferFrom", data)
	if err != nil {
		return *new(bool), err
	}
	out0 := *abi.ConvertType(out[0], new(bool)).(*bool)
	return out0, nil
}

// WrappedNROApproval represents a Approval event raised by the WrappedNRO contract.
type WrappedNROApproval struct {
	Owner   common.Address
	Spender common.Address
	Value   *big.Int
	Raw     *types.Log // Blockchain specific contextual infos
}

const WrappedNROApprovalEventName = "Approval"

// ContractEventName returns the user-defined event name.
func (WrappedNROApproval) ContractEventName() string {
	return WrappedNROApprovalEventName
}

// UnpackApprovalEvent is the Go binding that unpacks the event data emitted
// by contract.
//
// Solidity: event Approval(address indexed owner, address indexed spender, uint256 value)
func (wrappedNRO *WrappedNRO) UnpackApprovalEvent(log *types.Log) (*WrappedNROApproval, error) {
	event := "Approval"
	if len(log.Topics) == 0 {
		return nil, bind.ErrNoEventSignature
	}
	if log.Topics[0] != wrappedNRO.abi.Events[event].ID {
		return nil, bind.ErrEventSignatureMismatch
	}
	out := new(WrappedNROApproval)
	if len(log.Data) > 0 {
		if err := wrappedNRO.abi.UnpackIntoInterface(out, event, log.Data); err != nil {
			return nil, err
		}
	}
	var indexed abi.Arguments
	for _, arg := range wrappedNRO.abi.Events[event].Inputs {
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

// WrappedNROTransfer represents a Transfer event raised by the WrappedNRO contract.
type WrappedNROTransfer struct {
	From  common.Address
	To    common.Address
	Value *big.Int
	Raw   *types.Log // Blockchain specific contextual infos
}

const WrappedNROTransferEventName = "Transfer"

// ContractEventName returns the user-defined event name.
func (WrappedNROTransfer) ContractEventName() string {
	return WrappedNROTransferEventName
}

// UnpackTransferEvent is the Go binding that unpacks the event data emitted
// by contract.
//
// Solidity: event Transfer(address indexed from, address indexed to, uint256 value)
func (wrappedNRO *WrappedNRO) UnpackTransferEvent(log *types.Log) (*WrappedNROTransfer, error) {
	event := "Transfer"
	if len(log.Topics) == 0 {
		return nil, bind.ErrNoEventSignature
	}
	if log.Topics[0] != wrappedNRO.abi.Events[event].ID {
		return nil, bind.ErrEventSignatureMismatch
	}
	out := new(WrappedNROTransfer)
	if len(log.Data) > 0 {
		if err := wrappedNRO.abi.UnpackIntoInterface(out, event, log.Data); err != nil {
			return nil, err
		}
	}
	var indexed abi.Arguments
	for _, arg := range wrappedNRO.abi.Events[event].Inputs {
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
func (wrappedNRO *WrappedNRO) UnpackError(raw []byte) (any, error) {
	if bytes.Equal(raw[:4], wrappedNRO.abi.Errors["ERC20InsufficientAllowance"].ID.Bytes()[:4]) {
		return wrappedNRO.UnpackERC20InsufficientAllowanceError(raw[4:])
	}
	if bytes.Equal(raw[:4], wrappedNRO.abi.Errors["ERC20InsufficientBalance"].ID.Bytes()[:4]) {
		return wrappedNRO.UnpackERC20InsufficientBalanceError(raw[4:])
	}
	if bytes.Equal(raw[:4], wrappedNRO.abi.Errors["ERC20InvalidApprover"].ID.Bytes()[:4]) {
		return wrappedNRO.UnpackERC20InvalidApproverError(raw[4:])
	}
	if bytes.Equal(raw[:4], wrappedNRO.abi.Errors["ERC20InvalidReceiver"].ID.Bytes()[:4]) {
		return wrappedNRO.UnpackERC20InvalidReceiverError(raw[4:])
	}
	if bytes.Equal(raw[:4], wrappedNRO.abi.Errors["ERC20InvalidSender"].ID.Bytes()[:4]) {
		return wrappedNRO.UnpackERC20InvalidSenderError(raw[4:])
	}
	if bytes.Equal(raw[:4], wrappedNRO.abi.Errors["ERC20InvalidSpender"].ID.Bytes()[:4]) {
		return wrappedNRO.UnpackERC20InvalidSpenderError(raw[4:])
	}
	if bytes.Equal(raw[:4], wrappedNRO.abi.Errors["OnlyMinter"].ID.Bytes()[:4]) {
		return wrappedNRO.UnpackOnlyMinterError(raw[4:])
	}
	if bytes.Equal(raw[:4], wrappedNRO.abi.Errors["ZeroMinter"].ID.Bytes()[:4]) {
		return wrappedNRO.UnpackZeroMinterError(raw[4:])
	}
	return nil, errors.New("Unknown error")
}

// WrappedNROERC20InsufficientAllowance represents a ERC20InsufficientAllowance error raised by the WrappedNRO contract.
type WrappedNROERC20InsufficientAllowance struct {
	Spender   common.Address
	Allowance *big.Int
	Needed    *big.Int
}

// ErrorID returns the hash of canonical representation of the error's signature.
//
// Solidity: error ERC20InsufficientAllowance(address spender, uint256 allowance, uint256 needed)
func WrappedNROERC20InsufficientAllowanceErrorID() common.Hash {
	return common.HexToHash("0xfb8f41b23e99d2101d86da76cdfa87dd51c82ed07d3cb62cbc473e469dbc75c3")
}

// UnpackERC20InsufficientAllowanceError is the Go binding used to decode the provided
// error data into the corresponding Go error struct.
//
// Solidity: error ERC20InsufficientAllowance(address spender, uint256 allowance, uint256 needed)
func (wrappedNRO *WrappedNRO) UnpackERC20InsufficientAllowanceError(raw []byte) (*WrappedNROERC20InsufficientAllowance, error) {
	out := new(WrappedNROERC20InsufficientAllowance)
	if err := wrappedNRO.abi.UnpackIntoInterface(out, "ERC20InsufficientAllowance", raw); err != nil {
		return nil, err
	}
	return out, nil
}

// WrappedNROERC20InsufficientBalance represents a ERC20InsufficientBalance error raised by the WrappedNRO contract.
type WrappedNROERC20InsufficientBalance struct {
	Sender  common.Address
	Balance *big.Int
	Needed  *big.Int
}

// ErrorID returns the hash of canonical representation of the error's signature.
//
// Solidity: error ERC20InsufficientBalance(address sender, uint256 balance, uint256 needed)
func WrappedNROERC20InsufficientBalanceErrorID() common.Hash {
	return common.HexToHash("0xe450d38cd8d9f7d95077d567d60ed49c7254716e6ad08fc9872816c97e0ffec6")
}

// UnpackERC20InsufficientBalanceError is the Go binding used to decode the provided
// error data into the corresponding Go error struct.
//
// Solidity: error ERC20InsufficientBalance(address sender, uint256 balance, uint256 needed)
func (wrappedNRO *WrappedNRO) UnpackERC20InsufficientBalanceError(raw []byte) (*WrappedNROERC20InsufficientBalance, error) {
	out := new(WrappedNROERC20InsufficientBalance)
	if err := wrappedNRO.abi.UnpackIntoInterface(out, "ERC20InsufficientBalance", raw); err != nil {
		return nil, err
	}
	return out, nil
}

// WrappedNROERC20InvalidApprover represents a ERC20InvalidApprover error raised by the WrappedNRO contract.
type WrappedNROERC20InvalidApprover struct {
	Approver common.Address
}

// ErrorID returns the hash of canonical representation of the error's signature.
//
// Solidity: error ERC20InvalidApprover(address approver)
func WrappedNROERC20InvalidApproverErrorID() common.Hash {
	return common.HexToHash("0xe602df05cc75712490294c6c104ab7c17f4030363910a7a2626411c6d3118847")
}

// UnpackERC20InvalidApproverError is the Go binding used to decode the provided
// error data into the corresponding Go error struct.
//
// Solidity: error ERC20InvalidApprover(address approver)
func (wrappedNRO *WrappedNRO) UnpackERC20InvalidApproverError(raw []byte) (*WrappedNROERC20InvalidApprover, error) {
	out := new(WrappedNROERC20InvalidApprover)
	if err := wrappedNRO.abi.UnpackIntoInterface(out, "ERC20InvalidApprover", raw); err != nil {
		return nil, err
	}
	return out, nil
}

// WrappedNROERC20InvalidReceiver represents a ERC20InvalidReceiver error raised by the WrappedNRO contract.
type WrappedNROERC20InvalidReceiver struct {
	Receiver common.Address
}

// ErrorID returns the hash of canonical representation of the error's signature.
//
// Solidity: error ERC20InvalidReceiver(address receiver)
func WrappedNROERC20InvalidReceiverErrorID() common.Hash {
	return common.HexToHash("0xec442f055133b72f3b2f9f0bb351c406b178527de2040a7d1feb4e058771f613")
}

// UnpackERC20InvalidReceiverError is the Go binding used to decode the provided
// error data into the corresponding Go error struct.
//
// Solidity: error ERC20InvalidReceiver(address receiver)
func (wrappedNRO *WrappedNRO) UnpackERC20InvalidReceiverError(raw []byte) (*WrappedNROERC20InvalidReceiver, error) {
	out := new(WrappedNROERC20InvalidReceiver)
	if err := wrappedNRO.abi.UnpackIntoInterface(out, "ERC20InvalidReceiver", raw); err != nil {
		return nil, err
	}
	return out, nil
}

// WrappedNROERC20InvalidSender represents a ERC20InvalidSender error raised by the WrappedNRO contract.
type WrappedNROERC20InvalidSender struct {
	Sender common.Address
}

// ErrorID returns the hash of canonical representation of the error's signature.
//
// Solidity: error ERC20InvalidSender(address sender)
func WrappedNROERC20InvalidSenderErrorID() common.Hash {
	return common.HexToHash("0x96c6fd1edd0cd6ef7ff0ecc0facdf53148dc0048b57fe58af65755250a7a96bd")
}

// UnpackERC20InvalidSenderError is the Go binding used to decode the provided
// error data into the corresponding Go error struct.
//
// Solidity: error ERC20InvalidSender(address sender)
func (wrappedNRO *WrappedNRO) UnpackERC20InvalidSenderError(raw []byte) (*WrappedNROERC20InvalidSender, error) {
	out := new(WrappedNROERC20InvalidSender)
	if err := wrappedNRO.abi.UnpackIntoInterface(out, "ERC20InvalidSender", raw); err != nil {
		return nil, err
	}
	return out, nil
}

// WrappedNROERC20InvalidSpender represents a ERC20InvalidSpender error raised by the WrappedNRO contract.
type WrappedNROERC20InvalidSpender struct {
	Spender common.Address
}

// ErrorID returns the hash of canonical representation of the error's signature.
//
// Solidity: error ERC20InvalidSpender(address spender)
func WrappedNROERC20InvalidSpenderErrorID() common.Hash {
	return common.HexToHash("0x94280d62c347d8d9f4d59a76ea321452406db88df38e0c9da304f58b57b373a2")
}

// UnpackERC20InvalidSpenderError is the Go binding used to decode the provided
// error data into the corresponding Go error struct.
//
// Solidity: error ERC20InvalidSpender(address spender)
func (wrappedNRO *WrappedNRO) UnpackERC20InvalidSpenderError(raw []byte) (*WrappedNROERC20InvalidSpender, error) {
	out := new(WrappedNROERC20InvalidSpender)
	if err := wrappedNRO.abi.UnpackIntoInterface(out, "ERC20InvalidSpender", raw); err != nil {
		return nil, err
	}
	return out, nil
}

// WrappedNROOnlyMinter represents a OnlyMinter error raised by the WrappedNRO contract.
type WrappedNROOnlyMinter struct {
	Caller common.Address
}

// ErrorID returns the hash of canonical representation of the error's signature.
//
// Solidity: error OnlyMinter(address caller)
func WrappedNROOnlyMinterErrorID() common.Hash {
	return common.HexToHash("0x4c41f6ce452b8ab8f8bc4a0121b11eeeb6d4ff225560ece11083b86460e9d98a")
}

// UnpackOnlyMinterError is the Go binding used to decode the provided
// error data into the corresponding Go error struct.
//
// Solidity: error OnlyMinter(address caller)
func (wrappedNRO *WrappedNRO) UnpackOnlyMinterError(raw []byte) (*WrappedNROOnlyMinter, error) {
	out := new(WrappedNROOnlyMinter)
	if err := wrappedNRO.abi.UnpackIntoInterface(out, "OnlyMinter", raw); err != nil {
		return nil, err
	}
	return out, nil
}

// WrappedNROZeroMinter represents a ZeroMinter error raised by the WrappedNRO contract.
type WrappedNROZeroMinter struct {
}

// ErrorID returns the hash of canonical representation of the error's signature.
//
// Solidity: error ZeroMinter()
func WrappedNROZeroMinterErrorID() common.Hash {
	return common.HexToHash("0x83e4ed2a5538f75a8c9c218bd9bbf398070f38b660b5151c97e48229d497182a")
}

// UnpackZeroMinterError is the Go binding used to decode the provided
// error data into the corresponding Go error struct.
//
// Solidity: error ZeroMinter()
func (wrappedNRO *WrappedNRO) UnpackZeroMinterError(raw []byte) (*WrappedNROZeroMinter, error) {
	out := new(WrappedNROZeroMinter)
	if err := wrappedNRO.abi.UnpackIntoInterface(out, "ZeroMinter", raw); err != nil {
		return nil, err
	}
	return out, nil
}
