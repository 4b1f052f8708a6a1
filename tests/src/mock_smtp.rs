//! A local SMTP sink on 127.0.0.1: a minimal RFC 5321 server over plain TCP (no TLS, no auth)
//! that accepts every message, records it as received, and can be told to refuse the next
//! transactions with a transient `451` so tests can check retries. [`Mail`] reads a recorded
//! message back: headers (unfolded, RFC 2047 words decoded), the text body (quoted-printable
//! or base64 undone, the `text/plain` part of a multipart message) and the links in it.

use std::sync::{Arc, Mutex};

use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::net::{TcpListener, TcpStream};

/// A message the sink accepted.
#[derive(Debug, Clone)]
pub struct Mail {
    /// The `MAIL FROM` address, without the angle brackets.
    pub from: String,
    /// The `RCPT TO` addresses in the order given.
    pub to: Vec<String>,
    /// The message as received after `DATA`: headers, blank line and body, CRLF line endings,
    /// dot-stuffing undone, the final `.` line left off.
    pub data: String,
}

impl Mail {
    /// The first header called `name` (any case), unfolded and trimmed, with RFC 2047 encoded
    /// words (`=?utf-8?b?…?=`) decoded.
    pub fn header(&self, name: &str) -> Option<String> {
        raw_header(split_head(&self.data).0, name).map(|v| decode_words(&v))
    }

    /// The decoded `Subject`.
    pub fn subject(&self) -> Option<String> {
        self.header("subject")
    }

    /// The text after the headers, decoded (quoted-printable, base64): for a multipart message
    /// its first `text/plain` part (empty if it has none). Line endings are `\n`; trailing
    /// line breaks are left off.
    pub fn body(&self) -> String {
        let (head, body) = split_head(&self.data);
        if boundary(head).is_some() {
            plain_part(&self.data).unwrap_or_default()
        } else {
            decode_part(head, body)
        }
    }

    /// Every `http://` or `https://` URL in [`Mail::body`], in order; a URL ends at whitespace,
    /// a quote or an angle bracket, and loses trailing punctuation (`.,;:!?)`).
    pub fn links(&self) -> Vec<String> {
        let body = self.body();
        let mut links = Vec::new();
        let mut rest = body.as_str();
        while let Some(at) = rest.find("http") {
            rest = &rest[at..];
            if !(rest.starts_with("http://") || rest.starts_with("https://")) {
                rest = &rest[4..];
                continue;
            }
            let end = rest
                .find(|c: char| c.is_whitespace() || "<>\"'".contains(c))
                .unwrap_or(rest.len());
            links.push(
                rest[..end]
                    .trim_end_matches(['.', ',', ';', ':', '!', '?', ')'])
                    .to_owned(),
            );
            rest = &rest[end..];
        }
        links
    }
}

#[derive(Default)]
struct State {
    mails: Vec<Mail>,
    /// How many `MAIL FROM` commands are still to be refused.
    refuse: usize,
}

/// The running sink. It stops with the test's runtime.
#[derive(Clone)]
pub struct MockSmtp {
    /// The port on 127.0.0.1 it listens on.
    pub port: u16,
    state: Arc<Mutex<State>>,
}

impl std::fmt::Debug for MockSmtp {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MockSmtp")
            .field("port", &self.port)
            .finish_non_exhaustive()
    }
}

impl MockSmtp {
    /// Starts on a random port; each connection is served on its own task.
    pub async fn start() -> Self {
        let listener = TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind a local SMTP sink");
        let port = listener.local_addr().expect("address").port();
        let state: Arc<Mutex<State>> = Arc::default();
        let accepting = state.clone();
        tokio::spawn(async move {
            while let Ok((stream, _)) = listener.accept().await {
                tokio::spawn(session(stream, accepting.clone()));
            }
        });
        Self { port, state }
    }

    /// `smtp://127.0.0.1:PORT`, the URL to configure as the app's SMTP server.
    pub fn url(&self) -> String {
        format!("smtp://127.0.0.1:{}", self.port)
    }

    /// Every message accepted so far, in order.
    pub fn mails(&self) -> Vec<Mail> {
        self.state.lock().expect("sink state").mails.clone()
    }

    /// How many messages were accepted so far.
    pub fn count(&self) -> usize {
        self.state.lock().expect("sink state").mails.len()
    }

    /// Answers the next `n` `MAIL FROM` commands with `451 4.3.0 try again later`.
    pub fn refuse_next(&self, n: usize) -> &Self {
        self.state.lock().expect("sink state").refuse = n;
        self
    }
}

/// One connection: commands until `QUIT` or the client hangs up. A network error just ends it.
async fn session(stream: TcpStream, state: Arc<Mutex<State>>) -> std::io::Result<()> {
    let mut stream = BufReader::new(stream);
    stream.get_mut().write_all(b"220 mock ESMTP\r\n").await?;
    // The open transaction: its sender, then its recipients.
    let mut from: Option<String> = None;
    let mut to: Vec<String> = Vec::new();
    let mut line = Vec::new();
    loop {
        line.clear();
        if stream.read_until(b'\n', &mut line).await? == 0 {
            return Ok(());
        }
        let command = String::from_utf8_lossy(&line);
        let command = command.trim_end();
        let (verb, arg) = command.split_once(' ').unwrap_or((command, ""));
        let reply: &[u8] = match verb.to_ascii_uppercase().as_str() {
            "EHLO" => b"250-mock\r\n250-8BITMIME\r\n250 SMTPUTF8\r\n",
            "HELO" => b"250 mock\r\n",
            "MAIL" => match address(arg, "FROM:") {
                None => b"501 5.5.4 syntax: MAIL FROM:<address>\r\n",
                Some(_) if refused(&state) => b"451 4.3.0 try again later\r\n",
                Some(sender) => {
                    (from, to) = (Some(sender), Vec::new());
                    b"250 2.1.0 OK\r\n"
                }
            },
            "RCPT" => match (&from, address(arg, "TO:")) {
                (None, _) => b"503 5.5.1 MAIL first\r\n",
                (_, None) => b"501 5.5.4 syntax: RCPT TO:<address>\r\n",
                (Some(_), Some(recipient)) => {
                    to.push(recipient);
                    b"250 2.1.5 OK\r\n"
                }
            },
            "DATA" if from.is_none() || to.is_empty() => b"503 5.5.1 MAIL and RCPT first\r\n",
            "DATA" => {
                stream
                    .get_mut()
                    .write_all(b"354 end data with <CR><LF>.<CR><LF>\r\n")
                    .await?;
                let data = read_data(&mut stream).await?;
                let mail = Mail {
                    from: from.take().unwrap_or_default(),
                    to: std::mem::take(&mut to),
                    data,
                };
                state.lock().expect("sink state").mails.push(mail);
                b"250 2.0.0 OK queued\r\n"
            }
            "RSET" => {
                (from, to) = (None, Vec::new());
                b"250 2.0.0 OK\r\n"
            }
            "NOOP" => b"250 2.0.0 OK\r\n",
            "QUIT" => {
                stream.get_mut().write_all(b"221 2.0.0 bye\r\n").await?;
                return Ok(());
            }
            _ => b"502 5.5.2 command not implemented\r\n",
        };
        stream.get_mut().write_all(reply).await?;
    }
}

/// Whether this `MAIL FROM` is one of those to refuse (and counts it).
fn refused(state: &Mutex<State>) -> bool {
    let mut state = state.lock().expect("sink state");
    let refuse = state.refuse > 0;
    state.refuse = state.refuse.saturating_sub(1);
    refuse
}

/// The address of `FROM:<a@b> BODY=8BITMIME` (the prefix in any case), parameters ignored.
fn address(arg: &str, prefix: &str) -> Option<String> {
    let (key, rest) = arg.split_at_checked(prefix.len())?;
    if !key.eq_ignore_ascii_case(prefix) {
        return None;
    }
    let rest = rest.trim_start().strip_prefix('<')?;
    Some(rest[..rest.find('>')?].to_owned())
}

/// The message lines up to the lone `.`, each with its line ending, dot-stuffing undone.
async fn read_data(stream: &mut BufReader<TcpStream>) -> std::io::Result<String> {
    let mut data = Vec::new();
    let mut line = Vec::new();
    loop {
        line.clear();
        if stream.read_until(b'\n', &mut line).await? == 0 {
            return Err(std::io::ErrorKind::UnexpectedEof.into());
        }
        if line == b".\r\n" || line == b".\n" {
            return Ok(String::from_utf8_lossy(&data).into_owned());
        }
        data.extend_from_slice(line.strip_prefix(b".").unwrap_or(&line));
    }
}

/// An entity's header block and body, split at the first empty line.
fn split_head(entity: &str) -> (&str, &str) {
    let mut at = 0;
    for line in entity.split_inclusive('\n') {
        if line.trim_end_matches(['\r', '\n']).is_empty() {
            return (&entity[..at], &entity[at + line.len()..]);
        }
        at += line.len();
    }
    (entity, "")
}

/// The first header `name` in a header block, unfolded (continuation lines joined) and trimmed.
fn raw_header(head: &str, name: &str) -> Option<String> {
    let mut lines = head.lines().skip_while(|line| {
        !line
            .split_once(':')
            .is_some_and(|(n, _)| n.trim().eq_ignore_ascii_case(name))
    });
    let mut value = lines.next()?.split_once(':')?.1.to_owned();
    for folded in lines.take_while(|l| l.starts_with([' ', '\t'])) {
        value.push_str(folded);
    }
    Some(value.trim().to_owned())
}

/// A `Content-Type` parameter such as `boundary` or `charset`, unquoted.
fn param(content_type: &str, name: &str) -> Option<String> {
    content_type.split(';').skip(1).find_map(|p| {
        let (key, value) = p.split_once('=')?;
        key.trim()
            .eq_ignore_ascii_case(name)
            .then(|| value.trim().trim_matches('"').to_owned())
    })
}

/// The boundary of a multipart entity's header block.
fn boundary(head: &str) -> Option<String> {
    let content_type = raw_header(head, "content-type")?;
    if !content_type.to_ascii_lowercase().starts_with("multipart/") {
        return None;
    }
    param(&content_type, "boundary")
}

/// The first `text/plain` leaf of an entity (or the entity itself), decoded.
fn plain_part(entity: &str) -> Option<String> {
    let (head, body) = split_head(entity);
    let Some(boundary) = boundary(head) else {
        let content_type = raw_header(head, "content-type").unwrap_or_default();
        let plain =
            content_type.is_empty() || content_type.to_ascii_lowercase().starts_with("text/plain");
        return plain.then(|| decode_part(head, body));
    };
    parts(body, &boundary).into_iter().find_map(plain_part)
}

/// The parts of a multipart body between `--boundary` lines, each without the line ending
/// that belongs to the next delimiter.
fn parts<'a>(body: &'a str, boundary: &str) -> Vec<&'a str> {
    let (open, close) = (format!("--{boundary}"), format!("--{boundary}--"));
    let mut parts = Vec::new();
    let (mut start, mut at) = (None, 0);
    for line in body.split_inclusive('\n') {
        let bare = line.trim_end();
        if bare == open || bare == close {
            if let Some(start) = start {
                let part: &str = &body[start..at];
                parts.push(
                    part.strip_suffix('\n')
                        .map_or(part, |p| p.strip_suffix('\r').unwrap_or(p)),
                );
            }
            start = (bare == open).then_some(at + line.len());
        }
        at += line.len();
    }
    parts
}

/// A leaf's body with its `Content-Transfer-Encoding` undone, as UTF-8 with `\n` line endings
/// and no trailing line breaks.
fn decode_part(head: &str, body: &str) -> String {
    let encoding = raw_header(head, "content-transfer-encoding").unwrap_or_default();
    let bytes = match encoding.to_ascii_lowercase().as_str() {
        "quoted-printable" => decode_quoted_printable(body),
        "base64" => decode_base64(body),
        _ => body.as_bytes().to_vec(),
    };
    let text = String::from_utf8_lossy(&bytes).replace("\r\n", "\n");
    text.trim_end_matches('\n').to_owned()
}

/// Quoted-printable (RFC 2045 §6.7): `=XX` is a byte, `=` at a line's end joins it to the next,
/// trailing blanks are dropped; a malformed `=` is kept as it is.
fn decode_quoted_printable(text: &str) -> Vec<u8> {
    let mut out = Vec::with_capacity(text.len());
    for line in text.split_inclusive('\n') {
        let content = line
            .trim_end_matches(['\r', '\n'])
            .trim_end_matches([' ', '\t']);
        let (content, soft) = match content.strip_suffix('=') {
            Some(joined) => (joined, true),
            None => (content, false),
        };
        decode_hex_escapes(content, &mut out);
        if !soft && line.ends_with('\n') {
            out.extend_from_slice(b"\r\n");
        }
    }
    out
}

/// Appends `text` to `out` with each `=XX` turned into its byte.
fn decode_hex_escapes(text: &str, out: &mut Vec<u8>) {
    let bytes = text.as_bytes();
    let mut i = 0;
    while i < bytes.len() {
        let hex = bytes
            .get(i + 1..i + 3)
            .filter(|h| h.iter().all(u8::is_ascii_hexdigit));
        match hex {
            Some(&[high, low]) if bytes[i] == b'=' => {
                out.push(hex_value(high) << 4 | hex_value(low));
                i += 3;
            }
            _ => {
                out.push(bytes[i]);
                i += 1;
            }
        }
    }
}

/// The value of a hexadecimal digit.
fn hex_value(digit: u8) -> u8 {
    match digit {
        b'0'..=b'9' => digit - b'0',
        _ => digit.to_ascii_lowercase() - b'a' + 10,
    }
}

/// Base64 in the standard or the URL-safe alphabet; line breaks and other characters outside
/// the alphabet are skipped, and `=` ends the data.
pub(crate) fn decode_base64(text: &str) -> Vec<u8> {
    let mut out = Vec::with_capacity(text.len() * 3 / 4);
    let (mut bits, mut count) = (0u32, 0u32);
    for c in text.bytes().take_while(|&c| c != b'=') {
        let value = match c {
            b'A'..=b'Z' => c - b'A',
            b'a'..=b'z' => c - b'a' + 26,
            b'0'..=b'9' => c - b'0' + 52,
            b'+' | b'-' => 62,
            b'/' | b'_' => 63,
            _ => continue,
        };
        bits = (bits << 6) | u32::from(value);
        count += 6;
        if count >= 8 {
            count -= 8;
            out.push((bits >> count) as u8);
        }
    }
    out
}

/// A header value with its RFC 2047 encoded words (`=?charset?B|Q?text?=`, taken as UTF-8)
/// decoded; the blanks between two encoded words go, as the RFC says.
fn decode_words(value: &str) -> String {
    let mut out = Vec::with_capacity(value.len());
    let mut rest = value;
    let mut after_word = false;
    while let Some(c) = rest.chars().next() {
        if let Some((bytes, len)) = encoded_word(rest) {
            out.extend(bytes);
            (rest, after_word) = (&rest[len..], true);
            continue;
        }
        let blanks = rest.len() - rest.trim_start_matches([' ', '\t']).len();
        if after_word && blanks > 0 && encoded_word(&rest[blanks..]).is_some() {
            rest = &rest[blanks..];
            continue;
        }
        out.extend_from_slice(&rest.as_bytes()[..c.len_utf8()]);
        (rest, after_word) = (&rest[c.len_utf8()..], false);
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// The bytes of the encoded word `s` starts with, and its length.
fn encoded_word(s: &str) -> Option<(Vec<u8>, usize)> {
    let inner = s.strip_prefix("=?")?;
    let (charset, inner) = inner.split_once('?')?;
    let (encoding, inner) = inner.split_once('?')?;
    let text = &inner[..inner.find("?=")?];
    if text.contains([' ', '\t']) {
        return None;
    }
    let bytes = match encoding {
        "B" | "b" => decode_base64(text),
        "Q" | "q" => {
            let mut out = Vec::new();
            decode_hex_escapes(&text.replace('_', " "), &mut out);
            out
        }
        _ => return None,
    };
    Some((
        bytes,
        2 + charset.len() + 1 + encoding.len() + 1 + text.len() + 2,
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn mail(data: &str) -> Mail {
        Mail {
            from: "app@example.com".into(),
            to: vec!["ada@example.com".into()],
            data: data.replace('\n', "\r\n"),
        }
    }

    #[test]
    fn quoted_printable_joins_soft_breaks_and_decodes_bytes() {
        let decoded =
            decode_quoted_printable("caf=C3=A9 au lait, tr=\r\nes long  \r\na=3Db =ZZ\r\n");
        assert_eq!(
            String::from_utf8_lossy(&decoded),
            "café au lait, tres long\r\na=b =ZZ\r\n"
        );
    }

    #[test]
    fn base64_skips_line_breaks_and_reads_both_alphabets() {
        assert_eq!(
            decode_base64("SGVsbG8s\r\nIHdvcmxk\r\nIQ=="),
            b"Hello, world!"
        );
        assert_eq!(decode_base64("-_8"), decode_base64("+/8"));
        assert_eq!(decode_base64("-_8"), [0xfb, 0xff]);
    }

    #[test]
    fn encoded_words_are_decoded_and_the_blanks_between_them_dropped() {
        assert_eq!(
            decode_words("=?utf-8?b?8J+OiQ==?= =?UTF-8?B?IE5ldw==?= jobs"),
            "🎉 New jobs"
        );
        assert_eq!(
            decode_words("=?utf-8?q?caf=C3=A9_cr=C3=A8me?= today"),
            "café crème today"
        );
        assert_eq!(
            decode_words("plain =? not a word ?="),
            "plain =? not a word ?="
        );
    }

    #[test]
    fn headers_are_found_in_any_case_and_unfolded() {
        let m = mail(
            "From: app@example.com\nSubject: =?utf-8?b?Q2Fmw6k=?=\n =?utf-8?b?IGpvYnM=?=\n and more\nX-Empty:\n\nSubject: not a header\n",
        );
        assert_eq!(m.subject().as_deref(), Some("Café jobs and more"));
        assert_eq!(m.header("FROM").as_deref(), Some("app@example.com"));
        assert_eq!(m.header("x-empty").as_deref(), Some(""));
        assert_eq!(m.header("To"), None);
    }

    #[test]
    fn a_single_part_body_is_decoded() {
        let m = mail(
            "Subject: hi\nContent-Transfer-Encoding: base64\n\nVm9pciBodHRwczovL2V4YW1wbGUuY29tL2pvYnMvMT9hPTEmYj0yLgpCeWU=\n",
        );
        assert_eq!(m.body(), "Voir https://example.com/jobs/1?a=1&b=2.\nBye");
        assert_eq!(m.links(), ["https://example.com/jobs/1?a=1&b=2"]);
        assert_eq!(
            mail("Subject: hi\n\nline one\n.line two\n").body(),
            "line one\n.line two"
        );
    }

    #[test]
    fn a_multipart_body_is_its_text_plain_part() {
        let m = mail(concat!(
            "Subject: hi\nMIME-Version: 1.0\nContent-Type: multipart/mixed;\n boundary=\"outer\"\n\n",
            "preamble\n--outer\nContent-Type: multipart/alternative; boundary=inner\n\n",
            "--inner\nContent-Type: text/html; charset=utf-8\n\n<a href=\"https://example.com/html\">x</a>\n",
            "--inner\nContent-Type: text/plain; charset=utf-8\nContent-Transfer-Encoding: quoted-printable\n\n",
            "Caf=C3=A9: see (http://127.0.0.1:8080/jobs/42), or <https://example.com/a>=\n, bye\n",
            "--inner--\n--outer\nContent-Type: application/pdf\n\nJVBERi0=\n--outer--\n",
        ));
        assert_eq!(
            m.body(),
            "Café: see (http://127.0.0.1:8080/jobs/42), or <https://example.com/a>, bye"
        );
        assert_eq!(
            m.links(),
            ["http://127.0.0.1:8080/jobs/42", "https://example.com/a"]
        );
        assert_eq!(mail("Content-Type: multipart/mixed; boundary=b\n\n--b\nContent-Type: text/html\n\n<p>x</p>\n--b--\n").body(), "");
    }

    #[tokio::test]
    async fn a_session_records_messages_undoes_dot_stuffing_and_refuses_on_demand() {
        let sink = MockSmtp::start().await;
        sink.refuse_next(1);
        let stream = TcpStream::connect(("127.0.0.1", sink.port))
            .await
            .expect("connect");
        let mut stream = BufReader::new(stream);
        let mut transcript = String::new();
        let script = [
            "EHLO client\r\n",
            "MAIL FROM:<a@example.com>\r\n",
            "mail from:<a@example.com> BODY=8BITMIME\r\n",
            "RCPT TO:<b@example.com>\r\n",
            "RCPT TO:<c@example.com>\r\n",
            "DATA\r\n",
            "Subject: one\r\n\r\n..leading dot\r\n.\r\n",
            "RSET\r\n",
            "DATA\r\n",
            "MAIL FROM:<>\r\n",
            "RCPT TO:<d@example.com>\r\n",
            "DATA\r\n",
            "Subject: two\r\n\r\nhi\r\n.\r\n",
            "NOOP\r\n",
            "QUIT\r\n",
        ];
        let mut line = String::new();
        stream.read_line(&mut line).await.expect("greeting");
        transcript.push_str(&line);
        for command in script {
            stream
                .get_mut()
                .write_all(command.as_bytes())
                .await
                .expect("write");
            loop {
                line.clear();
                stream.read_line(&mut line).await.expect("reply");
                transcript.push_str(&line);
                if line.as_bytes().get(3) != Some(&b'-') {
                    break;
                }
            }
        }
        let codes: Vec<&str> = transcript.lines().map(|l| &l[..3]).collect();
        assert_eq!(
            codes,
            [
                "220", "250", "250", "250", "451", "250", "250", "250", "354", "250", "250", "503",
                "250", "250", "354", "250", "250", "221"
            ]
        );
        assert!(transcript.contains("451 4.3.0 try again later"));
        let mails = sink.mails();
        assert_eq!(sink.count(), 2);
        assert_eq!(mails[0].from, "a@example.com");
        assert_eq!(mails[0].to, ["b@example.com", "c@example.com"]);
        assert_eq!(mails[0].data, "Subject: one\r\n\r\n.leading dot\r\n");
        assert_eq!(
            (mails[1].from.as_str(), mails[1].body().as_str()),
            ("", "hi")
        );
    }
}
