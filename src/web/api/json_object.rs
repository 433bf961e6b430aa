//! JSON request bodies that must be objects. serde fills a struct from a JSON array as well,
//! field by field in order (`[null]` would be `{"user": null}`): the API's contract names objects,
//! so an array is refused (400) before anything is read from it. Everything else is as with
//! `web::Json`: the scope's `JsonConfig` (content type, size limit, error answer) applies.

use std::future::Future;
use std::ops::Deref;
use std::pin::Pin;

use actix_web::{FromRequest, HttpRequest, dev::Payload, web};
use serde::de::DeserializeOwned;
use serde_json::value::RawValue;

use super::{bad_request, input_errors};

/// The detail for a body that is an array where an object is expected.
const NOT_AN_OBJECT: &str = "Der Inhalt muss ein JSON-Objekt sein ({ … }), keine Liste.";

/// Extractor of a JSON object body: `web::Json` without the positional reading of arrays.
#[derive(Debug)]
pub struct Json<T>(pub T);

impl<T> Json<T> {
    /// The body, deserialised.
    pub fn into_inner(self) -> T {
        self.0
    }
}

impl<T> Deref for Json<T> {
    type Target = T;

    fn deref(&self) -> &T {
        &self.0
    }
}

impl<T: DeserializeOwned + 'static> FromRequest for Json<T> {
    type Error = actix_web::Error;
    type Future = Pin<Box<dyn Future<Output = Result<Self, Self::Error>>>>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let raw = web::Json::<Box<RawValue>>::from_request(req, payload);
        Box::pin(async move {
            let raw = raw.await?.into_inner();
            parse(raw.get().as_bytes())
                .map(Json)
                .map_err(|detail| bad_request(detail).into())
        })
    }
}

/// Reads an object of `T` from `body`, for handlers that take the body as bytes (an optional
/// body); a German detail for an array or anything serde refuses.
pub fn parse<T: DeserializeOwned>(body: &[u8]) -> Result<T, String> {
    if body.iter().find(|b| !b.is_ascii_whitespace()) == Some(&b'[') {
        return Err(NOT_AN_OBJECT.into());
    }
    let value = serde_json::from_slice(body).map_err(|error| input_errors::json_body(&error))?;
    if escapes_nul(body) {
        return Err(HOLDS_NUL.into());
    }
    Ok(value)
}

/// The detail for a body with a NUL character in a text.
const HOLDS_NUL: &str = "Der Inhalt enthält ein NUL-Zeichen (\\u0000); Texte dürfen es nicht \
                         enthalten.";

/// Whether the JSON text `body` writes a NUL character in a string (`\u0000`, the only way
/// valid JSON can). No text of the API's contract holds one, and PostgreSQL can neither store
/// one nor compare with one, so such a body is refused as a whole, on both backends alike.
fn escapes_nul(body: &[u8]) -> bool {
    let mut i = 0;
    while i < body.len() {
        if body[i] == b'\\' {
            if body[i + 1..].starts_with(b"u0000") {
                return true;
            }
            // Skip the escaped character, so `\\u0000` (a backslash, then text) is no NUL.
            i += 2;
        } else {
            i += 1;
        }
    }
    false
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, PartialEq, serde::Deserialize)]
    struct Body {
        user: Option<String>,
    }

    #[test]
    fn a_nul_character_in_any_text_is_refused() {
        assert_eq!(
            parse::<Body>(br#"{"user": "a\u0000b"}"#),
            Err(HOLDS_NUL.to_string())
        );
        assert_eq!(
            parse::<serde_json::Value>(br#"{"x": {"y": ["\u0000"]}}"#),
            Err(HOLDS_NUL.to_string())
        );
        // An escaped backslash followed by the letters is text, not NUL.
        assert_eq!(
            parse::<Body>(br#"{"user": "a\\u0000"}"#),
            Ok(Body {
                user: Some("a\\u0000".into())
            })
        );
        assert!(parse::<Body>(br#"{"user": "\u00001"}"#).is_err());
        assert!(parse::<Body>(br#"{"user": "\u0001"}"#).is_ok());
    }

    #[test]
    fn an_object_is_read_and_an_array_is_refused() {
        assert_eq!(
            parse::<Body>(br#" {"user": "a@b.de"}"#),
            Ok(Body {
                user: Some("a@b.de".into())
            })
        );
        for array in [&b"[null]"[..], b" \n[\"a@b.de\"]", b"[]"] {
            assert_eq!(parse::<Body>(array), Err(NOT_AN_OBJECT.to_string()));
        }
        assert!(
            parse::<Body>(b"5")
                .unwrap_err()
                .starts_with("Der JSON-Inhalt ist ungültig")
        );
    }
}
