//! The pages of `vplc explain`, embedded from docs/errors/ at build time.

include!(concat!(env!("OUT_DIR"), "/pages.rs"));

pub fn page(code: &str) -> Option<&'static str> {
    let code = code.trim().to_ascii_uppercase();
    PAGES
        .iter()
        .find(|(c, _)| *c == code)
        .map(|(_, text)| *text)
}
