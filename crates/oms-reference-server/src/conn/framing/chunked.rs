//! A chunked body followed byte by byte (RFC 9112 §7.1), as strictly as
//! hyper decodes it (CRLF only), to find where the next head starts: the
//! decoder's state, carried across reads, and the walk over one input.

/// The chunked-body decoder's state, as strict as hyper's (CRLF only).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Chunk {
    /// In a chunk-size line: hex digits so far and their value.
    Size {
        digits: u8,
        value: u64,
    },
    /// Whitespace after the size.
    SizeWs {
        value: u64,
    },
    /// A chunk extension, this many bytes long so far.
    Ext {
        value: u64,
        len: usize,
    },
    /// The LF ending a size line.
    SizeLf {
        value: u64,
    },
    /// Inside a chunk's data.
    Data(u64),
    DataCr,
    DataLf,
    /// In the trailer section after the last chunk: bytes of the current
    /// field line, and the lines so far.
    Trailer {
        len: usize,
        lines: usize,
    },
    /// The LF ending a trailer line (`line` is false for the empty one).
    TrailerLf {
        line: bool,
        lines: usize,
    },
}

/// A chunk extension, or a trailer field line, longer than this breaks the body.
const MAX_CHUNK_LINE: usize = 4096;
/// Trailer fields after the last chunk at most.
const MAX_TRAILERS: usize = 64;
/// Follows a chunked body through `input`: the bytes it may pass and whether
/// the body ended with them, or `None` where the framing breaks.
pub(super) fn walk_chunked(chunk: &mut Chunk, input: &[u8]) -> Option<(usize, bool)> {
    let mut i = 0;
    while i < input.len() {
        let b = input[i];
        *chunk = match *chunk {
            Chunk::Data(left) => {
                let n = usize::try_from(left)
                    .unwrap_or(usize::MAX)
                    .min(input.len() - i);
                i += n;
                let left = left - n as u64;
                *chunk = if left == 0 {
                    Chunk::DataCr
                } else {
                    Chunk::Data(left)
                };
                continue;
            }
            Chunk::Size { digits, value } => match hex(b) {
                Some(d) if digits < 16 => Chunk::Size {
                    digits: digits + 1,
                    value: value.checked_mul(16)? | u64::from(d),
                },
                Some(_) => return None,
                None if digits == 0 => return None,
                None => match b {
                    b' ' | b'\t' => Chunk::SizeWs { value },
                    b';' => Chunk::Ext { value, len: 0 },
                    b'\r' => Chunk::SizeLf { value },
                    _ => return None,
                },
            },
            Chunk::SizeWs { value } => match b {
                b' ' | b'\t' => Chunk::SizeWs { value },
                b';' => Chunk::Ext { value, len: 0 },
                b'\r' => Chunk::SizeLf { value },
                _ => return None,
            },
            Chunk::Ext { value, len } => match b {
                b'\r' => Chunk::SizeLf { value },
                b'\n' => return None,
                _ if len >= MAX_CHUNK_LINE => return None,
                _ => Chunk::Ext {
                    value,
                    len: len + 1,
                },
            },
            Chunk::SizeLf { value } => match b {
                b'\n' if value == 0 => Chunk::Trailer { len: 0, lines: 0 },
                b'\n' => Chunk::Data(value),
                _ => return None,
            },
            Chunk::DataCr => match b {
                b'\r' => Chunk::DataLf,
                _ => return None,
            },
            Chunk::DataLf => match b {
                b'\n' => Chunk::Size {
                    digits: 0,
                    value: 0,
                },
                _ => return None,
            },
            Chunk::Trailer { len, lines } => match b {
                b'\r' => Chunk::TrailerLf {
                    line: len > 0,
                    lines,
                },
                b'\n' => return None,
                _ if len >= MAX_CHUNK_LINE => return None,
                _ => Chunk::Trailer {
                    len: len + 1,
                    lines,
                },
            },
            Chunk::TrailerLf { line, lines } => match b {
                b'\n' if !line => return Some((i + 1, true)),
                b'\n' if lines + 1 >= MAX_TRAILERS => return None,
                b'\n' => Chunk::Trailer {
                    len: 0,
                    lines: lines + 1,
                },
                _ => return None,
            },
        };
        i += 1;
    }
    Some((i, false))
}

fn hex(b: u8) -> Option<u8> {
    match b {
        b'0'..=b'9' => Some(b - b'0'),
        b'a'..=b'f' => Some(b - b'a' + 10),
        b'A'..=b'F' => Some(b - b'A' + 10),
        _ => None,
    }
}
