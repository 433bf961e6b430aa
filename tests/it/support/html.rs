//! The links and forms of a page, read as a browser reads them: enough HTML for the pages
//! vorgang writes itself (attributes in double quotes, no scripts), so the form tests can walk
//! the web interface and submit every form it offers.

use super::ui::unescape;

/// A `<form method="post">` of a page and what a browser would submit without any input.
#[derive(Debug, Clone)]
pub struct Form {
    /// Where it is sent (`action`, the page's own address when absent).
    pub action: String,
    /// `enctype="multipart/form-data"`.
    pub multipart: bool,
    /// Name and value of every field a browser sends: inputs and text areas not disabled,
    /// checked boxes and radios, each select's chosen option, the first named submit button.
    pub fields: Vec<(String, String)>,
    /// Names of its file inputs.
    pub files: Vec<String>,
    /// Per field of `fields`, the kind of its element (`input:text`, `select`, `textarea`, …).
    pub kinds: Vec<String>,
}

impl Form {
    fn push(&mut self, kind: &str, name: &str, value: String) {
        self.fields.push((name.to_string(), value));
        self.kinds.push(kind.to_string());
    }
}

/// One tag: its lowercase name (`/form` for a closing one), attributes, and where it ends.
struct Tag {
    name: String,
    attributes: Vec<(String, Option<String>)>,
    end: usize,
}

impl Tag {
    fn get(&self, name: &str) -> Option<&str> {
        self.attributes
            .iter()
            .find(|(key, _)| key == name)
            .map(|(_, value)| value.as_deref().unwrap_or(""))
    }

    fn has(&self, name: &str) -> bool {
        self.attributes.iter().any(|(key, _)| key == name)
    }
}

/// The tag starting at `start` (the position of its `<`), if it is one.
fn tag_at(html: &str, start: usize) -> Option<Tag> {
    let rest = &html[start + 1..];
    let name_len = rest
        .find(|c: char| !(c.is_ascii_alphanumeric() || c == '/' || c == '!'))
        .unwrap_or(rest.len());
    if name_len == 0 {
        return None;
    }
    let name = rest[..name_len].to_ascii_lowercase();
    let mut attributes = Vec::new();
    let bytes = rest.as_bytes();
    let mut i = name_len;
    loop {
        while i < bytes.len() && (bytes[i].is_ascii_whitespace() || bytes[i] == b'/') {
            i += 1;
        }
        if i >= bytes.len() {
            return None;
        }
        if bytes[i] == b'>' {
            return Some(Tag {
                name,
                attributes,
                end: start + 1 + i + 1,
            });
        }
        let key_start = i;
        while i < bytes.len() && !b" \t\n\r=>/".contains(&bytes[i]) {
            i += 1;
        }
        let key = rest[key_start..i].to_ascii_lowercase();
        if i < bytes.len() && bytes[i] == b'=' {
            i += 1;
            let quote = *bytes.get(i)?;
            let value = if quote == b'"' || quote == b'\'' {
                let close = rest[i + 1..].find(quote as char)? + i + 1;
                let value = &rest[i + 1..close];
                i = close + 1;
                value
            } else {
                let value_start = i;
                while i < bytes.len() && !b" \t\n\r>".contains(&bytes[i]) {
                    i += 1;
                }
                &rest[value_start..i]
            };
            attributes.push((key, Some(unescape(value))));
        } else {
            attributes.push((key, None));
        }
    }
}

/// Every tag of `html`, in order, with the text that follows up to the next tag.
fn tags(html: &str) -> Vec<(Tag, &str)> {
    let mut out = Vec::new();
    let mut at = 0;
    while let Some(offset) = html[at..].find('<') {
        let start = at + offset;
        match tag_at(html, start) {
            Some(tag) => {
                let end = tag.end;
                let text_end = html[end..].find('<').map_or(html.len(), |o| end + o);
                let raw_text = tag.name == "textarea";
                let text_end = if raw_text {
                    html[end..]
                        .find("</textarea")
                        .map_or(html.len(), |o| end + o)
                } else {
                    text_end
                };
                out.push((tag, &html[end..text_end]));
                at = text_end.max(end);
            }
            None => at = start + 1,
        }
    }
    out
}

/// Every same-site address the page links to (`href` of `a` elements), without fragments.
pub fn links(html: &str) -> Vec<String> {
    tags(html)
        .into_iter()
        .filter(|(tag, _)| tag.name == "a")
        .filter_map(|(tag, _)| tag.get("href").map(str::to_string))
        .filter(|href| href.starts_with('/') && !href.starts_with("//"))
        .map(|href| href.split('#').next().unwrap_or_default().to_string())
        .filter(|href| !href.is_empty())
        .collect()
}

/// A select being read: name, options (value, whether selected), disabled.
type Select = (String, Vec<(String, bool)>, bool);

/// Every form of the page sent with `POST`; `page` is the page's own address.
pub fn post_forms(html: &str, page: &str) -> Vec<Form> {
    let mut forms = Vec::new();
    let mut current: Option<Form> = None;
    let mut submit_named = false;
    // The open select: its name, its options (value, selected) and whether it is disabled.
    let mut select: Option<Select> = None;
    for (tag, text) in tags(html) {
        match tag.name.as_str() {
            "form" => {
                let post = tag
                    .get("method")
                    .is_some_and(|m| m.eq_ignore_ascii_case("post"));
                current = post.then(|| Form {
                    action: tag
                        .get("action")
                        .filter(|a| !a.is_empty())
                        .unwrap_or(page)
                        .to_string(),
                    multipart: tag.get("enctype") == Some("multipart/form-data"),
                    fields: Vec::new(),
                    files: Vec::new(),
                    kinds: Vec::new(),
                });
                submit_named = false;
            }
            "/form" => forms.extend(current.take()),
            _ => {}
        }
        let Some(form) = current.as_mut() else {
            continue;
        };
        let disabled = tag.has("disabled");
        match tag.name.as_str() {
            "input" => {
                let Some(name) = tag.get("name").filter(|_| !disabled) else {
                    continue;
                };
                let kind = tag.get("type").unwrap_or("text").to_ascii_lowercase();
                let value = tag.get("value").unwrap_or_default().to_string();
                match kind.as_str() {
                    "checkbox" | "radio" => {
                        if tag.has("checked") {
                            form.push(&format!("input:{kind}"), name, value);
                        }
                    }
                    "submit" | "image" => {
                        if !submit_named {
                            submit_named = true;
                            form.push("button", name, value);
                        }
                    }
                    "file" => form.files.push(name.to_string()),
                    "button" | "reset" => {}
                    _ => form.push(&format!("input:{kind}"), name, value),
                }
            }
            "button" => {
                let submits = tag
                    .get("type")
                    .is_none_or(|t| t.eq_ignore_ascii_case("submit"));
                if let Some(name) = tag.get("name").filter(|_| submits && !disabled)
                    && !submit_named
                {
                    submit_named = true;
                    let value = tag.get("value").unwrap_or_default().to_string();
                    form.push("button", name, value);
                }
            }
            "textarea" => {
                if let Some(name) = tag.get("name").filter(|_| !disabled) {
                    let content = unescape(text);
                    let content = content.strip_prefix('\n').unwrap_or(&content).to_string();
                    form.push("textarea", name, content);
                }
            }
            "select" => {
                select = tag
                    .get("name")
                    .map(|name| (name.to_string(), Vec::new(), disabled));
            }
            "option" => {
                if let Some((_, options, _)) = select.as_mut() {
                    let value = tag
                        .get("value")
                        .map_or_else(|| unescape(text.trim()), str::to_string);
                    options.push((value, tag.has("selected")));
                }
            }
            "/select" => {
                if let Some((name, options, disabled)) = select.take() {
                    let chosen = options
                        .iter()
                        .find(|(_, selected)| *selected)
                        .or(options.first());
                    if let (Some((value, _)), false) = (chosen, disabled) {
                        form.push("select", &name, value.clone());
                    }
                }
            }
            _ => {}
        }
    }
    forms
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_forms_as_a_browser_submits_them() {
        let html = r#"<p><a href="/vorgaenge?seite=2#oben">2</a> <a href="https://x.test/">x</a></p>
<form method="get" action="/vorgaenge"><input name="q"></form>
<form method="post" action="/vorgaenge/7/aktionen/pruefen" enctype="multipart/form-data">
<input type="hidden" name="csrf" value="a&amp;b">
<input type="text" name="titel" value="T" disabled>
<input type="file" name="datei"><input type="checkbox" name="x" value="1" checked><input type="checkbox" name="y" value="1">
<select name="rolle"><option value="a">A</option><option value="b" selected>B</option></select>
<select name="leer"><option>Erste</option></select>
<textarea name="text">
Zeile &lt;1&gt;</textarea>
<button type="submit" name="los" value="pruefen">Prüfen</button><button name="los" value="b">B</button>
</form><form method="POST"><input name="n" value="1"></form>"#;
        assert_eq!(links(html), vec!["/vorgaenge?seite=2"]);
        let forms = post_forms(html, "/seite");
        assert_eq!(forms.len(), 2);
        assert_eq!(forms[0].action, "/vorgaenge/7/aktionen/pruefen");
        assert!(forms[0].multipart);
        let fields: Vec<(&str, &str)> = forms[0]
            .fields
            .iter()
            .map(|(k, v)| (k.as_str(), v.as_str()))
            .collect();
        assert_eq!(
            fields,
            vec![
                ("csrf", "a&b"),
                ("x", "1"),
                ("rolle", "b"),
                ("leer", "Erste"),
                ("text", "Zeile <1>"),
                ("los", "pruefen"),
            ]
        );
        assert_eq!(forms[0].files, vec!["datei"]);
        assert_eq!(
            forms[0].kinds,
            vec![
                "input:hidden",
                "input:checkbox",
                "select",
                "select",
                "textarea",
                "button"
            ]
        );
        assert_eq!(forms[1].action, "/seite");
        assert_eq!(forms[1].fields, vec![("n".to_string(), "1".to_string())]);
    }
}
