//! The one status table: for each status code spindle names, its reason phrase, its status line
//! (`HTTP/1.1 200 OK\r\n`) and, for the errors spindle answers itself, the one-line body text
//! (`404 Not Found\n`) — all written once, in one row, and put together at compile time.

/// One row of the table.
pub struct Status {
    pub code: u16,
    pub reason: &'static str,
    /// `HTTP/1.1 <code> <reason>\r\n`.
    pub line: &'static [u8],
    /// `<code> <reason>\n`, the body of [`Response::error`](super::response::Response::error);
    /// empty for statuses that get an empty error body.
    pub error_text: &'static [u8],
}

macro_rules! table {
    ($($code:literal $reason:literal $($text:ident)?;)*) => {
        &[$(Status {
            code: $code,
            reason: $reason,
            line: concat!("HTTP/1.1 ", $code, " ", $reason, "\r\n").as_bytes(),
            error_text: table!(@text $code $reason $($text)?),
        },)*]
    };
    (@text $code:literal $reason:literal text) => {
        concat!($code, " ", $reason, "\n").as_bytes()
    };
    (@text $code:literal $reason:literal) => {
        b""
    };
}

/// Every named status, in code order. `text` marks those whose error answer has a body.
const TABLE: &[Status] = table! {
    100 "Continue";
    101 "Switching Protocols";
    200 "OK";
    201 "Created";
    202 "Accepted";
    203 "Non-Authoritative Information";
    204 "No Content";
    205 "Reset Content";
    206 "Partial Content";
    300 "Multiple Choices";
    301 "Moved Permanently";
    302 "Found";
    303 "See Other";
    304 "Not Modified";
    307 "Temporary Redirect";
    308 "Permanent Redirect";
    400 "Bad Request" text;
    401 "Unauthorized";
    403 "Forbidden" text;
    404 "Not Found" text;
    405 "Method Not Allowed" text;
    406 "Not Acceptable";
    408 "Request Timeout" text;
    409 "Conflict" text;
    410 "Gone";
    411 "Length Required";
    412 "Precondition Failed";
    413 "Content Too Large" text;
    414 "URI Too Long" text;
    415 "Unsupported Media Type";
    416 "Range Not Satisfiable" text;
    417 "Expectation Failed" text;
    418 "I'm a teapot";
    421 "Misdirected Request";
    422 "Unprocessable Content";
    425 "Too Early";
    426 "Upgrade Required";
    428 "Precondition Required";
    429 "Too Many Requests";
    431 "Request Header Fields Too Large" text;
    500 "Internal Server Error" text;
    501 "Not Implemented" text;
    502 "Bad Gateway";
    503 "Service Unavailable" text;
    504 "Gateway Timeout";
    505 "HTTP Version Not Supported" text;
    507 "Insufficient Storage";
};

/// For each code below 600, 1 + its row in [`TABLE`] (0: not named), made at compile time, so
/// that a lookup on every response is one load rather than a search.
static INDEX: [u8; 600] = {
    let mut index = [0u8; 600];
    let mut i = 0;
    while i < TABLE.len() {
        index[TABLE[i].code as usize] = (i + 1) as u8;
        i += 1;
    }
    index
};

/// The row for `code`, if it is one spindle names.
pub fn lookup(code: u16) -> Option<&'static Status> {
    match INDEX.get(usize::from(code)) {
        Some(&row) if row > 0 => TABLE.get(usize::from(row) - 1),
        _ => None,
    }
}

/// The reason phrase for a status code ("" for codes without one, which HTTP allows).
pub fn reason(code: u16) -> &'static str {
    lookup(code).map_or("", |s| s.reason)
}

/// Body text of error answers: the status and reason, one line ("" for the others).
pub fn error_text(code: u16) -> &'static [u8] {
    lookup(code).map_or(b"", |s| s.error_text)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn table_is_sorted_and_consistent() {
        assert!(TABLE.windows(2).all(|w| w[0].code < w[1].code));
        for s in TABLE {
            let line = format!("HTTP/1.1 {} {}\r\n", s.code, s.reason);
            assert_eq!(s.line, line.as_bytes());
            if !s.error_text.is_empty() {
                assert_eq!(
                    s.error_text,
                    format!("{} {}\n", s.code, s.reason).as_bytes()
                );
            }
        }
    }

    #[test]
    fn lookups() {
        assert_eq!(reason(200), "OK");
        assert_eq!(reason(418), "I'm a teapot");
        assert_eq!(reason(299), "");
        assert_eq!(reason(0), "");
        assert_eq!(error_text(404), b"404 Not Found\n");
        assert_eq!(error_text(412), b"");
        assert_eq!(error_text(200), b"");
        assert_eq!(
            lookup(416).unwrap().line,
            b"HTTP/1.1 416 Range Not Satisfiable\r\n"
        );
        let texts: Vec<u16> = TABLE
            .iter()
            .filter(|s| !s.error_text.is_empty())
            .map(|s| s.code)
            .collect();
        assert_eq!(
            texts,
            [400, 403, 404, 405, 408, 409, 413, 414, 416, 417, 431, 500, 501, 503, 505]
        );
    }
}
