//! The language server's transport: Content-Length framed JSON-RPC on stdio, read with
//! limits so that no client message can end the session or the process. A frame larger
//! than `MAX_MESSAGE` is skipped without being held in memory; text that is not UTF-8 and
//! lone UTF-16 surrogates in JSON escapes (which JSON parsers refuse) become U+FFFD; a
//! message that is still not JSON-RPC is skipped with a line on stderr. Only the end of
//! the input, or headers that cannot be framed, end the session.

use std::io::{self, BufRead, Read, Write};
use std::thread::JoinHandle;

use lsp_server::{Connection, Message};

/// The largest message read, in bytes (documents of several MiB fit many times over).
pub const MAX_MESSAGE: usize = 64 << 20;

/// One frame read from the client.
#[derive(Debug, PartialEq)]
pub enum Frame {
    Message(String),
    /// A frame whose body was skipped, and why.
    Skipped(String),
}

/// Reads the next frame: `Ok(None)` at the end of the input, `Err` when the headers
/// cannot be framed (no usable Content-Length).
pub fn read_frame(input: &mut impl BufRead) -> io::Result<Option<Frame>> {
    let mut length: Option<u64> = None;
    let mut any_header = false;
    loop {
        let mut line = Vec::new();
        // A header line longer than this is not a header: stop reading it there.
        let n = input.by_ref().take(8192).read_until(b'\n', &mut line)?;
        if n == 0 {
            return if any_header {
                Err(io::Error::new(
                    io::ErrorKind::UnexpectedEof,
                    "the input ended inside a message's headers",
                ))
            } else {
                Ok(None)
            };
        }
        let line = String::from_utf8_lossy(&line);
        let line = line.trim_end_matches(['\r', '\n']);
        if line.is_empty() {
            if !any_header {
                continue; // blank lines between messages
            }
            break;
        }
        any_header = true;
        if let Some((name, value)) = line.split_once(':')
            && name.trim().eq_ignore_ascii_case("content-length")
        {
            length = Some(value.trim().parse::<u64>().map_err(|_| {
                io::Error::new(
                    io::ErrorKind::InvalidData,
                    format!("Content-Length `{}` is not a number of bytes", value.trim()),
                )
            })?);
        }
    }
    let length = length.ok_or_else(|| {
        io::Error::new(
            io::ErrorKind::InvalidData,
            "a message without Content-Length",
        )
    })?;
    if length > MAX_MESSAGE as u64 {
        let skipped = io::copy(&mut input.by_ref().take(length), &mut io::sink())?;
        if skipped < length {
            return Ok(None);
        }
        return Ok(Some(Frame::Skipped(format!(
            "a message of {length} bytes is over the limit of {MAX_MESSAGE} bytes"
        ))));
    }
    let mut body = vec![0; length as usize];
    input.read_exact(&mut body)?;
    Ok(Some(Frame::Message(
        replace_lone_surrogates(&String::from_utf8_lossy(&body)).into_owned(),
    )))
}

/// `\ud800` with no low surrogate after it (and a low one alone) → `\ufffd`: the JSON is
/// otherwise kept as it is, escapes such as `\\ud800` (a backslash, then text) included.
pub fn replace_lone_surrogates(json: &str) -> std::borrow::Cow<'_, str> {
    if !json.contains("\\u") {
        return json.into();
    }
    let bytes = json.as_bytes();
    let unit = |at: usize| -> Option<u16> {
        let hex = json.get(at + 2..at + 6)?;
        (bytes.get(at) == Some(&b'\\') && bytes.get(at + 1) == Some(&b'u'))
            .then(|| u16::from_str_radix(hex, 16).ok())
            .flatten()
    };
    let mut out = String::with_capacity(json.len());
    let mut copied = 0;
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] != b'\\' {
            i += 1;
            continue;
        }
        let Some(u) = unit(i) else {
            i += 2; // another escape: `\\`, `\"`, `\n`, …
            continue;
        };
        let high = (0xD800..0xDC00).contains(&u);
        let low = (0xDC00..0xE000).contains(&u);
        if high && unit(i + 6).is_some_and(|next| (0xDC00..0xE000).contains(&next)) {
            i += 12; // a proper pair
        } else if high || low {
            out.push_str(&json[copied..i]);
            out.push_str("\\ufffd");
            i += 6;
            copied = i;
        } else {
            i += 6;
        }
    }
    out.push_str(&json[copied..]);
    out.into()
}

/// A frame's text as a JSON-RPC message, or why it is not one with the answer JSON-RPC 2.0
/// requires (§5.1): text that is not JSON is a Parse error (-32700); a request whose `id`
/// is not a number or a string (an object, a list, a fraction), or that is otherwise
/// malformed, is an Invalid Request (-32600), answered with `"id": null` where the id
/// cannot be told. A malformed notification or response needs no answer. (Read leniently,
/// a request with an object id passed for a notification and was never answered.)
pub fn parse_message(text: &str) -> Result<Message, (String, Option<String>)> {
    let refuse = |code: i32, message: String, id: serde_json::Value| {
        serde_json::json!({
            "jsonrpc": "2.0",
            "id": id,
            "error": {"code": code, "message": message},
        })
        .to_string()
    };
    let value: serde_json::Value = serde_json::from_str(text).map_err(|e| {
        let why = format!("it is not JSON: {e}");
        let answer = refuse(
            -32700,
            format!("Parse error: {why}"),
            serde_json::Value::Null,
        );
        (why, Some(answer))
    })?;
    let request_id = match (value.get("method"), value.get("id")) {
        (Some(_), Some(id)) => Some(id.clone()),
        _ => None,
    };
    if let Some(id) = &request_id {
        let usable = id.is_string() || id.as_i64().is_some_and(|n| i32::try_from(n).is_ok());
        if !usable {
            let why = format!("a request's id must be a number or a string, not {id}");
            let answer = refuse(
                -32600,
                format!("Invalid Request: {why}"),
                serde_json::Value::Null,
            );
            return Err((why, Some(answer)));
        }
    }
    let has_method = value.get("method").is_some();
    let message = serde_json::from_value::<Message>(value).map_err(|e| e.to_string());
    // Read leniently, `{"id": 7, "method": 5}` passes for a response: a message with a
    // method is a request or a notification, or nothing.
    let message = match message {
        Ok(Message::Response(_)) if has_method => Err("its `method` is not a string".to_string()),
        other => other,
    };
    message.map_err(|why| {
        let answer = request_id.map(|id| refuse(-32600, format!("Invalid Request: {why}"), id));
        (why, answer)
    })
}

/// Writes one Content-Length framed message.
fn write_frame(output: &mut impl Write, body: &str) -> io::Result<()> {
    write!(output, "Content-Length: {}\r\n\r\n{body}", body.len())?;
    output.flush()
}

/// Like `Connection::stdio`, with the reading above. The returned threads end when the
/// input ends (reader) and when the server's connection is dropped (writer).
pub fn stdio() -> (Connection, JoinHandle<()>) {
    let (server, client) = Connection::memory();
    let Connection { sender, receiver } = client;
    std::thread::Builder::new()
        .name("vplc-lsp-read".into())
        .spawn(move || {
            let mut input = io::stdin().lock();
            loop {
                match read_frame(&mut input) {
                    Ok(Some(Frame::Message(text))) => match parse_message(&text) {
                        Ok(message) => {
                            if sender.send(message).is_err() {
                                return;
                            }
                        }
                        Err((why, answer)) => {
                            eprintln!("vplc lsp: skipped a message that is not JSON-RPC: {why}");
                            if let Some(answer) = answer {
                                let mut output = io::stdout().lock();
                                let _ = write_frame(&mut output, &answer);
                            }
                        }
                    },
                    Ok(Some(Frame::Skipped(why))) => eprintln!("vplc lsp: skipped {why}"),
                    Ok(None) => return,
                    Err(e) => {
                        eprintln!("vplc lsp: cannot read the client's messages: {e}");
                        return;
                    }
                }
            }
        })
        .ok();
    let writer = std::thread::spawn(move || {
        for message in receiver {
            // Locked a message at a time: the reader answers messages that are not
            // JSON-RPC itself (`parse_message`), between the server's.
            let mut output = io::stdout().lock();
            if message
                .write(&mut output)
                .and_then(|()| output.flush())
                .is_err()
            {
                return;
            }
        }
    });
    (server, writer)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lone_surrogates_become_replacement_characters() {
        assert_eq!(replace_lone_surrogates(r#""a\ud800b""#), r#""a\ufffdb""#);
        assert_eq!(replace_lone_surrogates(r#""\udc00""#), r#""\ufffd""#);
        assert_eq!(
            replace_lone_surrogates(r#""\ud83d\ude00""#),
            r#""\ud83d\ude00""#
        );
        assert_eq!(replace_lone_surrogates(r#""\\ud800""#), r#""\\ud800""#);
        assert_eq!(
            replace_lone_surrogates(r#""\ud800\u0041""#),
            r#""\ufffd\u0041""#
        );
        let fixed = replace_lone_surrogates(r#"{"t": "x\ud800"}"#);
        assert!(serde_json::from_str::<serde_json::Value>(&fixed).is_ok());
    }

    #[test]
    fn messages_that_are_not_json_rpc_get_the_answers_json_rpc_requires() {
        let answer = |text: &str| -> Option<serde_json::Value> {
            let (_, answer) = parse_message(text).expect_err("not a message");
            answer.map(|a| serde_json::from_str(&a).expect("JSON"))
        };
        for text in [
            r#"{"jsonrpc": "2.0", "id": {"a": 1}, "method": "shutdown"}"#,
            r#"{"jsonrpc": "2.0", "id": [1], "method": "x"}"#,
            r#"{"jsonrpc": "2.0", "id": 1.5, "method": "x"}"#,
            r#"{"jsonrpc": "2.0", "id": null, "method": "x"}"#,
        ] {
            let refused = answer(text).expect("an answer");
            assert_eq!(refused["id"], serde_json::Value::Null, "{text}");
            assert_eq!(refused["error"]["code"], -32600, "{text}");
        }
        // A request malformed otherwise keeps its id.
        let bad_method = answer(r#"{"jsonrpc": "2.0", "id": 7, "method": 5}"#).expect("answer");
        assert_eq!(bad_method["id"], 7);
        assert_eq!(bad_method["error"]["code"], -32600);
        let garbage = answer("{this is not json").expect("an answer");
        assert_eq!(garbage["id"], serde_json::Value::Null);
        assert_eq!(garbage["error"]["code"], -32700);
        // A notification that is not one is skipped in silence: nothing to answer.
        assert_eq!(answer(r#"{"jsonrpc": "2.0", "method": 5}"#), None);
        // Messages that are ones still are.
        assert!(parse_message(r#"{"jsonrpc": "2.0", "id": "a", "method": "x"}"#).is_ok());
        assert!(parse_message(r#"{"jsonrpc": "2.0", "method": "exit"}"#).is_ok());
    }

    #[test]
    fn an_oversized_frame_is_skipped_and_the_next_one_read() {
        let big = MAX_MESSAGE + 1;
        let mut input = format!("Content-Length: {big}\r\n\r\n").into_bytes();
        input.extend(std::iter::repeat_n(b' ', big));
        input.extend(b"Content-Length: 2\r\n\r\n{}");
        let mut reader = io::BufReader::new(&input[..]);
        assert!(matches!(
            read_frame(&mut reader).expect("frame"),
            Some(Frame::Skipped(_))
        ));
        assert_eq!(
            read_frame(&mut reader).expect("frame"),
            Some(Frame::Message("{}".into()))
        );
        assert_eq!(read_frame(&mut reader).expect("end"), None);
    }

    #[test]
    fn a_huge_length_that_never_comes_ends_the_input_without_allocating_it() {
        let input = b"Content-Length: 1000000000000\r\n\r\n{}";
        let mut reader = io::BufReader::new(&input[..]);
        assert_eq!(read_frame(&mut reader).expect("end"), None);
        let input = b"Content-Length: 1e12\r\n\r\n{}";
        assert!(read_frame(&mut io::BufReader::new(&input[..])).is_err());
    }
}
