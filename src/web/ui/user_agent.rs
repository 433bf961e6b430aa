//! A browser's `User-Agent` header, told in a few German words („Firefox unter Windows“).
//!
//! The account page lists where the user is logged in; a list of times alone does not let
//! anyone tell the office computer from a forgotten login elsewhere. Only this description is
//! stored with a session, not the header: it names the browser family and the operating system
//! and nothing more (no versions, no device model), which is all the user needs to recognise a
//! login and less to keep about them. Unknown agents are described as such, never guessed. No
//! address is kept with a session either: the list must not become a record of where staff
//! work from.

/// Browser families, most specific first: Edge and Opera also call themselves Chrome, and
/// Chrome calls itself Safari.
const BROWSERS: [(&str, &str); 7] = [
    ("Edg/", "Edge"),
    ("EdgA/", "Edge"),
    ("OPR/", "Opera"),
    ("Firefox/", "Firefox"),
    ("Chromium/", "Chromium"),
    ("Chrome/", "Chrome"),
    ("Safari/", "Safari"),
];

/// Operating systems, most specific first: Android and ChromeOS also say Linux, iOS says
/// „like Mac OS X“.
const SYSTEMS: [(&str, &str); 7] = [
    ("Windows", "Windows"),
    ("Android", "Android"),
    ("iPhone", "iOS"),
    ("iPad", "iPadOS"),
    ("CrOS", "ChromeOS"),
    ("Mac OS X", "macOS"),
    ("Linux", "Linux"),
];

/// The description of `header`, e.g. „Firefox unter Windows“, „Safari unter iOS“,
/// „unbekannter Browser unter Linux“, or `None` when neither is recognised (a script, a tool).
pub fn describe(header: &str) -> Option<String> {
    let find = |table: &[(&str, &'static str)]| {
        table
            .iter()
            .find(|(marker, _)| header.contains(marker))
            .map(|(_, name)| *name)
    };
    match (find(&BROWSERS), find(&SYSTEMS)) {
        (None, None) => None,
        (Some(browser), None) => Some(browser.to_string()),
        (None, Some(system)) => Some(format!("unbekannter Browser unter {system}")),
        (Some(browser), Some(system)) => Some(format!("{browser} unter {system}")),
    }
}

#[cfg(test)]
mod tests {
    use super::describe;

    #[test]
    fn the_common_browsers_are_named_with_their_system() {
        for (header, expected) in [
            (
                "Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:133.0) Gecko/20100101 Firefox/133.0",
                "Firefox unter Windows",
            ),
            (
                "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36 Edg/131.0.0.0",
                "Edge unter Windows",
            ),
            (
                "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/18.1 Safari/605.1.15",
                "Safari unter macOS",
            ),
            (
                "Mozilla/5.0 (iPhone; CPU iPhone OS 18_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/18.1 Mobile/15E148 Safari/604.1",
                "Safari unter iOS",
            ),
            (
                "Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Mobile Safari/537.36",
                "Chrome unter Android",
            ),
            (
                "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36 OPR/115.0.0.0",
                "Opera unter Linux",
            ),
            (
                "Mozilla/5.0 (X11; CrOS x86_64 14541.0.0) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36",
                "Chrome unter ChromeOS",
            ),
        ] {
            assert_eq!(describe(header).as_deref(), Some(expected), "{header}");
        }
    }

    #[test]
    fn what_is_not_recognised_is_not_guessed() {
        assert_eq!(describe("curl/8.5.0"), None);
        assert_eq!(describe(""), None);
        assert_eq!(
            describe("Mozilla/5.0 (X11; Linux x86_64) Lynx").as_deref(),
            Some("unbekannter Browser unter Linux")
        );
    }
}
