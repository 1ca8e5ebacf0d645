//! Editor positions (0-based line, UTF-16 column) ↔ byte offsets into a document, and
//! edits applied at editor positions. Offset → position is `SourceFile::line_utf16`; this
//! is its inverse. Positions past the end of a line or of the text are clamped, as the
//! protocol asks, so no position a client sends can make the server panic.

use vpl_compiler::SourceFile;

use super::{Pos, Range};

/// The byte offset of `pos`: a column past the line's end means the line's end (before
/// its `\r\n`), a line past the last means the end of the text, and a column inside a
/// surrogate pair means the start of that character.
pub fn offset(file: &SourceFile, pos: Pos) -> usize {
    let starts = file.line_starts();
    let Some(&start) = starts.get(pos.line as usize) else {
        return file.text.len();
    };
    let end = starts
        .get(pos.line as usize + 1)
        .map_or(file.text.len(), |next| next - 1);
    let line = file.text.get(start..end).unwrap_or("");
    let line = line.strip_suffix('\r').unwrap_or(line);
    let mut units = 0;
    for (i, c) in line.char_indices() {
        if units + c.len_utf16() > pos.character as usize {
            return start + i;
        }
        units += c.len_utf16();
    }
    start + line.len()
}

pub fn pos(file: &SourceFile, offset: usize) -> Pos {
    let (line, character) = file.line_utf16(offset);
    Pos::new(line as u32, character as u32)
}

pub fn range(file: &SourceFile, span: vpl_compiler::syntax::Span) -> Range {
    Range {
        start: pos(file, span.start as usize),
        end: pos(file, span.end as usize),
    }
}

/// The text after replacing `range` with `new`. A range whose end is before its start
/// is taken the other way round.
pub fn apply(file: &SourceFile, range: Range, new: &str) -> String {
    let a = offset(file, range.start);
    let b = offset(file, range.end);
    let (start, end) = (a.min(b), a.max(b));
    let mut text = String::with_capacity(file.text.len() + new.len());
    text.push_str(&file.text[..start]);
    text.push_str(new);
    text.push_str(&file.text[end..]);
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    fn file(text: &str) -> SourceFile {
        SourceFile::new("a.vpl", "a.vpl", text)
    }

    #[test]
    fn utf16_columns_round_trip() {
        // `é` is one UTF-16 unit (two bytes), `🎥` two units (four bytes).
        let f = file("ab\n// é🎥 x\r\nz");
        let x = f.text.find('x').unwrap_or_default();
        assert_eq!(pos(&f, x), Pos::new(1, 7));
        assert_eq!(offset(&f, Pos::new(1, 7)), x);
        // Inside the surrogate pair: the start of the emoji.
        assert_eq!(
            offset(&f, Pos::new(1, 5)),
            f.text.find('🎥').unwrap_or_default()
        );
        // Past the end of a line: its end, before `\r\n`.
        assert_eq!(offset(&f, Pos::new(1, 99)), x + 1);
        // Past the last line: the end of the text.
        assert_eq!(offset(&f, Pos::new(9, 0)), f.text.len());
    }

    #[test]
    fn edits_apply_at_utf16_positions() {
        let f = file("let café = 1;\nnext");
        let edited = apply(
            &f,
            Range {
                start: Pos::new(0, 4),
                end: Pos::new(0, 8),
            },
            "tea",
        );
        assert_eq!(edited, "let tea = 1;\nnext");
        let reversed = apply(
            &f,
            Range {
                start: Pos::new(1, 4),
                end: Pos::new(1, 0),
            },
            "last",
        );
        assert_eq!(reversed, "let café = 1;\nlast");
    }
}
