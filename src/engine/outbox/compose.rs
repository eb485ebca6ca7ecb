//! From an outbox row to the message that goes out: headers, the plain-text part, and the
//! HTML part when `[sending] html = true`. The preview in review shows exactly this.

use pulldown_cmark::{Event, Options, Parser, Tag, TagEnd};

use crate::config::Config;
use crate::store::outbox::OutboxRow;

/// Markdown → HTML (the HTML part).
pub fn markdown_to_html(md: &str) -> String {
    let mut html = String::new();
    pulldown_cmark::html::push_html(
        &mut html,
        Parser::new_ext(md, Options::ENABLE_STRIKETHROUGH),
    );
    html
}

/// Markdown → readable plain text: emphasis markers dropped, links as "text (url)", list
/// items with "- ", paragraphs separated by blank lines.
pub fn markdown_to_text(md: &str) -> String {
    let mut out = String::new();
    let mut link: Vec<String> = Vec::new();
    let mut list_depth = 0usize;
    for event in Parser::new_ext(md, Options::ENABLE_STRIKETHROUGH) {
        match event {
            Event::Text(t) | Event::Code(t) => out.push_str(&t),
            Event::SoftBreak => out.push('\n'),
            Event::HardBreak => out.push('\n'),
            Event::Start(Tag::Link { dest_url, .. }) => link.push(dest_url.to_string()),
            Event::End(TagEnd::Link) => {
                if let Some(url) = link.pop()
                    && !out.ends_with(url.as_str())
                {
                    out.push_str(&format!(" ({url})"));
                }
            }
            Event::Start(Tag::List(_)) => list_depth += 1,
            Event::End(TagEnd::List(_)) => {
                list_depth = list_depth.saturating_sub(1);
                if list_depth == 0 {
                    out.push('\n');
                }
            }
            Event::Start(Tag::Item) => {
                out.push_str(&"  ".repeat(list_depth.saturating_sub(1)));
                out.push_str("- ");
            }
            Event::End(TagEnd::Item) => out.push('\n'),
            Event::End(TagEnd::Paragraph) if list_depth == 0 => out.push_str("\n\n"),
            Event::End(TagEnd::Heading(_)) => out.push_str("\n\n"),
            Event::Rule => out.push_str("----\n\n"),
            _ => {}
        }
    }
    let trimmed = out.trim_end();
    format!("{trimmed}\n")
}

/// The header block and parts of a row, as review shows them before anything is sent.
/// Message-ID's random part and the mailbox are only fixed at send time.
pub fn preview(row: &OutboxRow, config: &Config) -> String {
    let mailboxes: Vec<&str> = config.mailboxes.values().map(|m| m.from.as_str()).collect();
    let from = match mailboxes.as_slice() {
        [] => "(no mailbox configured)".to_string(),
        [one] => one.to_string(),
        many => format!("{} (rotated among {} mailboxes)", many[0], many.len()),
    };
    let domain = mailboxes
        .first()
        .and_then(|f| f.rsplit_once('@'))
        .map(|(_, d)| d.trim_end_matches('>').to_string())
        .unwrap_or_else(|| "sender.invalid".into());
    let to = match &row.email {
        Some(e) => format!("{} {} <{e}>", row.firstname, row.lastname),
        None => "(no address)".into(),
    };
    let mut out = String::new();
    out.push_str(&format!("From: {from}\n"));
    out.push_str(&format!("To: {to}\n"));
    out.push_str(&format!("Subject: {}\n", row.subject));
    out.push_str(&format!("Message-ID: <{}.…@{domain}>\n", row.id));
    out.push_str("List-Unsubscribe: <mailto:…?subject=unsubscribe>");
    if config.tracking.base_url.is_some() {
        out.push_str(", <https://…/u/…>");
    }
    out.push('\n');
    out.push_str("List-Unsubscribe-Post: List-Unsubscribe=One-Click\n");
    if config.sending.html {
        out.push_str("Content-Type: multipart/alternative (text/plain + text/html)\n");
    } else {
        out.push_str("Content-Type: text/plain; charset=utf-8\n");
    }
    out.push('\n');
    out.push_str(&markdown_to_text(&row.body));
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn markdown_becomes_readable_text_and_html() {
        let md = "Bonjour **Élodie**,\n\nVoir [notre site](https://hailer.test/).\n\n- un\n- deux\n\nMerci";
        let text = markdown_to_text(md);
        assert_eq!(
            text,
            "Bonjour Élodie,\n\nVoir notre site (https://hailer.test/).\n\n- un\n- deux\n\nMerci\n"
        );
        let html = markdown_to_html(md);
        assert!(html.contains("<strong>Élodie</strong>"), "{html}");
        assert!(
            html.contains("<a href=\"https://hailer.test/\">notre site</a>"),
            "{html}"
        );
        assert!(html.contains("<li>un</li>"), "{html}");
    }

    #[test]
    fn bare_urls_are_not_repeated() {
        assert_eq!(markdown_to_text("<https://a.test/>"), "https://a.test/\n");
    }
}
