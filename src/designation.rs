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

#[cfg(test)]
mod tests {
    use super::designation;

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
