//! The analysis engine of `vplc lsp`: open documents by URI and the compiler's view of
//! each, in plain types (positions are 0-based lines and UTF-16 columns, as editors count).
//! It knows nothing of the protocol, so tests drive it in process with a `MemoryHost`.

mod complete;
mod goto;
mod hover;
mod locate;
mod problems;
mod scan;
mod text;

use std::collections::HashMap;
use std::path::PathBuf;

use vpl_compiler::{Compilation, Host, SourceFile, SourceMap, compile, compile_incremental};

pub use complete::{Completion, CompletionKind};
pub use goto::{Target, TargetFile};
pub use problems::{Fix, Problem, Related};

/// A place in a document: 0-based line, and column in UTF-16 code units (the protocol's
/// default encoding, which every client supports).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Default)]
pub struct Pos {
    pub line: u32,
    pub character: u32,
}

impl Pos {
    pub fn new(line: u32, character: u32) -> Pos {
        Pos { line, character }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Range {
    pub start: Pos,
    pub end: Pos,
}

/// One edit sent by the editor: `range: None` replaces the whole text.
#[derive(Debug, Clone, PartialEq)]
pub struct Change {
    pub range: Option<Range>,
    pub text: String,
}

/// What a hover shows: Markdown, and the range of the word it is about.
#[derive(Debug, Clone, PartialEq)]
pub struct Hover {
    pub range: Range,
    pub markdown: String,
}

/// A document's compilation, made once per version of its text.
pub struct Analysis {
    pub version: i32,
    pub sources: SourceMap,
    pub compilation: Compilation,
}

struct Document {
    path: PathBuf,
    version: i32,
    /// The current text, with its line table.
    file: SourceFile,
    /// `None` until asked for after an edit: typing does not compile, reading results does.
    analysis: Option<Analysis>,
    /// The compilation of an earlier text, from which the next is made.
    previous: Option<Compilation>,
}

impl Document {
    fn set_text(&mut self, text: String) {
        self.file = SourceFile::new(self.file.name.clone(), self.path.clone(), text);
        if let Some(analysis) = self.analysis.take() {
            self.previous = Some(analysis.compilation);
        }
    }
}

/// The open documents and the host that answers for files, media and models. One host
/// serves the whole session, so its caches make a keystroke cheap: media and models that
/// did not change are not probed or read again.
pub struct Engine<H: Host> {
    host: H,
    docs: HashMap<String, Document>,
}

impl<H: Host> Engine<H> {
    pub fn new(host: H) -> Self {
        Engine {
            host,
            docs: HashMap::new(),
        }
    }

    pub fn host(&self) -> &H {
        &self.host
    }

    /// Opens (or reopens) a document. `path` locates it for the relative paths it names.
    pub fn open(&mut self, uri: &str, path: PathBuf, version: i32, text: String) {
        let name = path.display().to_string();
        let file = SourceFile::new(name, path.clone(), text);
        self.docs.insert(
            uri.to_string(),
            Document {
                path,
                version,
                file,
                analysis: None,
                previous: None,
            },
        );
    }

    /// Applies the editor's changes in order. Returns false for a document that is not
    /// open (nothing to apply them to).
    pub fn change(&mut self, uri: &str, version: i32, changes: Vec<Change>) -> bool {
        let Some(doc) = self.docs.get_mut(uri) else {
            return false;
        };
        for change in changes {
            let text = match change.range {
                None => change.text,
                Some(range) => text::apply(&doc.file, range, &change.text),
            };
            doc.set_text(text);
        }
        doc.version = version;
        true
    }

    pub fn close(&mut self, uri: &str) {
        self.docs.remove(uri);
    }

    pub fn is_open(&self, uri: &str) -> bool {
        self.docs.contains_key(uri)
    }

    /// The URIs of the open documents.
    pub fn uris(&self) -> impl Iterator<Item = &str> {
        self.docs.keys().map(String::as_str)
    }

    pub fn text(&self, uri: &str) -> Option<&str> {
        self.docs.get(uri).map(|d| d.file.text.as_str())
    }

    /// Forgets the compilation of every document, so the next request compiles again with
    /// what is on disk now (a model or media file named by the document may have changed).
    pub fn invalidate(&mut self) {
        for doc in self.docs.values_mut() {
            doc.analysis = None;
            doc.previous = None;
        }
    }

    /// The document's compilation for its current text, compiled now if needed.
    pub fn analysis(&mut self, uri: &str) -> Option<&Analysis> {
        self.analysed(uri).and_then(|d| d.analysis.as_ref())
    }

    fn analysed(&mut self, uri: &str) -> Option<&Document> {
        let doc = self.docs.get_mut(uri)?;
        if doc
            .analysis
            .as_ref()
            .is_none_or(|a| a.version != doc.version)
        {
            // The last version's compilation is the memo of this one: what the edits left
            // alone is moved over, not parsed and checked again (`vpl_compiler::incremental`).
            let mut sources = SourceMap::default();
            let (name, path, text) = (&doc.file.name, &doc.path, &doc.file.text);
            let previous = doc
                .analysis
                .take()
                .map(|a| a.compilation)
                .or(doc.previous.take());
            let compilation = match previous {
                Some(previous) => {
                    compile_incremental(previous, &mut sources, name, path, text, &self.host)
                }
                None => compile(&mut sources, name, path, text, &self.host),
            };
            doc.analysis = Some(Analysis {
                version: doc.version,
                sources,
                compilation,
            });
        }
        Some(doc)
    }

    /// The diagnostics of the document's current text, with the version they belong to.
    pub fn diagnostics(&mut self, uri: &str) -> Option<(i32, Vec<Problem>)> {
        let doc = self.analysed(uri)?;
        let analysis = doc.analysis.as_ref()?;
        Some((doc.version, problems::problems(&doc.file, analysis)))
    }

    pub fn hover(&mut self, uri: &str, pos: Pos) -> Option<Hover> {
        let doc = self.analysed(uri)?;
        let offset = text::offset(&doc.file, pos);
        hover::hover(&doc.file, doc.analysis.as_ref()?, offset)
    }

    pub fn definition(&mut self, uri: &str, pos: Pos) -> Option<Target> {
        let doc = self.analysed(uri)?;
        let offset = text::offset(&doc.file, pos);
        goto::definition(&doc.file, doc.analysis.as_ref()?, offset)
    }

    /// Completions at `pos`. `snippets`: the client accepts snippet syntax (`${1:x}`).
    pub fn completions(&mut self, uri: &str, pos: Pos, snippets: bool) -> Vec<Completion> {
        let Some(doc) = self.analysed(uri) else {
            return Vec::new();
        };
        let Some(analysis) = doc.analysis.as_ref() else {
            return Vec::new();
        };
        let offset = text::offset(&doc.file, pos);
        complete::complete(&doc.file, analysis, offset, snippets)
    }

    /// The formatted text, or `None` when the file has syntax errors (nothing to change).
    pub fn format(&self, uri: &str) -> Option<String> {
        let doc = self.docs.get(uri)?;
        vpl_compiler::fmt::format(&doc.file.text, vpl_compiler::syntax::Mode::Program).ok()
    }

    /// The range covering the whole document, for an edit that replaces all of it.
    pub fn whole_range(&self, uri: &str) -> Option<Range> {
        let doc = self.docs.get(uri)?;
        Some(Range {
            start: Pos::default(),
            end: text::pos(&doc.file, doc.file.text.len()),
        })
    }

    /// Quick fixes of the diagnostics that touch `range`.
    pub fn fixes(&mut self, uri: &str, range: Range) -> Vec<(Problem, Fix)> {
        let Some((_, problems)) = self.diagnostics(uri) else {
            return Vec::new();
        };
        problems
            .into_iter()
            .filter(|p| p.range.start <= range.end && range.start <= p.range.end)
            .filter_map(|p| {
                let fix = p.fix.clone()?;
                Some((p, fix))
            })
            .collect()
    }
}
