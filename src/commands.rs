//! The subcommands: each reads its inputs, calls the compiler, prints, and returns the
//! exit status of spec section 8.

use std::io::{IsTerminal, Write};
use std::path::Path;

use codespan_reporting::term::termcolor::{ColorChoice, StandardStream};
use vpl_compiler::diagnostics::render;
use vpl_compiler::syntax::Mode;
use vpl_compiler::{Diagnostic, SourceMap, compile};

use crate::cli::{BuildArgs, CheckArgs, Command, Emit, ExplainArgs, FmtArgs, Format};
use crate::host::FsHost;

/// Exit statuses (spec section 8).
pub const OK: u8 = 0;
pub const FAILED: u8 = 1;
pub const CANNOT_RUN: u8 = 2;

pub fn run(cli: crate::cli::Cli) -> u8 {
    match cli.command {
        Command::Check(args) => check(&args),
        Command::Build(args) => build(&args),
        Command::Run(args) => crate::run::run(&args),
        Command::Fmt(args) => fmt(&args),
        Command::Explain(args) => explain(&args),
        Command::Lsp(_) => crate::lsp::serve(),
        Command::Import(crate::cli::ImportFrom::Deepstream(args)) => {
            crate::import::deepstream(&args)
        }
        Command::Deploy(args) => crate::deploy::deploy(&args),
    }
}

pub fn stderr_stream() -> StandardStream {
    let color = std::env::var_os("NO_COLOR").is_none() && std::io::stderr().is_terminal();
    StandardStream::stderr(if color {
        ColorChoice::Auto
    } else {
        ColorChoice::Never
    })
}

fn read(path: &Path) -> Result<String, String> {
    let cannot = |why: String| format!("vplc: cannot read {}: {why}", path.display());
    // A FIFO with no writer would block the read for ever, a device never end it.
    if let Ok(meta) = std::fs::metadata(path)
        && !meta.is_file()
        && !meta.is_dir()
    {
        return Err(cannot(
            "it is not a regular file (a FIFO, socket or device): vpl reads programs only from files"
                .into(),
        ));
    }
    std::fs::read_to_string(path).map_err(|e| cannot(e.to_string()))
}

/// The result of checking several files: their sources and all their diagnostics.
pub struct Checked {
    pub sources: SourceMap,
    pub diagnostics: Vec<Diagnostic>,
    /// Files that could not be read, with the reason.
    pub unreadable: Vec<String>,
    pub types: Vec<StreamType>,
}

pub fn check_files(files: &[impl AsRef<Path>]) -> Checked {
    let host = FsHost::new();
    let checked = check_files_with(files, &host);
    host.save();
    checked
}

pub fn check_files_with(files: &[impl AsRef<Path>], host: &FsHost) -> Checked {
    let mut sources = SourceMap::default();
    let mut types = Vec::new();
    let mut diagnostics = Vec::new();
    let mut unreadable = Vec::new();
    for path in files {
        let path = path.as_ref();
        match read(path) {
            Ok(text) => {
                let name = path.display().to_string();
                let c = compile(&mut sources, &name, path, &text, host);
                for p in &c.typed.pipelines {
                    for (stream, span, ty) in &p.lets {
                        types.push(StreamType {
                            file: c.file,
                            pipeline: p.name.clone(),
                            stream: stream.clone(),
                            span: *span,
                            ty: ty.to_string(),
                        });
                    }
                }
                diagnostics.extend(c.diagnostics);
                // The trees are not needed again and the process ends soon: freeing a
                // large program's nodes one by one costs more than the rest of the check.
                std::mem::forget((c.ast, c.program, c.typed));
            }
            Err(e) => unreadable.push(e),
        }
    }
    Checked {
        sources,
        diagnostics,
        unreadable,
        types,
    }
}

/// A `let`-bound stream and its type, for `vplc check --types`.
pub struct StreamType {
    pub file: vpl_compiler::FileId,
    pub pipeline: String,
    pub stream: String,
    pub span: vpl_compiler::syntax::Span,
    pub ty: String,
}

fn check(args: &CheckArgs) -> u8 {
    let checked = check_files(&args.files);
    for problem in &checked.unreadable {
        eprintln!("{problem}");
    }
    let errors = checked.diagnostics.iter().filter(|d| d.is_error()).count();
    let warnings = checked.diagnostics.len() - errors;
    let printed = match args.format {
        Format::Json => {
            let mut report =
                serde_json::to_value(render::json_report(&checked.sources, &checked.diagnostics))
                    .unwrap_or_default();
            if args.types {
                let types: Vec<serde_json::Value> = checked
                    .types
                    .iter()
                    .map(|t| {
                        let file = checked.sources.get(t.file);
                        let (line, column) = file.line_column(t.span.start as usize);
                        serde_json::json!({
                            "file": file.name, "pipeline": t.pipeline, "stream": t.stream,
                            "line": line, "column": column, "type": t.ty,
                        })
                    })
                    .collect();
                report["types"] = serde_json::Value::Array(types);
            }
            // A file that could not be read was not checked: say so in the object too, so
            // `"errors": 0` is never read as a pass (the exit status is 2).
            if !checked.unreadable.is_empty() {
                report["unreadable"] = checked
                    .unreadable
                    .iter()
                    .map(|r| r.trim_start_matches("vplc: ").to_string())
                    .collect::<Vec<_>>()
                    .into();
            }
            crate::output::stdout(&format!("{report}\n"))
        }
        Format::Sarif => crate::output::stdout(&format!("{}\n", crate::sarif::log(&checked))),
        Format::Github => crate::output::stdout(&crate::github::annotations(&checked)),
        Format::Human => {
            let types = if args.types {
                crate::output::stdout(&types_text(&checked))
            } else {
                Ok(())
            };
            let mut err = stderr_stream();
            let _ = render::human(&mut err, &checked.sources, &checked.diagnostics);
            let files = args.files.len() - checked.unreadable.len();
            let summary = match (errors, warnings) {
                (0, 0) => format!("vplc: {} clean", plural(files, "file")),
                _ => format!(
                    "vplc: {} and {} in {}",
                    plural(errors, "error"),
                    plural(warnings, "warning"),
                    plural(files, "file")
                ),
            };
            let _ = writeln!(err, "{summary}");
            types
        }
    };
    if let Err(message) = printed {
        eprintln!("{message}");
        return CANNOT_RUN;
    }
    if !checked.unreadable.is_empty() {
        CANNOT_RUN
    } else if errors > 0 || (args.deny_warnings && warnings > 0) {
        FAILED
    } else {
        OK
    }
}

/// `people.vpl: pipeline watch` then `  tracked: video<...> + objects[...]`, for stdout.
fn types_text(checked: &Checked) -> String {
    let mut text = String::new();
    let mut last: Option<(vpl_compiler::FileId, &str)> = None;
    for t in &checked.types {
        if last != Some((t.file, t.pipeline.as_str())) {
            text.push_str(&format!(
                "{}: pipeline {}\n",
                checked.sources.get(t.file).name,
                t.pipeline
            ));
            last = Some((t.file, t.pipeline.as_str()));
        }
        text.push_str(&format!("  {}: {}\n", t.stream, t.ty));
    }
    text
}

/// Reads and compiles one file for `build` and `run`: the compilation, or the exit status
/// after printing why it cannot go on.
pub fn compile_one(
    path: &Path,
    pipeline: Option<&str>,
) -> Result<(SourceMap, vpl_compiler::Compilation, usize), u8> {
    let text = read(path).map_err(|e| {
        crate::log::error(e);
        CANNOT_RUN
    })?;
    let host = FsHost::new();
    let mut sources = SourceMap::default();
    let c = compile(
        &mut sources,
        &path.display().to_string(),
        path,
        &text,
        &host,
    );
    host.save();
    crate::log::diagnostics(&sources, &c.diagnostics);
    if c.has_errors() {
        let errors = c.diagnostics.iter().filter(|d| d.is_error()).count();
        crate::log::error(format!(
            "vplc: {} in {}: nothing built",
            plural(errors, "error"),
            path.display()
        ));
        return Err(FAILED);
    }
    let index = c.select_pipeline(pipeline).map_err(|e| {
        crate::log::error(format!("vplc: {}: {e}", path.display()));
        CANNOT_RUN
    })?;
    Ok((sources, c, index))
}

fn build(args: &BuildArgs) -> u8 {
    // clap asks for `--emit` unless `--engine` is given.
    let Some(emit) = args.emit else {
        return crate::engines::build(args);
    };
    let (sources, c, index) = match compile_one(&args.file, args.pipeline.as_deref()) {
        Ok(ok) => ok,
        Err(status) => return status,
    };
    let chosen =
        crate::backend::choose(args.backend, &crate::backend::Machine::probe(args.backend));
    let (graph, lowered) = match c.lower_for(index, &chosen.target) {
        Ok(lowered) => lowered,
        Err(e) => {
            eprintln!("vplc: internal error while lowering (please report it): {e}");
            return CANNOT_RUN;
        }
    };
    if let Some(warning) = crate::backend::cpu_decoding_warning(&lowered.cpu_decoding) {
        eprintln!("{warning}");
    }
    let plan = lowered.plan;
    let text = match emit {
        Emit::Plan => format!(
            "{}{}",
            graph.describe(&sources, c.file),
            plan.describe_pools()
        ),
        Emit::Gst => format!("{}\n", plan.launch_text()),
        Emit::Dot => plan.dot(),
    };
    match &args.output {
        Some(out) => match std::fs::write(out, text) {
            Ok(()) => OK,
            Err(e) => {
                eprintln!("vplc: cannot write {}: {e}", out.display());
                CANNOT_RUN
            }
        },
        None => match crate::output::stdout(&text) {
            Ok(()) => OK,
            Err(message) => {
                eprintln!("{message}");
                CANNOT_RUN
            }
        },
    }
}

fn plural(n: usize, word: &str) -> String {
    if n == 1 {
        format!("1 {word}")
    } else {
        format!("{n} {word}s")
    }
}

fn fmt(args: &FmtArgs) -> u8 {
    let mut status = OK;
    for path in &args.files {
        // fmt replaces the file: a FIFO or device would be waited on, then replaced.
        if std::fs::metadata(path).is_ok_and(|m| !m.is_file()) {
            eprintln!(
                "vplc: {} is not a regular file: fmt formats files in place",
                path.display()
            );
            status = CANNOT_RUN;
            continue;
        }
        let text = match read(path) {
            Ok(t) => t,
            Err(e) => {
                eprintln!("{e}");
                status = CANNOT_RUN;
                continue;
            }
        };
        match vpl_compiler::fmt::format(&text, Mode::Program) {
            Err(errors) => {
                let mut sources = SourceMap::default();
                let file = sources.add(vpl_compiler::SourceFile::new(
                    path.display().to_string(),
                    path,
                    text,
                ));
                let diagnostics: Vec<Diagnostic> =
                    errors.iter().map(|e| e.to_diagnostic(file)).collect();
                let _ = render::human(&mut stderr_stream(), &sources, &diagnostics);
                eprintln!(
                    "vplc: {} not formatted: fix the syntax errors first",
                    path.display()
                );
                status = status.max(FAILED);
            }
            Ok(formatted) if formatted == text => {}
            Ok(formatted) => {
                if args.check {
                    eprintln!("vplc: {} is not formatted", path.display());
                    status = status.max(FAILED);
                } else if let Err(e) = crate::output::write_atomically(path, formatted.as_bytes()) {
                    eprintln!("vplc: cannot write {}: {e}", path.display());
                    status = CANNOT_RUN;
                }
            }
        }
    }
    status
}

fn explain(args: &ExplainArgs) -> u8 {
    match crate::pages::page(&args.code) {
        Some(page) => match crate::output::stdout(page) {
            Ok(()) => OK,
            Err(message) => {
                eprintln!("{message}");
                CANNOT_RUN
            }
        },
        None => {
            eprintln!(
                "vplc: no diagnostic code `{}`: codes look like E0301 or W0001 (see docs/errors/)",
                args.code
            );
            CANNOT_RUN
        }
    }
}
