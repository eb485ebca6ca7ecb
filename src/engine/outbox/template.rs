//! Placeholders in subjects and bodies: `{firstname}`, `{company}`, any header the import
//! reads as one of those fields (`{prenom}`, `{nom}`, `{societe}`, `{raison sociale}`,
//! `{surname}`, `{website}`), any imported column by its header (`{city}`, `{Site web}`),
//! and a default after a bar (`{firstname|there}`). `{{firstname}}`, as
//! Mustache-style tools write it, is the same placeholder.
//!
//! Rendering never lets a `{…}` through: an unknown name (with or without a default), an empty
//! value without a default, or a value that itself holds `{…}` is an error that names it, and
//! the row is not sendable. There is no escape for a literal `{word}`: a cold email has no use
//! for one, and [`literal_placeholder`] refuses it at send time anyway.

use std::collections::{HashMap, HashSet};

use crate::engine::import::columns::Field;
use crate::engine::import::normalize::header_key;

/// Values by folded name (`header_key`), so `{Prénom}`, `{prenom}` and `{PRENOM}` agree, and
/// the names a template may use: the fields, and every imported column, also where this row's
/// cell is empty (then the placeholder is empty, not unknown).
#[derive(Debug, Clone, Default)]
pub struct Vars {
    values: HashMap<String, String>,
    known: HashSet<String>,
}

impl Vars {
    pub fn new() -> Vars {
        Vars::default()
    }

    /// Set a value; later sets win, so set imported extras first and fields last.
    pub fn set(&mut self, name: &str, value: &str) {
        let key = header_key(name);
        self.known.insert(key.clone());
        self.values.insert(key, value.to_string());
    }

    /// A column that exists in the import though this row has no value in it.
    pub fn declare(&mut self, name: &str) {
        self.known.insert(header_key(name));
    }

    /// Every column of an imported row's `extra` JSON object.
    pub fn set_extra_json(&mut self, extra: &str) {
        for (k, v) in extra_columns(extra) {
            self.set(&k, &v);
        }
    }

    /// The field a placeholder names by any header the import reads as that field
    /// (`{prénom}`, `{raison sociale}`, `{website}`), else its own folded name. The field
    /// wins over a column kept under such a name: the import keeps a second first-name
    /// column (read where the first is empty) as an extra, and `{prenom}` must still be the
    /// first name, not that column's cell, empty on most rows.
    fn canonical(&self, name: &str) -> String {
        let key = header_key(name);
        // The prospect's fields: a message's subject and body are no placeholders.
        Field::ALL
            .into_iter()
            .filter(|f| !matches!(f, Field::Subject | Field::Body))
            .find(|f| f.synonyms().contains(&key.as_str()) && self.known.contains(f.name()))
            .map_or(key, |f| f.name().to_string())
    }

    fn get(&self, name: &str) -> Option<&str> {
        self.values.get(&self.canonical(name)).map(String::as_str)
    }

    fn knows(&self, name: &str) -> bool {
        self.known.contains(&self.canonical(name))
    }
}

/// The (column, text) pairs of an imported row's `extra` JSON object.
pub fn extra_columns(extra: &str) -> Vec<(String, String)> {
    match serde_json::from_str(extra) {
        Ok(serde_json::Value::Object(map)) => map
            .into_iter()
            .filter_map(|(k, v)| v.as_str().map(|s| (k, s.to_string())))
            .collect(),
        _ => Vec::new(),
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TemplateError {
    #[error("unknown placeholder {{{0}}} (no field or imported column has that name)")]
    Unknown(String),
    #[error("empty placeholder {{{0}}} (add a default: {{{0}|…}})")]
    Empty(String),
    #[error("unclosed placeholder starting {0:?}")]
    Unclosed(String),
    #[error("{{{0}}} is in the value of {{{1}}}")]
    InValue(String, String),
    #[error("the value of {{{0}}} cannot go inside {1}: it contains {2:?}")]
    Breaks(String, &'static str, char),
}

/// How a value is written into the text.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Escape {
    /// As is (subjects: plain text).
    None,
    /// Backslash before ASCII punctuation, so a body, which is Markdown, shows the value as
    /// typed: `Dupont <CEO>` or `a_b_c` stay text instead of becoming a tag or emphasis.
    /// Not where Markdown keeps backslashes (code, autolinks, HTML; see `spots`): there the
    /// value goes in as is, so `<https://{domain}/>` or `` `{email}` `` keep working, and a
    /// value holding what would end that context is an error.
    Markdown,
}

/// Where a value lands in a Markdown body, found by parsing the body with a marker in place
/// of each value (the same parser and options as the message's parts).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Spot {
    /// Text, link text, link destination: Markdown removes backslash escapes there.
    Text,
    /// Code span, code block, autolink, HTML: backslashes stay, so the value goes in as is,
    /// and must not hold what would end that context.
    Literal(&'static str, &'static [char]),
    /// Between `<` and `>` whose inside starts with the value of marker `first` (`<{url}>`):
    /// an autolink, hence [`Spot::Literal`], only if that value makes one (a scheme, or the
    /// whole inside an address); else text like any other.
    Bracket { first: usize, whole: bool },
}

const AUTOLINK: Spot = Spot::Literal("an autolink", &[' ', '\t', '\n', '<', '>']);

impl Spot {
    /// What a [`Spot::Bracket`] is once the values are known.
    fn resolve(self, values: &[(String, String)]) -> Spot {
        let Spot::Bracket { first, whole } = self else {
            return self;
        };
        let v = values.get(first).map_or("", |(_, v)| v.as_str());
        if starts_with_scheme(v) || (whole && email_autolink(v)) {
            AUTOLINK
        } else {
            Spot::Text
        }
    }
}

/// CommonMark's URI autolink start: a scheme of 2 to 32 characters, then `:`.
fn starts_with_scheme(v: &str) -> bool {
    let Some((scheme, _)) = v.split_once(':') else {
        return false;
    };
    let mut chars = scheme.chars();
    chars.next().is_some_and(|c| c.is_ascii_alphabetic())
        && (2..=32).contains(&scheme.len())
        && chars.all(|c| c.is_ascii_alphanumeric() || matches!(c, '+' | '.' | '-'))
}

/// CommonMark's email autolink, roughly: one `@` between a local part and a domain, no
/// space and no angle bracket.
fn email_autolink(v: &str) -> bool {
    v.split_once('@').is_some_and(|(local, domain)| {
        !local.is_empty()
            && domain.contains('.')
            && !v.contains(|c: char| c.is_whitespace() || matches!(c, '<' | '>' | '\\'))
            && !domain.contains('@')
    })
}

/// First private-use code point: markers are `MARK + index`.
const MARK: u32 = 0xE000;
const MARKS: std::ops::Range<u32> = 0xE000..0xF900;

fn mark(i: usize) -> Option<char> {
    char::from_u32(MARK + i as u32).filter(|c| MARKS.contains(&(*c as u32)))
}

/// The marker index `c` stands for, if it is one.
fn marks_in_char(c: char) -> Option<usize> {
    MARKS
        .contains(&(c as u32))
        .then(|| (c as u32 - MARK) as usize)
}

fn marks_in(text: &str) -> impl Iterator<Item = usize> + '_ {
    text.chars()
        .map(|c| c as u32)
        .filter(|c| MARKS.contains(c))
        .map(|c| (c - MARK) as usize)
}

/// The spot of each of `n` markers in `skeleton`; a marker no event shows is Text.
fn spots(skeleton: &str, n: usize) -> Vec<Spot> {
    use pulldown_cmark::{Event, LinkType, Parser, Tag, TagEnd};
    const CODE: Spot = Spot::Literal("code", &['`', '\n']);
    const BLOCK: Spot = Spot::Literal("a code block", &['\n']);
    const HTML: Spot = Spot::Literal("HTML", &['<', '>', '"']);
    let mut out = vec![Spot::Text; n];
    let mut set = |text: &str, spot: Spot| {
        for i in marks_in(text) {
            if let Some(s) = out.get_mut(i) {
                *s = spot;
            }
        }
    };
    // `<{url}>`: with a marker in place of the value, the parser sees no scheme and so no
    // autolink; with the value in place it may be one, where backslashes stay (decided with
    // the values, `Spot::resolve`). The parse below still overrides this for code, HTML and
    // link destinations.
    for inside in bracketed(skeleton) {
        if let Some(first) = inside.chars().next().and_then(marks_in_char) {
            let whole = inside.chars().count() == 1;
            set(inside, Spot::Bracket { first, whole });
        }
    }
    let (mut block, mut autolink) = (false, false);
    for event in Parser::new_ext(skeleton, super::compose::MARKDOWN_OPTIONS) {
        match event {
            Event::Start(Tag::CodeBlock(_)) => block = true,
            Event::End(TagEnd::CodeBlock) => block = false,
            Event::Start(Tag::Link {
                link_type: LinkType::Autolink | LinkType::Email,
                dest_url,
                ..
            }) => {
                autolink = true;
                set(&dest_url, AUTOLINK);
            }
            // `[text](<{url}>)`: a link destination, where escapes are read as in text.
            Event::Start(Tag::Link { dest_url, .. }) => set(&dest_url, Spot::Text),
            Event::End(TagEnd::Link) => autolink = false,
            Event::Text(t) if block => set(&t, BLOCK),
            Event::Text(t) if autolink => set(&t, AUTOLINK),
            Event::Code(t) => set(&t, CODE),
            Event::Html(t) | Event::InlineHtml(t) => set(&t, HTML),
            _ => {}
        }
    }
    out
}

/// What stands between `<` and the next `>` with no whitespace or `<` in between: the shape
/// of an autolink.
fn bracketed(text: &str) -> impl Iterator<Item = &str> {
    text.split('<').skip(1).filter_map(|after| {
        let (inside, _) = after.split_once('>')?;
        (!inside.is_empty() && !inside.contains(|c: char| c.is_whitespace())).then_some(inside)
    })
}

/// A backslash before each character of `value` that Markdown could read as markup, and
/// only those: the body is also what `outbox edit`, $EDITOR and exports show, where
/// `O\'Brien` or `S\.A\.` read as damage. Inline markup (emphasis, code, links, tags,
/// strikethrough) is escaped anywhere; `&` before what could be an entity; block markers
/// (`#`, `-`, `+`, `=`, a number's `.` or `)`) where the value may start a line.
fn escape_markdown(value: &str) -> String {
    let chars: Vec<char> = value.chars().collect();
    let mut out = String::with_capacity(value.len() + 8);
    for (i, &c) in chars.iter().enumerate() {
        let line_start = i == 0 || chars[i - 1] == '\n';
        let marker_end = || chars.get(i + 1).is_none_or(|n| n.is_whitespace());
        let after_line_start_digits = || {
            let digits = chars[..i]
                .iter()
                .rev()
                .take_while(|d| d.is_ascii_digit())
                .count();
            digits > 0 && (digits == i || chars[i - digits - 1] == '\n')
        };
        let markup = match c {
            '\\' | '`' | '*' | '_' | '[' | ']' | '<' | '>' | '~' => true,
            '&' => chars
                .get(i + 1)
                .is_some_and(|n| n.is_ascii_alphanumeric() || *n == '#'),
            '#' | '-' | '+' | '=' => line_start,
            // A list number only before a space (or where the template goes on): `1234.5`
            // starts no list, and `1234\.5` showed in exports.
            '.' | ')' => after_line_start_digits() && marker_end(),
            _ => false,
        };
        if markup {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

/// Render `template`; every problem is reported, not just the first.
pub fn render(template: &str, vars: &Vars, escape: Escape) -> Result<String, Vec<TemplateError>> {
    let (text, errors) = render_with(template, vars, escape, false);
    if errors.is_empty() {
        Ok(text)
    } else {
        Err(errors)
    }
}

/// `template` with every placeholder that can be filled filled, and the others left as they
/// are written: what the user edits on a row in ERROR, so fixing `{unknown}` does not also
/// mean typing in every name the template already had.
pub fn render_partial(template: &str, vars: &Vars, escape: Escape) -> String {
    render_with(template, vars, escape, true).0
}

/// [`render`]'s work: the text, and the problems. `keep_failed` leaves a placeholder that
/// cannot be filled in the text as written; without it, the text is only good when there
/// is no problem.
fn render_with(
    template: &str,
    vars: &Vars,
    escape: Escape,
    keep_failed: bool,
) -> (String, Vec<TemplateError>) {
    // Markdown values go in as markers, placed by `spots` once the text is whole; a template
    // holding private-use characters itself cannot be, and gets every value escaped.
    let markers = escape == Escape::Markdown && marks_in(template).next().is_none();
    let mut out = String::with_capacity(template.len() + 32);
    let mut errors = Vec::new();
    // (name, value) of each marker in `out`, in order.
    let mut values: Vec<(String, String)> = Vec::new();
    let mut rest = template;
    while let Some(pos) = rest.find('{') {
        out.push_str(&rest[..pos]);
        let tail = &rest[pos..];
        // `{{name}}` is `{name}`.
        let (open, close) = if tail.starts_with("{{") {
            ("{{", "}}")
        } else {
            ("{", "}")
        };
        let Some(end) = tail[open.len()..].find(close).map(|e| e + open.len()) else {
            errors.push(TemplateError::Unclosed(tail.chars().take(20).collect()));
            if keep_failed {
                out.push_str(tail);
            }
            rest = "";
            break;
        };
        let inner = &tail[open.len()..end];
        if inner.trim().is_empty() {
            // `{}` or `{ }` is text, as literal_placeholder sees it.
            out.push_str(&tail[..end + close.len()]);
            rest = &tail[end + close.len()..];
            continue;
        }
        if inner.contains(['{', '}', '\n']) {
            errors.push(TemplateError::Unclosed(tail.chars().take(20).collect()));
            out.push('{');
            rest = &tail[1..];
            continue;
        }
        let (name, default) = match inner.split_once('|') {
            Some((n, d)) => (n.trim(), Some(d)),
            None => (inner.trim(), None),
        };
        let written = &tail[..end + close.len()];
        if !vars.knows(name) {
            errors.push(TemplateError::Unknown(name.to_string()));
            if keep_failed {
                out.push_str(written);
            }
        } else {
            match (vars.get(name), default) {
                (Some(v), _) if !v.trim().is_empty() => {
                    if let Some(p) = literal_placeholder(v) {
                        errors.push(TemplateError::InValue(p, name.to_string()));
                    }
                    match mark(values.len()).filter(|_| markers) {
                        Some(m) => {
                            out.push(m);
                            values.push((name.to_string(), v.to_string()));
                        }
                        // No marker (see above, or more values than markers): escaped anywhere.
                        None if escape == Escape::Markdown => out.push_str(&escape_markdown(v)),
                        None => out.push_str(v),
                    }
                }
                (_, Some(d)) => out.push_str(d),
                (_, None) => {
                    errors.push(TemplateError::Empty(name.to_string()));
                    if keep_failed {
                        out.push_str(written);
                    }
                }
            }
        }
        rest = &tail[end + close.len()..];
    }
    out.push_str(rest);
    if values.is_empty() {
        return (out, errors);
    }
    let spots: Vec<Spot> = spots(&out, values.len())
        .into_iter()
        .map(|s| s.resolve(&values))
        .collect();
    for ((name, value), spot) in values.iter().zip(&spots) {
        if let Spot::Literal(what, enders) = spot
            && let Some(c) = value.chars().find(|c| enders.contains(c))
        {
            errors.push(TemplateError::Breaks(name.clone(), what, c));
        }
    }
    if !errors.is_empty() && !keep_failed {
        return (String::new(), errors);
    }
    let mut text = String::with_capacity(out.len() + 64);
    for c in out.chars() {
        let marker = MARKS
            .contains(&(c as u32))
            .then(|| (c as u32 - MARK) as usize);
        match marker.and_then(|i| Some((&values.get(i)?.1, spots[i]))) {
            Some((v, Spot::Text | Spot::Bracket { .. })) => text.push_str(&escape_markdown(v)),
            Some((v, Spot::Literal(..))) => text.push_str(v),
            None => text.push(c),
        }
    }
    (text, errors)
}

/// Why a row edited by hand cannot go out: placeholder-like text left in its subject or
/// body. The build and the edit itself (TUI `e`) give the same reason.
pub fn edited_text_problem(subject: &str, body: &str) -> Option<String> {
    [("subject", subject), ("body", body)]
        .into_iter()
        .find_map(|(part, text)| {
            literal_placeholder(text).map(|p| {
                // An edited row is no template any more: no value fills the braces in.
                format!(
                    "unresolved placeholder: {p} in {part} (edited by hand: edit the {part} to \
                     replace it)"
                )
            })
        })
}

/// Placeholder-like text (`{word}`, `{ prenom }`, `{1}`: braces on one line around something
/// other than blanks) in `text`, which must never reach a recipient. The build runs it on
/// every row it makes READY, edited rows included, and the sender again before each message.
pub fn literal_placeholder(text: &str) -> Option<String> {
    let mut rest = text;
    while let Some(start) = rest.find('{') {
        let tail = &rest[start + 1..];
        if let Some(end) = tail.find('}') {
            let inner = &tail[..end];
            if !inner.trim().is_empty() && inner.len() <= 60 && !inner.contains(['{', '\n']) {
                return Some(format!("{{{inner}}}"));
            }
        }
        rest = tail;
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    fn vars() -> Vars {
        let mut v = Vars::new();
        v.set_extra_json(r#"{"City":"Lyon","Site web":"acme.test"}"#);
        // A column of the import that is empty on this row (import drops empty cells).
        v.declare("Notes");
        v.set("firstname", "Élodie");
        v.set("lastname", "Durand");
        v.set("company", "Acme SA");
        v.set("title", "");
        v
    }

    fn plain(t: &str, v: &Vars) -> Result<String, Vec<TemplateError>> {
        render(t, v, Escape::None)
    }

    /// What a row in ERROR keeps for the user to edit: the good placeholders filled, the
    /// failed ones as written, in both escapings.
    #[test]
    fn a_partial_render_fills_what_it_can_and_keeps_the_rest_as_written() {
        let v = vars();
        let t = "Hi {firstname}, {Notes} about {unknown_field} at {company}";
        assert!(plain(t, &v).is_err());
        assert_eq!(
            render_partial(t, &v, Escape::None),
            "Hi Élodie, {Notes} about {unknown_field} at Acme SA"
        );
        assert_eq!(
            render_partial(t, &v, Escape::Markdown),
            "Hi Élodie, {Notes} about {unknown_field} at Acme SA"
        );
        assert_eq!(
            render_partial("Dear {firstname} {lastname", &v, Escape::None),
            "Dear Élodie {lastname"
        );
    }

    #[test]
    fn fields_aliases_extras_and_defaults() {
        let v = vars();
        assert_eq!(
            plain("Bonjour {prenom} {NOM} ({societe}), {firstname}", &v).unwrap(),
            "Bonjour Élodie Durand (Acme SA), Élodie"
        );
        // A second first-name column kept as an extra (empty on this row) does not hide
        // the field.
        let mut with_fallback = vars();
        with_fallback.declare("Prénom");
        assert_eq!(
            plain("Bonjour {prénom}", &with_fallback).unwrap(),
            "Bonjour Élodie"
        );
        // Any header the import reads as a field names it in a template too.
        assert_eq!(
            plain("{Given name} {Surname}, {Raison sociale}", &v).unwrap(),
            "Élodie Durand, Acme SA"
        );
        assert_eq!(
            plain("{city} / {Site web}", &v).unwrap(),
            "Lyon / acme.test"
        );
        assert_eq!(plain("Hi {title|there}!", &v).unwrap(), "Hi there!");
        assert_eq!(plain("Hi {notes|there}!", &v).unwrap(), "Hi there!");
        assert_eq!(plain("Hi {firstname|there}!", &v).unwrap(), "Hi Élodie!");
        assert_eq!(plain("Hi { prenom }, }", &v).unwrap(), "Hi Élodie, }");
        // Mustache-style double braces are the same placeholder.
        assert_eq!(plain("Hi {{firstName}}!", &v).unwrap(), "Hi Élodie!");
        assert_eq!(plain("Hi {{title|there}}!", &v).unwrap(), "Hi there!");
    }

    #[test]
    fn unknown_and_empty_placeholders_are_named() {
        let v = vars();
        let errs = plain("Hi {frstname}, {title}, {notes}, {typo|there} {x", &v).unwrap_err();
        assert_eq!(
            errs,
            vec![
                TemplateError::Unknown("frstname".into()),
                TemplateError::Empty("title".into()),
                TemplateError::Empty("notes".into()),
                TemplateError::Unknown("typo".into()),
                TemplateError::Unclosed("{x".into()),
            ]
        );
        assert!(errs[0].to_string().contains("{frstname}"));
        assert_eq!(
            plain("{{frstname}}", &v).unwrap_err(),
            vec![TemplateError::Unknown("frstname".into())]
        );
    }

    #[test]
    fn a_value_holding_a_placeholder_is_an_error() {
        let mut v = vars();
        v.set("company", "Acme {beta}");
        assert_eq!(
            plain("Chez {company}", &v).unwrap_err(),
            vec![TemplateError::InValue("{beta}".into(), "company".into())]
        );
    }

    /// Every value reads back as typed from the text part, at the start of a line or in
    /// one, and punctuation that means nothing to Markdown is left alone.
    #[test]
    fn escaped_values_read_back_as_typed_and_only_markup_is_escaped() {
        let values = [
            "1. Dupont",
            "2) Martin",
            "- x",
            "+ y",
            "# h",
            "> q",
            "=== ",
            "---",
            "a_b_c",
            "*x*",
            "**y**",
            "~~s~~",
            "O'Brien",
            "S.A.",
            "Girard & Cie",
            "&amp;",
            "&#65;",
            "[a](b)",
            "![i](j)",
            "<CEO>",
            "`c`",
            "back\\slash",
            "Le Goff (Brest)",
            "3M",
            "a | b",
            "1234.5",
            "12)",
            "7.",
        ];
        for value in values {
            let mut v = vars();
            v.set("lastname", value);
            for template in ["{nom}", "Hello {nom}, fine"] {
                let md = render(template, &v, Escape::Markdown).unwrap();
                let text = super::super::compose::markdown_to_text(&md);
                let want = template.replace("{nom}", value);
                assert_eq!(
                    text.trim_end(),
                    want.trim_end(),
                    "{value:?} in {template:?} → {md:?}"
                );
            }
        }
        let mut v = vars();
        v.set("lastname", "O'Brien, S.A. (Brest) & Cie: 3.5%");
        assert_eq!(
            render("{nom}", &v, Escape::Markdown).unwrap(),
            "O'Brien, S.A. (Brest) & Cie: 3.5%"
        );
        v.set("lastname", "1234.5");
        assert_eq!(render("{nom}", &v, Escape::Markdown).unwrap(), "1234.5");
    }

    #[test]
    fn markdown_bodies_get_values_escaped() {
        let mut v = vars();
        v.set("lastname", "Dupont <CEO> *x*");
        assert_eq!(
            render("**{nom}**", &v, Escape::Markdown).unwrap(),
            "**Dupont \\<CEO\\> \\*x\\***"
        );
        let text = super::super::compose::markdown_to_text(
            &render("{nom}", &v, Escape::Markdown).unwrap(),
        );
        assert_eq!(text, "Dupont <CEO> *x*\n");
    }

    #[test]
    fn values_go_in_as_is_where_markdown_keeps_backslashes() {
        let mut v = vars();
        v.set("company", "my-co_x.test");
        fn md_with(t: &str, v: &Vars) -> String {
            render(t, v, Escape::Markdown).unwrap()
        }
        let md = |t: &str| md_with(t, &v);
        const E: &str = "my-co\\_x.test";
        assert_eq!(
            md("<https://{company}/offre>"),
            "<https://my-co_x.test/offre>"
        );
        assert_eq!(md("`{company}` {company}"), format!("`my-co_x.test` {E}"));
        assert_eq!(
            md("<a href=\"https://{company}/\">{company}</a>"),
            format!("<a href=\"https://my-co_x.test/\">{E}</a>"),
            "inside a tag as is, between inline tags it is text"
        );
        assert_eq!(
            md("```\n{company}\n```\n{company}"),
            format!("```\nmy-co_x.test\n```\n{E}")
        );
        assert_eq!(md("    {company}"), "    my-co_x.test", "indented code");
        assert_eq!(
            md("<div>\nBonjour {company}\n</div>"),
            "<div>\nBonjour my-co_x.test\n</div>",
            "an HTML block"
        );
        // Link destinations and unclosed marks are text: Markdown removes the backslashes.
        assert_eq!(
            md("[site](https://{company})"),
            format!("[site](https://{E})")
        );
        assert_eq!(md("a ` alone and {company}"), format!("a ` alone and {E}"));
        assert_eq!(md("a <b and {company}"), format!("a <b and {E}"));
        assert_eq!(md("``{company}``"), "``my-co_x.test``");
        // What the reader sees: the links work and the text shows the value as typed.
        let html = super::super::compose::markdown_to_html(&md(
            "<https://{company}/> [site](https://{company}/p) {company}",
        ));
        assert!(html.contains("href=\"https://my-co_x.test/\""), "{html}");
        assert!(html.contains("href=\"https://my-co_x.test/p\""), "{html}");
        assert!(html.contains("</a> my-co_x.test"), "{html}");
    }

    #[test]
    fn a_value_that_would_end_its_literal_context_is_an_error() {
        let mut v = vars();
        v.set("lastname", "O`Neil <CEO>");
        let err = |t: &str| render(t, &v, Escape::Markdown).unwrap_err();
        assert_eq!(
            err("`{nom}`"),
            vec![TemplateError::Breaks("nom".into(), "code", '`')]
        );
        assert_eq!(
            err("<div>{nom}</div>"),
            vec![TemplateError::Breaks("nom".into(), "HTML", '<')]
        );
        assert_eq!(
            err("<https://x.test/{nom}>"),
            vec![TemplateError::Breaks("nom".into(), "an autolink", ' ')]
        );
        // As text it is escaped and shows as typed.
        let body = render("Dear {nom}, `code` here", &v, Escape::Markdown).unwrap();
        assert_eq!(
            super::super::compose::markdown_to_text(&body),
            "Dear O`Neil <CEO>, code here\n"
        );
    }

    /// `<{url}>`: the value is the whole autolink, which keeps backslashes, so it goes in as
    /// is (it was escaped, and the link sent pointed at `jean%5C_dupont`), and a value that
    /// would end the autolink is an error.
    #[test]
    fn a_value_that_is_a_whole_autolink_goes_in_as_is() {
        let mut v = vars();
        v.set("linkedin", "https://x.test/jean_dupont?a=1&b=2");
        let body = render("See <{linkedin|https://x.test}>.", &v, Escape::Markdown).unwrap();
        assert_eq!(body, "See <https://x.test/jean_dupont?a=1&b=2>.");
        let html = super::super::compose::markdown_to_html(&body);
        assert!(
            html.contains("href=\"https://x.test/jean_dupont?a=1&amp;b=2\""),
            "{html}"
        );
        v.set("linkedin", "https://x.test/a>b");
        assert_eq!(
            render("See <{linkedin}>", &v, Escape::Markdown).unwrap_err(),
            vec![TemplateError::Breaks("linkedin".into(), "an autolink", '>')]
        );
        // An address fills an email autolink.
        v.set("linkedin", "jean_d@acme.test");
        let html = super::super::compose::markdown_to_html(
            &render("<{linkedin}>", &v, Escape::Markdown).unwrap(),
        );
        assert!(html.contains("href=\"mailto:jean_d@acme.test\""), "{html}");
        // No scheme, no address: no autolink, so the value is text, escaped, and markup in
        // it stays text (it went in as is, and a cell could carry a link of its own). A bare
        // URL in it is a link whose text is the URL itself, never hidden behind other text.
        for (value, link) in [
            ("linkedin.com/in/jean_dupont", None),
            ("[Click](https://evil.test)", Some("https://evil.test")),
        ] {
            v.set("linkedin", value);
            let body = render("See <{linkedin}>", &v, Escape::Markdown).unwrap();
            let html = super::super::compose::markdown_to_html(&body);
            match link {
                None => assert!(!html.contains("href"), "{value}: {html}"),
                Some(url) => {
                    assert_eq!(html.matches("href").count(), 1, "{html}");
                    assert!(
                        html.contains(&format!(r#"<a href="{url}">{url}</a>"#)),
                        "{value}: {html}"
                    );
                }
            }
            assert_eq!(
                super::super::compose::markdown_to_text(&body).trim_end(),
                format!("See <{value}>"),
                "{body}"
            );
        }
        // A link destination in brackets reads escapes as text does: a space is fine.
        v.set("linkedin", "https://x.test/a b");
        let body = render("[Profile](<{linkedin}>)", &v, Escape::Markdown).unwrap();
        let html = super::super::compose::markdown_to_html(&body);
        assert!(html.contains("href=\"https://x.test/a%20b\""), "{html}");
    }

    #[test]
    fn empty_braces_are_text() {
        let v = vars();
        assert_eq!(plain("json {} and { }", &v).unwrap(), "json {} and { }");
    }

    #[test]
    fn output_never_contains_a_placeholder() {
        let v = vars();
        for t in [
            "{a}{b}",
            "{",
            "{firstname",
            "x {prenom|} y",
            "{{}}",
            "{{a}",
            "{{firstname}",
        ] {
            if let Ok(s) = plain(t, &v) {
                assert_eq!(literal_placeholder(&s), None, "{t:?} -> {s:?}");
            }
        }
        assert_eq!(plain("x {title|} y", &v).unwrap(), "x  y");
    }

    #[test]
    fn literal_placeholders_are_found() {
        for (text, found) in [
            ("Hi {firstname}!", Some("{firstname}")),
            ("a {prenom|there} b", Some("{prenom|there}")),
            ("Bonjour { prenom }", Some("{ prenom }")),
            ("Hi {{firstName}}", Some("{firstName}")),
            ("{1}", Some("{1}")),
            ("no braces", None),
            ("json { } and {}", None),
            ("{\nacross lines}", None),
        ] {
            assert_eq!(literal_placeholder(text).as_deref(), found, "{text:?}");
        }
    }
}
