//! `vplc import deepstream APP_CONFIG`: runs the importer on the config and the files it
//! names, checks the program it makes as `vplc check` would, and reports every finding,
//! the checker's included, at the DeepStream file and line that produced it.

use std::collections::HashMap;
use std::io::Write;
use std::path::{Path, PathBuf};

use vpl_compiler::diagnostics::{Diagnostic, Label, render};
use vpl_compiler::import::deepstream::{self, Imported, Input};
use vpl_compiler::{FileId, SourceFile, SourceMap, compile};

use crate::cli::{DeepstreamArgs, ImportFormat};
use crate::commands::{CANNOT_RUN, FAILED, OK};
use crate::host::FsHost;

/// What an import found: the DeepStream files, the diagnostics on them, and the program.
pub struct Report {
    pub sources: SourceMap,
    pub diagnostics: Vec<Diagnostic>,
    pub imported: Imported,
    pub out: PathBuf,
}

/// Imports and checks `config`; the program is meant for `out`.
pub fn run_import(config: &Path, text: &str, out: &Path, host: &FsHost) -> Report {
    // Paths in the program are made relative to its folder: the two must be named from the
    // same place, so one absolute makes both absolute.
    let (config, out) = match std::env::current_dir() {
        Ok(here) if config.is_absolute() != out.is_absolute() => {
            (here.join(config), here.join(out))
        }
        _ => (config.to_path_buf(), out.to_path_buf()),
    };
    let (config, out) = (config.as_path(), out.as_path());
    let out_dir = out.parent().unwrap_or(Path::new("")).to_path_buf();
    let read = |p: &Path| -> Result<String, String> {
        if std::fs::metadata(p).is_ok_and(|m| !m.is_file()) {
            return Err("not a regular file".into());
        }
        std::fs::read_to_string(p).map_err(|e| e.to_string())
    };
    let imported = deepstream::import(Input {
        path: config,
        text,
        out_dir: &out_dir,
        read: &read,
        host: Some(host),
    });
    let mut checked = SourceMap::default();
    let c = compile(
        &mut checked,
        &out.display().to_string(),
        out,
        &imported.vpl,
        host,
    );

    let mut sources = SourceMap::default();
    let ids: Vec<FileId> = imported
        .files
        .iter()
        .map(|f| {
            sources.add(SourceFile::new(
                f.path.display().to_string(),
                f.path.clone(),
                f.text.clone(),
            ))
        })
        .collect();
    let mut diagnostics: Vec<Diagnostic> = imported
        .findings
        .iter()
        .map(|f| {
            let mut d = Diagnostic::new(f.code, ids[f.at.file], f.at.span, f.message.clone());
            d.help = f.help.clone();
            d.suggestion = f.suggestion.clone();
            d
        })
        .collect();
    // Other files the checker's labels name (the stdlib), copied as they are.
    let mut others: HashMap<FileId, FileId> = HashMap::new();
    let mut place = |label: &Label| -> Label {
        if label.file == c.file {
            let o = imported.origin(label.span);
            Label::new(ids[o.file], o.span, label.message.clone())
        } else {
            let id = *others
                .entry(label.file)
                .or_insert_with(|| sources.add(checked.get(label.file).clone()));
            Label::new(id, label.span, label.message.clone())
        }
    };
    for d in &c.diagnostics {
        let mut mapped = d.clone();
        mapped.primary = place(&d.primary);
        mapped.labels = d.labels.iter().map(&mut place).collect();
        diagnostics.push(mapped);
    }
    vpl_compiler::diagnostics::sort(&mut diagnostics);
    Report {
        sources,
        diagnostics,
        imported,
        out: out.to_path_buf(),
    }
}

pub fn deepstream(args: &DeepstreamArgs) -> u8 {
    let text = match std::fs::read_to_string(&args.config) {
        Ok(t) => t,
        Err(e) => {
            eprintln!("vplc: cannot read {}: {e}", args.config.display());
            return CANNOT_RUN;
        }
    };
    let out = args
        .output
        .clone()
        .unwrap_or_else(|| args.config.with_extension("vpl"));
    let host = FsHost::new();
    let report = run_import(&args.config, &text, &out, &host);
    host.save();
    let errors = report.diagnostics.iter().filter(|d| d.is_error()).count();
    let warnings = report.diagnostics.len() - errors;
    let write = errors == 0 || args.partial;
    let printed = match args.format {
        ImportFormat::Json => {
            let mut value =
                serde_json::to_value(render::json_report(&report.sources, &report.diagnostics))
                    .unwrap_or_default();
            value["output"] = if write {
                out.display().to_string().into()
            } else {
                serde_json::Value::Null
            };
            crate::output::stdout(&format!("{value}\n"))
        }
        ImportFormat::Sarif => crate::output::stdout(&format!(
            "{}\n",
            crate::sarif::report(&report.sources, &report.diagnostics, &[])
        )),
        ImportFormat::Human => {
            let mut err = crate::commands::stderr_stream();
            let _ = render::human(&mut err, &report.sources, &report.diagnostics);
            let files = report.imported.files.len();
            let _ = writeln!(
                err,
                "vplc: {} and {} in {} read from {}",
                plural(errors, "error"),
                plural(warnings, "warning"),
                plural(files, "DeepStream file"),
                args.config.display()
            );
            Ok(())
        }
    };
    if let Err(message) = printed {
        eprintln!("{message}");
        return CANNOT_RUN;
    }
    if write {
        if let Err(e) = crate::output::write_atomically(&out, report.imported.vpl.as_bytes()) {
            eprintln!("vplc: cannot write {}: {e}", out.display());
            return CANNOT_RUN;
        }
        if args.format == ImportFormat::Human {
            eprintln!("vplc: wrote {}", out.display());
        }
    } else if args.format == ImportFormat::Human {
        eprintln!(
            "vplc: nothing written: fix the errors, or pass --partial to write {} anyway",
            out.display()
        );
    }
    if errors > 0 { FAILED } else { OK }
}

fn plural(n: usize, word: &str) -> String {
    if n == 1 {
        format!("1 {word}")
    } else {
        format!("{n} {word}s")
    }
}
