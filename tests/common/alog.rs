//! The access log seen from outside: a strict parser of one Combined Log Format line, a reader
//! of a FIFO that reads slowly (so that the pipe fills and writes to it come in pieces), and
//! the load that gives every request a line of its own.

use std::fs::File;
use std::io::{self, Read};
use std::net::SocketAddr;
use std::path::Path;
use std::sync::mpsc::{self, Receiver, Sender};
use std::thread;
use std::time::{Duration, Instant};

use super::{get, Client, Stats};

/// One line, split into its fields.
#[derive(Debug)]
pub struct LogLine {
    pub peer: String,
    pub request: String,
    pub status: u16,
    pub bytes: u64,
    pub referer: String,
    pub user_agent: String,
}

impl LogLine {
    /// `peer - - [dd/Mon/yyyy:hh:mm:ss +0000] "request" status bytes "referer" "user-agent"`,
    /// and nothing else: a line cut short or two lines run together are refused.
    pub fn parse(line: &str) -> Result<LogLine, String> {
        let bad = |why: &str| format!("{why}: {:?}", short(line));
        let (peer, rest) = line
            .split_once(" - - [")
            .ok_or_else(|| bad("no ' - - ['"))?;
        let (time, rest) = rest.split_once("] ").ok_or_else(|| bad("no time"))?;
        if !is_clf_time(time) {
            return Err(bad("not a time"));
        }
        let (request, rest) = quoted(rest).ok_or_else(|| bad("no request"))?;
        let rest = rest.strip_prefix(' ').ok_or_else(|| bad("no status"))?;
        let (status, rest) = rest.split_once(' ').ok_or_else(|| bad("no status"))?;
        let (bytes, rest) = rest.split_once(' ').ok_or_else(|| bad("no bytes"))?;
        let (referer, rest) = quoted(rest).ok_or_else(|| bad("no referer"))?;
        let rest = rest.strip_prefix(' ').ok_or_else(|| bad("no user-agent"))?;
        let (user_agent, rest) = quoted(rest).ok_or_else(|| bad("no user-agent"))?;
        if !rest.is_empty() || status.len() != 3 {
            return Err(bad("trailing bytes or a bad status"));
        }
        Ok(LogLine {
            peer: peer.to_owned(),
            request: request.to_owned(),
            status: status.parse().map_err(|_| bad("bad status"))?,
            bytes: bytes.parse().map_err(|_| bad("bad byte count"))?,
            referer: referer.to_owned(),
            user_agent: user_agent.to_owned(),
        })
    }
}

/// The start and end of a long line, for a failure message.
fn short(line: &str) -> String {
    if line.len() <= 200 {
        return line.to_owned();
    }
    let end = line.len() - 80;
    let (a, b) = (line.get(..120), line.get(end..));
    format!("{}…{}", a.unwrap_or("?"), b.unwrap_or("?"))
}

/// `"…"` at the start of `s` (the log escapes every quote inside): its inside and the rest.
fn quoted(s: &str) -> Option<(&str, &str)> {
    let s = s.strip_prefix('"')?;
    let end = s.find('"')?;
    Some((&s[..end], &s[end + 1..]))
}

/// `10/Oct/2000:13:55:36 +0000`.
fn is_clf_time(t: &str) -> bool {
    let b = t.as_bytes();
    let digits = |r: std::ops::Range<usize>| b[r].iter().all(u8::is_ascii_digit);
    b.len() == 26
        && digits(0..2)
        && b[2] == b'/'
        && b[3..6].iter().all(u8::is_ascii_alphabetic)
        && b[6] == b'/'
        && digits(7..11)
        && b[11] == b':'
        && digits(12..14)
        && b[14] == b':'
        && digits(15..17)
        && b[17] == b':'
        && digits(18..20)
        && &t[20..] == " +0000"
}

/// Every line of `text`, parsed; panics naming the first that is not one whole line.
pub fn parse_log(text: &str) -> Vec<LogLine> {
    assert!(
        text.is_empty() || text.ends_with('\n'),
        "the log ends inside a line"
    );
    text.lines()
        .map(|l| LogLine::parse(l).unwrap_or_else(|e| panic!("not one whole line: {e}")))
        .collect()
}

/// The User-Agent of request `r` on connection `c` of [`load`]: unique, and long, so that a
/// few lines fill a page of a pipe.
pub fn load_agent(c: usize, r: usize, pad: usize) -> String {
    format!("load-{c}-{r}-{}", "x".repeat(pad))
}

/// `conns` connections to `addr`, all open at once, each sending `per_conn` pipelined
/// `/-/plaintext` requests with the User-Agent [`load_agent`] and reading their answers.
/// Returns the connections, still open.
pub fn load(addr: SocketAddr, conns: usize, per_conn: usize, pad: usize) -> Vec<Client> {
    let mut clients: Vec<Client> = (0..conns).map(|_| Client::connect(addr)).collect();
    for (c, client) in clients.iter_mut().enumerate() {
        let batch: String = (0..per_conn)
            .map(|r| {
                format!(
                    "GET /-/plaintext HTTP/1.1\r\nHost: test\r\nUser-Agent: {}\r\n\r\n",
                    load_agent(c, r, pad)
                )
            })
            .collect();
        client.send(batch.as_bytes());
    }
    for client in &mut clients {
        for _ in 0..per_conn {
            assert_eq!(client.read_response().status, 200);
        }
    }
    clients
}

/// `/-/stats` of the server at `addr`, on a fresh connection (a line in the log too).
pub fn stats_at(addr: SocketAddr) -> Stats {
    let r = Client::connect(addr).request(get("/-/stats").as_bytes());
    assert_eq!(r.status, 200);
    Stats::parse(&r.body_str())
}

/// `/-/stats` at `addr`, asked again until each of `workers` workers has published answers
/// and all have `total` in all: the last stats, and how many were asked.
pub fn stats_once_all_answered(addr: SocketAddr, workers: usize, total: u64) -> (Stats, usize) {
    let until = Instant::now() + Duration::from_secs(5);
    for asked in 1.. {
        let s = stats_at(addr);
        let requests = s.per_worker(workers, "requests_total");
        if requests.iter().all(|&n| n > 0) && requests.iter().sum::<u64>() >= total {
            return (s, asked);
        }
        assert!(Instant::now() < until, "not every worker answered: {s:?}");
        thread::sleep(Duration::from_millis(20));
    }
    unreachable!()
}

/// Checks that `lines` hold exactly one `/-/plaintext` line for each request of [`load`], and
/// nothing else but `other` lines whose request is `GET /-/stats HTTP/1.1`.
pub fn assert_one_line_per_request(
    lines: &[LogLine],
    conns: usize,
    per_conn: usize,
    pad: usize,
    other: usize,
) {
    let mut seen = vec![0u32; conns * per_conn];
    let mut stats = 0;
    for l in lines {
        assert_eq!(l.peer, "127.0.0.1");
        if l.request == "GET /-/stats HTTP/1.1" {
            stats += 1;
            continue;
        }
        assert_eq!(
            (l.request.as_str(), l.status, l.bytes, l.referer.as_str()),
            ("GET /-/plaintext HTTP/1.1", 200, 13, "-")
        );
        let id = l
            .user_agent
            .strip_prefix("load-")
            .and_then(|r| r.strip_suffix(&"x".repeat(pad)))
            .and_then(|r| r.strip_suffix('-'))
            .and_then(|r| r.split_once('-'))
            .and_then(|(c, r)| Some((c.parse::<usize>().ok()?, r.parse::<usize>().ok()?)))
            .filter(|&(c, r)| c < conns && r < per_conn)
            .unwrap_or_else(|| panic!("a User-Agent of no request: {:.80}", l.user_agent));
        seen[id.0 * per_conn + id.1] += 1;
    }
    let wrong: Vec<(usize, u32)> = seen
        .iter()
        .enumerate()
        .filter(|(_, &n)| n != 1)
        .map(|(i, &n)| (i, n))
        .take(10)
        .collect();
    assert!(
        wrong.is_empty(),
        "requests (index, lines) without exactly one line: {wrong:?}"
    );
    assert_eq!(stats, other, "lines of /-/stats");
    assert_eq!(lines.len(), conns * per_conn + other);
}

/// A reader of a FIFO on a thread of its own: it opens the FIFO at once (so the server's
/// writer finds a reader), reads nothing until [`SlowReader::start`], then reads `piece`
/// bytes at a time with `pause` after each, to the end of file.
pub struct SlowReader {
    go: Sender<()>,
    text: Receiver<io::Result<Vec<u8>>>,
}

impl SlowReader {
    pub fn open(path: &Path, piece: usize, pause: Duration) -> SlowReader {
        let (go, wait) = mpsc::channel();
        let (done, text) = mpsc::channel();
        let path = path.to_owned();
        thread::spawn(move || {
            let r = File::open(&path).and_then(|f| {
                let _ = wait.recv();
                read_slowly(f, piece, pause)
            });
            let _ = done.send(r);
        });
        SlowReader { go, text }
    }

    pub fn start(&self) {
        let _ = self.go.send(());
    }

    /// Everything read, once the last writer has closed the FIFO (at most `limit` from now).
    pub fn finish(self, limit: Duration) -> String {
        self.start();
        let bytes = self
            .text
            .recv_timeout(limit)
            .expect("the FIFO was not closed in time")
            .expect("reading the FIFO");
        String::from_utf8(bytes).expect("the log is not UTF-8")
    }
}

fn read_slowly(mut f: File, piece: usize, pause: Duration) -> io::Result<Vec<u8>> {
    let mut all = Vec::new();
    let mut buf = vec![0; piece];
    loop {
        match f.read(&mut buf)? {
            0 => return Ok(all),
            n => all.extend_from_slice(&buf[..n]),
        }
        thread::sleep(pause);
    }
}
