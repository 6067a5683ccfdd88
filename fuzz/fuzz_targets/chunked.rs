//! Chunked bodies: arbitrary bytes never panic the decoder, and splitting the input in two
//! never changes what it decodes.
#![no_main]
use libfuzzer_sys::fuzz_target;
use spindle::http::body::BodyDecoder;

fn run(pieces: &[&[u8]]) -> Result<(Vec<u8>, bool), ()> {
    let mut dec = BodyDecoder::chunked();
    let mut body = Vec::new();
    let mut pending = Vec::new();
    for p in pieces {
        pending.extend_from_slice(p);
        loop {
            let d = dec.decode(&pending).map_err(|_| ())?;
            body.extend_from_slice(&pending[d.data.clone()]);
            pending.drain(..d.consumed);
            if d.done {
                return Ok((body, true));
            }
            if d.consumed == 0 {
                break;
            }
        }
    }
    Ok((body, false))
}

fuzz_target!(|input: (u16, &[u8])| {
    let (cut, raw) = input;
    let cut = usize::from(cut) % (raw.len() + 1);
    let whole = run(&[raw]);
    let split = run(&[&raw[..cut], &raw[cut..]]);
    assert_eq!(whole, split);
});
