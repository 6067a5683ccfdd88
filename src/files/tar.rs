//! The tar format, as far as a folder download needs it (POSIX.1-2001 "pax", which every tar
//! reads): one 512-byte ustar header per entry, preceded by a PAX extended header when the
//! name does not fit ustar's 100 bytes or the size its 11 octal digits (8 GiB and up); data
//! padded to 512 bytes; two zero blocks at the end. Pure: bytes in, bytes out.

/// Everything in tar comes in blocks of this size.
pub const BLOCK: usize = 512;

/// The largest size (and time) ustar's 11 octal digits hold: 8 GiB - 1.
const OCTAL_11: u64 = 0o777_7777_7777;

/// What an entry is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    File,
    Dir,
}

/// One entry's metadata; `name` is its path in the archive (`top/sub/file.txt`, or
/// `top/sub/` for a directory).
#[derive(Clone, Copy, Debug)]
pub struct Entry<'a> {
    pub name: &'a [u8],
    pub kind: Kind,
    pub size: u64,
    /// Permission bits only (`st_mode & 0o7777`).
    pub mode: u32,
    pub mtime: u64,
}

/// Appends the header block(s) of `e` to `out`: a PAX header and its records first if ustar
/// cannot hold the name or the size, then the ustar header.
pub fn header(e: &Entry<'_>, out: &mut Vec<u8>) {
    let long_name = e.name.len() > 100;
    let big = e.size > OCTAL_11;
    if long_name || big {
        let mut records = Vec::new();
        if long_name {
            record(&mut records, b"path", e.name);
        }
        if big {
            record(
                &mut records,
                b"size",
                itoa::Buffer::new().format(e.size).as_bytes(),
            );
        }
        let pax = Entry {
            name: b"././@PaxHeader",
            kind: Kind::File,
            size: records.len() as u64,
            mode: 0o644,
            mtime: e.mtime,
        };
        ustar(&pax, b'x', out);
        out.extend_from_slice(&records);
        pad(records.len() as u64, out);
    }
    ustar(
        e,
        match e.kind {
            Kind::File => b'0',
            Kind::Dir => b'5',
        },
        out,
    );
}

/// Zeros after `len` bytes of data, up to the next block boundary.
pub fn pad(len: u64, out: &mut Vec<u8>) {
    out.resize(out.len() + padding(len), 0);
}

/// How many zeros follow `len` bytes of data.
pub fn padding(len: u64) -> usize {
    (BLOCK - (len % BLOCK as u64) as usize) % BLOCK
}

/// The end of an archive: two zero blocks.
pub fn end(out: &mut Vec<u8>) {
    out.resize(out.len() + 2 * BLOCK, 0);
}

/// One PAX record, `"LEN key=value\n"`, where LEN counts the whole record, itself included.
fn record(out: &mut Vec<u8>, key: &[u8], value: &[u8]) {
    let rest = 1 + key.len() + 1 + value.len() + 1; // " key=value\n"
    let mut len = rest + 1;
    while len != rest + itoa::Buffer::new().format(len).len() {
        len = rest + itoa::Buffer::new().format(len).len();
    }
    out.extend_from_slice(itoa::Buffer::new().format(len).as_bytes());
    out.push(b' ');
    out.extend_from_slice(key);
    out.push(b'=');
    out.extend_from_slice(value);
    out.push(b'\n');
}

/// The 512-byte ustar header. A name over 100 bytes is cut (its PAX `path` has it whole);
/// a size or time over 11 octal digits is written as its largest value (PAX has the size).
fn ustar(e: &Entry<'_>, typeflag: u8, out: &mut Vec<u8>) {
    let mut h = [0u8; BLOCK];
    let name = &e.name[..e.name.len().min(100)];
    h[..name.len()].copy_from_slice(name);
    octal(&mut h[100..108], u64::from(e.mode & 0o7777));
    octal(&mut h[108..116], 0); // uid
    octal(&mut h[116..124], 0); // gid
    octal(&mut h[124..136], if e.size > OCTAL_11 { 0 } else { e.size });
    octal(&mut h[136..148], e.mtime.min(OCTAL_11));
    h[156] = typeflag;
    h[257..263].copy_from_slice(b"ustar\0");
    h[263..265].copy_from_slice(b"00");
    // The checksum is computed with its own field as spaces.
    h[148..156].copy_from_slice(b"        ");
    let sum: u32 = h.iter().map(|&b| u32::from(b)).sum();
    octal(&mut h[148..155], u64::from(sum));
    h[155] = b' ';
    out.extend_from_slice(&h);
}

/// `field.len() - 1` octal digits, zero-filled, then NUL. `v` must fit.
fn octal(field: &mut [u8], mut v: u64) {
    let digits = field.len() - 1;
    for i in (0..digits).rev() {
        field[i] = b'0' + (v & 7) as u8;
        v >>= 3;
    }
    field[digits] = 0;
}

#[cfg(test)]
mod tests {
    use super::*;

    fn file(name: &[u8], size: u64) -> Vec<u8> {
        let mut out = Vec::new();
        let e = Entry {
            name,
            kind: Kind::File,
            size,
            mode: 0o100644,
            mtime: 1_000_000_000,
        };
        header(&e, &mut out);
        out
    }

    /// The checksum a reader computes: all bytes, with the checksum field read as spaces.
    fn checksum_ok(h: &[u8]) -> bool {
        let sum: u32 = h
            .iter()
            .enumerate()
            .map(|(i, &b)| {
                if (148..156).contains(&i) {
                    32
                } else {
                    u32::from(b)
                }
            })
            .sum();
        let field = std::str::from_utf8(&h[148..154]).unwrap();
        u32::from_str_radix(field, 8).unwrap() == sum
    }

    /// The records of a PAX data block.
    fn records(data: &[u8]) -> Vec<(String, String)> {
        let mut out = Vec::new();
        let mut rest = data;
        while !rest.is_empty() {
            let sp = rest.iter().position(|&b| b == b' ').unwrap();
            let len: usize = std::str::from_utf8(&rest[..sp]).unwrap().parse().unwrap();
            let rec = std::str::from_utf8(&rest[sp + 1..len]).unwrap();
            assert!(rec.ends_with('\n'), "{rec:?}");
            let (k, v) = rec[..rec.len() - 1].split_once('=').unwrap();
            out.push((k.to_string(), v.to_string()));
            rest = &rest[len..];
        }
        out
    }

    #[test]
    fn a_short_name_is_one_ustar_block() {
        let h = file(b"top/a.txt", 1234);
        assert_eq!(h.len(), BLOCK);
        assert_eq!(&h[..9], b"top/a.txt");
        assert_eq!(h[9], 0);
        assert_eq!(&h[100..108], b"0000644\0", "permission bits only");
        assert_eq!(&h[124..136], b"00000002322\0", "1234 in octal");
        assert_eq!(&h[136..148], b"07346545000\0", "10^9 in octal");
        assert_eq!(h[156], b'0');
        assert_eq!(&h[257..265], b"ustar\x0000");
        assert!(checksum_ok(&h));
        let mut d = Vec::new();
        header(
            &Entry {
                name: b"top/",
                kind: Kind::Dir,
                size: 0,
                mode: 0o755,
                mtime: 0,
            },
            &mut d,
        );
        assert_eq!((d.len(), d[156]), (BLOCK, b'5'));
        assert!(checksum_ok(&d));
    }

    #[test]
    fn a_long_name_goes_in_a_pax_record() {
        let name = format!("top/{}/{}.txt", "d".repeat(120), "é".repeat(30));
        let h = file(name.as_bytes(), 7);
        assert_eq!(
            h.len(),
            3 * BLOCK,
            "PAX header, its records, the ustar header"
        );
        assert_eq!(h[156], b'x');
        assert!(checksum_ok(&h[..BLOCK]));
        let size = usize::from_str_radix(std::str::from_utf8(&h[124..135]).unwrap(), 8).unwrap();
        assert_eq!(
            records(&h[BLOCK..BLOCK + size]),
            [("path".to_string(), name.clone())]
        );
        assert!(h[BLOCK + size..2 * BLOCK].iter().all(|&b| b == 0));
        let ustar = &h[2 * BLOCK..];
        assert_eq!(ustar[156], b'0');
        assert_eq!(&ustar[..100], &name.as_bytes()[..100]);
        assert!(checksum_ok(ustar));
    }

    #[test]
    fn a_size_over_8_gib_goes_in_a_pax_record() {
        let just_fits = file(b"f", OCTAL_11);
        assert_eq!(just_fits.len(), BLOCK);
        assert_eq!(&just_fits[124..136], b"77777777777\0");
        let size = 9 << 30; // 9 GiB: never written, only described
        let h = file(b"big.bin", size);
        assert_eq!(h.len(), 3 * BLOCK);
        let len = usize::from_str_radix(std::str::from_utf8(&h[124..135]).unwrap(), 8).unwrap();
        assert_eq!(
            records(&h[BLOCK..BLOCK + len]),
            [("size".to_string(), size.to_string())]
        );
        assert_eq!(&h[2 * BLOCK..2 * BLOCK + 7], b"big.bin");
        assert!(checksum_ok(&h[2 * BLOCK..]));
    }

    #[test]
    fn pax_record_lengths_count_themselves() {
        // Around the points where the length's own digits grow (9 -> 10, 99 -> 100).
        for n in 0..300 {
            let value = vec![b'v'; n];
            let mut out = Vec::new();
            record(&mut out, b"path", &value);
            let sp = out.iter().position(|&b| b == b' ').unwrap();
            let len: usize = std::str::from_utf8(&out[..sp]).unwrap().parse().unwrap();
            assert_eq!(len, out.len(), "value of {n} bytes");
        }
    }

    proptest::proptest! {
        /// Any name and size: whole blocks, valid checksums, and the name and size read back
        /// (from PAX records where ustar cannot hold them).
        #[test]
        fn headers_read_back(
            name in proptest::collection::vec(1u8..=255, 1..400),
            size in proptest::prop_oneof![0u64..=2 * OCTAL_11, proptest::arbitrary::any::<u64>()],
        ) {
            let h = file(&name, size);
            proptest::prop_assert_eq!(h.len() % BLOCK, 0);
            let (mut got_name, mut got_size) = (None, None);
            let mut at = 0;
            while h[at + 156] == b'x' {
                proptest::prop_assert!(checksum_ok(&h[at..at + BLOCK]));
                let len = usize::from_str_radix(std::str::from_utf8(&h[at + 124..at + 135]).unwrap(), 8).unwrap();
                let data = &h[at + BLOCK..at + BLOCK + len];
                let mut rest = data;
                while !rest.is_empty() {
                    let sp = rest.iter().position(|&b| b == b' ').unwrap();
                    let n: usize = std::str::from_utf8(&rest[..sp]).unwrap().parse().unwrap();
                    let rec = &rest[sp + 1..n - 1];
                    let eq = rec.iter().position(|&b| b == b'=').unwrap();
                    match &rec[..eq] {
                        b"path" => got_name = Some(rec[eq + 1..].to_vec()),
                        b"size" => got_size = std::str::from_utf8(&rec[eq + 1..]).unwrap().parse().ok(),
                        _ => {}
                    }
                    rest = &rest[n..];
                }
                at += BLOCK + len + padding(len as u64);
            }
            let u = &h[at..];
            proptest::prop_assert_eq!(u.len(), BLOCK);
            proptest::prop_assert!(checksum_ok(u));
            let ustar_name: Vec<u8> = u[..100].iter().copied().take_while(|&b| b != 0).collect();
            let ustar_size = u64::from_str_radix(std::str::from_utf8(&u[124..135]).unwrap(), 8).unwrap();
            proptest::prop_assert_eq!(got_name.unwrap_or(ustar_name), name);
            proptest::prop_assert_eq!(got_size.unwrap_or(ustar_size), size);
        }
    }

    #[test]
    fn padding_and_end() {
        assert_eq!(padding(0), 0);
        assert_eq!(padding(1), 511);
        assert_eq!(padding(512), 0);
        assert_eq!(padding(513), 511);
        let mut out = vec![1];
        end(&mut out);
        assert_eq!(out.len(), 1 + 1024);
    }
}
