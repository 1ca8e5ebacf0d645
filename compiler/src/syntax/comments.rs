//! Source text → the comments in it (`//` and `///`), which the grammar skips as trivia.

use super::ast::Comment;
use crate::span::Span;

/// The index of the `"` that closes the string opening at `start`, or of the line end
/// (strings end on their line); escapes are skipped.
pub(crate) fn string_close(bytes: &[u8], start: usize) -> usize {
    let mut i = start + 1;
    while i < bytes.len() && bytes[i] != b'"' && bytes[i] != b'\n' {
        i += if bytes[i] == b'\\' { 2 } else { 1 };
    }
    i
}

/// Every comment in `text`, in order. Strings are skipped, so `"a//b"` is no comment.
pub fn scan(text: &str) -> Vec<Comment> {
    let bytes = text.as_bytes();
    let mut comments = Vec::new();
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'"' => i = string_close(bytes, i) + 1,
            b'/' if bytes.get(i + 1) == Some(&b'/') => {
                let end = text[i..].find('\n').map_or(text.len(), |n| i + n);
                let body = text[i..end].trim_end_matches('\r');
                let doc = body.starts_with("///") && !body.starts_with("////");
                comments.push(Comment {
                    span: Span::new(i, i + body.len()),
                    text: body.to_string(),
                    doc,
                });
                i = end;
            }
            _ => i += 1,
        }
    }
    comments
}

/// The doc comment block that ends right before `offset` (only whitespace between the
/// comments and the item), with `///` and one following space removed from each line.
pub fn doc_before(text: &str, comments: &[Comment], offset: usize) -> Option<String> {
    let mut idx = comments.partition_point(|c| (c.span.end as usize) <= offset);
    let mut cursor = offset;
    let mut lines = Vec::new();
    while idx > 0 {
        let c = &comments[idx - 1];
        let between = text.get(c.span.end as usize..cursor).unwrap_or("x");
        if !c.doc || !between.trim().is_empty() {
            break;
        }
        let line = c.text.trim_start_matches("///");
        lines.push(line.strip_prefix(' ').unwrap_or(line).to_string());
        cursor = c.span.start as usize;
        idx -= 1;
    }
    if lines.is_empty() {
        return None;
    }
    lines.reverse();
    Some(lines.join("\n"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn comments_and_docs() {
        let text = "/// A model.\n/// Second line.\nmodel m = onnx(\"a//b\"); // trailing\n";
        let comments = scan(text);
        assert_eq!(comments.len(), 3);
        assert!(comments[0].doc && comments[1].doc && !comments[2].doc);
        assert_eq!(comments[2].text, "// trailing");
        let at = text.find("model m").unwrap();
        assert_eq!(
            doc_before(text, &comments, at).as_deref(),
            Some("A model.\nSecond line.")
        );
    }
}
