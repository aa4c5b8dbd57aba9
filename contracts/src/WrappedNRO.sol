// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.30;

import {ERC20} from "@openzeppelin/contracts/token/ERC20/ERC20.sol";

/// @title WrappedNRO (wNRO)
/// @notice ERC20 representation of NRO on Ethereum. 6 decimals, matching the
///         Cosmos base denom `unro` (1 wNRO base unit == 1 unro).
/// @dev The only account that can mint is `minter`, fixed at construction and
///      immutable. There is no owner, no admin and no upgrade path.
///      NROSettlement deploys this token from its own constructor, so the
///      minter is always the settlement contract.
contract WrappedNRO is ERC20 {
    /// @notice The only address allowed to mint (the settlement contract).
    address public immutable minter;

    error OnlyMinter(address caller);
    error ZeroMinter();

    constructor(address minter_) ERC20("Wrapped NRO", "wNRO") {
        if (minter_ == address(0)) revert ZeroMinter();
        minter = minter_;
    }

    /// @notice Same precision as `unro`.
    function decimals() public pure override returns (uint8) {
        return 6;
    }

    /// @notice Mint `amount` base units to `to`. Callable only by `minter`.
    function mint(address to, uint256 amount) external {
        if (msg.sender != minter) revert OnlyMinter(msg.sender);
        _mint(to, amount);
    }
}
