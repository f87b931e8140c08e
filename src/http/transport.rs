//! The connection under actix-http's HTTP/1 dispatcher: it bounds the time
//! every request's head may take (actix-http times only a connection's
//! first), and turns the dispatcher's own empty-bodied rejections (400, 431)
//! into `application/problem+json` answers that say what was wrong (an
//! empty-bodied 4xx of standin's service is marked with [`OWN_ANSWER`] to be
//! told apart, and the mark is taken off).

use std::io;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::{Duration, SystemTime};

use actix_rt::time::{Instant, Sleep, sleep_until};
use actix_web::http::StatusCode;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};

use super::Problem;

/// A client connection whose request heads are timed and whose transport-level
/// rejections are rewritten as problem+json.
pub struct Guarded<IO> {
    io: IO,
    /// How long one request's head may take.
    timeout: Duration,
    /// Whether a head is expected: from the start and after each response.
    waiting: bool,
    /// When the awaited head must be complete; set by its first byte.
    deadline: Option<Instant>,
    /// The timer for `deadline`, made the first time a head spans reads.
    sleep: Option<Pin<Box<Sleep>>>,
    /// How far the bytes read so far go into a head's end (see [`head_end`]).
    matched: u8,
    /// Bytes of ours still to write before the dispatcher's next write.
    pending: Option<Pending>,
    /// The head timed out: its 408 is written, then the connection ends.
    closed: bool,
    /// Set by a handler to end the connection without a word (a stub's
    /// dropped connection): nothing more is written.
    abort: Abort,
}

/// Ends the connection it was taken from, unanswered, when set; handlers
/// find it among the request's connection data.
#[derive(Debug, Clone, Default)]
pub struct Abort(std::sync::Arc<std::sync::atomic::AtomicBool>);

impl Abort {
    /// Ends the connection before anything more is written to it.
    pub fn now(&self) {
        self.0.store(true, std::sync::atomic::Ordering::SeqCst);
    }

    fn is_set(&self) -> bool {
        self.0.load(std::sync::atomic::Ordering::SeqCst)
    }
}

/// Bytes written in place of what the dispatcher asked for.
struct Pending {
    bytes: Vec<u8>,
    written: usize,
}

impl<IO> Guarded<IO> {
    /// Guards `io`, a connection just accepted, whose heads may take `timeout` each.
    pub fn new(io: IO, timeout: Duration) -> Guarded<IO> {
        Guarded {
            io,
            timeout,
            waiting: true,
            deadline: Some(Instant::now() + timeout),
            sleep: None,
            matched: 0,
            pending: None,
            closed: false,
            abort: Abort::default(),
        }
    }

    /// What ends this connection unanswered.
    pub fn abort_handle(&self) -> Abort {
        self.abort.clone()
    }
}

impl<IO: AsyncWrite + Unpin> Guarded<IO> {
    /// Writes the pending bytes, if any.
    fn poll_pending(&mut self, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        while let Some(pending) = &mut self.pending {
            if pending.written == pending.bytes.len() {
                self.pending = None;
                break;
            }
            let n = std::task::ready!(
                Pin::new(&mut self.io).poll_write(cx, &pending.bytes[pending.written..])
            )?;
            if n == 0 {
                return Poll::Ready(Err(io::ErrorKind::WriteZero.into()));
            }
            pending.written += n;
        }
        Poll::Ready(Ok(()))
    }

    /// Whether the awaited head's time is up (registering for a wake-up if not).
    fn head_late(&mut self, cx: &mut Context<'_>) -> bool {
        let Some(deadline) = self.deadline.filter(|_| self.waiting) else {
            return false;
        };
        let sleep = self
            .sleep
            .get_or_insert_with(|| Box::pin(sleep_until(deadline)));
        if sleep.deadline() != deadline {
            sleep.as_mut().reset(deadline);
        }
        sleep.as_mut().poll(cx).is_ready()
    }
}

impl<IO: AsyncRead + AsyncWrite + Unpin> AsyncRead for Guarded<IO> {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        if this.closed {
            // The 408 first, then the end of the stream.
            std::task::ready!(this.poll_pending(cx))?;
            return Poll::Ready(Ok(()));
        }
        let before = buf.filled().len();
        match Pin::new(&mut this.io).poll_read(cx, buf) {
            Poll::Ready(Ok(())) => {
                let new = &buf.filled()[before..];
                if this.waiting && !new.is_empty() {
                    if head_end(&mut this.matched, new) {
                        this.waiting = false;
                        this.deadline = None;
                    } else if this.deadline.is_none() {
                        this.deadline = Some(Instant::now() + this.timeout);
                    }
                }
                Poll::Ready(Ok(()))
            }
            Poll::Ready(Err(error)) => Poll::Ready(Err(error)),
            Poll::Pending => {
                if !this.head_late(cx) {
                    return Poll::Pending;
                }
                this.closed = true;
                this.pending = Some(Pending {
                    bytes: timeout_response(this.timeout, SystemTime::now()),
                    written: 0,
                });
                std::task::ready!(this.poll_pending(cx))?;
                Poll::Ready(Ok(()))
            }
        }
    }
}

impl<IO: AsyncRead + AsyncWrite + Unpin> AsyncWrite for Guarded<IO> {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        let this = self.get_mut();
        if this.abort.is_set() {
            return Poll::Ready(Err(io::Error::new(
                io::ErrorKind::ConnectionAborted,
                "the connection is dropped on purpose",
            )));
        }
        if this.closed {
            // Nothing more goes out after the 408.
            std::task::ready!(this.poll_pending(cx))?;
            return Poll::Ready(Ok(buf.len()));
        }
        if this.pending.is_some() {
            // The dispatcher asks again for the write that was rewritten.
            std::task::ready!(this.poll_pending(cx))?;
            return Poll::Ready(Ok(buf.len()));
        }
        let replaced = match final_empty_4xx(buf) {
            Some(Final::Rejection(start)) => rejection_answer(&buf[start..]).map(|answer| {
                let mut bytes = Vec::with_capacity(start + answer.len());
                bytes.extend_from_slice(&buf[..start]);
                bytes.extend_from_slice(&answer);
                bytes
            }),
            Some(Final::Marked(line)) => {
                let mut bytes = buf.to_vec();
                bytes.drain(line);
                Some(bytes)
            }
            None => None,
        };
        if let Some(bytes) = replaced {
            this.pending = Some(Pending { bytes, written: 0 });
            std::task::ready!(this.poll_pending(cx))?;
            return Poll::Ready(Ok(buf.len()));
        }
        let written = std::task::ready!(Pin::new(&mut this.io).poll_write(cx, buf))?;
        // A response (not an interim `100 Continue`) went out: the next bytes
        // read begin the next request's head.
        if written > 0 && !this.waiting && !buf.starts_with(b"HTTP/1.1 1") {
            this.waiting = true;
            this.deadline = None;
            this.matched = 0;
        }
        Poll::Ready(Ok(written))
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        std::task::ready!(this.poll_pending(cx))?;
        Pin::new(&mut this.io).poll_flush(cx)
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        std::task::ready!(this.poll_pending(cx))?;
        Pin::new(&mut this.io).poll_shutdown(cx)
    }
}

/// Scans `bytes`, the next ones read, for the end of a head: an empty line,
/// `\r\n\r\n` or a bare `\n\n` (which actix-http accepts too). `matched`
/// carries a partial end from one read to the next; returns whether it ended.
fn head_end(matched: &mut u8, bytes: &[u8]) -> bool {
    // 0: in a line; 1: after a line's `\n`; 2: after `\n\r`.
    let mut state = *matched;
    for &byte in bytes {
        state = match (state, byte) {
            (1 | 2, b'\n') => {
                *matched = 0;
                return true;
            }
            (_, b'\n') => 1,
            (1, b'\r') => 2,
            _ => 0,
        };
    }
    *matched = state;
    false
}

/// The header standin's service puts on its own empty-bodied 4xx answers
/// without a content type (a document's declared `400` with no content, a
/// stub's), so that they are not taken for actix-http's rejections; it is
/// taken off again before the answer is written.
pub const OWN_ANSWER: &str = "x-standin-own-answer";

/// An empty-bodied 4xx head without a content type that ends a write.
#[derive(Debug, PartialEq)]
enum Final {
    /// A rejection of actix-http's own, whose head begins here.
    Rejection(usize),
    /// An answer of standin's service, whose [`OWN_ANSWER`] line (with its
    /// line end) spans this range.
    Marked(std::ops::Range<usize>),
}

/// What `buf` ends with, when it ends with an empty-bodied 4xx head without
/// a content type (standin's problem answers always have one): a rejection
/// of actix-http's own, made before any handler ran, unless the head carries
/// [`OWN_ANSWER`].
fn final_empty_4xx(buf: &[u8]) -> Option<Final> {
    if !buf.ends_with(b"\r\n\r\n") {
        return None;
    }
    // actix-http's rejection heads are a status line, content-length,
    // connection and date: well under this. Standin's own may be longer.
    let window = buf.len().saturating_sub(4096);
    let start = window + rfind(&buf[window..], b"HTTP/1.")?;
    let head = &buf[start..];
    let status = head.get(9..12)?;
    if head.get(8) != Some(&b' ') || status[0] != b'4' {
        return None;
    }
    // Exactly one head, ending the buffer.
    if find(head, b"\r\n\r\n")? != head.len() - 4 {
        return None;
    }
    let mut empty = false;
    let mut marked = None;
    let mut offset = start;
    for line in head.split_inclusive(|&b| b == b'\n') {
        let line_start = offset;
        offset += line.len();
        let text = line.strip_suffix(b"\n").unwrap_or(line);
        let text = text.strip_suffix(b"\r").unwrap_or(text);
        let Some(colon) = text.iter().position(|&b| b == b':') else {
            continue;
        };
        let (name, value) = (&text[..colon], text[colon + 1..].trim_ascii());
        if name.eq_ignore_ascii_case(b"content-type") {
            return None;
        }
        if name.eq_ignore_ascii_case(b"content-length") {
            empty = value == b"0";
        }
        if name.eq_ignore_ascii_case(OWN_ANSWER.as_bytes()) {
            marked = Some(line_start..offset);
        }
    }
    if !empty {
        return None;
    }
    Some(match marked {
        Some(line) => Final::Marked(line),
        None => Final::Rejection(start),
    })
}

/// The problem+json answer for a rejection head of actix-http's (status
/// line first), or `None` for a status it does not make.
fn rejection_answer(head: &[u8]) -> Option<Vec<u8>> {
    let code: u16 = std::str::from_utf8(head.get(9..12)?).ok()?.parse().ok()?;
    let problem = match code {
        400 => Problem::BadRequest {
            detail: "the request's head is malformed: it is not valid HTTP/1.1 (a bad request line or HTTP version, a bad header line, a Content-Length that is not one number, or Content-Length together with Transfer-Encoding)".into(),
        },
        431 => Problem::HeadTooLarge {
            detail: format!(
                "the request's head is too large: its request line and headers may take at most {HEAD_BYTES} bytes, in at most {HEAD_FIELDS} header lines"
            ),
        },
        408 => Problem::RequestTimeout {
            detail: "the request's head (its request line and headers) did not arrive in time".into(),
        },
        _ => return None,
    };
    let status_line_end = find(head, b"\r\n")?;
    let date = head
        .split(|&b| b == b'\n')
        .find(|line| line.len() > 5 && line[..5].eq_ignore_ascii_case(b"date:"))
        .map(|line| line.strip_suffix(b"\r").unwrap_or(line));
    let mut answer = head[..status_line_end + 2].to_vec();
    finish_problem(&mut answer, &problem, date);
    Some(answer)
}

/// The most bytes actix-http reads for one request's head before it answers 431.
pub const HEAD_BYTES: usize = 131_072;

/// The most header lines actix-http takes in one request before it answers 431.
pub const HEAD_FIELDS: usize = 96;

/// The 408 problem+json answer to a head that took longer than `timeout`.
fn timeout_response(timeout: Duration, now: SystemTime) -> Vec<u8> {
    let problem = Problem::RequestTimeout {
        detail: format!(
            "the request's head (its request line and headers) did not arrive within {}s",
            timeout.as_secs_f64()
        ),
    };
    let status = StatusCode::REQUEST_TIMEOUT;
    let mut answer = format!(
        "HTTP/1.1 {} {}\r\n",
        status.as_str(),
        status.canonical_reason().unwrap_or("Request Timeout")
    )
    .into_bytes();
    let date = format!("date: {}", httpdate::fmt_http_date(now));
    finish_problem(&mut answer, &problem, Some(date.as_bytes()));
    answer
}

/// Appends the headers (a `date` line when given) and the body of `problem`
/// to a status line, for an answer after which the connection closes.
fn finish_problem(answer: &mut Vec<u8>, problem: &Problem, date: Option<&[u8]>) {
    let body = problem.body().to_string();
    answer.extend_from_slice(
        format!(
            "content-type: application/problem+json\r\ncache-control: no-store\r\nconnection: close\r\ncontent-length: {}\r\n",
            body.len()
        )
        .as_bytes(),
    );
    if let Some(date) = date {
        answer.extend_from_slice(date);
        answer.extend_from_slice(b"\r\n");
    }
    answer.extend_from_slice(b"\r\n");
    answer.extend_from_slice(body.as_bytes());
}

/// Where `needle` first occurs in `haystack`.
fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}

/// Where `needle` last occurs in `haystack`.
fn rfind(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).rposition(|w| w == needle)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ends(chunks: &[&[u8]]) -> Vec<bool> {
        let mut matched = 0;
        chunks.iter().map(|c| head_end(&mut matched, c)).collect()
    }

    #[test]
    fn a_head_ends_at_an_empty_line_even_across_reads() {
        assert_eq!(ends(&[b"GET / HTTP/1.1\r\nHost: a\r\n\r\n"]), [true]);
        assert_eq!(
            ends(&[b"GET / HTTP/1.1\r\nHost: a\r\n", b"\r", b"\n"]),
            [false, false, true]
        );
        assert_eq!(ends(&[b"GET / HTTP/1.1\nHost: a\n\n"]), [true]);
        assert_eq!(ends(&[b"GET / HTTP/1.1\r\nHost: a\r\nX: \r\r\n"]), [false]);
    }

    const REJECTION: &[u8] =
        b"HTTP/1.1 400 Bad Request\r\ncontent-length: 0\r\nconnection: close\r\ndate: Sat, 28 Nov 2026 15:00:00 GMT\r\n\r\n";

    #[test]
    fn actix_rejections_are_found_at_the_end_of_a_write() {
        assert_eq!(final_empty_4xx(REJECTION), Some(Final::Rejection(0)));
        let after = [
            b"HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\n{}".as_slice(),
            REJECTION,
        ]
        .concat();
        assert_eq!(
            final_empty_4xx(&after),
            Some(Final::Rejection(after.len() - REJECTION.len()))
        );
    }

    #[test]
    fn standin_answers_are_never_rejections() {
        for head in [
            b"HTTP/1.1 404 Not Found\r\ncontent-length: 0\r\ncontent-type: application/problem+json\r\n\r\n".as_slice(),
            b"HTTP/1.1 304 Not Modified\r\ncontent-length: 0\r\n\r\n",
            b"HTTP/1.1 204 No Content\r\n\r\n",
            b"HTTP/1.1 404 Not Found\r\ncontent-length: 120\r\ncontent-type: application/problem+json\r\n\r\n",
            b"HTTP/1.1 400 Bad Request\r\ncontent-length: 0\r\n\r\n{}",
        ] {
            assert_eq!(final_empty_4xx(head), None, "{}", String::from_utf8_lossy(head));
        }
    }

    #[test]
    fn standin_empty_answers_are_marked_and_the_mark_is_found() {
        let head =
            b"HTTP/1.1 400 Bad Request\r\ncontent-length: 0\r\nx-standin-own-answer: 1\r\ndate: Sat, 28 Nov 2026 15:00:00 GMT\r\n\r\n";
        let Some(Final::Marked(line)) = final_empty_4xx(head) else {
            panic!("a marked answer");
        };
        let mut bytes = head.to_vec();
        bytes.drain(line);
        assert_eq!(
            bytes,
            b"HTTP/1.1 400 Bad Request\r\ncontent-length: 0\r\ndate: Sat, 28 Nov 2026 15:00:00 GMT\r\n\r\n"
        );
    }

    fn split(answer: &[u8]) -> (String, serde_json::Value) {
        let at = find(answer, b"\r\n\r\n").expect("a head");
        let head = String::from_utf8_lossy(&answer[..at]).into_owned();
        let body = serde_json::from_slice(&answer[at + 4..]).expect("a JSON body");
        (head, body)
    }

    #[test]
    fn a_rejection_becomes_problem_json_with_its_length() {
        let answer = rejection_answer(REJECTION).expect("an answer");
        let (head, body) = split(&answer);
        assert!(head.starts_with("HTTP/1.1 400 Bad Request\r\n"), "{head}");
        assert!(
            head.contains("content-type: application/problem+json"),
            "{head}"
        );
        assert!(head.contains("connection: close"), "{head}");
        assert!(head.contains("date: Sat, 28 Nov 2026"), "{head}");
        let length = format!("content-length: {}", answer.len() - head.len() - 4);
        assert!(head.contains(&length), "{head}");
        assert_eq!(body["status"], 400);
        assert!(
            body["detail"]
                .as_str()
                .is_some_and(|d| d.contains("malformed")),
            "{body}"
        );
    }

    #[test]
    fn a_late_head_is_answered_408_problem_json() {
        let answer = timeout_response(Duration::from_secs(5), SystemTime::UNIX_EPOCH);
        let (head, body) = split(&answer);
        assert!(
            head.starts_with("HTTP/1.1 408 Request Timeout\r\n"),
            "{head}"
        );
        assert!(
            head.contains("date: Thu, 01 Jan 1970 00:00:00 GMT"),
            "{head}"
        );
        assert_eq!(body["status"], 408);
        assert!(
            body["detail"]
                .as_str()
                .is_some_and(|d| d.contains("within 5s")),
            "{body}"
        );
    }
}
