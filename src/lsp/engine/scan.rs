//! Text + offset → the lexical context of a cursor for completion: the word being typed,
//! the brackets it is inside, the call whose arguments it is among, and the token before
//! it. Read from the text rather than the tree, because a line being typed rarely parses.

/// An open bracket around the cursor.
#[derive(Debug, Clone, PartialEq)]
pub struct Frame {
    pub open: char,
    pub at: usize,
    /// For `(`: the name just before it (`scale` in `scale(`), and whether that name
    /// follows a `|` (a stage or sink rather than a source).
    pub callee: Option<String>,
    pub after_pipe: bool,
    /// Arguments before the one the cursor is in.
    pub index: usize,
    /// Names of the named arguments seen so far.
    pub named: Vec<String>,
    /// In the current argument: the name before its `:`, once the `:` is written.
    pub name: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Default)]
pub struct Context {
    /// Where the word under the cursor starts (the cursor itself when there is none).
    pub word_start: usize,
    /// Innermost last.
    pub frames: Vec<Frame>,
    /// The last token before the word: a punctuation character, or `w` for a word.
    pub before: Option<char>,
    /// In a string or a comment: nothing to complete.
    pub quiet: bool,
}

fn is_name(c: char) -> bool {
    c.is_ascii_alphanumeric() || c == '_'
}

pub fn context(text: &str, offset: usize) -> Context {
    let mut offset = offset.min(text.len());
    while !text.is_char_boundary(offset) {
        offset -= 1;
    }
    let word_start = text[..offset]
        .char_indices()
        .rev()
        .take_while(|(_, c)| is_name(*c))
        .last()
        .map_or(offset, |(i, _)| i);
    let mut cx = Context {
        word_start,
        ..Context::default()
    };
    let bytes = &text[..word_start];
    let mut chars = bytes.char_indices().peekable();
    let mut word = String::new();
    let mut prev_word: Option<String> = None;
    let mut pipe_before_word = false;
    let mut last_pipe = false;
    while let Some((i, c)) = chars.next() {
        if is_name(c) {
            word.push(c);
            if chars.peek().is_none_or(|(_, n)| !is_name(*n)) {
                prev_word = Some(std::mem::take(&mut word));
                pipe_before_word = last_pipe;
                cx.before = Some('w');
                last_pipe = false;
            }
            continue;
        }
        if c.is_whitespace() {
            continue;
        }
        match c {
            '/' if chars.peek().is_some_and(|(_, n)| *n == '/') => {
                // A comment, to the end of the line.
                if !chars.by_ref().any(|(_, n)| n == '\n') {
                    cx.quiet = true;
                }
                continue;
            }
            '"' => {
                let mut escaped = false;
                let mut closed = false;
                for (_, n) in chars.by_ref() {
                    match n {
                        '\\' if !escaped => escaped = true,
                        '"' if !escaped => {
                            closed = true;
                            break;
                        }
                        '\n' => break,
                        _ => escaped = false,
                    }
                }
                if !closed && chars.peek().is_none() {
                    cx.quiet = true;
                }
                cx.before = Some('"');
                last_pipe = false;
                continue;
            }
            '(' | '[' | '{' => cx.frames.push(Frame {
                open: c,
                at: i,
                callee: (c == '(' && cx.before == Some('w'))
                    .then(|| prev_word.clone())
                    .flatten(),
                after_pipe: pipe_before_word,
                index: 0,
                named: Vec::new(),
                name: None,
            }),
            ')' | ']' | '}' => {
                cx.frames.pop();
            }
            ',' => {
                if let Some(f) = cx.frames.last_mut() {
                    f.index += 1;
                    if let Some(n) = f.name.take() {
                        f.named.push(n);
                    }
                }
            }
            ':' => {
                if let Some(f) = cx.frames.last_mut()
                    && f.open == '('
                    && cx.before == Some('w')
                {
                    f.name = prev_word.clone();
                }
            }
            ';' if cx.frames.last().is_some_and(|f| f.open == '(') => {
                // A statement ended inside an unclosed call: that call is over.
                cx.frames.pop();
            }
            _ => {}
        }
        last_pipe = c == '|';
        cx.before = Some(c);
    }
    cx
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(marked: &str) -> Context {
        let offset = marked.find('‸').unwrap_or(marked.len());
        context(&marked.replace('‸', ""), offset)
    }

    #[test]
    fn inside_a_call() {
        let cx = at("pipeline p { test() | scale(1280x720, mo‸");
        let f = cx
            .frames
            .last()
            .cloned()
            .unwrap_or_else(|| panic!("{cx:?}"));
        assert_eq!(f.callee.as_deref(), Some("scale"));
        assert!(f.after_pipe);
        assert_eq!((f.index, f.name.clone()), (1, None));
        let cx = at("pipeline p { test() | scale(mode: let‸");
        let f = cx
            .frames
            .last()
            .cloned()
            .unwrap_or_else(|| panic!("{cx:?}"));
        assert_eq!(f.name.as_deref(), Some("mode"));
        let cx = at("pipeline p { test(‸");
        assert!(!cx.frames[1].after_pipe);
    }

    #[test]
    fn after_a_pipe_and_in_strings() {
        let cx = at("pipeline p {\n  let a = test() | de‸");
        assert_eq!(cx.before, Some('|'));
        assert_eq!(cx.frames.len(), 1);
        assert!(at("pipeline p { file(\"a.mp‸").quiet);
        assert!(at("pipeline p { // a comment ‸").quiet);
        assert!(!at("pipeline p { // a comment\n ‸").quiet);
        assert_eq!(at("pipeline p { let x =‸").before, Some('='));
    }
}
