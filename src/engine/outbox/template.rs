//! Placeholders in subjects and bodies: `{firstname}`, `{company}`, French aliases
//! (`{prenom}`, `{nom}`, `{societe}`), any imported column by its header (`{city}`,
//! `{Site web}`), and a default after a bar (`{firstname|there}`). `{{` and `}}` write
//! literal braces.
//!
//! Rendering never lets a `{…}` through: an unknown name, or an empty value without a
//! default, is an error that names the placeholder, and the row is not sendable.

use std::collections::HashMap;

use crate::engine::import::normalize::header_key;

/// Values by folded name (`header_key`), so `{Prénom}`, `{prenom}` and `{PRENOM}` agree.
#[derive(Debug, Clone, Default)]
pub struct Vars {
    values: HashMap<String, String>,
}

/// French and English names for the same field.
const ALIASES: &[(&str, &str)] = &[
    ("prenom", "firstname"),
    ("first", "firstname"),
    ("firstname", "firstname"),
    ("nom", "lastname"),
    ("last", "lastname"),
    ("lastname", "lastname"),
    ("societe", "company"),
    ("entreprise", "company"),
    ("company", "company"),
    ("fonction", "title"),
    ("poste", "title"),
    ("title", "title"),
    ("domaine", "domain"),
    ("domain", "domain"),
    ("email", "email"),
    ("courriel", "email"),
];

impl Vars {
    pub fn new() -> Vars {
        Vars::default()
    }

    /// Set a value; later sets win, so set imported extras first and fields last.
    pub fn set(&mut self, name: &str, value: &str) {
        self.values.insert(header_key(name), value.to_string());
    }

    /// Every column of an imported row's `extra` JSON object.
    pub fn set_extra_json(&mut self, extra: &str) {
        if let Ok(serde_json::Value::Object(map)) = serde_json::from_str(extra) {
            for (k, v) in map {
                if let Some(s) = v.as_str() {
                    self.set(&k, s);
                }
            }
        }
    }

    fn get(&self, name: &str) -> Option<&str> {
        let key = header_key(name);
        let key = ALIASES
            .iter()
            .find(|(alias, _)| *alias == key)
            .map_or(key.as_str(), |(_, canonical)| canonical);
        self.values.get(key).map(String::as_str)
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TemplateError {
    #[error("unknown placeholder {{{0}}}")]
    Unknown(String),
    #[error("empty placeholder {{{0}}} (add a default: {{{0}|…}})")]
    Empty(String),
    #[error("unclosed placeholder starting {0:?}")]
    Unclosed(String),
}

/// Render `template`; every problem is reported, not just the first.
pub fn render(template: &str, vars: &Vars) -> Result<String, Vec<TemplateError>> {
    let mut out = String::with_capacity(template.len() + 32);
    let mut errors = Vec::new();
    let mut rest = template;
    while let Some(pos) = rest.find(['{', '}']) {
        out.push_str(&rest[..pos]);
        let tail = &rest[pos..];
        if tail.starts_with("{{") || tail.starts_with("}}") {
            out.push(tail.as_bytes()[0] as char);
            rest = &tail[2..];
            continue;
        }
        if let Some(after) = tail.strip_prefix('}') {
            // A lone closing brace is plain text.
            out.push('}');
            rest = after;
            continue;
        }
        let Some(end) = tail.find('}') else {
            errors.push(TemplateError::Unclosed(tail.chars().take(20).collect()));
            rest = "";
            break;
        };
        let inner = &tail[1..end];
        if inner.contains('{') || inner.contains('\n') {
            errors.push(TemplateError::Unclosed(tail.chars().take(20).collect()));
            out.push('{');
            rest = &tail[1..];
            continue;
        }
        let (name, default) = match inner.split_once('|') {
            Some((n, d)) => (n.trim(), Some(d)),
            None => (inner.trim(), None),
        };
        match (vars.get(name), default) {
            (Some(v), _) if !v.trim().is_empty() => out.push_str(v),
            (_, Some(d)) => out.push_str(d),
            (Some(_), None) => errors.push(TemplateError::Empty(name.to_string())),
            (None, None) => errors.push(TemplateError::Unknown(name.to_string())),
        }
        rest = &tail[end + 1..];
    }
    out.push_str(rest);
    if errors.is_empty() {
        Ok(out)
    } else {
        Err(errors)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn vars() -> Vars {
        let mut v = Vars::new();
        v.set_extra_json(r#"{"City":"Lyon","Site web":"acme.test","Notes":""}"#);
        v.set("firstname", "Élodie");
        v.set("lastname", "Durand");
        v.set("company", "Acme SA");
        v.set("title", "");
        v
    }

    #[test]
    fn fields_aliases_extras_and_defaults() {
        let v = vars();
        assert_eq!(
            render("Bonjour {prenom} {NOM} ({societe}), {firstname}", &v).unwrap(),
            "Bonjour Élodie Durand (Acme SA), Élodie"
        );
        assert_eq!(
            render("{city} / {Site web}", &v).unwrap(),
            "Lyon / acme.test"
        );
        assert_eq!(render("Hi {title|there}!", &v).unwrap(), "Hi there!");
        assert_eq!(render("Hi {firstname|there}!", &v).unwrap(), "Hi Élodie!");
        assert_eq!(render("{{literal}} and }", &v).unwrap(), "{literal} and }");
    }

    #[test]
    fn unknown_and_empty_placeholders_are_named() {
        let v = vars();
        let errs = render("Hi {frstname}, {title}, {notes} {x", &v).unwrap_err();
        assert_eq!(
            errs,
            vec![
                TemplateError::Unknown("frstname".into()),
                TemplateError::Empty("title".into()),
                TemplateError::Empty("notes".into()),
                TemplateError::Unclosed("{x".into()),
            ]
        );
        assert!(errs[0].to_string().contains("{frstname}"));
    }

    #[test]
    fn output_never_contains_a_placeholder() {
        let v = vars();
        for t in ["{a}{b}", "{", "{firstname", "x {prenom|} y", "{{}}"] {
            if let Ok(s) = render(t, &v) {
                assert!(
                    !s.contains("{a}") && !s.contains("{firstname"),
                    "{t:?} -> {s:?}"
                );
            }
        }
        assert_eq!(render("x {prenom|} y", &Vars::new()).unwrap(), "x  y");
    }
}
