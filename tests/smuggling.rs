//! Request-smuggling shapes (SPEC §3, RFC 9112 §6.3, §11.2): ambiguous framing is refused with
//! 400 (501 for an unknown coding) and the connection closes without serving anything that
//! followed; the refusal is read in full even when the client keeps sending (graceful close).

mod common;

use std::time::Duration;

use common::*;

/// What a smuggler would hope gets served: a second request hidden in or after the body.
const HIDDEN: &[u8] = b"GET /-/status/299 HTTP/1.1\r\nHost: x\r\n\r\n";

/// Sends `head_and_body` + [`HIDDEN`], expects one `status` response, `Connection: close` and
/// nothing else before the close; then checks the server still serves new connections.
fn refused(srv: &TestServer, head_and_body: &[u8], status: u16) {
    let mut c = srv.connect();
    let mut bytes = head_and_body.to_vec();
    bytes.extend_from_slice(HIDDEN);
    c.send(&bytes);
    let r = c.read_response();
    let shown = String::from_utf8_lossy(head_and_body).to_string();
    assert_eq!(r.status, status, "{shown:?}: got {} {}", r.status, r.reason);
    assert!(r.says_close(), "{shown:?}: no Connection: close");
    let rest = c.read_to_close();
    assert!(
        rest.is_empty(),
        "{shown:?}: served after the refusal: {:?}",
        String::from_utf8_lossy(&rest)
    );
    srv.assert_alive();
}

fn post_with(headers: &str, body: &str) -> Vec<u8> {
    format!("POST /-/echo HTTP/1.1\r\nHost: x\r\n{headers}\r\n{body}").into_bytes()
}

#[test]
fn content_length_and_transfer_encoding_together() {
    let srv = TestServer::start();
    refused(
        &srv,
        &post_with(
            "Content-Length: 5\r\nTransfer-Encoding: chunked\r\n",
            "0\r\n\r\n",
        ),
        400,
    );
    refused(
        &srv,
        &post_with(
            "Transfer-Encoding: chunked\r\nContent-Length: 5\r\n",
            "0\r\n\r\n",
        ),
        400,
    );
    // The classic CL.TE shape: a length covering a hidden request.
    let hidden = String::from_utf8(HIDDEN.to_vec()).unwrap();
    let body = format!("0\r\n\r\n{hidden}");
    refused(
        &srv,
        &post_with(
            &format!(
                "Content-Length: {}\r\nTransfer-Encoding: chunked\r\n",
                body.len()
            ),
            &body,
        ),
        400,
    );
    // Also to a handler that would not read the body.
    refused(
        &srv,
        b"POST /-/status/200 HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n",
        400,
    );
}

#[test]
fn two_different_content_lengths() {
    let srv = TestServer::start();
    refused(
        &srv,
        &post_with("Content-Length: 5\r\nContent-Length: 6\r\n", "hello!"),
        400,
    );
    refused(
        &srv,
        &post_with("Content-Length: 6\r\nContent-Length: 5\r\n", "hello!"),
        400,
    );
    refused(&srv, &post_with("Content-Length: 5, 6\r\n", "hello!"), 400);
    refused(&srv, &post_with("Content-Length: 5,6\r\n", "hello!"), 400);
    refused(
        &srv,
        &post_with("Content-Length: 5, 5, 6\r\n", "hello!"),
        400,
    );
}

#[test]
fn identical_duplicate_content_lengths_are_accepted() {
    let srv = TestServer::start();
    let mut c = srv.connect();
    for headers in [
        "Content-Length: 5\r\nContent-Length: 5\r\n",
        "Content-Length: 5, 5\r\n",
        "Content-Length: 5,5\r\n",
    ] {
        let r = c.request(&post_with(headers, "hello"));
        assert_eq!(r.status, 200, "{headers:?}");
        assert_eq!(r.body, b"hello", "{headers:?}");
        assert!(!r.says_close());
    }
}

#[test]
fn bad_content_length_values() {
    let srv = TestServer::start();
    for v in [
        "+5",
        "-1",
        "0x5",
        "",
        "5 5",
        "5.0",
        "1e3",
        "five",
        "5,",
        ",5",
        "99999999999999999999999",
    ] {
        refused(
            &srv,
            &post_with(&format!("Content-Length: {v}\r\n"), "hello"),
            400,
        );
    }
}

#[test]
fn content_length_whitespace_is_trimmed() {
    let srv = TestServer::start();
    let mut c = srv.connect();
    let r = c.request(&post_with("Content-Length:   5  \r\n", "hello"));
    assert_eq!(r.status, 200);
    assert_eq!(r.body, b"hello");
}

#[test]
fn chunked_twice() {
    let srv = TestServer::start();
    refused(
        &srv,
        &post_with("Transfer-Encoding: chunked, chunked\r\n", "0\r\n\r\n"),
        400,
    );
    refused(
        &srv,
        &post_with(
            "Transfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n",
            "0\r\n\r\n",
        ),
        400,
    );
}

#[test]
fn unknown_transfer_coding_is_501() {
    let srv = TestServer::start();
    refused(
        &srv,
        &post_with("Transfer-Encoding: gzip, chunked\r\n", "0\r\n\r\n"),
        501,
    );
    refused(
        &srv,
        &post_with("Transfer-Encoding: xchunked\r\n", "0\r\n\r\n"),
        501,
    );
}

#[test]
fn malformed_transfer_encoding_is_refused() {
    let srv = TestServer::start();
    for te in ["", ",chunked", "chunked,", "chunked, gzip"] {
        let mut c = srv.connect();
        let mut bytes = post_with(&format!("Transfer-Encoding: {te}\r\n"), "0\r\n\r\n");
        bytes.extend_from_slice(HIDDEN);
        c.send(&bytes);
        let r = c.read_response();
        assert!(
            matches!(r.status, 400 | 501),
            "Transfer-Encoding: {te:?} answered {}",
            r.status
        );
        assert!(r.says_close());
        c.assert_closed();
    }
    srv.assert_alive();
}

#[test]
fn transfer_encoding_on_http10() {
    let srv = TestServer::start();
    refused(
        &srv,
        b"POST /-/echo HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n",
        400,
    );
}

#[test]
fn obs_fold_is_400() {
    let srv = TestServer::start();
    refused(
        &srv,
        b"GET /-/plaintext HTTP/1.1\r\nHost: x\r\nX-A: a\r\n b\r\n\r\n",
        400,
    );
    refused(
        &srv,
        b"GET /-/plaintext HTTP/1.1\r\nHost: x\r\nX-A: a\r\n\tb\r\n\r\n",
        400,
    );
    // Folding a framing header is the dangerous case.
    refused(
        &srv,
        &post_with("Transfer-Encoding:\r\n chunked\r\n", "0\r\n\r\n"),
        400,
    );
    // A first header line that starts with whitespace.
    refused(&srv, b"GET /-/plaintext HTTP/1.1\r\n Host: x\r\n\r\n", 400);
}

#[test]
fn whitespace_before_colon_is_400() {
    let srv = TestServer::start();
    refused(&srv, b"GET /-/plaintext HTTP/1.1\r\nHost : x\r\n\r\n", 400);
    refused(&srv, b"GET /-/plaintext HTTP/1.1\r\nHost\t: x\r\n\r\n", 400);
    refused(&srv, &post_with("Content-Length : 5\r\n", "hello"), 400);
    refused(
        &srv,
        &post_with("Transfer-Encoding : chunked\r\n", "0\r\n\r\n"),
        400,
    );
}

#[test]
fn bad_chunk_framing_on_echo() {
    let srv = TestServer::start();
    for body in [
        "zz\r\nhello\r\n0\r\n\r\n",            // not hex
        "5\nhello\r\n0\r\n\r\n",               // bare LF after the size
        "5\r\nhello\n0\r\n\r\n",               // bare LF after the data
        "5\r\nhello\r\n0\n\r\n",               // bare LF after the last size
        "5\r\nhello\r\n0\r\n\n",               // bare LF as the final line
        "5\rhello\r\n0\r\n\r\n",               // bare CR
        "3\r\nhello\r\n0\r\n\r\n",             // data longer than its size
        "-5\r\nhello\r\n0\r\n\r\n",            // sign
        "0x5\r\nhello\r\n0\r\n\r\n",           // prefix
        "\r\nhello\r\n0\r\n\r\n",              // empty size
        "fffffffffffffffff\r\nx\r\n0\r\n\r\n", // overflowing size
        " 5\r\nhello\r\n0\r\n\r\n",            // leading space
        // An extension starts with `;` after optional whitespace (issue 8 §6).
        "3 4\r\nabc\r\n0\r\n\r\n", // a second number is not an extension
        "3 x\r\nabc\r\n0\r\n\r\n",
        "3 \r\nabc\r\n0\r\n\r\n",
        "3;\r\nabc\r\n0\r\n\r\n",
        "3;a=\r\nabc\r\n0\r\n\r\n",
        "3;a b\r\nabc\r\n0\r\n\r\n",
        "3;a=\"b\r\nabc\r\n0\r\n\r\n",
        "3;a=b c\r\nabc\r\n0\r\n\r\n",
        "3;a@b\r\nabc\r\n0\r\n\r\n",
        "3\r\nabc\r\n0 1\r\n\r\n",
        // Trailer lines follow the header-line rules (issue 8 §6).
        "3\r\nabc\r\n0\r\nX\x00Y\r\n\r\n",
        "3\r\nabc\r\n0\r\nX\r\n\r\n",
        "3\r\nabc\r\n0\r\nX : y\r\n\r\n",
        "3\r\nabc\r\n0\r\n: y\r\n\r\n",
        "3\r\nabc\r\n0\r\nX: y\r\n z\r\n\r\n",
        "3\r\nabc\r\n0\r\n X: y\r\n\r\n",
        "3\r\nabc\r\n0\r\nX: a\x01b\r\n\r\n",
        "3\r\nabc\r\n0\r\nX Y: z\r\n\r\n",
    ] {
        refused(
            &srv,
            &post_with("Transfer-Encoding: chunked\r\n", body),
            400,
        );
    }
}

#[test]
fn bad_chunk_framing_to_a_handler_that_ignores_the_body() {
    // The answer may go out before the body is read, but the broken body must still end the
    // connection: nothing after it is served.
    let srv = TestServer::start();
    let mut c = srv.connect();
    let mut bytes =
        b"POST /-/status/200 HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n"
            .to_vec();
    bytes.extend_from_slice(HIDDEN);
    c.send(&bytes);
    let all = c.read_to_close();
    let text = String::from_utf8_lossy(&all);
    assert!(
        !text.contains(" 299 "),
        "the hidden request was served: {text:?}"
    );
    assert_eq!(
        text.matches("HTTP/1.1 ").count(),
        1,
        "expected one response: {text:?}"
    );
    srv.assert_alive();
}

#[test]
fn chunk_extensions_and_trailers_are_not_smuggling() {
    let srv = TestServer::start();
    let mut c = srv.connect();
    let r = c.request(&post_with(
        "Transfer-Encoding: chunked\r\n",
        "5;a=b;c=\"d e\"\r\nhello\r\n6 ; x\r\n world\r\n0\r\nX-Trailer: t\r\nY: u\r\n\r\n",
    ));
    assert_eq!(r.status, 200);
    assert_eq!(r.body, b"hello world");
    // The connection is still in sync.
    assert_eq!(c.request(get("/-/bytes/3").as_bytes()).body, b"ABC");
}

#[test]
fn chunk_extension_and_trailer_forms_the_grammar_allows() {
    let srv = TestServer::start();
    let mut c = srv.connect();
    for (ext, trailers) in [
        ("", ""),
        (" ;a", "A:b\r\n"),
        ("\t; a = b", "A:\r\n"),
        (";a=\"q\\\"t;x=y\"", "X-T: \"v\" \t w \r\n"),
        (";a;b=c ;d=\"\"", "A: 1\r\nB: 2\r\n"),
    ] {
        let body = format!("3{ext}\r\nabc\r\n0{ext}\r\n{trailers}\r\n");
        let r = c.request(&post_with("Transfer-Encoding: chunked\r\n", &body));
        assert_eq!((r.status, &r.body[..]), (200, &b"abc"[..]), "{body:?}");
    }
    // Still in sync.
    assert_eq!(c.request(get("/-/bytes/3").as_bytes()).body, b"ABC");
}

#[test]
fn bad_chunk_lines_split_at_every_offset() {
    let srv = TestServer::start();
    refused_at_every_split(
        &srv,
        &post_with("Transfer-Encoding: chunked\r\n", "3 4\r\nabc\r\n0\r\n\r\n"),
        400,
    );
    refused_at_every_split(
        &srv,
        &post_with("Transfer-Encoding: chunked\r\n", "0\r\nX\x00Y\r\n\r\n"),
        400,
    );
}

#[test]
fn uppercase_chunk_sizes_and_chunked_token() {
    let srv = TestServer::start();
    let mut c = srv.connect();
    let body = "A\r\n0123456789\r\n0\r\n\r\n";
    let r = c.request(&post_with("Transfer-Encoding: CHUNKED\r\n", body));
    assert_eq!(r.status, 200);
    assert_eq!(r.body, b"0123456789");
}

#[test]
fn error_is_readable_despite_100k_of_junk_in_one_write() {
    let srv = TestServer::start();
    let mut c = srv.connect();
    let mut bytes = b"GET / HTTP/1.1\r\nHost: x\r\nContent-Length: +5\r\n\r\n".to_vec();
    bytes.extend(std::iter::repeat_n(b'j', 100 * 1024));
    c.send(&bytes);
    let r = c.read_response();
    assert_eq!(r.status, 400);
    assert!(r.says_close());
    // EOF, not a reset.
    let rest = c
        .try_read_to_close()
        .expect("reset instead of a clean close");
    assert!(rest.is_empty());
    srv.assert_alive();
}

#[test]
fn error_is_readable_when_junk_arrives_after_the_answer() {
    // The server has answered and closed its side when the junk arrives: a plain close()
    // would reset the connection and destroy the unread answer on the client.
    let srv = TestServer::start();
    let mut c = srv.connect();
    c.send(b"BREW / HTTP/1.1\r\nHost: x\r\n\r\n");
    std::thread::sleep(Duration::from_millis(100));
    let junk = vec![b'j'; 100 * 1024];
    c.send(&junk);
    std::thread::sleep(Duration::from_millis(100));
    c.send(&junk);
    let r = c
        .try_read_response(false)
        .expect("the 501 was lost (connection reset?)");
    assert_eq!(r.status, 501);
    assert!(r.says_close());
    let rest = c
        .try_read_to_close()
        .expect("reset instead of a clean close");
    assert!(rest.is_empty());
    srv.assert_alive();
}

#[test]
fn request_with_body_hidden_request_after_413() {
    // A 413 must not turn the rejected body into requests.
    let srv = TestServer::with(|c| c.max_body = 10);
    let hidden = String::from_utf8(HIDDEN.to_vec()).unwrap();
    let req = format!(
        "POST /-/echo HTTP/1.1\r\nHost: x\r\nContent-Length: {}\r\n\r\n{hidden}",
        hidden.len()
    );
    refused(&srv, req.as_bytes(), 413);
}

#[test]
fn field_syntax() {
    let srv = TestServer::start();
    let bad: &[&[u8]] = &[
        b"X(Y: z",
        b"X\"Y: z",
        b"X Y: z",
        b"X\tY: z",
        b"X\x00Y: z",
        b"\xc3\xa9: v",
        b"X: a\x00b",
        b"X: a\x01b",
        b"X: a\x0bb",
        b"X: a\x7fb",
        b"X: a\rb",
    ];
    for h in bad {
        let mut req = b"POST /-/echo HTTP/1.1\r\nHost: x\r\n".to_vec();
        req.extend_from_slice(h);
        req.extend_from_slice(b"\r\nContent-Length: 0\r\n\r\n");
        refused(&srv, &req, 400);
    }
    let good: &[&[u8]] = &[
        b"X: \x80\xff obs-text",
        b"X:: y",
        b"X:",
        b"X:    ",
        b"content-LENGTH: 0",
        b"Content-Length:\t0\t",
        b"X-Tab:\tv\t",
    ];
    let mut c = srv.connect();
    for h in good {
        let mut req = b"POST /-/echo HTTP/1.1\r\nHost: x\r\n".to_vec();
        req.extend_from_slice(h);
        req.extend_from_slice(b"\r\nContent-Length: 0\r\n\r\n");
        let r = c.request(&req);
        assert_eq!(r.status, 200, "{:?}", String::from_utf8_lossy(h));
        assert!(r.body.is_empty());
    }
}

#[test]
fn framing_header_names_are_case_insensitive() {
    let srv = TestServer::start();
    refused(
        &srv,
        &post_with(
            "content-length: 5\r\nTRANSFER-ENCODING: chunked\r\n",
            "0\r\n\r\n",
        ),
        400,
    );
    refused(
        &srv,
        &post_with("CONTENT-LENGTH: 5\r\ncontent-length: 6\r\n", "hello!"),
        400,
    );
    let mut c = srv.connect();
    let r = c.request(&post_with(
        "transfer-encoding: Chunked\r\n",
        "2\r\nok\r\n0\r\n\r\n",
    ));
    assert_eq!(r.status, 200);
    assert_eq!(r.body, b"ok");
}

/// A request refused whole must be refused the same way however it is split across reads
/// (a complete head and a head completed by later reads may take different parser paths).
fn refused_at_every_split(srv: &TestServer, req: &[u8], status: u16) {
    for at in 1..req.len() {
        let mut c = srv.connect();
        c.send_split(req, &[at], Duration::from_micros(300));
        c.send(HIDDEN);
        let r = c.read_response();
        assert_eq!(r.status, status, "split at {at}");
        assert!(r.says_close(), "split at {at}");
        let rest = c.read_to_close();
        assert!(
            rest.is_empty(),
            "split at {at}: {:?}",
            String::from_utf8_lossy(&rest)
        );
    }
}

#[test]
fn smuggling_shapes_split_at_every_offset() {
    let srv = TestServer::start();
    refused_at_every_split(
        &srv,
        b"POST /-/echo HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n",
        400,
    );
    refused_at_every_split(
        &srv,
        b"GET /-/plaintext HTTP/1.1\r\nHost: x\r\nX-A: a\r\n b\r\n\r\n",
        400,
    );
    refused_at_every_split(&srv, b"GET /-/plaintext HTTP/1.1\r\nHost : x\r\n\r\n", 400);
    refused_at_every_split(
        &srv,
        b"POST /-/echo HTTP/1.1\r\nHost: x\r\nContent-Length: 1, 2\r\n\r\n",
        400,
    );
    refused_at_every_split(
        &srv,
        b"POST /-/echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: gzip, chunked\r\n\r\n",
        501,
    );
}
