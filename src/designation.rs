//! How an organisation is called in text people read: „Kreis Coesfeld“, „Stadt Bielefeld“.
//!
//! The reference data names Gebietskörperschaften by their area alone („Coesfeld“), which keeps
//! lists sorted by the name people look for. In a sentence, a heading or a signature that name
//! is ambiguous: the Kreis Coesfeld and the Stadt Coesfeld (a kreisangehörige Gemeinde) are two
//! bodies, and so are the Kreis and the Stadt Düren, Paderborn, Soest and many more. So every
//! place that shows an applicant or another organisation to people says which one it means.

use std::borrow::Cow;

/// The name of an organisation of `kind` (as stored in `organisations.kind`) as it is written in
/// text: a Kreis gets „Kreis“ and a kreisfreie Stadt „Stadt“ in front, unless its name already
/// says what it is („Rhein-Sieg-Kreis“, „StädteRegion Aachen“, „Landeshauptstadt Düsseldorf“).
/// Every other kind is named as registered.
pub fn designation<'a>(kind: &str, name: &'a str) -> Cow<'a, str> {
    // The word put in front, and the words that show a name already says what it is.
    let (prefix, telling): (&str, &[&str]) = match kind {
        "kreis" => ("Kreis", &["kreis", "städteregion"]),
        "kreisfreie_stadt" | "kreisfreie_stadt_in_staedteregion" => ("Stadt", &["stadt"]),
        _ => return Cow::Borrowed(name),
    };
    let lowered = name.to_lowercase();
    if name.is_empty() || telling.iter().any(|word| lowered.contains(word)) {
        Cow::Borrowed(name)
    } else {
        Cow::Owned(format!("{prefix} {name}"))
    }
}

/// A designation with its definite article, for the places where it stands in a sentence.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InSentence {
    /// Subject at the start of a sentence: „Der Kreis Coesfeld“, „Die Stadt Bielefeld“.
    pub subject: String,
    /// After „von“: „vom Kreis Coesfeld“, „von der Stadt Bielefeld“.
    pub from: String,
}

/// `designation` (see [`designation`]) as it reads in a sentence. The article follows the head
/// noun: a Kreis is masculine, a Stadt, StädteRegion or Gemeinde feminine; an adjective before
/// „Kreis“ is declined („der Märkische Kreis“, „vom Märkischen Kreis“). A name whose gender
/// cannot be told (a partner body as registered) stands without article.
pub fn in_sentence(designation: &str) -> InSentence {
    let words: Vec<&str> = designation.split(' ').collect();
    let feminine = ["Stadt", "StädteRegion", "Landeshauptstadt", "Gemeinde"];
    let bare = || InSentence {
        subject: designation.to_string(),
        from: format!("von {designation}"),
    };
    match words.as_slice() {
        [] | [""] => bare(),
        // „Märkischer Kreis“, „Rheinisch-Bergischer Kreis“: strong ending becomes weak.
        [adjective, "Kreis"] if adjective.ends_with("er") => {
            let stem = &adjective[..adjective.len() - 1];
            InSentence {
                subject: format!("Der {stem} Kreis"),
                from: format!("vom {stem}n Kreis"),
            }
        }
        [first, ..] if feminine.contains(first) => InSentence {
            subject: format!("Die {designation}"),
            from: format!("von der {designation}"),
        },
        // „Kreis Soest“, „Rhein-Kreis Neuss“, „Hochsauerlandkreis“, „Ennepe-Ruhr-Kreis“.
        [first, ..]
            if *first == "Kreis"
                || [first, &designation]
                    .iter()
                    .any(|w| w.ends_with("-Kreis") || w.ends_with("kreis")) =>
        {
            InSentence {
                subject: format!("Der {designation}"),
                from: format!("vom {designation}"),
            }
        }
        _ => bare(),
    }
}

#[cfg(test)]
mod tests {
    use super::{InSentence, designation, in_sentence};

    #[test]
    fn designations_take_their_article_in_a_sentence() {
        let cases = [
            ("Kreis Coesfeld", "Der Kreis Coesfeld", "vom Kreis Coesfeld"),
            (
                "Stadt Bielefeld",
                "Die Stadt Bielefeld",
                "von der Stadt Bielefeld",
            ),
            (
                "StädteRegion Aachen",
                "Die StädteRegion Aachen",
                "von der StädteRegion Aachen",
            ),
            (
                "Rhein-Sieg-Kreis",
                "Der Rhein-Sieg-Kreis",
                "vom Rhein-Sieg-Kreis",
            ),
            (
                "Hochsauerlandkreis",
                "Der Hochsauerlandkreis",
                "vom Hochsauerlandkreis",
            ),
            (
                "Rhein-Kreis Neuss",
                "Der Rhein-Kreis Neuss",
                "vom Rhein-Kreis Neuss",
            ),
            (
                "Märkischer Kreis",
                "Der Märkische Kreis",
                "vom Märkischen Kreis",
            ),
            (
                "Rheinisch-Bergischer Kreis",
                "Der Rheinisch-Bergische Kreis",
                "vom Rheinisch-Bergischen Kreis",
            ),
            (
                "Landeshauptstadt Düsseldorf",
                "Die Landeshauptstadt Düsseldorf",
                "von der Landeshauptstadt Düsseldorf",
            ),
            (
                "Schulamt für den Kreis Coesfeld",
                "Schulamt für den Kreis Coesfeld",
                "von Schulamt für den Kreis Coesfeld",
            ),
            ("", "", "von "),
        ];
        for (name, subject, from) in cases {
            assert_eq!(
                in_sentence(name),
                InSentence {
                    subject: subject.into(),
                    from: from.into()
                },
                "{name}"
            );
        }
    }

    #[test]
    fn kreise_and_kreisfreie_staedte_say_what_they_are() {
        let cases = [
            ("kreis", "Coesfeld", "Kreis Coesfeld"),
            ("kreis", "Siegen-Wittgenstein", "Kreis Siegen-Wittgenstein"),
            ("kreis", "Rhein-Kreis Neuss", "Rhein-Kreis Neuss"),
            ("kreis", "Hochsauerlandkreis", "Hochsauerlandkreis"),
            ("kreis", "Märkischer Kreis", "Märkischer Kreis"),
            ("kreis", "StädteRegion Aachen", "StädteRegion Aachen"),
            ("kreis", "Kreis Soest", "Kreis Soest"),
            ("kreisfreie_stadt", "Bielefeld", "Stadt Bielefeld"),
            (
                "kreisfreie_stadt",
                "Mülheim an der Ruhr",
                "Stadt Mülheim an der Ruhr",
            ),
            (
                "kreisfreie_stadt",
                "Landeshauptstadt Düsseldorf",
                "Landeshauptstadt Düsseldorf",
            ),
            (
                "kreisfreie_stadt_in_staedteregion",
                "Aachen",
                "Stadt Aachen",
            ),
        ];
        for (kind, name, expected) in cases {
            assert_eq!(designation(kind, name), expected, "{kind} {name}");
        }
    }

    #[test]
    fn other_kinds_and_blank_names_stay_as_registered() {
        let cases = [
            ("partner", "Schulamt für den Kreis Coesfeld"),
            ("gemeinde", "Stadt Dülmen"),
            ("gemeinde", "Nottuln"),
            ("bezirksregierung", "Bezirksregierung Arnsberg"),
            ("bewilligungsbehoerde", "Kompetenzzentrum für Integration"),
            ("kreis", ""),
            ("kreisfreie_stadt", ""),
        ];
        for (kind, name) in cases {
            assert_eq!(designation(kind, name), name, "{kind} {name}");
        }
    }
}
