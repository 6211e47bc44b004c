// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

import {ERC20} from "@openzeppelin/contracts/token/ERC20/ERC20.sol";

/// An ERC-20 for tests and benchmarks: OpenZeppelin's, with minting open to anyone.
contract TestToken is ERC20 {
    constructor() ERC20("Credence Test Token", "CTT") {}

    function mint(address to, uint256 amount) external {
        _mint(to, amount);
    }
}
