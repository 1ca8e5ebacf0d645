//! `vplc lsp` as an editor runs it: a child process spoken to in JSON-RPC with
//! Content-Length framing on stdio, through a whole session (initialize, didOpen,
//! didChange, hover, completion, definition, formatting, codeAction, shutdown, exit), on a
//! real model and media file read through the filesystem host.

use std::io::{BufRead, BufReader, Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::mpsc::{Receiver, RecvTimeoutError, channel};
use std::time::{Duration, Instant};

use serde_json::{Value, json};

/// Generous: a debug build on a loaded two-core machine.
const TIMEOUT: Duration = Duration::from_secs(30);

struct Client {
    child: Child,
    stdin: Option<ChildStdin>,
    incoming: Receiver<Value>,
    next_id: i64,
    /// Notifications that arrived while waiting for a response.
    pending: Vec<Value>,
}

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

fn temp_dir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("vplc-lsp-{name}-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    dir
}

/// Reads one framed message: headers, a blank line, then Content-Length bytes of JSON.
fn read_message(reader: &mut impl BufRead) -> Option<Value> {
    let mut length = None;
    loop {
        let mut line = String::new();
        if reader.read_line(&mut line).ok()? == 0 {
            return None;
        }
        let line = line.trim_end();
        if line.is_empty() {
            break;
        }
        if let Some(n) = line.strip_prefix("Content-Length: ") {
            length = n.parse::<usize>().ok();
        }
    }
    let mut body = vec![0; length?];
    reader.read_exact(&mut body).ok()?;
    serde_json::from_slice(&body).ok()
}

impl Client {
    fn start(cache: &Path) -> Client {
        let mut child = Command::new(env!("CARGO_BIN_EXE_vplc"))
            .arg("lsp")
            .env("VPL_CACHE_DIR", cache)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("vplc lsp starts");
        let stdout = child.stdout.take().expect("piped stdout");
        let (tx, incoming) = channel();
        std::thread::spawn(move || {
            let mut reader = BufReader::new(stdout);
            while let Some(message) = read_message(&mut reader) {
                if tx.send(message).is_err() {
                    break;
                }
            }
        });
        Client {
            stdin: child.stdin.take(),
            child,
            incoming,
            next_id: 0,
            pending: Vec::new(),
        }
    }

    fn send_raw(&mut self, body: &[u8]) {
        let stdin = self.stdin.as_mut().expect("stdin is open");
        let header = format!("Content-Length: {}\r\n\r\n", body.len());
        stdin.write_all(header.as_bytes()).expect("write header");
        stdin.write_all(body).expect("write body");
        stdin.flush().expect("flush");
    }

    fn send(&mut self, message: Value) {
        self.send_raw(message.to_string().as_bytes());
    }

    fn notify(&mut self, method: &str, params: Value) {
        self.send(json!({"jsonrpc": "2.0", "method": method, "params": params}));
    }

    fn next(&mut self) -> Value {
        match self.incoming.recv_timeout(TIMEOUT) {
            Ok(message) => message,
            Err(RecvTimeoutError::Timeout) => panic!("no message from vplc lsp in {TIMEOUT:?}"),
            Err(RecvTimeoutError::Disconnected) => panic!("vplc lsp closed its output"),
        }
    }

    /// The whole response (`result` or `error`) to a request.
    fn request(&mut self, method: &str, params: Value) -> Value {
        self.next_id += 1;
        let id = self.next_id;
        self.send(json!({"jsonrpc": "2.0", "id": id, "method": method, "params": params}));
        loop {
            let message = self.next();
            if message["id"] == id && message.get("method").is_none() {
                return message;
            }
            self.pending.push(message);
        }
    }

    /// The next `publishDiagnostics` for `uri`.
    fn diagnostics(&mut self, uri: &str) -> Value {
        let is_ours = |m: &Value| {
            m["method"] == "textDocument/publishDiagnostics" && m["params"]["uri"] == uri
        };
        if let Some(i) = self.pending.iter().position(is_ours) {
            return self.pending.remove(i)["params"].clone();
        }
        loop {
            let message = self.next();
            if is_ours(&message) {
                return message["params"].clone();
            }
            self.pending.push(message);
        }
    }

    /// Waits for the process to end; its exit status and standard error.
    fn wait(mut self) -> (Option<i32>, String) {
        drop(self.stdin.take());
        let deadline = Instant::now() + TIMEOUT;
        loop {
            if let Ok(Some(status)) = self.child.try_wait() {
                let mut stderr = String::new();
                if let Some(mut e) = self.child.stderr.take() {
                    let _ = e.read_to_string(&mut stderr);
                }
                return (status.code(), stderr);
            }
            assert!(Instant::now() < deadline, "vplc lsp did not exit");
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}

impl Drop for Client {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn file_uri(path: &Path) -> String {
    let mut uri = String::from("file://");
    for b in path.display().to_string().bytes() {
        if b.is_ascii_alphanumeric() || b"-._~/".contains(&b) {
            uri.push(b as char);
        } else {
            uri.push_str(&format!("%{b:02X}"));
        }
    }
    uri
}

/// The LSP position of `needle`'s first occurrence (plus `skip` bytes) in `text`.
fn position(text: &str, needle: &str, skip: usize) -> Value {
    let offset = text.find(needle).expect("needle in text") + skip;
    let line = text[..offset].matches('\n').count();
    let start = text[..offset].rfind('\n').map_or(0, |i| i + 1);
    json!({"line": line, "character": text[start..offset].encode_utf16().count()})
}

fn initialize(client: &mut Client) -> Value {
    let response = client.request(
        "initialize",
        json!({
            "processId": null,
            "rootUri": null,
            "capabilities": {
                "textDocument": {"completion": {"completionItem": {"snippetSupport": true}}},
            },
        }),
    );
    client.notify("initialized", json!({}));
    response
}

#[test]
fn a_whole_session() {
    let dir = temp_dir("session");
    let fixtures = root().join("tests/fixtures");
    let text = format!(
        "// Batches for a model fixed at one frame: E0301. 🎥\n\
         model det = onnx(\"{}\", decoder: yolov8());\n\
         \n\
         pipeline p {{\n\
         \x20   let cam = file(\"{}\");\n\
         \x20   [cam | decode, test(rate: 25fps)] | batch(size: 2) | infer(det) | unbatch | json | stdout;\n\
         \x20   cam | decode | json | file(\"{}\"); test() | scael(320x240) | discard;\n\
         }}\n",
        fixtures.join("models/det_fixed1.onnx").display(),
        fixtures.join("media/h264_640x360_25fps.mp4").display(),
        dir.join("🎥 café.jsonl").display(),
    );
    let path = dir.join("séance.vpl");
    std::fs::write(&path, &text).expect("write the document");
    let uri = file_uri(&path);
    let mut client = Client::start(&dir.join("cache"));

    let init = initialize(&mut client);
    let caps = &init["result"]["capabilities"];
    assert_eq!(init["result"]["serverInfo"]["name"], "vplc", "{init}");
    assert_eq!(caps["positionEncoding"], "utf-16");
    assert_eq!(caps["textDocumentSync"]["change"], 2, "incremental sync");
    for provider in [
        "hoverProvider",
        "definitionProvider",
        "completionProvider",
        "documentFormattingProvider",
        "codeActionProvider",
    ] {
        assert!(!caps[provider].is_null(), "{provider} in {caps}");
    }

    // Open: the batch-size error and the misspelt stage, at UTF-16 positions.
    client.notify(
        "textDocument/didOpen",
        json!({"textDocument": {"uri": uri, "languageId": "vpl", "version": 1, "text": text}}),
    );
    let published = client.diagnostics(&uri);
    assert_eq!(published["version"], 1);
    let diagnostics = published["diagnostics"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    let codes: Vec<&str> = diagnostics
        .iter()
        .filter_map(|d| d["code"].as_str())
        .collect();
    assert_eq!(codes, ["E0301", "E0102"], "{published:#}");
    let e0301 = &diagnostics[0];
    assert_eq!(e0301["severity"], 1);
    assert_eq!(e0301["source"], "vplc");
    assert_eq!(e0301["range"]["start"], position(&text, "batch(size", 0));
    assert_eq!(e0301["range"]["end"], position(&text, "batch(size: 2)", 14));
    let related = &e0301["relatedInformation"];
    assert_eq!(related[0]["message"], "`det` runs here");
    assert_eq!(related[0]["location"]["uri"], uri.as_str());
    assert_eq!(related[1]["location"]["range"]["start"]["line"], 1);
    let href = e0301["codeDescription"]["href"]
        .as_str()
        .unwrap_or_default();
    assert!(
        href.starts_with("file://") && href.ends_with("/docs/errors/E0301.md"),
        "{href}"
    );
    let e0102 = &diagnostics[1];
    assert_eq!(e0102["range"]["start"], position(&text, "scael", 0));
    assert_eq!(e0102["severity"], 1);

    // Hover: a probed stream's type, a stage's documentation, a model's signature.
    let hover = client.request(
        "textDocument/hover",
        json!({"textDocument": {"uri": uri}, "position": position(&text, "    cam | decode | json", 5)}),
    );
    let value = hover["result"]["contents"]["value"]
        .as_str()
        .unwrap_or_default();
    assert!(
        value.contains("cam: video<h264, 640x360, 25fps>"),
        "{hover}"
    );
    assert_eq!(hover["result"]["contents"]["kind"], "markdown");
    let hover = client.request(
        "textDocument/hover",
        json!({"textDocument": {"uri": uri}, "position": position(&text, "unbatch", 2)}),
    );
    let value = hover["result"]["contents"]["value"]
        .as_str()
        .unwrap_or_default();
    assert!(value.contains("stage unbatch()"), "{hover}");
    let hover = client.request(
        "textDocument/hover",
        json!({"textDocument": {"uri": uri}, "position": position(&text, "infer(det)", 7)}),
    );
    let value = hover["result"]["contents"]["value"]
        .as_str()
        .unwrap_or_default();
    assert!(value.contains("model det: tensor<f32, [1, 3, "), "{hover}");

    // Completion: the model inside `infer(`, and stages after `|` as snippets.
    let completion = client.request(
        "textDocument/completion",
        json!({"textDocument": {"uri": uri}, "position": position(&text, "infer(det)", 6)}),
    );
    let items = completion["result"].as_array().cloned().unwrap_or_default();
    assert!(
        items.iter().any(|i| i["label"] == "det" && i["kind"] == 7),
        "{completion}"
    );
    let completion = client.request(
        "textDocument/completion",
        json!({"textDocument": {"uri": uri}, "position": position(&text, "| unbatch", 2)}),
    );
    let items = completion["result"].as_array().cloned().unwrap_or_default();
    let scale = items.iter().find(|i| i["label"] == "scale").cloned();
    let scale = scale.unwrap_or_else(|| panic!("no scale in {completion}"));
    assert_eq!(scale["insertText"], "scale(${1:resolution})");
    assert_eq!(scale["insertTextFormat"], 2);

    // Definition: a stream → its `let`; a stage → stdlib/video.vpl in the source tree.
    let definition = client.request(
        "textDocument/definition",
        json!({"textDocument": {"uri": uri}, "position": position(&text, "    cam | decode | json", 5)}),
    );
    assert_eq!(definition["result"]["uri"], uri.as_str());
    assert_eq!(
        definition["result"]["range"]["start"],
        position(&text, "let cam", 4)
    );
    let definition = client.request(
        "textDocument/definition",
        json!({"textDocument": {"uri": uri}, "position": position(&text, "| decode", 3)}),
    );
    let target = definition["result"]["uri"].as_str().unwrap_or_default();
    assert_eq!(
        target,
        file_uri(&root().join("stdlib/video.vpl")),
        "{definition}"
    );

    // Code action: the quick fix for `scael`, applied as the editor would.
    let actions = client.request(
        "textDocument/codeAction",
        json!({
            "textDocument": {"uri": uri},
            "range": {"start": position(&text, "scael", 1), "end": position(&text, "scael", 1)},
            "context": {"diagnostics": []},
        }),
    );
    let action = &actions["result"][0];
    assert_eq!(action["kind"], "quickfix", "{actions}");
    assert_eq!(action["diagnostics"][0]["code"], "E0102");
    let edit = &action["edit"]["changes"][uri.as_str()][0];
    assert_eq!(edit["newText"], "scale");
    client.notify(
        "textDocument/didChange",
        json!({
            "textDocument": {"uri": uri, "version": 2},
            "contentChanges": [{"range": edit["range"], "text": edit["newText"]}],
        }),
    );
    let published = client.diagnostics(&uri);
    assert_eq!(published["version"], 2);
    let codes: Vec<&str> = published["diagnostics"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|d| d["code"].as_str())
        .collect();
    assert_eq!(codes, ["E0301"]);

    // Two edits in one notification: the batch of one stream, at UTF-16 positions.
    let fixed = text.replace("scael", "scale");
    let list_start = position(&fixed, "[cam | decode, test(rate: 25fps)]", 0);
    let list_end = position(&fixed, "[cam | decode, test(rate: 25fps)]", 33);
    client.notify(
        "textDocument/didChange",
        json!({
            "textDocument": {"uri": uri, "version": 3},
            "contentChanges": [
                {"range": {"start": position(&fixed, "size: 2", 6), "end": position(&fixed, "size: 2", 7)}, "text": "1"},
                {"range": {"start": list_start, "end": list_end}, "text": "[cam | decode]"},
            ],
        }),
    );
    let published = client.diagnostics(&uri);
    assert_eq!(published["version"], 3);
    assert_eq!(published["diagnostics"], json!([]), "{published:#}");

    // Formatting: one edit of the whole text; none while the text has a syntax error.
    let formatting = client.request(
        "textDocument/formatting",
        json!({"textDocument": {"uri": uri}, "options": {"tabSize": 4, "insertSpaces": true}}),
    );
    let edits = formatting["result"].as_array().cloned().unwrap_or_default();
    assert_eq!(edits.len(), 1, "{formatting}");
    assert!(
        edits[0]["newText"]
            .as_str()
            .is_some_and(|t| t.contains(";\n    test() | scale(320x240) | discard;\n")),
        "{formatting}"
    );
    client.notify(
        "textDocument/didChange",
        json!({
            "textDocument": {"uri": uri, "version": 4},
            "contentChanges": [{"text": "pipeline p { test() | | discard; }"}],
        }),
    );
    let formatting = client.request(
        "textDocument/formatting",
        json!({"textDocument": {"uri": uri}, "options": {"tabSize": 4, "insertSpaces": true}}),
    );
    assert_eq!(formatting["result"], Value::Null, "{formatting}");
    assert!(formatting.get("error").is_none());

    // Nonsense from the client: error responses or nothing, never a dead server.
    let unknown = client.request("textDocument/rename", json!({}));
    assert_eq!(unknown["error"]["code"], -32601, "{unknown}");
    let bad = client.request("textDocument/hover", json!({"position": "here"}));
    assert_eq!(bad["error"]["code"], -32602, "{bad}");
    let far = client.request(
        "textDocument/hover",
        json!({"textDocument": {"uri": uri}, "position": {"line": 4000000, "character": 4000000}}),
    );
    assert_eq!(far["result"], Value::Null, "{far}");
    let closed = client.request(
        "textDocument/completion",
        json!({"textDocument": {"uri": "file:///no/such.vpl"}, "position": {"line": 0, "character": 0}}),
    );
    assert_eq!(closed["result"], json!([]), "{closed}");
    client.notify("textDocument/didChange", json!({"textDocument": 7}));
    client.notify("$/unknownNotification", json!(null));

    let shutdown = client.request("shutdown", Value::Null);
    assert_eq!(shutdown["result"], Value::Null, "{shutdown}");
    assert!(shutdown.get("error").is_none());
    client.notify("exit", Value::Null);
    let (status, stderr) = client.wait();
    assert_eq!(status, Some(0), "{stderr}");
    assert!(!stderr.contains("panicked"), "{stderr}");
    // The facts learnt in the session are kept for the next one.
    assert!(dir.join("cache/facts.json").is_file());
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn closing_a_document_clears_its_diagnostics() {
    let dir = temp_dir("close");
    let mut client = Client::start(&dir);
    initialize(&mut client);
    let uri = "untitled:Untitled-1";
    client.notify(
        "textDocument/didOpen",
        json!({"textDocument": {"uri": uri, "languageId": "vpl", "version": 1,
               "text": "pipeline p { test() | decdoe | discard; }"}}),
    );
    let published = client.diagnostics(uri);
    assert_eq!(published["diagnostics"][0]["code"], "E0102");
    // Saving checks again (a file the document names may have changed on disk).
    client.notify(
        "textDocument/didSave",
        json!({"textDocument": {"uri": uri}}),
    );
    assert_eq!(client.diagnostics(uri)["diagnostics"][0]["code"], "E0102");
    client.notify(
        "textDocument/didClose",
        json!({"textDocument": {"uri": uri}}),
    );
    assert_eq!(client.diagnostics(uri)["diagnostics"], json!([]));
    // `exit` without `shutdown`: status 1, as the protocol says.
    client.notify("exit", Value::Null);
    let (status, stderr) = client.wait();
    assert_eq!(status, Some(1), "{stderr}");
}

#[test]
fn garbage_on_stdin_ends_the_server_without_a_panic() {
    let dir = temp_dir("garbage");
    let mut client = Client::start(&dir);
    initialize(&mut client);
    client.send_raw(b"{this is not json");
    let (status, stderr) = client.wait();
    assert_eq!(status, Some(1), "{stderr}");
    assert!(!stderr.contains("panicked"), "{stderr}");
}

/// Found by a hostile test round: a request whose id is an object got no answer (it was
/// read as a notification). JSON-RPC ids are numbers or strings: the server answers an
/// Invalid Request with `"id": null`, and the session goes on.
#[test]
fn a_request_with_an_object_id_gets_an_invalid_request_answer() {
    let dir = temp_dir("object-id");
    let mut client = Client::start(&dir);
    initialize(&mut client);
    client.send(
        json!({"jsonrpc": "2.0", "id": {"n": 1}, "method": "textDocument/hover",
                       "params": {"textDocument": {"uri": "untitled:x"},
                                  "position": {"line": 0, "character": 0}}}),
    );
    let answer = loop {
        let message = client.next();
        if message.get("method").is_none() {
            break message;
        }
    };
    assert_eq!(answer["id"], Value::Null, "{answer}");
    assert_eq!(answer["error"]["code"], -32600, "{answer}");
    // The session goes on.
    let shutdown = client.request("shutdown", Value::Null);
    assert!(shutdown.get("error").is_none(), "{shutdown}");
    client.notify("exit", Value::Null);
    let (status, stderr) = client.wait();
    assert_eq!(status, Some(0), "{stderr}");
    assert!(!stderr.contains("panicked"), "{stderr}");
}

#[test]
fn oversized_frames_and_lone_surrogates_do_not_end_the_session() {
    let dir = temp_dir("framing");
    let mut client = Client::start(&dir);
    initialize(&mut client);
    let uri = "untitled:Untitled-2";
    client.notify(
        "textDocument/didOpen",
        json!({"textDocument": {"uri": uri, "languageId": "vpl", "version": 1,
               "text": "pipeline p { test() | discard; }"}}),
    );
    assert_eq!(client.diagnostics(uri)["diagnostics"], json!([]));
    // A lone UTF-16 surrogate, as an editor sends for half of an emoji: JSON parsers
    // refuse it; the server reads it as U+FFFD.
    client.send_raw(
        br#"{"jsonrpc": "2.0", "method": "textDocument/didChange", "params": {"textDocument": {"uri": "untitled:Untitled-2", "version": 2}, "contentChanges": [{"text": "pipeline p { test() | decdoe | discard; } // \ud800"}]}}"#,
    );
    assert_eq!(client.diagnostics(uri)["diagnostics"][0]["code"], "E0102");
    // A frame over the limit is skipped without being kept, and the next one answered.
    let stdin = client.stdin.as_mut().expect("stdin");
    let big = (64 << 20) + 1;
    stdin
        .write_all(format!("Content-Length: {big}\r\n\r\n").as_bytes())
        .expect("header");
    stdin.write_all(&vec![b' '; big]).expect("body");
    let hover = client.request(
        "textDocument/hover",
        json!({"textDocument": {"uri": uri}, "position": {"line": 0, "character": 15}}),
    );
    assert!(hover.get("error").is_none(), "{hover}");
    // A length that never comes (1e12 bytes), then the end of input: a clean end, no abort.
    client
        .stdin
        .as_mut()
        .expect("stdin")
        .write_all(b"Content-Length: 1000000000000\r\n\r\n{}")
        .expect("write");
    let (status, stderr) = client.wait();
    assert_eq!(status, Some(1), "{stderr}");
    assert!(stderr.contains("over the limit"), "{stderr}");
    assert!(!stderr.contains("panicked"), "{stderr}");
}
