//! `--access-log`: one Combined Log Format line per request, escaped, written off the reactor
//! thread and complete once the server has shut down.

mod common;

use common::{get, TestServer};

#[test]
fn one_escaped_combined_line_per_request() {
    let path = std::env::temp_dir().join(format!("spindle-test-access-{}", std::process::id()));
    let _ = std::fs::remove_file(&path);
    let dest = path.to_str().unwrap().to_owned();
    let mut srv = TestServer::with(move |c| c.access_log = Some(dest));
    let mut c = srv.connect();
    assert_eq!(c.request(get("/-/plaintext").as_bytes()).status, 200);
    let r = c.request(
        b"GET /-/bytes/7?q=\"x\" HTTP/1.1\r\nHost: x\r\nReferer: http://r/\"\r\nUser-Agent: t\xffool\r\n\r\n",
    );
    assert_eq!(r.status, 200);
    let mut bad = srv.connect();
    bad.send(b"NOT HTTP\r\n\r\n");
    assert_eq!(bad.read_response().status, 400);
    srv.shutdown_and_join().unwrap();
    let text = std::fs::read_to_string(&path).unwrap();
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.len(), 3, "{text}");
    let find = |needle: &str| {
        lines
            .iter()
            .find(|l| l.contains(needle))
            .unwrap_or_else(|| panic!("no line with {needle}: {text}"))
            .to_string()
    };
    let plain = find("/-/plaintext");
    assert!(plain.starts_with("127.0.0.1 - - ["), "{plain}");
    assert!(
        plain.ends_with("] \"GET /-/plaintext HTTP/1.1\" 200 13 \"-\" \"-\""),
        "{plain}"
    );
    let bytes = find("/-/bytes/7");
    assert!(
        bytes.ends_with(
            "\"GET /-/bytes/7?q=\\x22x\\x22 HTTP/1.1\" 200 7 \"http://r/\\x22\" \"t\\xFFool\""
        ),
        "{bytes}"
    );
    let refused = find(" 400 ");
    assert!(refused.ends_with("\"-\" 400 16 \"-\" \"-\""), "{refused}");
    std::fs::remove_file(path).unwrap();
}
