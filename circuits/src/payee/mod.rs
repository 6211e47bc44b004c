//! The payee statement (`payee-v1`): where a contributor's payouts go, said by the contributor.
//!
//! A contributor id is `H(secret)`, and the settlement contract pays a claim's payout to the
//! payee its contributor set. Only the contributor may set it: setting it takes a Groth16 proof
//! of knowledge of the secret behind the id, whose public inputs also carry the payee, a nonce
//! and the deployment (chain id and settlement contract), so that the proof can neither be
//! re-bound to another payee nor replayed on another chain or contract. The nonce lets the
//! contract refuse an old proof (which nonces it accepts is its rule, e.g. strictly increasing
//! per contributor).
//!
//! Public inputs, in their one order ([`PayeePublicInput::ALL`]):
//!
//! 0. `contributor_id` (`Fr`) `= H(secret)`;
//! 1. `chain_id` `< 2^64`;
//! 2. `settlement`: the settlement contract's 20-byte address, a big-endian integer `< 2^160`;
//! 3. `payee`: the 20-byte address paid, a big-endian integer `< 2^160`;
//! 4. `nonce` `< 2^64`.
//!
//! The witness is the secret. Constraints: `contributor_id = H(secret)`, and each of the four
//! other inputs range-checked to its width. The range checks also put every public input in a
//! constraint, so the proof binds each of them (as Tornado's and Semaphore's square constraints
//! do; the QAP's instance rows bind them too, but the circuit does not rely on the reduction).
//!
//! - [`PayeeStatement`]: the public inputs as typed values.
//! - [`PayeeInput`]: what the contributor knows and wants to say; [`PayeeInput::assign`].
//! - [`PayeeAssignment`]: every value of the circuit as field elements; [`check_assignment`]
//!   checks every condition natively and names the first that fails, never a value.
//! - `PayeeCircuit`: the R1CS itself (`circuit.rs`, behind the `r1cs` feature).
//!
//! Invariants: [`PayeeStatement::public_inputs`] is the only place that turns a payee statement
//! into field elements (the circuit allocates its instance in [`PayeePublicInput::ALL`] order,
//! and the verifier crate encodes with this function); `PayeeInput::assign` only yields an
//! assignment that passes `check_assignment`, and an assignment passes `check_assignment`
//! exactly when it satisfies the circuit (tested condition by condition).

#[cfg(feature = "r1cs")]
mod circuit;
#[cfg(all(test, feature = "r1cs"))]
mod tests;

#[cfg(feature = "r1cs")]
pub use circuit::PayeeCircuit;

use crate::{commitment, range::fits_in_bits};
use ark_bn254::Fr;
use ark_ff::{BigInteger, PrimeField};
use zeroize::{Zeroize, ZeroizeOnDrop};

/// The payee circuit's id, naming its keys and `payee.json`'s `circuit_id`.
pub const PAYEE_CIRCUIT_ID: &str = "payee-v1";
/// How many public inputs a payee proof has.
pub const NUM_PAYEE_PUBLIC_INPUTS: usize = 5;
/// Bytes of an EVM address.
pub const ADDRESS_BYTES: usize = 20;

/// An EVM address, its 20 bytes in order (the big-endian integer the circuit sees).
pub type Address = [u8; ADDRESS_BYTES];

/// The public inputs of a payee proof, by position in the Groth16 instance.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[repr(usize)]
pub enum PayeePublicInput {
    /// `H(secret)`: the contributor setting its payee.
    ContributorId = 0,
    /// The EVM chain id of the deployment.
    ChainId = 1,
    /// The settlement contract's address.
    Settlement = 2,
    /// The address the contributor's payouts go to.
    Payee = 3,
    /// The contract's replay counter.
    Nonce = 4,
}

impl PayeePublicInput {
    /// Every public input, in instance order.
    pub const ALL: [PayeePublicInput; NUM_PAYEE_PUBLIC_INPUTS] = [
        PayeePublicInput::ContributorId,
        PayeePublicInput::ChainId,
        PayeePublicInput::Settlement,
        PayeePublicInput::Payee,
        PayeePublicInput::Nonce,
    ];

    /// Position of this input in the Groth16 instance (excluding the constant one).
    pub const fn index(self) -> usize {
        self as usize
    }

    /// The protocol's name of this input, as used in `payee.json`.
    pub const fn name(self) -> &'static str {
        match self {
            PayeePublicInput::ContributorId => "contributor_id",
            PayeePublicInput::ChainId => "chain_id",
            PayeePublicInput::Settlement => "settlement",
            PayeePublicInput::Payee => "payee",
            PayeePublicInput::Nonce => "nonce",
        }
    }

    /// The width the circuit range-checks this input to; `None` for `contributor_id`, which
    /// is any field element (a hash output).
    pub const fn bits(self) -> Option<usize> {
        match self {
            PayeePublicInput::ContributorId => None,
            PayeePublicInput::ChainId | PayeePublicInput::Nonce => Some(64),
            PayeePublicInput::Settlement | PayeePublicInput::Payee => Some(8 * ADDRESS_BYTES),
        }
    }
}

/// The public statement of a payee proof.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct PayeeStatement {
    /// The contributor, `H(secret)`.
    pub contributor_id: Fr,
    /// The EVM chain id.
    pub chain_id: u64,
    /// The settlement contract's address.
    pub settlement: Address,
    /// The address paid.
    pub payee: Address,
    /// The replay counter.
    pub nonce: u64,
}

/// An address as the field element the circuit sees: its bytes as a big-endian integer
/// (`< 2^160`, so never reduced).
pub fn address_to_fr(address: &Address) -> Fr {
    Fr::from_be_bytes_mod_order(address)
}

/// The address a field element stands for, if it is below `2^160`.
pub fn address_from_fr(x: &Fr) -> Option<Address> {
    if !fits_in_bits(x, 8 * ADDRESS_BYTES) {
        return None;
    }
    let be = x.into_bigint().to_bytes_be();
    be[be.len() - ADDRESS_BYTES..].try_into().ok()
}

fn u64_from_fr(x: &Fr) -> Option<u64> {
    fits_in_bits(x, 64).then(|| x.into_bigint().0[0])
}

impl PayeeStatement {
    /// The statement as Groth16 public inputs, in protocol order.
    pub fn public_inputs(&self) -> [Fr; NUM_PAYEE_PUBLIC_INPUTS] {
        PayeePublicInput::ALL.map(|input| self.get(input))
    }

    /// The value of one public input as a field element.
    pub fn get(&self, input: PayeePublicInput) -> Fr {
        match input {
            PayeePublicInput::ContributorId => self.contributor_id,
            PayeePublicInput::ChainId => Fr::from(self.chain_id),
            PayeePublicInput::Settlement => address_to_fr(&self.settlement),
            PayeePublicInput::Payee => address_to_fr(&self.payee),
            PayeePublicInput::Nonce => Fr::from(self.nonce),
        }
    }

    /// The statement of public inputs in protocol order; refuses a value outside its input's
    /// range (no such instance satisfies the circuit).
    pub fn from_public_inputs(inputs: &[Fr; NUM_PAYEE_PUBLIC_INPUTS]) -> Result<Self, PayeeError> {
        use PayeePublicInput as P;
        let out_of_range = |input: P| PayeeError::PublicInputOutOfRange {
            input: input.name(),
        };
        let int = |input: P| u64_from_fr(&inputs[input.index()]).ok_or(out_of_range(input));
        let address = |input: P| address_from_fr(&inputs[input.index()]).ok_or(out_of_range(input));
        Ok(PayeeStatement {
            contributor_id: inputs[P::ContributorId.index()],
            chain_id: int(P::ChainId)?,
            settlement: address(P::Settlement)?,
            payee: address(P::Payee)?,
            nonce: int(P::Nonce)?,
        })
    }
}

/// What a contributor proves a payee statement from: its secret and the values it says. The
/// secret is zeroized on drop and never shown by `Debug`.
#[derive(Clone, Zeroize, ZeroizeOnDrop)]
pub struct PayeeInput {
    /// The contributor's secret `s`.
    pub secret: Fr,
    /// The EVM chain id.
    #[zeroize(skip)]
    pub chain_id: u64,
    /// The settlement contract's address.
    #[zeroize(skip)]
    pub settlement: Address,
    /// The address paid.
    #[zeroize(skip)]
    pub payee: Address,
    /// The replay counter.
    #[zeroize(skip)]
    pub nonce: u64,
}

impl std::fmt::Debug for PayeeInput {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PayeeInput")
            .field("chain_id", &self.chain_id)
            .field("nonce", &self.nonce)
            .finish_non_exhaustive()
    }
}

/// Every value of the payee circuit: the five public inputs in protocol order and the secret,
/// as field elements (so tests can feed any value). Zeroized on drop; `Debug` shows no value.
#[derive(Clone, Zeroize, ZeroizeOnDrop)]
pub struct PayeeAssignment {
    /// Public inputs, in [`PayeePublicInput`] order.
    pub public: [Fr; NUM_PAYEE_PUBLIC_INPUTS],
    /// The contributor's secret.
    pub secret: Fr,
}

impl std::fmt::Debug for PayeeAssignment {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PayeeAssignment").finish_non_exhaustive()
    }
}

/// Why a payee statement cannot be proven. Each variant names a condition; none carries a
/// value, so messages are safe to log.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
pub enum PayeeError {
    /// A public input is not below `2^bits` of its [`PayeePublicInput::bits`].
    #[error("public input {input} is out of range")]
    PublicInputOutOfRange {
        /// The input's [`PayeePublicInput::name`].
        input: &'static str,
    },
    /// `contributor_id != H(secret)`.
    #[error("the contributor id is not H(secret)")]
    ContributorIdMismatch,
}

impl PayeeInput {
    /// The statement and its circuit assignment, checked condition by condition
    /// ([`check_assignment`]).
    pub fn assign(&self) -> Result<(PayeeStatement, PayeeAssignment), PayeeError> {
        let statement = PayeeStatement {
            contributor_id: commitment::contributor_id(&self.secret),
            chain_id: self.chain_id,
            settlement: self.settlement,
            payee: self.payee,
            nonce: self.nonce,
        };
        let assignment = PayeeAssignment {
            public: statement.public_inputs(),
            secret: self.secret,
        };
        check_assignment(&assignment)?;
        Ok((statement, assignment))
    }
}

/// Checks `a` against every condition of the payee circuit, in the circuit's order: the range
/// checks, then `contributor_id = H(secret)`. (ark-groth16 only debug-asserts satisfiability,
/// so the prover calls this first.)
pub fn check_assignment(a: &PayeeAssignment) -> Result<(), PayeeError> {
    for input in PayeePublicInput::ALL {
        if let Some(bits) = input.bits()
            && !fits_in_bits(&a.public[input.index()], bits)
        {
            return Err(PayeeError::PublicInputOutOfRange {
                input: input.name(),
            });
        }
    }
    if commitment::contributor_id(&a.secret) != a.public[PayeePublicInput::ContributorId.index()] {
        return Err(PayeeError::ContributorIdMismatch);
    }
    Ok(())
}
