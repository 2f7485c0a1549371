//! How GitHub's answers are put into words for a fault or a log line: the status's name,
//! GitHub's own `message`, and a short excerpt of a body that is not what was expected.

use super::wire::ErrorBody;

/// GitHub's `message`, or the status's name when the body has none.
pub fn error_message(status: u16, body: &str) -> String {
    serde_json::from_str::<ErrorBody>(body)
        .ok()
        .and_then(|b| b.message)
        .unwrap_or_else(|| status_text(status))
}

pub fn status_text(status: u16) -> String {
    let reason = match status {
        304 => "Not Modified",
        400 => "Bad Request",
        401 => "Unauthorized",
        403 => "Forbidden",
        404 => "Not Found",
        409 => "Conflict",
        422 => "Unprocessable Entity",
        429 => "Too Many Requests",
        500 => "Internal Server Error",
        502 => "Bad Gateway",
        503 => "Service Unavailable",
        504 => "Gateway Timeout",
        _ => "",
    };
    format!("{status} {reason}").trim_end().to_string()
}

/// The start of a body, on one line, for a message.
pub fn excerpt(body: &str) -> String {
    let line: String = body.split_whitespace().collect::<Vec<_>>().join(" ");
    match line.char_indices().nth(60) {
        Some((i, _)) => format!("{}…", &line[..i]),
        None => line,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_message_comes_from_github_or_from_the_status() {
        let body = r#"{"message":"Reference already exists","documentation_url":"https://docs.github.com/rest/git/refs#create-a-reference","status":"422"}"#;
        assert_eq!(error_message(422, body), "Reference already exists");
        assert_eq!(
            error_message(502, "<html>Unicorn!</html>"),
            "502 Bad Gateway"
        );
        assert_eq!(status_text(418), "418");
    }

    #[test]
    fn an_excerpt_is_one_short_line() {
        let page = format!("<html>\n  <body>{}</body>\n</html>", "x".repeat(200));
        let e = excerpt(&page);
        assert!(e.ends_with('…') && !e.contains('\n'), "{e}");
        assert_eq!(e.chars().count(), 61);
    }
}
