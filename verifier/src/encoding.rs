//! Strict decoders and their canonical encoders.
//!
//! Invariant: every value that enters the verifier from outside passes through one of these
//! functions, and each accepts exactly one spelling per value, so `encode(decode(s)) == s` for
//! every accepted `s`:
//!
//! * Decimal strings (field elements and `u64`): ASCII digits only: no sign (`+`/`-`), no
//!   whitespace, no `0x`; no leading zero except the string `"0"` itself (leading zeros would give
//!   one value several spellings, so two bundles that differ only in zeros would hash apart).
//!   A field element must be `< modulus`: it is never reduced modulo `r` (or `q`), since a
//!   verifier that reduces accepts `x` and `x + r` as the same public input (the semaphore /
//!   snarkjs CVE-2023-33252 class).
//! * Curve points and Groth16 objects: arkworks' canonical *compressed* encoding, decoded with
//!   `deserialize_compressed` (which checks the curve equation and the prime-order subgroup), at
//!   exactly the expected length, with no trailing bytes, and re-encoded to the same bytes (a
//!   point at infinity spelled with non-zero coordinates is refused). No unchecked decoder is used.
//! * Hex: lowercase only, even length (again one spelling per byte string).
//! * EVM addresses (the payee statement's): `0x` then exactly 40 hex digits, of either case: the
//!   one value with more than one spelling, because wallets print addresses in EIP-55's
//!   checksummed mixed case. The case is ignored (the checksum is not checked; it guards typing,
//!   and the value bound, the 20 bytes, is the same); addresses are written lowercase.

use ark_ff::{BigInt, PrimeField};
use ark_serialize::{CanonicalDeserialize, CanonicalSerialize};
use credence_circuits::payee::{ADDRESS_BYTES, Address};

use crate::error::{DecimalError, Malformed};

/// Longest decimal string that can denote a 256-bit value (2^256 has 78 digits).
const MAX_FIELD_DIGITS: usize = 78;

/// Checks the spelling rules shared by every decimal string: non-empty, digits only, no leading
/// zero unless the string is exactly `"0"`.
fn check_decimal_spelling(s: &str) -> Result<&[u8], DecimalError> {
    let bytes = s.as_bytes();
    if bytes.is_empty() {
        return Err(DecimalError::Empty);
    }
    if !bytes.iter().all(u8::is_ascii_digit) {
        return Err(DecimalError::NotDigits);
    }
    if bytes.len() > 1 && bytes[0] == b'0' {
        return Err(DecimalError::LeadingZero);
    }
    Ok(bytes)
}

/// Parses a canonical decimal string into a 256-bit integer, refusing overflow.
fn parse_bigint4(s: &str) -> Result<BigInt<4>, DecimalError> {
    let digits = check_decimal_spelling(s)?;
    if digits.len() > MAX_FIELD_DIGITS {
        return Err(DecimalError::OutOfRange);
    }
    let mut limbs = [0u64; 4];
    for &d in digits {
        // limbs = limbs * 10 + d, little-endian limbs, with the final carry as overflow.
        let mut carry = u128::from(d - b'0');
        for limb in limbs.iter_mut() {
            let wide = u128::from(*limb) * 10 + carry;
            *limb = wide as u64; // low 64 bits; the high part is carried on
            carry = wide >> 64;
        }
        if carry != 0 {
            return Err(DecimalError::OutOfRange);
        }
    }
    Ok(BigInt(limbs))
}

/// Decodes a prime-field element (BN254 `Fr` or `Fq`) from its canonical decimal string.
///
/// Refuses values `>= modulus` (never reduces).
pub fn field_from_decimal<F: PrimeField<BigInt = BigInt<4>>>(s: &str) -> Result<F, DecimalError> {
    let n = parse_bigint4(s)?;
    // `from_bigint` returns `None` exactly when `n >= modulus`.
    F::from_bigint(n).ok_or(DecimalError::OutOfRange)
}

/// The canonical decimal string of a prime-field element (its integer representative in `[0, p)`).
pub fn field_to_decimal<F: PrimeField>(x: &F) -> String {
    x.into_bigint().to_string()
}

/// Decodes a BN254 scalar field element from its canonical decimal string; `what` names it in the
/// error.
pub fn fr_from_decimal(what: &str, s: &str) -> Result<ark_bn254::Fr, Malformed> {
    field_from_decimal(s).map_err(|reason| Malformed::FieldElement {
        what: what.to_owned(),
        reason,
    })
}

/// The canonical decimal string of a BN254 scalar.
pub fn fr_to_decimal(x: &ark_bn254::Fr) -> String {
    field_to_decimal(x)
}

/// Decodes a `u64` from its canonical decimal string (no sign, no leading zero, `<= u64::MAX`).
pub fn u64_from_decimal(what: &str, s: &str) -> Result<u64, Malformed> {
    let err = |reason| Malformed::Integer {
        what: what.to_owned(),
        reason,
    };
    let digits = check_decimal_spelling(s).map_err(err)?;
    let mut v: u64 = 0;
    for &d in digits {
        v = v
            .checked_mul(10)
            .and_then(|v| v.checked_add(u64::from(d - b'0')))
            .ok_or(err(DecimalError::OutOfRange))?;
    }
    Ok(v)
}

/// The canonical decimal string of a `u64`.
pub fn u64_to_decimal(v: u64) -> String {
    v.to_string()
}

/// Decodes lowercase hex of even length.
pub fn hex_decode(what: &'static str, s: &str) -> Result<Vec<u8>, Malformed> {
    if s.bytes().any(|b| b.is_ascii_uppercase()) {
        return Err(Malformed::Hex {
            what,
            reason: "uppercase digit".into(),
        });
    }
    hex::decode(s).map_err(|e| Malformed::Hex {
        what,
        reason: e.to_string(),
    })
}

/// Decodes an EVM address: `0x` then 40 hex digits, either case (module docs).
pub fn address_from_hex(what: &'static str, s: &str) -> Result<Address, Malformed> {
    let err = |reason: &str| Malformed::Address {
        what,
        reason: reason.to_owned(),
    };
    let digits = s.strip_prefix("0x").ok_or_else(|| err("no 0x prefix"))?;
    if digits.len() != 2 * ADDRESS_BYTES {
        return Err(err(&format!("{} hex digits", digits.len())));
    }
    let mut out = [0u8; ADDRESS_BYTES];
    // `hex` accepts either case; the length was checked, so only a non-hex digit fails here.
    hex::decode_to_slice(digits, &mut out).map_err(|e| err(&e.to_string()))?;
    Ok(out)
}

/// The lowercase `0x`-prefixed spelling of an EVM address.
pub fn address_to_hex(address: &Address) -> String {
    format!("0x{}", hex::encode(address))
}

/// Decodes one arkworks object from its canonical compressed bytes, with full validation.
///
/// `expected_len` is the object's fixed encoded length: shorter input is [`Malformed::WrongLength`],
/// bytes left after the object are [`Malformed::TrailingBytes`].
pub fn decode_compressed<T: CanonicalDeserialize + CanonicalSerialize>(
    what: &'static str,
    bytes: &[u8],
    expected_len: usize,
) -> Result<T, Malformed> {
    if bytes.len() < expected_len {
        return Err(Malformed::WrongLength {
            what,
            expected: expected_len,
            got: bytes.len(),
        });
    }
    let mut reader = bytes;
    // `deserialize_compressed` = `Compress::Yes, Validate::Yes`: on-curve and subgroup checks.
    let value = T::deserialize_compressed(&mut reader).map_err(|e| Malformed::point(what, e))?;
    if !reader.is_empty() {
        return Err(Malformed::TrailingBytes {
            what,
            extra: reader.len(),
        });
    }
    // One spelling per value: arkworks' decoder ignores the x bytes of a point whose infinity
    // flag is set, so re-encode and compare (a proof or key is a few hundred bytes).
    let mut canonical = Vec::with_capacity(bytes.len());
    value
        .serialize_compressed(&mut canonical)
        .map_err(|e| Malformed::point(what, e))?;
    if canonical != bytes {
        return Err(Malformed::Point {
            what,
            reason: "not the canonical encoding (a point at infinity must have zero coordinates)"
                .into(),
        });
    }
    Ok(value)
}

#[cfg(test)]
mod tests {
    use super::*;
    use ark_bn254::{Fq, Fr};
    use ark_ff::{One, Zero};

    const R: &str = "21888242871839275222246405745257275088548364400416034343698204186575808495617";
    const Q: &str = "21888242871839275222246405745257275088696311157297823662689037894645226208583";

    #[test]
    fn a_point_at_infinity_has_one_spelling() {
        use ark_bn254::{G1Affine, G2Affine};
        use ark_ec::AffineRepr;
        let proof = crate::groth16::Proof {
            a: G1Affine::zero(),
            b: G2Affine::generator(),
            c: G1Affine::generator(),
        };
        let bytes = proof.to_bytes();
        assert_eq!(crate::groth16::Proof::from_bytes(&bytes).unwrap(), proof);
        // The same infinity flag with a non-zero x: arkworks alone decodes it as the same point.
        let mut other = bytes.clone();
        other[0] ^= 1;
        let e = crate::groth16::Proof::from_bytes(&other).unwrap_err();
        assert!(e.to_string().contains("canonical"), "{e}");
    }

    #[test]
    fn fr_round_trips() {
        for x in [
            Fr::zero(),
            Fr::one(),
            -Fr::one(),
            Fr::from(u64::MAX),
            Fr::from(1234567u64),
        ] {
            let s = fr_to_decimal(&x);
            assert_eq!(fr_from_decimal("x", &s).unwrap(), x);
        }
        assert_eq!(fr_to_decimal(&Fr::zero()), "0");
        // r - 1 is the largest accepted value.
        let r_minus_1 =
            "21888242871839275222246405745257275088548364400416034343698204186575808495616";
        assert_eq!(fr_from_decimal("x", r_minus_1).unwrap(), -Fr::one());
    }

    #[test]
    fn fr_refuses_non_canonical_spellings() {
        let cases: &[(&str, DecimalError)] = &[
            ("", DecimalError::Empty),
            ("+1", DecimalError::NotDigits),
            ("-1", DecimalError::NotDigits),
            (" 1", DecimalError::NotDigits),
            ("1 ", DecimalError::NotDigits),
            ("0x1", DecimalError::NotDigits),
            ("1e3", DecimalError::NotDigits),
            ("١", DecimalError::NotDigits), // a non-ASCII digit
            ("00", DecimalError::LeadingZero),
            ("01", DecimalError::LeadingZero),
            (R, DecimalError::OutOfRange),
            // 2^256: overflows the 256-bit accumulator
            (
                "115792089237316195423570985008687907853269984665640564039457584007913129639936",
                DecimalError::OutOfRange,
            ),
            // 79 digits
            (
                "1000000000000000000000000000000000000000000000000000000000000000000000000000000",
                DecimalError::OutOfRange,
            ),
        ];
        for (s, want) in cases {
            match fr_from_decimal("x", s) {
                Err(Malformed::FieldElement { reason, .. }) => assert_eq!(reason, *want, "{s:?}"),
                other => panic!("{s:?}: {other:?}"),
            }
        }
        // x + r is refused, never reduced to x.
        let r_plus_5 =
            "21888242871839275222246405745257275088548364400416034343698204186575808495622";
        assert!(fr_from_decimal("x", r_plus_5).is_err());
    }

    #[test]
    fn fq_bounds() {
        let q_minus_1 = field_to_decimal(&-Fq::one());
        assert_eq!(field_from_decimal::<Fq>(&q_minus_1).unwrap(), -Fq::one());
        assert_eq!(field_from_decimal::<Fq>(Q), Err(DecimalError::OutOfRange));
        // R < Q, so R is a valid base-field element but not a scalar.
        assert!(field_from_decimal::<Fq>(R).is_ok());
    }

    #[test]
    fn u64_round_trips_and_bounds() {
        for v in [0u64, 1, 10, u64::MAX] {
            assert_eq!(u64_from_decimal("v", &u64_to_decimal(v)).unwrap(), v);
        }
        for bad in [
            "",
            "-0",
            "+7",
            "007",
            "18446744073709551616",
            "1.0",
            "1_000",
        ] {
            assert!(u64_from_decimal("v", bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn addresses_ignore_case_and_write_lowercase() {
        let lower = "0x5aaeb6053f3e94c9b9a09f33669435e7ef1beaed";
        let checksummed = "0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed";
        let a = address_from_hex("a", lower).unwrap();
        assert_eq!(address_from_hex("a", checksummed).unwrap(), a);
        assert_eq!(a[0], 0x5a);
        assert_eq!(address_to_hex(&a), lower);
        for bad in [
            "5aaeb6053f3e94c9b9a09f33669435e7ef1beaed",
            "0X5aaeb6053f3e94c9b9a09f33669435e7ef1beaed",
            "0x5aaeb6053f3e94c9b9a09f33669435e7ef1beae",
            "0x5aaeb6053f3e94c9b9a09f33669435e7ef1beaed00",
            "0x5aaeb6053f3e94c9b9a09f33669435e7ef1beaeg",
            " 0x5aaeb6053f3e94c9b9a09f33669435e7ef1beaed",
            "0x",
        ] {
            assert!(
                matches!(address_from_hex("a", bad), Err(Malformed::Address { .. })),
                "{bad:?}"
            );
        }
    }

    #[test]
    fn hex_is_lowercase_even() {
        assert_eq!(hex_decode("h", "00ff").unwrap(), vec![0, 255]);
        assert!(hex_decode("h", "00FF").is_err());
        assert!(hex_decode("h", "0").is_err());
        assert!(hex_decode("h", "zz").is_err());
    }
}
