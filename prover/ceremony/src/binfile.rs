//! The iden3 binary section container shared by `.r1cs`, `.ptau` and `.zkey`.
//!
//! Format (as `@iden3/binfileutils` reads and writes it, all integers little-endian):
//! 4 magic bytes, `u32` version, `u32` number of sections, then for each section a `u32` id,
//! a `u64` byte length and that many bytes. Sections may appear in any order.
//!
//! Invariant: [`BinFile::open`] accepts a file only if its magic and version are the expected
//! ones and every announced section lies inside the file; every later read is bounded by the
//! section table, so no read ever goes past a section's end (snarkjs occasionally does, see
//! `zkey.rs`). Section contents are parsed with [`Cursor`], which turns every short read into
//! [`Error::Truncated`].

use super::error::{Error, FileKind, Result};
use std::io::{Read, Seek, SeekFrom, Write};

/// Where one section lies in the file.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SectionEntry {
    /// Section id.
    pub id: u32,
    /// Offset of its first content byte.
    pub offset: u64,
    /// Content length in bytes.
    pub len: u64,
}

/// An opened iden3 binary file: its section table and the reader it came from.
#[derive(Debug)]
pub struct BinFile<R> {
    kind: FileKind,
    version: u32,
    sections: Vec<SectionEntry>,
    reader: R,
}

impl<R: Read + Seek> BinFile<R> {
    /// Reads the header and the section table, checking that every section lies in the file.
    pub fn open(mut reader: R, kind: FileKind, max_version: u32) -> Result<Self> {
        let file_len = reader.seek(SeekFrom::End(0))?;
        reader.seek(SeekFrom::Start(0))?;
        let mut magic = [0u8; 4];
        let got = read_up_to(&mut reader, &mut magic)?;
        if got < 4 || &magic != kind.magic() {
            return Err(Error::BadMagic {
                expected: kind,
                found: magic[..got].to_vec(),
            });
        }
        let mut head = [0u8; 8];
        if read_up_to(&mut reader, &mut head)? < 8 {
            return Err(truncated(kind, "file header"));
        }
        let version = u32::from_le_bytes(head[0..4].try_into().expect("4 bytes"));
        let n_sections = u32::from_le_bytes(head[4..8].try_into().expect("4 bytes"));
        if version == 0 || version > max_version {
            return Err(Error::UnsupportedVersion { kind, version });
        }
        let mut sections = Vec::new();
        let mut pos: u64 = 12;
        for i in 0..n_sections {
            let mut sh = [0u8; 12];
            reader.seek(SeekFrom::Start(pos))?;
            if read_up_to(&mut reader, &mut sh)? < 12 {
                return Err(truncated(
                    kind,
                    format!("section header {i} of {n_sections} is cut off"),
                ));
            }
            let id = u32::from_le_bytes(sh[0..4].try_into().expect("4 bytes"));
            let len = u64::from_le_bytes(sh[4..12].try_into().expect("8 bytes"));
            let offset = pos + 12;
            let end = offset.checked_add(len).filter(|&e| e <= file_len);
            let Some(end) = end else {
                return Err(truncated(
                    kind,
                    format!(
                        "section {id} announces {len} bytes at offset {offset}, the file has {file_len}"
                    ),
                ));
            };
            sections.push(SectionEntry { id, offset, len });
            pos = end;
        }
        Ok(BinFile {
            kind,
            version,
            sections,
            reader,
        })
    }

    /// The container version.
    pub fn version(&self) -> u32 {
        self.version
    }

    /// The file kind.
    pub fn kind(&self) -> FileKind {
        self.kind
    }

    /// Section ids in file order.
    pub fn section_order(&self) -> Vec<u32> {
        self.sections.iter().map(|s| s.id).collect()
    }

    /// True if the section is present at least once.
    pub fn has_section(&self, id: u32) -> bool {
        self.sections.iter().any(|s| s.id == id)
    }

    /// The unique entry of section `id`.
    pub fn section(&self, id: u32, name: &'static str) -> Result<SectionEntry> {
        let mut found = self.sections.iter().filter(|s| s.id == id);
        let first = found.next().ok_or(Error::MissingSection {
            kind: self.kind,
            id,
            name,
        })?;
        if found.next().is_some() {
            return Err(Error::DuplicateSection {
                kind: self.kind,
                id,
            });
        }
        Ok(*first)
    }

    /// Reads the whole content of section `id`.
    pub fn read_section(&mut self, id: u32, name: &'static str) -> Result<Vec<u8>> {
        let s = self.section(id, name)?;
        self.read_at(s.offset, s.len)
    }

    /// Reads `len` bytes at `offset` inside section `id`, refusing ranges past its end.
    pub fn read_section_range(
        &mut self,
        id: u32,
        name: &'static str,
        offset: u64,
        len: u64,
    ) -> Result<Vec<u8>> {
        let s = self.section(id, name)?;
        match offset.checked_add(len) {
            Some(end) if end <= s.len => self.read_at(s.offset + offset, len),
            _ => Err(truncated(
                self.kind,
                format!(
                    "section {id} ({name}) has {} bytes, {len} bytes at offset {offset} were needed",
                    s.len
                ),
            )),
        }
    }

    fn read_at(&mut self, offset: u64, len: u64) -> Result<Vec<u8>> {
        let len = usize::try_from(len).map_err(|_| Error::Malformed {
            kind: self.kind,
            what: "section too large for this machine".into(),
        })?;
        self.reader.seek(SeekFrom::Start(offset))?;
        let mut buf = vec![0u8; len];
        self.reader.read_exact(&mut buf)?;
        Ok(buf)
    }
}

/// Reads as many bytes as available up to `buf.len()`.
fn read_up_to<R: Read>(r: &mut R, buf: &mut [u8]) -> std::io::Result<usize> {
    let mut n = 0;
    while n < buf.len() {
        match r.read(&mut buf[n..]) {
            Ok(0) => break,
            Ok(k) => n += k,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(n)
}

pub(crate) fn truncated(kind: FileKind, what: impl Into<String>) -> Error {
    Error::Truncated {
        kind,
        what: what.into(),
    }
}

/// Writes the container header: magic, version, number of sections.
pub fn write_header<W: Write>(
    w: &mut W,
    kind: FileKind,
    version: u32,
    n_sections: u32,
) -> Result<()> {
    w.write_all(kind.magic())?;
    w.write_all(&version.to_le_bytes())?;
    w.write_all(&n_sections.to_le_bytes())?;
    Ok(())
}

/// Writes one section: id, length, content.
pub fn write_section<W: Write>(w: &mut W, id: u32, content: &[u8]) -> Result<()> {
    w.write_all(&id.to_le_bytes())?;
    w.write_all(&(content.len() as u64).to_le_bytes())?;
    w.write_all(content)?;
    Ok(())
}

/// A bounds-checked reader over one section's bytes.
#[derive(Debug)]
pub struct Cursor<'a> {
    buf: &'a [u8],
    pos: usize,
    kind: FileKind,
    what: &'static str,
}

impl<'a> Cursor<'a> {
    /// A cursor over `buf`, the content of `what` in a file of `kind`.
    pub fn new(buf: &'a [u8], kind: FileKind, what: &'static str) -> Self {
        Cursor {
            buf,
            pos: 0,
            kind,
            what,
        }
    }

    /// Takes the next `n` bytes.
    pub fn bytes(&mut self, n: usize) -> Result<&'a [u8]> {
        match self.pos.checked_add(n) {
            Some(end) if end <= self.buf.len() => {
                let out = &self.buf[self.pos..end];
                self.pos = end;
                Ok(out)
            }
            _ => Err(truncated(
                self.kind,
                format!(
                    "{}: {n} bytes needed at offset {}, {} left",
                    self.what,
                    self.pos,
                    self.buf.len() - self.pos
                ),
            )),
        }
    }

    /// Takes a fixed-size array.
    pub fn array<const N: usize>(&mut self) -> Result<[u8; N]> {
        Ok(self.bytes(N)?.try_into().expect("exactly N bytes"))
    }

    /// Takes a little-endian `u32`.
    pub fn u32(&mut self) -> Result<u32> {
        Ok(u32::from_le_bytes(self.array()?))
    }

    /// Takes a little-endian `u64`.
    pub fn u64(&mut self) -> Result<u64> {
        Ok(u64::from_le_bytes(self.array()?))
    }

    /// Takes one byte.
    pub fn u8(&mut self) -> Result<u8> {
        Ok(self.bytes(1)?[0])
    }

    /// Bytes not yet read.
    pub fn remaining(&self) -> usize {
        self.buf.len() - self.pos
    }

    /// Current offset.
    pub fn position(&self) -> usize {
        self.pos
    }

    /// Fails unless every byte was read.
    pub fn finish(&self) -> Result<()> {
        if self.remaining() != 0 {
            return Err(Error::Malformed {
                kind: self.kind,
                what: format!(
                    "{}: {} unexpected trailing bytes",
                    self.what,
                    self.remaining()
                ),
            });
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn file(sections: &[(u32, &[u8])]) -> Vec<u8> {
        let mut out = Vec::new();
        write_header(&mut out, FileKind::Zkey, 1, sections.len() as u32).unwrap();
        for (id, c) in sections {
            write_section(&mut out, *id, c).unwrap();
        }
        out
    }

    #[test]
    fn roundtrip_and_bounds() {
        let bytes = file(&[(2, b"hello"), (1, b"x")]);
        let mut f = BinFile::open(std::io::Cursor::new(bytes), FileKind::Zkey, 1).unwrap();
        assert_eq!(f.section_order(), vec![2, 1]);
        assert_eq!(f.read_section(2, "a").unwrap(), b"hello");
        assert_eq!(f.read_section_range(2, "a", 1, 3).unwrap(), b"ell");
        assert!(matches!(
            f.read_section_range(2, "a", 3, 3),
            Err(Error::Truncated { .. })
        ));
        assert!(matches!(
            f.read_section(3, "c"),
            Err(Error::MissingSection { id: 3, .. })
        ));
    }

    #[test]
    fn refuses_garbage() {
        for bad in [
            &b""[..],
            b"zke",
            b"ptau\x01\0\0\0\x01\0\0\0",
            b"zkey\x09\0\0\0\x00\0\0\0",
            b"zkey\x01\0\0\0\x01\0\0\0\x01\0\0\0",
            b"zkey\x01\0\0\0\x01\0\0\0\x01\0\0\0\xff\0\0\0\0\0\0\0abc",
        ] {
            assert!(
                BinFile::open(std::io::Cursor::new(bad.to_vec()), FileKind::Zkey, 1).is_err(),
                "{bad:?}"
            );
        }
        let mut whole = file(&[(1, b"abcdef")]);
        whole.truncate(whole.len() - 1);
        assert!(matches!(
            BinFile::open(std::io::Cursor::new(whole), FileKind::Zkey, 1),
            Err(Error::Truncated { .. })
        ));
        let dup = file(&[(1, b"a"), (1, b"b")]);
        let f = BinFile::open(std::io::Cursor::new(dup), FileKind::Zkey, 1).unwrap();
        assert!(matches!(
            f.section(1, "x"),
            Err(Error::DuplicateSection { .. })
        ));
    }
}
