//! From an outbox row to the message that goes out: headers, the plain-text part, and the
//! HTML part when `[sending] html = true`. The preview in review shows exactly this.

use std::time::SystemTime;

use pulldown_cmark::{Event, LinkType, Options, Parser, Tag, TagEnd, TextMergeStream};

use crate::config::Config;
use crate::engine::send::message::{MessageError, build, new_message_id, sender_domain};
use crate::store::outbox::OutboxRow;

/// The Markdown dialect of bodies: CommonMark with ~~strikethrough~~. Templates parse bodies
/// with it too, to know where each value lands.
pub const MARKDOWN_OPTIONS: Options = Options::ENABLE_STRIKETHROUGH;

/// Markdown → HTML (the HTML part). Raw HTML with active content (`<script>`, `<iframe>`,
/// a form…) is shown as the text it is, not run: filters score such a message as spam, and a
/// cold email never needs it. Other raw HTML (`<br>`, `<b>`) passes as written.
pub fn markdown_to_html(md: &str) -> String {
    let mut html = String::new();
    let events = bare_urls_linked(Parser::new_ext(md, MARKDOWN_OPTIONS)).map(|e| match e {
        Event::Html(h) | Event::InlineHtml(h) if active_html(&h) => Event::Text(h),
        // A link that would run a script goes nowhere (its text stays).
        Event::Start(Tag::Link {
            link_type,
            dest_url,
            title,
            id,
        }) if active_html(&dest_url) => Event::Start(Tag::Link {
            link_type,
            dest_url: "#".into(),
            title,
            id,
        }),
        e => e,
    });
    pulldown_cmark::html::push_html(&mut html, events);
    html
}

/// A bare `http://` or `https://` URL in running text becomes a link, as GitHub's Markdown and
/// every mail program make it: written as a link, it is one `[tracking] clicks` can count
/// (mail programs would link it anyway, untracked). Not inside a link, an image's text, code or
/// raw HTML.
fn bare_urls_linked<'a>(
    events: impl Iterator<Item = Event<'a>>,
) -> impl Iterator<Item = Event<'a>> {
    let mut inside = 0usize;
    let mut code_block = false;
    TextMergeStream::new(events).flat_map(move |e| {
        match &e {
            Event::Start(Tag::Link { .. } | Tag::Image { .. }) => inside += 1,
            Event::End(TagEnd::Link | TagEnd::Image) => inside = inside.saturating_sub(1),
            Event::Start(Tag::CodeBlock(_)) => code_block = true,
            Event::End(TagEnd::CodeBlock) => code_block = false,
            // A link written in raw HTML: its text is already a link.
            Event::InlineHtml(h) => {
                let tag = h.trim_start().to_ascii_lowercase();
                if tag.starts_with("<a ") || tag.starts_with("<a>") {
                    inside += 1;
                } else if tag.starts_with("</a") {
                    inside = inside.saturating_sub(1);
                }
            }
            _ => {}
        }
        match e {
            Event::Text(t) if inside == 0 && !code_block && t.contains("://") => {
                let mut out = Vec::new();
                let mut rest: &str = &t;
                while let Some((start, end)) = next_bare_url(rest) {
                    if start > 0 {
                        out.push(Event::Text(rest[..start].to_string().into()));
                    }
                    let url = &rest[start..end];
                    out.push(Event::Start(Tag::Link {
                        link_type: LinkType::Autolink,
                        dest_url: url.to_string().into(),
                        title: "".into(),
                        id: "".into(),
                    }));
                    out.push(Event::Text(url.to_string().into()));
                    out.push(Event::End(TagEnd::Link));
                    rest = &rest[end..];
                }
                if !rest.is_empty() {
                    out.push(Event::Text(rest.to_string().into()));
                }
                out
            }
            e => vec![e],
        }
    })
}

/// The byte range of the next bare URL in `text`: `http://` or `https://` at the start of a
/// word, up to white space, `<` or `>`, without the punctuation that ends a sentence around it
/// (GitHub's rule: `.,:;!?'"*_~` and a `)` that closes nothing in the URL).
fn next_bare_url(text: &str) -> Option<(usize, usize)> {
    let lower = text.to_ascii_lowercase();
    let mut from = 0;
    loop {
        let at = from + lower[from..].find("http")?;
        from = at + 4;
        let scheme = if lower[at..].starts_with("https://") {
            8
        } else if lower[at..].starts_with("http://") {
            7
        } else {
            continue;
        };
        let word_start = text[..at]
            .chars()
            .next_back()
            .is_none_or(|c| c.is_whitespace() || "([{\"'*_~".contains(c));
        if !word_start {
            continue;
        }
        let len = text[at..]
            .find(|c: char| c.is_whitespace() || c == '<' || c == '>')
            .unwrap_or(text.len() - at);
        let mut url = &text[at..at + len];
        loop {
            let trimmed =
                url.trim_end_matches(['.', ',', ':', ';', '!', '?', '\'', '"', '*', '_', '~']);
            let trimmed = if trimmed.ends_with(')')
                && trimmed.matches(')').count() > trimmed.matches('(').count()
            {
                &trimmed[..trimmed.len() - 1]
            } else {
                trimmed
            };
            if trimmed.len() == url.len() {
                break;
            }
            url = trimmed;
        }
        // A scheme alone, or with nothing but punctuation after it, is no link.
        if url.len() > scheme {
            return Some((at, at + url.len()));
        }
    }
}

/// Raw HTML that would run or embed something in a mail program.
fn active_html(html: &str) -> bool {
    let lower = html.to_ascii_lowercase();
    [
        "<script", "</script", "<style", "</style", "<iframe", "<object", "<embed", "<form",
        "<input", "<button", "<meta", "<link", "<base",
    ]
    .iter()
    .any(|t| lower.contains(t))
        || lower.contains("javascript:")
}

/// Markdown → readable plain text: emphasis markers dropped, links as "text (url)", list
/// items with "- " (or their number), nested lists indented, paragraphs separated by blank
/// lines, HTML tags left out (their text kept).
pub fn markdown_to_text(md: &str) -> String {
    let mut out = String::new();
    let mut link: Vec<String> = Vec::new();
    // One entry per open list: the next item's number, or None for a bullet list.
    let mut lists: Vec<Option<u64>> = Vec::new();
    // Text that follows a paragraph break inside a list item is indented under the item.
    let mut indent_next = false;
    let indent = |out: &mut String, depth: usize| out.push_str(&"   ".repeat(depth));
    // A block quote is written on its own, then each of its lines prefixed with "> ".
    let mut quoted: Vec<String> = Vec::new();
    for event in Parser::new_ext(md, MARKDOWN_OPTIONS) {
        match event {
            Event::Start(Tag::BlockQuote(_)) => quoted.push(std::mem::take(&mut out)),
            Event::End(TagEnd::BlockQuote(_)) => {
                let inner = std::mem::replace(&mut out, quoted.pop().unwrap_or_default());
                for line in inner.trim_end().lines() {
                    out.push_str(if line.is_empty() { ">" } else { "> " });
                    out.push_str(line);
                    out.push('\n');
                }
                out.push('\n');
            }
            Event::Text(t) | Event::Code(t) => {
                if indent_next {
                    indent(&mut out, lists.len());
                    indent_next = false;
                }
                out.push_str(&t);
            }
            Event::SoftBreak | Event::HardBreak => {
                out.push('\n');
                indent_next = !lists.is_empty();
            }
            Event::Start(Tag::Link { dest_url, .. }) => link.push(dest_url.to_string()),
            Event::End(TagEnd::Link) => {
                if let Some(url) = link.pop()
                    && !out.ends_with(url.as_str())
                {
                    out.push_str(&format!(" ({url})"));
                }
            }
            Event::Start(Tag::List(first)) => {
                // A list inside an item starts on its own line.
                if !lists.is_empty() && !out.ends_with('\n') {
                    out.push('\n');
                }
                indent_next = false;
                lists.push(first);
            }
            Event::End(TagEnd::List(_)) => {
                lists.pop();
                if lists.is_empty() {
                    out.push('\n');
                }
            }
            Event::Start(Tag::Item) => {
                indent(&mut out, lists.len().saturating_sub(1));
                indent_next = false;
                match lists.last_mut() {
                    Some(Some(n)) => {
                        out.push_str(&format!("{n}. "));
                        *n += 1;
                    }
                    _ => out.push_str("- "),
                }
            }
            Event::End(TagEnd::Item) => {
                if !out.ends_with('\n') {
                    out.push('\n');
                }
                indent_next = false;
            }
            Event::End(TagEnd::Paragraph) => {
                if lists.is_empty() {
                    out.push_str("\n\n");
                } else {
                    // A second paragraph of the same item goes on its own line, indented.
                    out.push('\n');
                    indent_next = true;
                }
            }
            Event::End(TagEnd::Heading(_)) => out.push_str("\n\n"),
            Event::End(TagEnd::CodeBlock) => {
                if !out.ends_with('\n') {
                    out.push('\n');
                }
                out.push('\n');
            }
            // As the HTML part shows it: active content as the text it is.
            Event::Html(html) | Event::InlineHtml(html) if active_html(&html) => {
                out.push_str(&html);
            }
            Event::Html(html) => {
                out.push_str(&strip_tags(&html));
            }
            Event::InlineHtml(tag) if tag.to_ascii_lowercase().starts_with("<br") => {
                out.push('\n');
            }
            Event::Rule => out.push_str("----\n\n"),
            _ => {}
        }
    }
    let trimmed = out.trim_end();
    format!("{trimmed}\n")
}

/// HTML block → its text: tags removed, lines that held only tags dropped.
fn strip_tags(html: &str) -> String {
    let mut text = String::with_capacity(html.len());
    let mut in_tag = false;
    for c in html.chars() {
        match c {
            '<' => in_tag = true,
            '>' if in_tag => in_tag = false,
            _ if !in_tag => text.push(c),
            _ => {}
        }
    }
    let mut out = String::new();
    for line in text.lines().filter(|l| !l.trim().is_empty()) {
        out.push_str(line.trim_end());
        out.push('\n');
    }
    out
}

/// The row exactly as it will be sent: the message built by the sender (from the row's
/// mailbox, or the first configured one), its headers decoded for reading, and its text part.
/// The Message-ID's random part and the Date are fixed again at send time; the DKIM signature
/// is added then. A row already sent shows its own Message-ID and Date, with a note that the
/// rest is built again from today's config.
pub fn preview(row: &OutboxRow, config: &Config) -> String {
    try_preview(row, config).unwrap_or_else(|e| e + "\n")
}

/// [`preview`], or `Err("cannot build this message: …")` when the configuration cannot
/// build it (a tracking secret not set, a From that is no address): `outbox show` then
/// exits 3.
pub fn try_preview(row: &OutboxRow, config: &Config) -> Result<String, String> {
    // Nothing was rendered (no message for the company, or a reason found first): a
    // message with an empty Subject would be no preview of anything.
    // Who the row is for: without an address or a message, nothing else in the preview says.
    if row.subject.is_empty() && row.body.is_empty() {
        return Ok(format!(
            "(no message to show for {} {} · {}: {})\n",
            row.firstname,
            row.lastname,
            row.company,
            row.reason.as_deref().unwrap_or("nothing rendered")
        ));
    }
    let chosen = row
        .mailbox
        .as_ref()
        .and_then(|n| config.mailboxes.get_key_value(n))
        .or_else(|| config.mailboxes.iter().next());
    let Some((name, mb)) = chosen else {
        return Ok(format!(
            "(no mailbox configured: add a [mailboxes.NAME] section to see the headers)\n\n\
             Subject: {}\n\n{}",
            row.subject,
            markdown_to_text(&row.body)
        ));
    };
    if row.email.is_none() {
        return Ok(format!(
            "To: (no address)\nSubject: {}\n\n{}",
            row.subject,
            markdown_to_text(&row.body)
        ));
    }
    let mut unsigned = mb.clone();
    unsigned.dkim_selector = None;
    unsigned.dkim_key_file = None;
    let message_id = row
        .header_message_id
        .clone()
        .unwrap_or_else(|| new_message_id(row.id, mb));
    // A row already sent shows the Date it went out with, not the time of looking.
    let date = row
        .sent_at
        .and_then(|t| u64::try_from(t).ok())
        .map_or_else(SystemTime::now, |t| {
            SystemTime::UNIX_EPOCH + std::time::Duration::from_secs(t)
        });
    let built = match build(row, &unsigned, config, &message_id, date) {
        Ok(b) => b.formatted(),
        // The configuration's problem (the mailbox, DKIM, tracking): `outbox show` exits 3.
        // The row's own (its address) is shown as the row's state, as its status says.
        Err(
            e @ (MessageError::From(_)
            | MessageError::ReplyTo(_)
            | MessageError::Dkim { .. }
            | MessageError::Tracking(_)),
        ) => return Err(format!("cannot build this message: {e}")),
        Err(e) => return Ok(format!("cannot build this message: {e}\n")),
    };
    let mut out = String::new();
    if row.sent_at.is_some() {
        // The tokens of the links sent are random and not kept (nor the message's bytes):
        // the preview cannot show them, so it says plainly that this is not the sent text.
        out.push_str(
            "(a RE-RENDERING, not the message as sent: the Message-ID and Date are the sent \
             ones, but its tracking and unsubscribe links carry new tokens, not the sent ones \
             (those are not kept), and the text and HTML follow today's config)\n",
        );
    }
    if let Some(gone) = row.mailbox.as_ref().filter(|n| *n != name) {
        out.push_str(&format!(
            "(mailbox {gone} is no longer configured: shown as {name} would send it)\n"
        ));
    }
    if row.mailbox.is_none() && config.mailboxes.len() > 1 {
        let names: Vec<&str> = config.mailboxes.keys().map(String::as_str).collect();
        out.push_str(&format!(
            "(as mailbox {name}; the run rotates among {})\n",
            names.join(", ")
        ));
    }
    let Ok(parsed) = mailparse::parse_mail(&built) else {
        return Ok(String::from_utf8_lossy(&built).into_owned());
    };
    for h in parsed.get_headers() {
        out.push_str(&format!("{}: {}\n", h.get_key(), h.get_value()));
    }
    if let (Some(selector), Some(_)) = (&mb.dkim_selector, &mb.dkim_key_file) {
        out.push_str(&format!(
            "DKIM-Signature: (added at send time: d={}, s={selector})\n",
            sender_domain(mb)
        ));
    }
    out.push('\n');
    let text = std::iter::once(&parsed)
        .chain(parsed.subparts.iter())
        .find(|p| p.ctype.mimetype == "text/plain")
        .and_then(|p| p.get_body().ok())
        .unwrap_or_default();
    out.push_str(&text.replace("\r\n", "\n"));
    if parsed
        .subparts
        .iter()
        .any(|p| p.ctype.mimetype == "text/html")
    {
        out.push_str("\n(and a text/html part with the same content)\n");
    }
    Ok(out)
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
    fn lists_keep_numbers_nesting_and_paragraphs() {
        let md = "1. un\n2. deux\n   - a\n   - b\n3. trois\n\n   suite\n\nFin";
        assert_eq!(
            markdown_to_text(md),
            "1. un\n2. deux\n   - a\n   - b\n3. trois\n   suite\n\nFin\n"
        );
        assert_eq!(markdown_to_text("5. cinq\n6. six"), "5. cinq\n6. six\n");
    }

    #[test]
    fn html_keeps_its_text() {
        assert_eq!(
            markdown_to_text("<div>\n<p>Bonjour</p>\n</div>\n\nligne<br>suite"),
            "Bonjour\nligne\nsuite\n"
        );
    }

    #[test]
    fn quotes_keep_their_marks_and_active_html_is_shown_not_run() {
        assert_eq!(
            markdown_to_text("Before\n\n> quoted line\n> more\n>\n> second\n\nAfter"),
            "Before\n\n> quoted line\n> more\n>\n> second\n\nAfter\n"
        );
        let md = "Hi\n\n<script>alert(1)</script>\n\nline<br>next <b>bold</b>";
        let html = markdown_to_html(md);
        assert!(!html.contains("<script>"), "{html}");
        assert!(
            html.contains("&lt;script&gt;alert(1)&lt;/script&gt;"),
            "{html}"
        );
        assert!(
            html.contains("<br>") && html.contains("<b>bold</b>"),
            "{html}"
        );
        let text = markdown_to_text(md);
        assert!(text.contains("<script>alert(1)</script>"), "{text}");
        let html = markdown_to_html("[offer](JavaScript:alert(1)) and [site](https://a.test/)");
        assert!(!html.to_ascii_lowercase().contains("javascript"), "{html}");
        assert!(html.contains("<a href=\"#\">offer</a>"), "{html}");
        assert!(
            html.contains("<a href=\"https://a.test/\">site</a>"),
            "{html}"
        );
    }

    #[test]
    fn bare_urls_in_text_become_links_the_tracker_can_rewrite() {
        let html = markdown_to_html(
            "See https://acme.test/pricing?a=1&b=2. Or (http://b.test/x_(y)), \
             [https://c.test/](https://c.test/) and `https://d.test/` and xhttps://e.test/",
        );
        assert!(
            html.contains(
                r#"See <a href="https://acme.test/pricing?a=1&amp;b=2">https://acme.test/pricing?a=1&amp;b=2</a>. Or (<a href="http://b.test/x_(y)">http://b.test/x_(y)</a>),"#
            ),
            "{html}"
        );
        // Already a link, code, or not at a word's start: left as written.
        assert_eq!(html.matches("<a ").count(), 3, "{html}");
        assert!(html.contains("<code>https://d.test/</code>"), "{html}");
        assert!(html.contains("xhttps://e.test/"), "{html}");
        let raw = markdown_to_html(r#"Visit <a href="https://g.test/">https://g.test/</a> now"#);
        assert_eq!(raw.matches("<a ").count(), 1, "{raw}");
        let block = markdown_to_html("    https://f.test/\n\nhttps:// alone");
        assert!(!block.contains("<a "), "{block}");
        // Each becomes a tracked link like a written one.
        let tracked = crate::engine::tracking::links::rewrite_links(
            &markdown_to_html("Go to https://acme.test/a"),
            |u| format!("T[{u}]"),
        );
        assert!(
            tracked.contains(r#"href="T[https://acme.test/a]""#),
            "{tracked}"
        );
        // The text part keeps the URL once.
        assert_eq!(
            markdown_to_text("Go to https://acme.test/a."),
            "Go to https://acme.test/a.\n"
        );
    }

    #[test]
    fn bare_urls_are_not_repeated() {
        assert_eq!(markdown_to_text("<https://a.test/>"), "https://a.test/\n");
    }
}
