//! The text decoders' rules: which outputs `text_boxes` and `ctc` read, and where a CTC
//! recogniser's alphabet comes from (`ctc(alphabet: "dict.txt")`, or PaddleOCR's
//! `character` metadata) and whether its length fits the classes (E0315, E0316).

use std::path::Path;

use super::errors::{DecoderError, ShapeProblem};
use super::input::InputError;
use super::{Decl, ModelKind, shape_text};
use crate::check::errors::TypeError;
use crate::diagnostics::{Code, Diagnostic};
use crate::facts::{FactError, ModelFacts, TensorFacts};
use crate::hir::{BoundCall, Value};
use crate::host::normalize;
use crate::source::FileId;
use crate::stage::Decoder;
use crate::syntax::Span;

// Read by the checker here and by `vplinfer` when it starts: a fact of the model file.
pub use crate::facts::{CHARACTER_METADATA, metadata_alphabet};

/// What is wrong with a recogniser's alphabet (E0315, E0316).
#[derive(Debug, Clone, PartialEq)]
pub enum TextError {
    /// The CTC alphabet has neither `C - 1` nor `C - 2` characters.
    AlphabetLength {
        span: Span,
        characters: usize,
        classes: i64,
        /// Where it came from: "the file `dict.txt`", "the model's `character` metadata".
        origin: String,
        output: String,
    },
    /// `ctc` without `alphabet:` on a model with no `character` metadata.
    NoAlphabet { span: Span, classes: i64 },
}

/// `text_boxes`: a `[N, 1, H, W]` probability map (H and W may be open: they follow the
/// input). One class, "text".
pub(crate) fn text_map_shape(dims: &[Option<i64>]) -> Result<Option<i64>, ShapeProblem> {
    match dims {
        // An open channel is checked at run time (W0302, `model.rs`) where no run of the
        // model could fix it.
        [_, Some(1) | None, _, _] => Ok(Some(1)),
        _ => Err(ShapeProblem::NotTextMap),
    }
}

/// `ctc`: `[N, T, C]` scores, C fixed (T may be open: it follows the input's width).
pub(crate) fn ctc_shape(dims: &[Option<i64>]) -> Result<Option<i64>, ShapeProblem> {
    match dims {
        [_, _, Some(c)] if *c >= 2 => Ok(Some(*c)),
        [_, _, None] => Err(ShapeProblem::DynamicClasses),
        _ => Err(ShapeProblem::NotCtc),
    }
}

/// The `alphabet:` file a `ctc` decoder names, resolved against the `.vpl` file's folder;
/// `None` when the alphabet is the model's metadata.
fn alphabet_file(decoder: &BoundCall, dir: &Path) -> Option<std::path::PathBuf> {
    match decoder.bound("alphabet") {
        Some(a) if a.given => match &a.value {
            Value::String(file) => Some(normalize(&dir.join(file))),
            _ => None,
        },
        _ => None,
    }
}

/// W0302: a text map whose channels the file leaves open (and no run fixed) is checked
/// at run time.
pub(super) fn open_channels(
    d: &Decl,
    read: bool,
    output: &TensorFacts,
    errors: &mut Vec<TypeError>,
) {
    if d.kind == Decoder::TextBoxes
        && read
        && output.shape.len() == 4
        && output.shape[1].fixed().is_none()
    {
        errors.push(TypeError::Decoder(DecoderError::OpenDimension {
            span: d.decoder_span,
            decoder: d.kind,
            output: format!("`{}` {}", output.name, shape_text(output)),
            what: "channels",
        }));
    }
}

/// A `ctc` model: its classes and the alphabet they stand for (E0315, E0316 clear `ok`).
pub(super) fn recognizer(
    d: &Decl,
    facts: &ModelFacts,
    classes: Option<i64>,
    output: &TensorFacts,
    ok: &mut bool,
    errors: &mut Vec<TypeError>,
) -> ModelKind {
    let alphabet = match (d.decoder, classes) {
        (Some(call), Some(c)) => alphabet(
            d,
            call,
            facts,
            c,
            format!("`{}` {}", output.name, shape_text(output)),
            errors,
        ),
        _ => None,
    };
    *ok &= alphabet.is_some() || classes.is_none();
    ModelKind::Recognizer {
        classes,
        alphabet: alphabet.unwrap_or_default(),
        alphabet_file: d.decoder.and_then(|call| alphabet_file(call, d.dir)),
    }
}

/// The alphabet a `ctc` decoder reads with `classes` classes, space last where the model
/// has one class more than the characters (PaddleOCR's `use_space_char`). `None` after
/// an error is reported (or when the host cannot read files).
fn alphabet(
    d: &Decl,
    decoder: &BoundCall,
    facts: &ModelFacts,
    classes: i64,
    output: String,
    errors: &mut Vec<TypeError>,
) -> Option<Vec<String>> {
    let (host, dir, decoder_span) = (d.host, d.dir, d.decoder_span);
    let given = decoder.bound("alphabet").and_then(|a| match &a.value {
        Value::String(file) if a.given => Some((file.clone(), a.span)),
        _ => None,
    });
    let (characters, origin, span) = match given {
        // A NUL byte in the path: E0107 from name resolution; nothing is opened.
        Some((file, _)) if file.contains('\0') => return None,
        Some((file, span)) => {
            let path = normalize(&dir.join(&file));
            match host.read_alphabet(&path) {
                Ok(characters) => (characters, format!("the file `{file}`"), span),
                Err(FactError::Unavailable(_)) => return None,
                Err(e) => {
                    errors.push(TypeError::Input(InputError::Unreadable {
                        span,
                        path: file,
                        what: "alphabet file",
                        reason: match e {
                            FactError::Unreadable(r) | FactError::Invalid(r) => r,
                            FactError::NotFound => "it does not exist".into(),
                            FactError::Unavailable(r) => r,
                        },
                    }));
                    return None;
                }
            }
        }
        None => match metadata_alphabet(facts) {
            Some(characters) => (
                characters,
                format!("the model's `{CHARACTER_METADATA}` metadata"),
                decoder_span,
            ),
            None => {
                errors.push(TypeError::Text(TextError::NoAlphabet {
                    span: decoder_span,
                    classes,
                }));
                return None;
            }
        },
    };
    let n = characters.len() as i64;
    if n + 1 == classes {
        Some(characters)
    } else if n + 2 == classes {
        let mut characters = characters;
        characters.push(" ".into());
        Some(characters)
    } else {
        errors.push(TypeError::Text(TextError::AlphabetLength {
            span,
            characters: characters.len(),
            classes,
            origin,
            output,
        }));
        None
    }
}

impl TextError {
    pub fn to_diagnostic(&self, file: FileId) -> Diagnostic {
        match self {
            TextError::AlphabetLength {
                span,
                characters,
                classes,
                origin,
                output,
            } => Diagnostic::new(
                Code::E0315,
                file,
                *span,
                format!("an alphabet of {characters} characters cannot read a recogniser with {classes} classes"),
            )
            .with_primary_label(format!("{characters} characters, from {origin}"))
            .with_help(format!(
                "the output {output} has {classes} classes: class 0 is the blank, then one class a character, and PaddleOCR models add a space as the last class; give an alphabet of {} characters (or {} with the space), in class order",
                classes - 2,
                classes - 1
            )),
            TextError::NoAlphabet { span, classes } => Diagnostic::new(
                Code::E0316,
                file,
                *span,
                "`ctc` needs an alphabet, and the model carries none",
            )
            .with_primary_label("no `alphabet:`, and no `character` in the model's metadata")
            .with_help(format!(
                "give the characters the recogniser's {classes} classes stand for: `ctc(alphabet: \"dict.txt\")`, a file with one character a line in class order (class 0, the blank, is not listed)"
            )),
        }
    }
}
