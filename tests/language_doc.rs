//! docs/language.md is vpl's language reference. Its list of built-ins and its table of
//! codes are generated from `stdlib/*.vpl` and the compiler's codes (`vplc::reference`);
//! this test fails when the file has drifted from them, so the reference users read is
//! the language vplc checks. `VPL_BLESS=1 cargo test --test language_doc` rewrites the
//! generated blocks in place.

use std::path::Path;

use vplc::reference;

fn doc_path() -> std::path::PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("docs/language.md")
}

#[test]
fn the_language_reference_lists_the_stdlib_and_the_codes_as_they_are() {
    let path = doc_path();
    let doc = std::fs::read_to_string(&path).expect("docs/language.md");
    let renewed =
        reference::renew(&doc).expect("docs/language.md keeps its generated-block markers");
    if renewed != doc && std::env::var_os("VPL_BLESS").is_some() {
        std::fs::write(&path, &renewed).expect("rewrite docs/language.md");
        return;
    }
    assert!(
        renewed == doc,
        "docs/language.md has drifted from stdlib/*.vpl or the codes: run \
         `VPL_BLESS=1 cargo test --test language_doc` and review the diff"
    );
}

#[test]
fn every_builtin_and_parameter_is_in_the_reference() {
    let mut doc = std::fs::read_to_string(doc_path()).expect("docs/language.md");
    if std::env::var_os("VPL_BLESS").is_some() {
        // The other test may be rewriting the file at this moment: read what it writes.
        doc = reference::renew(&doc).unwrap_or(doc);
    }
    for b in &vpl_compiler::stdlib::stdlib().builtins {
        let heading = format!("#### `{}` ({})", b.name, b.role.as_str());
        let at = doc
            .find(&heading)
            .unwrap_or_else(|| panic!("docs/language.md has no section `{heading}`"));
        let section = &doc[at..];
        let section = &section[..section[heading.len()..]
            .find("#### ")
            .map_or(section.len(), |n| n + heading.len())];
        for p in &b.params {
            assert!(
                section.contains(&format!("| `{}` |", p.name)),
                "the section of `{}` does not describe its parameter `{}`",
                b.name,
                p.name
            );
        }
    }
    for code in vpl_compiler::Code::ALL {
        assert!(
            doc.contains(&format!("[{c}](errors/{c}.md)", c = code.as_str())),
            "docs/language.md does not list {code:?}"
        );
    }
}

#[test]
fn a_drifted_block_is_renewed() {
    let stale = format!(
        "intro\n{}\nold text\n{}\nmiddle\n{}\nold codes\n{}\nend\n",
        reference::STDLIB_BEGIN,
        reference::STDLIB_END,
        reference::CODES_BEGIN,
        reference::CODES_END
    );
    let renewed = reference::renew(&stale).expect("markers present");
    assert!(!renewed.contains("old text") && !renewed.contains("old codes"));
    assert!(renewed.starts_with("intro\n") && renewed.ends_with("end\n"));
    assert!(renewed.contains("#### `file` (source)"));
    assert!(renewed.contains("[E0301](errors/E0301.md)"));
    assert_eq!(
        reference::renew(&renewed).as_deref(),
        Some(renewed.as_str())
    );
    assert!(reference::renew("no markers").is_none());
}
