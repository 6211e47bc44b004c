//! C2SP signed notes and transparency-log checkpoints, Ed25519 only.
//!
//! Formats (<https://c2sp.org/signed-note>, <https://c2sp.org/tlog-checkpoint>):
//!
//! ```text
//! <origin>\n                                  note text = checkpoint body, signed as is,
//! <tree size, decimal, no leading zero>\n     final newline included
//! <base64 std padded 32-byte root>\n
//! [<extension line>\n ...]
//! \n                                          the last blank line separates the signatures
//! — <key name> <base64(4-byte big-endian key id || 64-byte Ed25519 signature)>\n
//! ```
//!
//! Key id = `SHA-256(key name || 0x0A || 0x01 || 32-byte public key)[:4]`. A verifier key is the
//! text `<name>+<8 hex key id>+<base64(0x01 || public key)>` (the file `log.pub`); a signer key is
//! `PRIVATE+KEY+<name>+<8 hex key id>+<base64(0x01 || 32-byte seed)>` (the file `log.key`), as in
//! Go's `golang.org/x/mod/sumdb/note`.
//!
//! Invariants: parsing is strict (trailing data, non-canonical base64, wrong sizes, control
//! characters and missing newlines are errors, never panics); a checkpoint is accepted only if a
//! signature from the configured key verifies (`verify_strict`), no signature from that key fails,
//! and the checkpoint's origin is the key's name (our log signs with origin = key name, so a note
//! for another log signed by the same key cannot be replayed here). Signatures from other keys are
//! ignored, as the spec requires, which leaves room for witness cosignatures.

use std::fmt;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as B64;
use ed25519_dalek::{Signature, Signer as _, SigningKey, VerifyingKey};
use sha2::{Digest as _, Sha256};
use thiserror::Error;
use zeroize::Zeroizing;

use super::merkle::{HASH_LEN, Hash};

/// Signature type byte of Ed25519 in the signed-note spec.
const ALG_ED25519: u8 = 0x01;
/// A signature line starts with an em dash (U+2014) and a space.
const SIG_PREFIX: &str = "\u{2014} ";
/// Upper bound on a note's size: far above 16 post-quantum signatures (the spec's minimum), far
/// below anything that could hurt a verifier.
pub const MAX_NOTE_LEN: usize = 1 << 20;
/// Upper bound on signature lines, as Go's `note.Open`.
pub const MAX_SIGNATURES: usize = 100;
/// Prefix of a signer key text.
const PRIVATE_KEY_PREFIX: &str = "PRIVATE+KEY+";

/// Why a note, a checkpoint or a key text was rejected.
#[derive(Clone, Debug, PartialEq, Eq, Error)]
pub enum NoteError {
    /// The note is larger than [`MAX_NOTE_LEN`].
    #[error("note is larger than {MAX_NOTE_LEN} bytes")]
    TooLarge,
    /// The note contains an ASCII control character other than newline.
    #[error("note contains a control character other than newline")]
    ControlCharacter,
    /// No blank line separates text and signatures, or no signature follows it.
    #[error("note has no signature block")]
    MissingSignatures,
    /// The note does not end with a newline.
    #[error("note does not end with a newline")]
    MissingNewline,
    /// More than [`MAX_SIGNATURES`] signature lines.
    #[error("note has more than {MAX_SIGNATURES} signatures")]
    TooManySignatures,
    /// A signature line is not `— <name> <base64>`.
    #[error("malformed signature line {line}")]
    MalformedSignature {
        /// 1-based position among the signature lines.
        line: usize,
    },
    /// The checkpoint body is not origin / size / root / extensions.
    #[error("malformed checkpoint: {0}")]
    MalformedCheckpoint(&'static str),
    /// A key name is empty or contains a space or `+`.
    #[error("invalid key name")]
    InvalidKeyName,
    /// A verifier or signer key text is malformed.
    #[error("malformed key: {0}")]
    MalformedKey(&'static str),
    /// The key id in a key text is not the one derived from its name and public key.
    #[error("key id does not match the key name and public key")]
    KeyIdMismatch,
    /// No signature line is from the configured key.
    #[error("no signature from key {0}")]
    NoKnownSignature(String),
    /// A signature from the configured key does not verify.
    #[error("invalid signature from key {0}")]
    BadSignature(String),
    /// The checkpoint names another log than the key's.
    #[error("checkpoint origin {got:?} is not the log's origin {expected:?}")]
    OriginMismatch {
        /// The key's name, which is the log's origin.
        expected: String,
        /// The origin line of the checkpoint.
        got: String,
    },
}

/// The tree head a log commits to: its origin, its size and its root hash.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Checkpoint {
    /// The log identity; for Credence logs, equal to the key name.
    pub origin: String,
    /// Number of entries in the tree.
    pub size: u64,
    /// RFC 6962 root hash (BLAKE3) of the first `size` entries.
    pub root: Hash,
}

impl Checkpoint {
    /// The note text (body) of this checkpoint, without extension lines.
    pub fn body(&self) -> Result<String, NoteError> {
        check_origin(&self.origin)?;
        Ok(format!(
            "{}\n{}\n{}\n",
            self.origin,
            self.size,
            B64.encode(self.root)
        ))
    }

    /// Parses a checkpoint body (the signed note text, final newline included).
    ///
    /// Returns the checkpoint and its extension lines.
    pub fn parse_body(text: &str) -> Result<(Checkpoint, Vec<String>), NoteError> {
        let Some(inner) = text.strip_suffix('\n') else {
            return Err(NoteError::MissingNewline);
        };
        let mut lines = inner.split('\n');
        let origin = lines
            .next()
            .ok_or(NoteError::MalformedCheckpoint("missing origin"))?;
        check_origin(origin)?;
        let size = lines
            .next()
            .ok_or(NoteError::MalformedCheckpoint("missing tree size"))?;
        let size = parse_decimal_u64(size)?;
        let root = lines
            .next()
            .ok_or(NoteError::MalformedCheckpoint("missing root hash"))?;
        let root = decode_exact::<HASH_LEN>(root).ok_or(NoteError::MalformedCheckpoint(
            "root is not base64 of 32 bytes",
        ))?;
        let mut extensions = Vec::new();
        for line in lines {
            if line.is_empty() {
                return Err(NoteError::MalformedCheckpoint("empty extension line"));
            }
            extensions.push(line.to_owned());
        }
        Ok((
            Checkpoint {
                origin: origin.to_owned(),
                size,
                root,
            },
            extensions,
        ))
    }
}

/// One signature line of a note.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NoteSignature {
    /// The key name.
    pub name: String,
    /// The 4-byte key id, big-endian.
    pub key_id: u32,
    /// The signature bytes after the key id (64 for Ed25519; other algorithms vary).
    pub signature: Vec<u8>,
}

/// A parsed (not yet verified) signed note: its text and signature lines.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Note {
    /// The exact signed text, final newline included.
    text: String,
    signatures: Vec<NoteSignature>,
}

impl Note {
    /// Parses a signed note strictly. This checks syntax only.
    pub fn parse(note: &str) -> Result<Self, NoteError> {
        if note.len() > MAX_NOTE_LEN {
            return Err(NoteError::TooLarge);
        }
        if note.chars().any(|c| c < ' ' && c != '\n') {
            return Err(NoteError::ControlCharacter);
        }
        if !note.ends_with('\n') {
            return Err(NoteError::MissingNewline);
        }
        // The text is separated from the signatures by the *last* blank line.
        let Some(split) = note.rfind("\n\n") else {
            return Err(NoteError::MissingSignatures);
        };
        let text = &note[..split + 1];
        let block = &note[split + 2..];
        if block.is_empty() {
            return Err(NoteError::MissingSignatures);
        }
        let mut signatures = Vec::new();
        // `block` ends with '\n' (the note does and the block is non-empty), so every line is
        // newline-terminated; the split's last, empty piece is dropped.
        for (i, line) in block[..block.len() - 1].split('\n').enumerate() {
            if signatures.len() == MAX_SIGNATURES {
                return Err(NoteError::TooManySignatures);
            }
            signatures.push(parse_signature_line(line, i + 1)?);
        }
        Ok(Note {
            text: text.to_owned(),
            signatures,
        })
    }

    /// Verifies the note against one key; returns the now trusted text.
    ///
    /// Signatures from other keys are ignored; one from this key that fails rejects the note.
    pub fn verify(&self, verifier: &LogVerifier) -> Result<&str, NoteError> {
        let mut verified = false;
        for sig in &self.signatures {
            // Unknown keys are ignored even if they share the name or the id (but not both).
            if sig.name != verifier.name || sig.key_id != verifier.key_id {
                continue;
            }
            let bytes: &[u8; 64] = sig
                .signature
                .as_slice()
                .try_into()
                .map_err(|_| NoteError::BadSignature(verifier.name.clone()))?;
            let signature = Signature::from_bytes(bytes);
            verifier
                .key
                .verify_strict(self.text.as_bytes(), &signature)
                .map_err(|_| NoteError::BadSignature(verifier.name.clone()))?;
            verified = true;
        }
        if verified {
            Ok(&self.text)
        } else {
            Err(NoteError::NoKnownSignature(verifier.name.clone()))
        }
    }

    /// The text, unverified.
    pub fn text_unverified(&self) -> &str {
        &self.text
    }

    /// The signature lines.
    pub fn signatures(&self) -> &[NoteSignature] {
        &self.signatures
    }
}

/// A parsed (not yet verified) signed checkpoint note.
///
/// Nothing in it may be trusted before [`SignedCheckpoint::verify`] succeeds.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SignedCheckpoint {
    note: Note,
    checkpoint: Checkpoint,
    extensions: Vec<String>,
}

impl SignedCheckpoint {
    /// Parses a signed checkpoint note strictly. This checks syntax only.
    pub fn parse(note: &str) -> Result<Self, NoteError> {
        let note = Note::parse(note)?;
        let (checkpoint, extensions) = Checkpoint::parse_body(&note.text)?;
        Ok(SignedCheckpoint {
            note,
            checkpoint,
            extensions,
        })
    }

    /// Verifies the note against the log's key and origin; returns the now trusted checkpoint.
    pub fn verify(&self, verifier: &LogVerifier) -> Result<&Checkpoint, NoteError> {
        self.note.verify(verifier)?;
        if self.checkpoint.origin != verifier.name {
            return Err(NoteError::OriginMismatch {
                expected: verifier.name.clone(),
                got: self.checkpoint.origin.clone(),
            });
        }
        Ok(&self.checkpoint)
    }

    /// The checkpoint, unverified.
    pub fn checkpoint_unverified(&self) -> &Checkpoint {
        &self.checkpoint
    }

    /// Extension lines of the body (Credence logs write none).
    pub fn extensions(&self) -> &[String] {
        &self.extensions
    }

    /// The signature lines.
    pub fn signatures(&self) -> &[NoteSignature] {
        self.note.signatures()
    }
}

/// The public half of a log key: what an auditor configures (`log.pub`).
#[derive(Clone, PartialEq, Eq)]
pub struct LogVerifier {
    name: String,
    key_id: u32,
    key: VerifyingKey,
}

impl fmt::Debug for LogVerifier {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "LogVerifier({self})")
    }
}

impl fmt::Display for LogVerifier {
    /// The verifier key text `<name>+<hex id>+<base64(0x01 || key)>`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut typed = [0u8; 33];
        typed[0] = ALG_ED25519;
        typed[1..].copy_from_slice(self.key.as_bytes());
        write!(f, "{}+{:08x}+{}", self.name, self.key_id, B64.encode(typed))
    }
}

impl LogVerifier {
    /// Builds a verifier from a name and a raw Ed25519 public key.
    pub fn new(name: &str, public_key: &[u8; 32]) -> Result<Self, NoteError> {
        check_key_name(name)?;
        let key = VerifyingKey::from_bytes(public_key)
            .map_err(|_| NoteError::MalformedKey("not an Ed25519 public key"))?;
        // A small-order key would accept forged signatures for some messages.
        if key.is_weak() {
            return Err(NoteError::MalformedKey("weak Ed25519 public key"));
        }
        Ok(LogVerifier {
            name: name.to_owned(),
            key_id: key_id(name, public_key),
            key,
        })
    }

    /// Parses a verifier key text. One trailing newline is accepted (the `log.pub` file form);
    /// anything else around the key is an error.
    pub fn parse(text: &str) -> Result<Self, NoteError> {
        let text = text.strip_suffix('\n').unwrap_or(text);
        // Names contain no '+', but base64 may: the key is everything after the second '+'.
        let mut parts = text.splitn(3, '+');
        let (Some(name), Some(id), Some(key)) = (parts.next(), parts.next(), parts.next()) else {
            return Err(NoteError::MalformedKey("expected <name>+<id>+<key>"));
        };
        let id = parse_key_id(id)?;
        let typed = decode_exact::<33>(key)
            .ok_or(NoteError::MalformedKey("key is not base64 of 33 bytes"))?;
        if typed[0] != ALG_ED25519 {
            return Err(NoteError::MalformedKey("not an Ed25519 key"));
        }
        let mut public = [0u8; 32];
        public.copy_from_slice(&typed[1..]);
        let verifier = LogVerifier::new(name, &public)?;
        if verifier.key_id != id {
            return Err(NoteError::KeyIdMismatch);
        }
        Ok(verifier)
    }

    /// The key name, which is also the log's origin.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The 4-byte key id.
    pub fn key_id(&self) -> u32 {
        self.key_id
    }

    /// The raw Ed25519 public key.
    pub fn public_key(&self) -> [u8; 32] {
        self.key.to_bytes()
    }

    /// Parses and verifies a signed checkpoint note in one step.
    pub fn verify_checkpoint(&self, note: &str) -> Result<Checkpoint, NoteError> {
        Ok(SignedCheckpoint::parse(note)?.verify(self)?.clone())
    }
}

/// The secret half of a log key. The Ed25519 key is zeroized on drop (ed25519-dalek `zeroize`),
/// and its text form is handed out only inside [`Zeroizing`].
pub struct LogSigner {
    name: String,
    key_id: u32,
    key: SigningKey,
}

impl fmt::Debug for LogSigner {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Never print the secret.
        f.debug_struct("LogSigner")
            .field("name", &self.name)
            .field("key_id", &format_args!("{:08x}", self.key_id))
            .finish_non_exhaustive()
    }
}

impl LogSigner {
    /// A signer from a key name and a 32-byte Ed25519 seed (RFC 8032 secret key).
    pub fn from_seed(name: &str, seed: &[u8; 32]) -> Result<Self, NoteError> {
        check_key_name(name)?;
        let key = SigningKey::from_bytes(seed);
        let key_id = key_id(name, key.verifying_key().as_bytes());
        Ok(LogSigner {
            name: name.to_owned(),
            key_id,
            key,
        })
    }

    /// Parses a signer key text `PRIVATE+KEY+<name>+<hex id>+<base64(0x01 || seed)>`.
    /// One trailing newline is accepted (the file form).
    pub fn parse(text: &str) -> Result<Self, NoteError> {
        let text = text.strip_suffix('\n').unwrap_or(text);
        let rest = text
            .strip_prefix(PRIVATE_KEY_PREFIX)
            .ok_or(NoteError::MalformedKey("missing PRIVATE+KEY+ prefix"))?;
        let mut parts = rest.splitn(3, '+');
        let (Some(name), Some(id), Some(key)) = (parts.next(), parts.next(), parts.next()) else {
            return Err(NoteError::MalformedKey("expected <name>+<id>+<key>"));
        };
        let id = parse_key_id(id)?;
        if key.len() != 44 {
            return Err(NoteError::MalformedKey("secret is not base64 of 33 bytes"));
        }
        // Decode into a zeroized buffer sized up front, so no reallocation leaves a copy behind.
        let mut typed = Zeroizing::new(Vec::with_capacity(36));
        B64.decode_vec(key, &mut typed)
            .map_err(|_| NoteError::MalformedKey("secret is not base64"))?;
        if typed.len() != 33 || typed[0] != ALG_ED25519 {
            return Err(NoteError::MalformedKey("not an Ed25519 secret key"));
        }
        let mut seed = Zeroizing::new([0u8; 32]);
        seed.copy_from_slice(&typed[1..]);
        let signer = LogSigner::from_seed(name, &seed)?;
        if signer.key_id != id {
            return Err(NoteError::KeyIdMismatch);
        }
        Ok(signer)
    }

    /// The signer key text (secret!), without a trailing newline.
    pub fn to_key_text(&self) -> Zeroizing<String> {
        let mut typed = Zeroizing::new([0u8; 33]);
        typed[0] = ALG_ED25519;
        typed[1..].copy_from_slice(self.key.as_bytes());
        let encoded = Zeroizing::new(B64.encode(&typed[..]));
        Zeroizing::new(format!(
            "{PRIVATE_KEY_PREFIX}{}+{:08x}+{}",
            self.name,
            self.key_id,
            encoded.as_str()
        ))
    }

    /// The matching verifier.
    pub fn verifier(&self) -> LogVerifier {
        LogVerifier {
            name: self.name.clone(),
            key_id: self.key_id,
            key: self.key.verifying_key(),
        }
    }

    /// The key name, which is the origin of every checkpoint this signer signs.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// Signs a checkpoint; returns the complete signed note text.
    pub fn sign(&self, checkpoint: &Checkpoint) -> Result<String, NoteError> {
        if checkpoint.origin != self.name {
            return Err(NoteError::OriginMismatch {
                expected: self.name.clone(),
                got: checkpoint.origin.clone(),
            });
        }
        self.sign_text(&checkpoint.body()?)
    }

    /// Signs a note text (newline-terminated, no control characters, no trailing blank line);
    /// returns the complete signed note.
    pub fn sign_text(&self, text: &str) -> Result<String, NoteError> {
        if !text.ends_with('\n') || text.ends_with("\n\n") {
            return Err(NoteError::MissingNewline);
        }
        if text.chars().any(|c| c < ' ' && c != '\n') {
            return Err(NoteError::ControlCharacter);
        }
        let signature = self.key.sign(text.as_bytes());
        let mut blob = [0u8; 68];
        blob[..4].copy_from_slice(&self.key_id.to_be_bytes());
        blob[4..].copy_from_slice(&signature.to_bytes());
        Ok(format!(
            "{text}\n{SIG_PREFIX}{} {}\n",
            self.name,
            B64.encode(blob)
        ))
    }
}

/// Key id = first four bytes (big-endian) of `SHA-256(name || 0x0A || 0x01 || public key)`.
pub fn key_id(name: &str, public_key: &[u8; 32]) -> u32 {
    let mut h = Sha256::new();
    h.update(name.as_bytes());
    h.update([b'\n', ALG_ED25519]);
    h.update(public_key);
    let digest = h.finalize();
    u32::from_be_bytes([digest[0], digest[1], digest[2], digest[3]])
}

fn check_key_name(name: &str) -> Result<(), NoteError> {
    if name.is_empty()
        || name
            .chars()
            .any(|c| c.is_whitespace() || c == '+' || c < ' ')
    {
        return Err(NoteError::InvalidKeyName);
    }
    Ok(())
}

fn check_origin(origin: &str) -> Result<(), NoteError> {
    if origin.is_empty() {
        return Err(NoteError::MalformedCheckpoint("empty origin"));
    }
    if origin.chars().any(|c| c < ' ') {
        return Err(NoteError::MalformedCheckpoint(
            "control character in origin",
        ));
    }
    Ok(())
}

fn parse_key_id(hex_id: &str) -> Result<u32, NoteError> {
    if hex_id.len() != 8 || !hex_id.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Err(NoteError::MalformedKey("key id is not 8 hex digits"));
    }
    u32::from_str_radix(hex_id, 16).map_err(|_| NoteError::MalformedKey("key id is not hex"))
}

fn parse_signature_line(line: &str, number: usize) -> Result<NoteSignature, NoteError> {
    let bad = NoteError::MalformedSignature { line: number };
    let rest = line.strip_prefix(SIG_PREFIX).ok_or(bad.clone())?;
    let (name, encoded) = rest.split_once(' ').ok_or(bad.clone())?;
    if check_key_name(name).is_err() || encoded.contains(' ') {
        return Err(bad);
    }
    let blob = B64.decode(encoded).map_err(|_| bad.clone())?;
    // 4 bytes of key id and at least one byte of signature.
    if blob.len() < 5 {
        return Err(bad);
    }
    Ok(NoteSignature {
        name: name.to_owned(),
        key_id: u32::from_be_bytes([blob[0], blob[1], blob[2], blob[3]]),
        signature: blob[4..].to_vec(),
    })
}

/// Decimal with no sign and no leading zero (except "0"), within u64.
fn parse_decimal_u64(s: &str) -> Result<u64, NoteError> {
    let bad = NoteError::MalformedCheckpoint("tree size is not a canonical decimal");
    if s.is_empty() || !s.bytes().all(|b| b.is_ascii_digit()) || (s.len() > 1 && s.starts_with('0'))
    {
        return Err(bad);
    }
    s.parse::<u64>().map_err(|_| bad)
}

/// Strict standard base64 (canonical padding and trailing bits) of exactly `N` bytes.
pub(crate) fn decode_exact<const N: usize>(s: &str) -> Option<[u8; N]> {
    let bytes = B64.decode(s).ok()?;
    bytes.try_into().ok()
}
