//! A deepstream-app config and the files it names (nvinfer, tracker and nvdsanalytics
//! configs) → `.vpl` text, a map from ranges of that text back to the DeepStream keys that
//! produced them, and the importer's own findings (W0601 vpl decides, W0602 dropped, W0603
//! a key DeepStream does not read, E0601 cannot import, E0602 a file that cannot be read).
//!
//! Every key of every file read is accounted for exactly once: mapped, or one finding at
//! its line (`Imported::accounts`). No IO: the caller's reader gives the files' text.

mod analytics;
mod app;
pub mod emit;
pub mod ini;
pub mod keys;
mod nvinfer;
mod tracker;
pub mod yaml;

use std::collections::HashMap;
use std::path::{Component, Path, PathBuf};

use crate::diagnostics::Code;
use crate::span::Span;
use ini::Ini;
use keys::{Fate, GroupKind};

/// A place in one of the DeepStream files read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Origin {
    /// Index into `Imported::files`.
    pub file: usize,
    pub span: Span,
}

/// A DeepStream file the importer read.
#[derive(Debug, Clone)]
pub struct DsFile {
    /// The path as the user would name it (joined onto the app config's folder).
    pub path: PathBuf,
    pub text: String,
    pub ini: Ini,
}

/// How one key was accounted for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum How {
    Mapped,
    /// A finding with this code at the key.
    Finding(Code),
    /// Its group was reported as a whole (disabled, or a group vpl has no part for).
    Group,
}

#[derive(Debug, Clone)]
pub struct Account {
    pub file: usize,
    pub entry: usize,
    pub how: How,
}

/// One of the importer's own findings.
#[derive(Debug, Clone)]
pub struct Finding {
    pub code: Code,
    pub at: Origin,
    pub message: String,
    pub help: Option<String>,
    pub suggestion: Option<String>,
}

#[derive(Debug, Clone)]
pub struct Imported {
    pub files: Vec<DsFile>,
    /// The program, in `vplc fmt` layout when it parses.
    pub vpl: String,
    /// Ranges of `vpl` and where each came from; nested ranges are finer.
    pub map: Vec<(Span, Origin)>,
    pub findings: Vec<Finding>,
    pub accounts: Vec<Account>,
}

impl Imported {
    /// Where a range of the program came from: the smallest mapped range that holds it,
    /// else the one that overlaps it most, else the app config's first group.
    pub fn origin(&self, span: Span) -> Origin {
        let holding = self
            .map
            .iter()
            .filter(|(s, _)| s.start <= span.start && span.end <= s.end)
            .min_by_key(|(s, _)| s.len());
        if let Some((_, o)) = holding {
            return *o;
        }
        let overlap =
            |s: &Span| (s.end.min(span.end) as i64 - s.start.max(span.start) as i64).max(0);
        if let Some((_, o)) = self
            .map
            .iter()
            .filter(|(s, _)| overlap(s) > 0)
            .max_by_key(|(s, _)| overlap(s))
        {
            return *o;
        }
        let first = self.files[0]
            .ini
            .groups
            .first()
            .map(|g| g.span)
            .unwrap_or_default();
        Origin {
            file: 0,
            span: first,
        }
    }

    pub fn has_errors(&self) -> bool {
        self.findings
            .iter()
            .any(|f| f.code.severity() == crate::Severity::Error)
    }
}

/// What the importer is given.
pub struct Input<'a> {
    /// The app config's path (as the user named it) and text.
    pub path: &'a Path,
    pub text: &'a str,
    /// The folder the `.vpl` will be written to: its paths are made relative to it.
    pub out_dir: &'a Path,
    /// Reads a file the config names.
    pub read: &'a dyn Fn(&Path) -> Result<String, String>,
    /// Reads models' signatures, to name the outputs of a model whose parser cannot be
    /// imported; `None`: they are not named.
    pub host: Option<&'a dyn crate::Host>,
}

/// Imports a DeepStream config: a deepstream-app config, or one nvinfer, tracker or
/// nvdsanalytics config on its own (then the program holds what that file describes).
pub fn import(input: Input<'_>) -> Imported {
    let mut im = Importer {
        files: Vec::new(),
        accounted: HashMap::new(),
        findings: Vec::new(),
        kinds: HashMap::new(),
        read: input.read,
        host: input.host,
        out_dir: normalise(input.out_dir),
        not_imported: Vec::new(),
    };
    let is_yaml = matches!(
        input.path.extension().and_then(|e| e.to_str()),
        Some("yml" | "yaml")
    );
    let file = im.add_file(input.path.to_path_buf(), input.text.to_string(), is_yaml);
    let frag = if is_yaml {
        tracker::standalone_yaml(&mut im, file)
    } else {
        app::import(&mut im, file)
    };
    im.finish(frag)
}

pub(crate) struct Importer<'a> {
    files: Vec<DsFile>,
    accounted: HashMap<(usize, usize), How>,
    findings: Vec<Finding>,
    /// The group kind of each (file, group).
    kinds: HashMap<(usize, usize), GroupKind>,
    read: &'a dyn Fn(&Path) -> Result<String, String>,
    host: Option<&'a dyn crate::Host>,
    out_dir: PathBuf,
    /// Things not imported, for the comments at the top of the program.
    not_imported: Vec<String>,
}

impl Importer<'_> {
    fn add_file(&mut self, path: PathBuf, text: String, yaml: bool) -> usize {
        // nvinferserver (Triton) configs are protobuf text: `infer_config {`.
        let block = (!yaml)
            .then(|| {
                let mut offset = 0;
                for line in text.split_inclusive('\n') {
                    let t = line.trim();
                    if !t.starts_with('#') && t.ends_with('{') && !t.contains('=') {
                        let lead = line.len() - line.trim_start().len();
                        return Some(Span::new(offset + lead, offset + lead + t.len()));
                    }
                    offset += line.len();
                }
                None
            })
            .flatten();
        let ini = match (yaml, block) {
            (true, _) => yaml::parse(&text),
            (false, Some(_)) => Ini::default(),
            (false, None) => Ini::parse(&text),
        };
        self.files.push(DsFile { path, text, ini });
        let file = self.files.len() - 1;
        if let Some(span) = block {
            self.not_imported.push(format!(
                "{}: an nvinferserver (Triton) config",
                self.files[file].path.display()
            ));
            self.push_finding(
                Code::E0601,
                Origin { file, span },
                "an nvinferserver (Triton) config cannot be imported: vpl runs ONNX models with ONNX Runtime; name the model in an nvinfer config (`onnx-file`)".into(),
                None,
            );
        }
        for m in self.files[file].ini.malformed.clone() {
            self.push_finding(
                Code::E0602,
                Origin { file, span: m.span },
                format!("line {} cannot be read: {}", m.line, m.why),
                None,
            );
        }
        file
    }

    /// Reads a file the config at `from` names (relative to `from`'s folder): its index, or
    /// E0602 at `at` when it cannot be read.
    fn open(&mut self, from: usize, name: &str, at: Origin, yaml: bool) -> Option<usize> {
        let path = self.resolve(from, name);
        if let Some(i) = self.files.iter().position(|f| f.path == path) {
            return Some(i);
        }
        match (self.read)(&path) {
            Ok(text) => Some(self.add_file(path, text, yaml)),
            Err(why) => {
                self.push_finding(
                    Code::E0602,
                    at,
                    format!("cannot read `{}`: {why}", path.display()),
                    None,
                );
                None
            }
        }
    }

    /// A path named in file `from`, joined onto its folder as DeepStream does.
    fn resolve(&self, from: usize, name: &str) -> PathBuf {
        let name = Path::new(name);
        if name.is_absolute() {
            return name.to_path_buf();
        }
        let dir = self.files[from].path.parent().unwrap_or(Path::new(""));
        normalise(&dir.join(name))
    }

    /// A path named in file `from`, as the `.vpl` (in `out_dir`) names it.
    fn vpl_path(&self, from: usize, name: &str) -> String {
        let path = self.resolve(from, name);
        if path.is_absolute() {
            return path.display().to_string();
        }
        relative(&path, &self.out_dir).display().to_string()
    }

    fn entry(&self, file: usize, entry: usize) -> &ini::Entry {
        &self.files[file].ini.entries[entry]
    }

    fn origin(&self, file: usize, entry: usize) -> Origin {
        Origin {
            file,
            span: self.entry(file, entry).span(),
        }
    }

    fn value_origin(&self, file: usize, entry: usize) -> Origin {
        Origin {
            file,
            span: self.entry(file, entry).value_span,
        }
    }

    fn group_origin(&self, file: usize, group: usize) -> Origin {
        Origin {
            file,
            span: self.files[file].ini.groups[group].span,
        }
    }

    /// The last `key` of a group, marked mapped: its index.
    fn take(&mut self, file: usize, group: usize, key: &str) -> Option<usize> {
        let g = &self.files[file].ini.groups[group];
        let e = self.files[file].ini.find(g, key)?;
        self.accounted.entry((file, e)).or_insert(How::Mapped);
        Some(e)
    }

    /// The value of `key`, marked mapped.
    fn value(&mut self, file: usize, group: usize, key: &str) -> Option<(String, usize)> {
        let e = self.take(file, group, key)?;
        Some((self.entry(file, e).value.clone(), e))
    }

    /// The value of `key` as an integer; a value that is not one is E0601 at it.
    fn int(&mut self, file: usize, group: usize, key: &str) -> Option<(i64, usize)> {
        let (text, e) = self.value(file, group, key)?;
        match text.trim().parse::<i64>() {
            Ok(v) => Some((v, e)),
            Err(_) => {
                self.report(
                    file,
                    e,
                    Code::E0601,
                    format!("`{key}={text}` is not an integer"),
                    None,
                );
                None
            }
        }
    }

    fn float(&mut self, file: usize, group: usize, key: &str) -> Option<(f64, usize)> {
        let (text, e) = self.value(file, group, key)?;
        match text.trim().parse::<f64>() {
            Ok(v) if v.is_finite() => Some((v, e)),
            _ => {
                self.report(
                    file,
                    e,
                    Code::E0601,
                    format!("`{key}={text}` is not a number"),
                    None,
                );
                None
            }
        }
    }

    /// A finding at a key, which it accounts for (replacing "mapped").
    fn report(
        &mut self,
        file: usize,
        entry: usize,
        code: Code,
        message: String,
        help: Option<String>,
    ) {
        self.accounted.insert((file, entry), How::Finding(code));
        let at = self.origin(file, entry);
        if code == Code::E0601 {
            let e = self.entry(file, entry);
            self.not_imported.push(format!(
                "{}:{}: `{}={}`: {message}",
                self.files[file].path.display(),
                e.line,
                e.key,
                e.value
            ));
        }
        self.push_finding(code, at, message, help);
    }

    fn push_finding(&mut self, code: Code, at: Origin, message: String, help: Option<String>) {
        self.findings.push(Finding {
            code,
            at,
            message,
            help,
            suggestion: None,
        });
    }

    /// Reports a whole group (disabled, or vpl has no part for it): one finding at its
    /// header accounts for all its keys.
    fn whole_group(&mut self, file: usize, group: usize, code: Code, message: String) {
        let origin = self.group_origin(file, group);
        let entries = self.files[file].ini.groups[group].entries.clone();
        for e in entries {
            self.accounted.entry((file, e)).or_insert(How::Group);
        }
        if code == Code::E0601 {
            let g = &self.files[file].ini.groups[group];
            self.not_imported.push(format!(
                "{}:{}: [{}]: {message}",
                self.files[file].path.display(),
                g.line,
                g.name
            ));
        }
        self.push_finding(code, origin, message, None);
    }

    /// Accounts for every key of the file that nothing mapped, from the tables in `keys`.
    fn sweep(&mut self, file: usize) {
        let groups = self.files[file].ini.groups.clone();
        for (gi, g) in groups.iter().enumerate() {
            let kind = self.kinds.get(&(file, gi)).copied();
            for (pos, &e) in g.entries.iter().enumerate() {
                if self.accounted.contains_key(&(file, e)) {
                    continue;
                }
                let entry = self.entry(file, e).clone();
                let later = g.entries[pos + 1..]
                    .iter()
                    .any(|&o| self.entry(file, o).key == entry.key);
                if later {
                    self.report(
                        file,
                        e,
                        Code::W0602,
                        format!(
                            "`{}` is set again below: DeepStream reads the last value",
                            entry.key
                        ),
                        None,
                    );
                    continue;
                }
                let Some(kind) = kind else {
                    // A group the importer does not know: its header has the finding.
                    self.accounted.insert((file, e), How::Group);
                    continue;
                };
                match keys::fate(kind, &entry.key) {
                    Some(Fate::Mapped) => self.report(
                        file,
                        e,
                        Code::W0602,
                        format!(
                            "`{}` has no effect with this group's other settings: dropped",
                            entry.key
                        ),
                        None,
                    ),
                    Some(Fate::Decided(why)) => self.report(
                        file,
                        e,
                        Code::W0601,
                        format!("`{}`: {why}", entry.key),
                        None,
                    ),
                    Some(Fate::Dropped(why)) => self.report(
                        file,
                        e,
                        Code::W0602,
                        format!("`{}` has no equivalent in vpl, dropped: {why}", entry.key),
                        None,
                    ),
                    Some(Fate::Cannot(why)) => self.report(
                        file,
                        e,
                        Code::E0601,
                        format!("`{}` cannot be imported: {why}", entry.key),
                        None,
                    ),
                    None => {
                        let suggestion =
                            crate::suggest::did_you_mean(&entry.key, keys::names(kind))
                                .map(str::to_string);
                        let message = format!(
                            "DeepStream does not read `{}` in [{}]: it says `Unknown key` and goes on",
                            entry.key, g.name
                        );
                        self.report(file, e, Code::W0603, message, None);
                        if let (Some(s), Some(f)) = (suggestion, self.findings.last_mut()) {
                            f.help = Some(format!("did you mean `{s}`?"));
                            f.suggestion = Some(s);
                        }
                    }
                }
            }
        }
    }

    fn finish(mut self, program: emit::Frag) -> Imported {
        for file in 0..self.files.len() {
            self.sweep(file);
        }
        let mut frag = emit::Frag::new();
        let first = self.files[0]
            .path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        frag.push(format!(
            "// Imported from the DeepStream config {first} by `vplc import deepstream`.\n"
        ));
        if !self.not_imported.is_empty() {
            frag.push("//\n// Not imported:\n");
            for line in &self.not_imported {
                frag.push(format!("// - {}\n", line.replace('\n', " ")));
            }
        }
        frag.push("\n");
        frag.append(program);
        let (vpl, map) = match crate::fmt::format(&frag.text, crate::syntax::Mode::Program) {
            Ok(formatted) => {
                let to = emit::realign(&frag.text, &formatted);
                let map = frag
                    .map
                    .iter()
                    .map(|(s, o)| (emit::moved(&to, *s), *o))
                    .collect();
                (formatted, map)
            }
            Err(_) => (frag.text, frag.map),
        };
        let mut accounts: Vec<Account> = self
            .accounted
            .iter()
            .map(|(&(file, entry), &how)| Account { file, entry, how })
            .collect();
        accounts.sort_by_key(|a| (a.file, a.entry));
        self.findings
            .sort_by_key(|f| (f.at.file, f.at.span.start, f.code));
        Imported {
            files: self.files,
            vpl,
            map,
            findings: self.findings,
            accounts,
        }
    }
}

/// `a/./b/../c` → `a/c`, lexically.
fn normalise(path: &Path) -> PathBuf {
    let mut out: Vec<Component> = Vec::new();
    for c in path.components() {
        match c {
            Component::CurDir => {}
            Component::ParentDir => match out.last() {
                Some(Component::Normal(_)) => {
                    out.pop();
                }
                Some(Component::RootDir) => {}
                _ => out.push(c),
            },
            c => out.push(c),
        }
    }
    out.iter().collect()
}

/// `path` as seen from `base`; both relative to the same folder and normalised.
fn relative(path: &Path, base: &Path) -> PathBuf {
    let p: Vec<Component> = path.components().collect();
    let b: Vec<Component> = base.components().collect();
    let common = p.iter().zip(&b).take_while(|(x, y)| x == y).count();
    if b[common..]
        .iter()
        .any(|c| matches!(c, Component::ParentDir))
    {
        // The output folder is above the working folder: the path as DeepStream named it.
        return path.to_path_buf();
    }
    let mut out = PathBuf::new();
    for _ in common..b.len() {
        out.push("..");
    }
    for c in &p[common..] {
        out.push(c);
    }
    out
}

/// A vpl identifier made of a name: lower case, `_` for anything else.
fn ident(name: &str) -> String {
    let mut out: String = name
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() {
                c.to_ascii_lowercase()
            } else {
                '_'
            }
        })
        .collect();
    if out.is_empty() || out.starts_with(|c: char| c.is_ascii_digit()) {
        out.insert(0, 'p');
    }
    out
}
