//! Alert emails over SMTP (lettre): the digest of new matches and the address verification.
//! `SMTP_URL` follows lettre's convention: `smtp://host:port` plain (a local relay),
//! `smtp://user:pass@host:587?tls=required` for STARTTLS, `smtps://…` for TLS. Every digest
//! carries a one-click unsubscribe link in its text and in the RFC 8058 headers
//! (`List-Unsubscribe`, `List-Unsubscribe-Post`).

use std::time::Duration;

use lettre::message::header::{ContentType, HeaderName, HeaderValue};
use lettre::{AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};

/// How long one SMTP exchange may take.
const SMTP_TIMEOUT: Duration = Duration::from_secs(20);

/// One match as a digest shows it.
#[derive(Debug, Clone)]
pub struct DigestItem {
    pub title: String,
    pub company: String,
    pub location: Option<String>,
    pub score: i32,
    pub reason: String,
    pub url: String,
}

/// The digest's subject: how many, and the best one.
pub fn digest_subject(items: &[DigestItem]) -> String {
    match items {
        [] => "No new matches".into(),
        [one] => format!(
            "New match: {} at {} ({})",
            one.title, one.company, one.score
        ),
        [best, rest @ ..] => format!(
            "{} new matches: {} at {} ({}) and {} more",
            items.len(),
            best.title,
            best.company,
            best.score,
            rest.len()
        ),
    }
}

/// The digest's text.
pub fn digest_text(items: &[DigestItem], base_url: &str, unsubscribe: &str) -> String {
    let mut out = String::from("Your new matches on Job Collector, best first:\n\n");
    for item in items {
        out.push_str(&format!(
            "{:>3}  {} — {}{}\n     {}\n     {}\n\n",
            item.score,
            item.title,
            item.company,
            item.location
                .as_deref()
                .map(|l| format!(" ({l})"))
                .unwrap_or_default(),
            item.reason,
            item.url
        ));
    }
    out.push_str(&format!(
        "All your matches: {base_url}/\n\nYou get this because you asked for email alerts. \
         Stop them with one click: {unsubscribe}\n"
    ));
    out
}

/// Why an email did not go out: what failed (never the SMTP password), and whether trying
/// again could help (a 4xx answer, a lost connection) or not (a 5xx answer, a bad address).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SendError {
    pub message: String,
    pub permanent: bool,
}

impl SendError {
    fn permanent(message: String) -> Self {
        Self {
            message,
            permanent: true,
        }
    }
}

/// Sends one plain-text message.
async fn send(
    smtp_url: &str,
    from: &str,
    to: &str,
    subject: String,
    text: String,
    unsubscribe: Option<&str>,
) -> Result<(), SendError> {
    let mut message = Message::builder()
        .from(
            from.parse()
                .map_err(|e| SendError::permanent(format!("ALERT_FROM is not an address: {e}")))?,
        )
        .to(to
            .parse()
            .map_err(|e| SendError::permanent(format!("{to} is not an address: {e}")))?)
        .subject(subject)
        .header(ContentType::TEXT_PLAIN);
    if let Some(link) = unsubscribe {
        message = message
            .raw_header(HeaderValue::new(
                HeaderName::new_from_ascii_str("List-Unsubscribe"),
                format!("<{link}>"),
            ))
            .raw_header(HeaderValue::new(
                HeaderName::new_from_ascii_str("List-Unsubscribe-Post"),
                "List-Unsubscribe=One-Click".into(),
            ));
    }
    let message = message
        .body(text)
        .map_err(|e| SendError::permanent(format!("the email could not be built: {e}")))?;
    let mailer = AsyncSmtpTransport::<Tokio1Executor>::from_url(smtp_url)
        .map_err(|_| SendError::permanent("SMTP_URL is not a valid SMTP URL".into()))?
        .timeout(Some(SMTP_TIMEOUT))
        .build();
    mailer
        .send(message)
        .await
        .map(|_| ())
        .map_err(|e| SendError {
            message: format!("the SMTP server refused the email: {e}"),
            permanent: e.is_permanent(),
        })
}

/// Sends the digest of `items` to `to`.
pub async fn send_digest(
    smtp_url: &str,
    from: &str,
    to: &str,
    items: &[DigestItem],
    base_url: &str,
    unsubscribe: &str,
) -> Result<(), SendError> {
    send(
        smtp_url,
        from,
        to,
        digest_subject(items),
        digest_text(items, base_url, unsubscribe),
        Some(unsubscribe),
    )
    .await
}

/// Sends the link that verifies `to` for alerts.
pub async fn send_verification(
    smtp_url: &str,
    from: &str,
    to: &str,
    link: &str,
) -> Result<(), SendError> {
    send(
        smtp_url,
        from,
        to,
        "Confirm your address for Job Collector alerts".into(),
        format!(
            "Someone — we hope you — asked for Job Collector alerts at this address.\n\n\
             Confirm it here to start receiving them (the link works for seven days):\n{link}\n\n\
             If it was not you, ignore this email: nothing will be sent.\n"
        ),
        None,
    )
    .await
}

#[cfg(test)]
mod tests {
    use super::*;

    fn item(title: &str, score: i32) -> DigestItem {
        DigestItem {
            title: title.into(),
            company: "Globex".into(),
            location: Some("Berlin".into()),
            score,
            reason: "Rust for six years.".into(),
            url: "https://boards.example/1".into(),
        }
    }

    #[test]
    fn digests_name_the_best_and_link_every_match() {
        let items = [item("Senior Rust Engineer", 91), item("Go Engineer", 74)];
        assert_eq!(
            digest_subject(&items),
            "2 new matches: Senior Rust Engineer at Globex (91) and 1 more"
        );
        assert_eq!(
            digest_subject(&items[..1]),
            "New match: Senior Rust Engineer at Globex (91)"
        );
        let text = digest_text(&items, "https://jobs.example", "https://jobs.example/u?t=1");
        assert!(text.contains(" 91  Senior Rust Engineer — Globex (Berlin)"));
        assert!(text.contains("https://boards.example/1"));
        assert!(text.contains("one click: https://jobs.example/u?t=1"));
    }
}
