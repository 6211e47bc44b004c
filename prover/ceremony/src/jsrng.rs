//! The deterministic derivations snarkjs makes from a ChaCha stream: `hashToG2`, beacon keys.
//!
//! Format sources: ffjavascript 0.3 `chacha.js` (the stream), `wasm_field1.js`/`wasm_field2.js`
//! `fromRng`, `wasm_curve.js` `fromRng`, wasmcurves `isNegative`; snarkjs 0.7.6 `keypair.js`
//! (`hashToG2`) and `misc.js` (`rngFromBeaconParams`).
//!
//! Invariant: every function here returns exactly the value snarkjs computes from the same
//! seed, bit for bit; the unit tests pin vectors produced by snarkjs 0.7.6 itself.
//!
//! - The stream is plain ChaCha20 (20 rounds, key = the eight seed words, 64-bit block counter
//!   from zero, zero nonce), read one 32-bit word at a time. ffjavascript runs a 128-bit counter
//!   over words 12..15, which equals the 64-bit counter with a zero nonce below 2^64 blocks.
//!   We take the RustCrypto `chacha20` RNG for it (zeroized on drop).
//! - `nextU64` is `hi·2^32 + lo` with the *first* word high.
//! - `F.fromRng` draws `n64` u64s, least significant first, masks to the bit length of the
//!   modulus, retries while `≥ p`, and returns the integer *as a Montgomery representation*:
//!   the element's value is `v·R⁻¹`. arkworks also stores Montgomery form with the same `R`,
//!   so `Fp::new_unchecked(v)` is that element.
//! - `G.fromRng` draws `x`, then a bit `greatest`, until `x³ + b` is a square; it takes the
//!   root `y` whose ffjavascript sign (`isNegative`: standard value above `(p-1)/2`; for `Fq2`
//!   the sign of `c1`, or of `c0` if `c1 = 0`) equals `greatest`, then multiplies G2 points by
//!   the fixed cofactor below (not arkworks' faster cofactor clearing, which gives another
//!   point).

use super::encoding::{fq_is_negative, fq2_is_negative};
use ark_bn254::{Fq, Fq2, Fr, G1Affine, G2Affine, G2Projective};
use ark_ec::{CurveGroup, PrimeGroup, short_weierstrass::SWCurveConfig};
use ark_ff::{BigInt, Field, PrimeField};
use chacha20::ChaCha20Rng;
use chacha20::rand_core::{Rng, SeedableRng};
use sha2::{Digest, Sha256};

/// The cofactor ffjavascript multiplies G2 points by in `fromRng` (bn128 `cofactorG2`).
const G2_COFACTOR: BigInt<4> = BigInt::new([
    0x345f2299c0f9fa8d,
    0x06ceecda572a2489,
    0xb85045b68181585e,
    0x30644e72e131a029,
]);

/// ffjavascript's ChaCha word stream.
pub struct JsChaCha(ChaCha20Rng);

impl JsChaCha {
    /// A stream keyed by eight 32-bit words.
    pub fn from_words(seed: [u32; 8]) -> Self {
        let mut key = [0u8; 32];
        for (i, w) in seed.iter().enumerate() {
            key[i * 4..i * 4 + 4].copy_from_slice(&w.to_le_bytes());
        }
        let rng = ChaCha20Rng::from_seed(key);
        zeroize::Zeroize::zeroize(&mut key);
        JsChaCha(rng)
    }

    /// A stream keyed by 32 bytes read as eight big-endian words (how snarkjs seeds from the
    /// first 32 bytes of a hash).
    pub fn from_hash(hash: &[u8; 32]) -> Self {
        let mut words = [0u32; 8];
        for (i, w) in words.iter_mut().enumerate() {
            *w = u32::from_be_bytes(hash[i * 4..i * 4 + 4].try_into().expect("4 bytes"));
        }
        let rng = Self::from_words(words);
        zeroize::Zeroize::zeroize(&mut words);
        rng
    }

    /// The next word.
    pub fn next_u32(&mut self) -> u32 {
        self.0.next_u32()
    }

    /// Two words, the first one high.
    pub fn next_u64(&mut self) -> u64 {
        let hi = self.next_u32() as u64;
        let lo = self.next_u32() as u64;
        (hi << 32) | lo
    }

    /// The low bit of the next word.
    pub fn next_bool(&mut self) -> bool {
        self.next_u32() & 1 == 1
    }

    /// A 254-bit candidate as `F.fromRng` builds it (least significant u64 first, masked).
    fn masked_limbs(&mut self, bits: u32) -> BigInt<4> {
        let mut l = [0u64; 4];
        for limb in l.iter_mut() {
            *limb = self.next_u64();
        }
        let top_bits = bits - 192;
        l[3] &= (1u64 << top_bits) - 1;
        BigInt::new(l)
    }
}

/// `Fr.fromRng`.
pub fn fr_from_rng(rng: &mut JsChaCha) -> Fr {
    loop {
        let v = rng.masked_limbs(Fr::MODULUS_BIT_SIZE);
        if v < Fr::MODULUS {
            return Fr::new_unchecked(v);
        }
    }
}

/// `Fq.fromRng` (the G1 base field).
pub fn fq_from_rng(rng: &mut JsChaCha) -> Fq {
    loop {
        let v = rng.masked_limbs(Fq::MODULUS_BIT_SIZE);
        if v < Fq::MODULUS {
            return Fq::new_unchecked(v);
        }
    }
}

/// `G1.fromRng`.
pub fn g1_from_rng(rng: &mut JsChaCha) -> G1Affine {
    loop {
        let x = fq_from_rng(rng);
        let greatest = rng.next_bool();
        let rhs = x.square() * x + ark_bn254::g1::Config::COEFF_B;
        if let Some(mut y) = rhs.sqrt() {
            if fq_is_negative(&y) != greatest {
                y = -y;
            }
            // BN254 G1 has cofactor 1.
            return G1Affine::new_unchecked(x, y);
        }
    }
}

/// `G2.fromRng`, cofactor multiplication included.
pub fn g2_from_rng(rng: &mut JsChaCha) -> G2Affine {
    loop {
        let c0 = fq_from_rng(rng);
        let c1 = fq_from_rng(rng);
        let x = Fq2::new(c0, c1);
        let greatest = rng.next_bool();
        let rhs = x.square() * x + ark_bn254::g2::Config::COEFF_B;
        if let Some(mut y) = rhs.sqrt() {
            if fq2_is_negative(&y) != greatest {
                y = -y;
            }
            let p = G2Projective::from(G2Affine::new_unchecked(x, y));
            return p.mul_bigint(G2_COFACTOR).into_affine();
        }
    }
}

/// snarkjs' `hashToG2`: the G2 point a transcript hash derives (the first 32 bytes seed the
/// stream).
pub fn hash_to_g2(hash: &[u8; 64]) -> G2Affine {
    let mut rng = JsChaCha::from_hash(hash[..32].try_into().expect("64 bytes"));
    g2_from_rng(&mut rng)
}

/// snarkjs' `rngFromBeaconParams`: SHA-256 iterated `2^iterations_exp` times on the beacon
/// hash, the result seeding the stream. `None` if the exponent is above 63 or the seed would
/// be shorter than 32 bytes (exponent 0 with a short hash), which snarkjs cannot process either.
pub fn beacon_rng(beacon_hash: &[u8], iterations_exp: u8) -> Option<JsChaCha> {
    if iterations_exp > 63 {
        return None;
    }
    let mut cur = beacon_hash.to_vec();
    let total: u64 = 1u64 << iterations_exp;
    for _ in 0..total {
        cur = Sha256::digest(&cur).to_vec();
    }
    let seed: &[u8; 32] = cur.get(..32)?.try_into().ok()?;
    Some(JsChaCha::from_hash(seed))
}

/// The key a ChaCha stream derives, in the order snarkjs draws it: the secret scalar, then
/// `g1_s`. Returns `(secret, g1_s)`.
pub fn delta_key_from_rng(rng: &mut JsChaCha) -> (Fr, G1Affine) {
    let secret = fr_from_rng(rng);
    let g1_s = g1_from_rng(rng);
    (secret, g1_s)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::str::FromStr;

    fn fq(s: &str) -> Fq {
        Fq::from_str(s).unwrap()
    }

    // Vectors printed by ffjavascript 0.3.1 / snarkjs 0.7.6 (`new ChaCha([1..8])`, then
    // `Fr.fromRng`, `G1.fromRng` on a fresh stream, and `hashToG2([0,1,..,63])`).
    #[test]
    fn chacha_words() {
        let mut rng = JsChaCha::from_words([1, 2, 3, 4, 5, 6, 7, 8]);
        let expected: [u32; 20] = [
            2291208717, 2715286880, 1416238553, 4170631896, 311912724, 2096473245, 2663528302,
            2947898305, 1171138527, 4066554118, 1598815824, 1331018903, 4275377581, 2401186972,
            3977139214, 1817675323, 4002199677, 2558236986, 2290969732, 3530802522,
        ];
        for e in expected {
            assert_eq!(rng.next_u32(), e);
        }
    }

    #[test]
    fn field_and_g1_from_rng() {
        let mut rng = JsChaCha::from_words([1, 2, 3, 4, 5, 6, 7, 8]);
        let k = fr_from_rng(&mut rng);
        assert_eq!(
            k,
            Fr::from_str(
                "11421152797359801513699257512876826534900512878648310510227136947029091328776"
            )
            .unwrap()
        );
        let p = g1_from_rng(&mut rng);
        assert_eq!(
            p.x,
            fq("5217210202433667727191898282504136790707584920818966276224927002650483462798")
        );
        assert_eq!(
            p.y,
            fq("15329941312121016545992532075626365884228451898446262084449300681562396985945")
        );
    }

    #[test]
    fn hash_to_g2_vector() {
        let mut h = [0u8; 64];
        for (i, b) in h.iter_mut().enumerate() {
            *b = i as u8;
        }
        let p = hash_to_g2(&h);
        assert_eq!(
            p.x,
            Fq2::new(
                fq("4331880802040179507408134841181032487087173600464364024802210002059667950604"),
                fq("4271516305872202364858900391755946161657037246250020514439168976697447665804")
            )
        );
        assert_eq!(
            p.y,
            Fq2::new(
                fq("14194165528950986229237743759035044030322996258565805903348263410557850081640"),
                fq("3572495062036222432809855904167672718120072387698078762897023322348755581936")
            )
        );
        assert!(p.is_on_curve() && p.is_in_correct_subgroup_assuming_on_curve());
    }
}
