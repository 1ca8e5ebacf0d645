//! The protocol loop: JSON-RPC messages on stdio → engine calls → responses and
//! `publishDiagnostics`. Synchronous: one message at a time; the edits queued while a
//! compilation ran are applied together before diagnostics are published once.

use std::collections::HashMap;
use std::panic::{AssertUnwindSafe, catch_unwind};

use lsp_server::{Connection, ErrorCode, Message, Notification, Request, RequestId, Response};
use lsp_types::notification::{self as note, Notification as _};
use lsp_types::request::{self as req, Request as _};
use lsp_types::{self as lsp, Uri};
use serde::Serialize;
use serde::de::DeserializeOwned;

use super::convert;
use super::engine::{Change, Engine};
use crate::host::FsHost;

/// What `serve` returns: 0 after `shutdown` then `exit`, 1 otherwise (as the protocol
/// asks of a server that exits without being shut down).
pub fn serve() -> u8 {
    let (connection, writer) = super::framing::stdio();
    let status = match run(&connection) {
        Ok(true) => 0,
        Ok(false) => 1,
        Err(e) => {
            eprintln!("vplc lsp: {e}");
            1
        }
    };
    // The writer ends once the connection is gone, after sending what is queued; the
    // reader may be blocked on stdin and ends with the process.
    drop(connection);
    let _ = writer.join();
    status
}

/// Runs a session; `Ok(true)` when it ended with `shutdown` and `exit`.
fn run(connection: &Connection) -> Result<bool, String> {
    let (id, params) = connection.initialize_start().map_err(|e| e.to_string())?;
    let params: lsp::InitializeParams = serde_json::from_value(params).unwrap_or_default();
    let snippets = params
        .capabilities
        .text_document
        .and_then(|t| t.completion)
        .and_then(|c| c.completion_item)
        .and_then(|i| i.snippet_support)
        .unwrap_or(false);
    let result = lsp::InitializeResult {
        capabilities: capabilities(),
        server_info: Some(lsp::ServerInfo {
            name: "vplc".to_string(),
            version: Some(env!("CARGO_PKG_VERSION").to_string()),
        }),
    };
    let result = serde_json::to_value(result).map_err(|e| e.to_string())?;
    connection
        .initialize_finish(id, result)
        .map_err(|e| e.to_string())?;
    let mut server = Server {
        connection,
        engine: Engine::new(FsHost::new()),
        snippets,
        dirty: Vec::new(),
        pages: HashMap::new(),
        shutting_down: false,
    };
    let clean = server.main_loop();
    server.engine.host().save();
    Ok(clean)
}

fn capabilities() -> lsp::ServerCapabilities {
    lsp::ServerCapabilities {
        position_encoding: Some(lsp::PositionEncodingKind::UTF16),
        text_document_sync: Some(lsp::TextDocumentSyncCapability::Options(
            lsp::TextDocumentSyncOptions {
                open_close: Some(true),
                change: Some(lsp::TextDocumentSyncKind::INCREMENTAL),
                save: Some(lsp::TextDocumentSyncSaveOptions::Supported(true)),
                ..lsp::TextDocumentSyncOptions::default()
            },
        )),
        hover_provider: Some(lsp::HoverProviderCapability::Simple(true)),
        definition_provider: Some(lsp::OneOf::Left(true)),
        completion_provider: Some(lsp::CompletionOptions {
            trigger_characters: Some(["|", "(", ",", ":"].map(String::from).to_vec()),
            ..lsp::CompletionOptions::default()
        }),
        document_formatting_provider: Some(lsp::OneOf::Left(true)),
        code_action_provider: Some(lsp::CodeActionProviderCapability::Options(
            lsp::CodeActionOptions {
                code_action_kinds: Some(vec![lsp::CodeActionKind::QUICKFIX]),
                ..lsp::CodeActionOptions::default()
            },
        )),
        ..lsp::ServerCapabilities::default()
    }
}

struct Server<'c> {
    connection: &'c Connection,
    engine: Engine<FsHost>,
    /// The client accepts snippets in completions.
    snippets: bool,
    /// Documents whose diagnostics are to be published.
    dirty: Vec<Uri>,
    /// The page of each diagnostic code, looked up once.
    pages: HashMap<&'static str, Option<Uri>>,
    shutting_down: bool,
}

/// Whether the loop goes on after a message.
#[derive(PartialEq)]
enum Next {
    Continue,
    Exit,
}

impl Server<'_> {
    /// Returns true when the session ended with `shutdown` then `exit`.
    fn main_loop(&mut self) -> bool {
        while let Ok(message) = self.connection.receiver.recv() {
            if self.handle(message) == Next::Exit {
                return self.shutting_down;
            }
            // Edits that arrived while the last one was compiled: apply them all first.
            while let Ok(message) = self.connection.receiver.try_recv() {
                if self.handle(message) == Next::Exit {
                    return self.shutting_down;
                }
            }
            self.publish();
        }
        false
    }

    fn send(&self, message: impl Into<Message>) {
        // The client has gone when this fails; the receiving loop ends by itself then.
        let _ = self.connection.sender.send(message.into());
    }

    fn handle(&mut self, message: Message) -> Next {
        match message {
            Message::Request(request) => {
                let response = self.request(request);
                self.send(response);
                Next::Continue
            }
            Message::Notification(n) if n.method == note::Exit::METHOD => Next::Exit,
            Message::Notification(n) => {
                let outcome = catch_unwind(AssertUnwindSafe(|| self.notification(n)));
                if outcome.is_err() {
                    eprintln!("vplc lsp: internal error while handling a notification");
                }
                Next::Continue
            }
            Message::Response(_) => Next::Continue,
        }
    }

    fn request(&mut self, request: Request) -> Response {
        let id = request.id.clone();
        if self.shutting_down {
            return Response::new_err(
                id,
                ErrorCode::InvalidRequest as i32,
                "the server is shutting down".to_string(),
            );
        }
        match request.method.as_str() {
            req::Shutdown::METHOD => {
                self.shutting_down = true;
                Response::new_ok(id, ())
            }
            req::HoverRequest::METHOD => self.reply(request, Self::hover),
            req::GotoDefinition::METHOD => self.reply(request, Self::definition),
            req::Completion::METHOD => self.reply(request, Self::completion),
            req::Formatting::METHOD => self.reply(request, Self::formatting),
            req::CodeActionRequest::METHOD => self.reply(request, Self::code_actions),
            method => Response::new_err(
                id,
                ErrorCode::MethodNotFound as i32,
                format!("vplc lsp does not handle `{method}`"),
            ),
        }
    }

    /// Decodes a request's parameters, runs `handler`, encodes its result; bad parameters
    /// and a failing handler become error responses, never a dead server.
    fn reply<P: DeserializeOwned, R: Serialize>(
        &mut self,
        request: Request,
        handler: fn(&mut Self, P) -> R,
    ) -> Response {
        let id: RequestId = request.id;
        let params = match serde_json::from_value::<P>(request.params) {
            Ok(p) => p,
            Err(e) => {
                return Response::new_err(id, ErrorCode::InvalidParams as i32, e.to_string());
            }
        };
        match catch_unwind(AssertUnwindSafe(|| handler(self, params))) {
            Ok(result) => Response::new_ok(id, result),
            Err(_) => Response::new_err(
                id,
                ErrorCode::InternalError as i32,
                "internal error in vplc lsp (please report it)".to_string(),
            ),
        }
    }

    fn notification(&mut self, n: Notification) {
        match n.method.as_str() {
            note::DidOpenTextDocument::METHOD => {
                let Ok(p) = serde_json::from_value::<lsp::DidOpenTextDocumentParams>(n.params)
                else {
                    return;
                };
                let doc = p.text_document;
                let path = convert::uri_to_path(&doc.uri);
                self.engine
                    .open(doc.uri.as_str(), path, doc.version, doc.text);
                self.mark(doc.uri);
            }
            note::DidChangeTextDocument::METHOD => {
                let Ok(p) = serde_json::from_value::<lsp::DidChangeTextDocumentParams>(n.params)
                else {
                    return;
                };
                let changes = p
                    .content_changes
                    .into_iter()
                    .map(|c| Change {
                        range: c.range.map(convert::range),
                        text: c.text,
                    })
                    .collect();
                let doc = p.text_document;
                if self.engine.change(doc.uri.as_str(), doc.version, changes) {
                    self.mark(doc.uri);
                }
            }
            note::DidSaveTextDocument::METHOD => {
                // Files the documents name may have changed on disk too: check again.
                self.engine.invalidate();
                let open: Vec<Uri> = self.engine.uris().filter_map(|u| u.parse().ok()).collect();
                for uri in open {
                    self.mark(uri);
                }
            }
            note::DidCloseTextDocument::METHOD => {
                let Ok(p) = serde_json::from_value::<lsp::DidCloseTextDocumentParams>(n.params)
                else {
                    return;
                };
                let uri = p.text_document.uri;
                self.engine.close(uri.as_str());
                self.dirty.retain(|u| *u != uri);
                self.notify::<note::PublishDiagnostics>(lsp::PublishDiagnosticsParams {
                    uri,
                    diagnostics: Vec::new(),
                    version: None,
                });
            }
            _ => {}
        }
    }

    fn mark(&mut self, uri: Uri) {
        if !self.dirty.contains(&uri) {
            self.dirty.push(uri);
        }
    }

    fn notify<N: note::Notification>(&self, params: N::Params) {
        self.send(Notification::new(N::METHOD.to_string(), params));
    }

    fn publish(&mut self) {
        for uri in std::mem::take(&mut self.dirty) {
            let outcome = catch_unwind(AssertUnwindSafe(|| self.engine.diagnostics(uri.as_str())));
            let Ok(Some((version, problems))) = outcome else {
                continue;
            };
            let diagnostics = problems
                .into_iter()
                .map(|p| convert::diagnostic(&uri, p, &mut self.pages))
                .collect();
            self.notify::<note::PublishDiagnostics>(lsp::PublishDiagnosticsParams {
                uri,
                diagnostics,
                version: Some(version),
            });
        }
    }

    fn hover(&mut self, p: lsp::HoverParams) -> Option<lsp::Hover> {
        let at = p.text_document_position_params;
        let hover = self
            .engine
            .hover(at.text_document.uri.as_str(), convert::pos(at.position))?;
        Some(lsp::Hover {
            contents: lsp::HoverContents::Markup(lsp::MarkupContent {
                kind: lsp::MarkupKind::Markdown,
                value: hover.markdown,
            }),
            range: Some(convert::to_range(hover.range)),
        })
    }

    fn definition(&mut self, p: lsp::GotoDefinitionParams) -> Option<lsp::GotoDefinitionResponse> {
        let at = p.text_document_position_params;
        let uri = at.text_document.uri;
        let target = self
            .engine
            .definition(uri.as_str(), convert::pos(at.position))?;
        convert::location(&uri, target).map(lsp::GotoDefinitionResponse::Scalar)
    }

    fn completion(&mut self, p: lsp::CompletionParams) -> Option<lsp::CompletionResponse> {
        let at = p.text_document_position;
        let items = self.engine.completions(
            at.text_document.uri.as_str(),
            convert::pos(at.position),
            self.snippets,
        );
        Some(lsp::CompletionResponse::Array(
            items.into_iter().map(convert::completion).collect(),
        ))
    }

    /// The whole text replaced by its formatted form; `null` (no edit) when the file has
    /// syntax errors, an empty list when it is already formatted.
    fn formatting(&mut self, p: lsp::DocumentFormattingParams) -> Option<Vec<lsp::TextEdit>> {
        let uri = p.text_document.uri;
        let formatted = self.engine.format(uri.as_str())?;
        if Some(formatted.as_str()) == self.engine.text(uri.as_str()) {
            return Some(Vec::new());
        }
        let range = self.engine.whole_range(uri.as_str())?;
        Some(vec![lsp::TextEdit::new(
            convert::to_range(range),
            formatted,
        )])
    }

    fn code_actions(&mut self, p: lsp::CodeActionParams) -> Option<lsp::CodeActionResponse> {
        let wanted = p.context.only.as_ref().is_none_or(|kinds| {
            kinds.iter().any(|k| {
                lsp::CodeActionKind::QUICKFIX
                    .as_str()
                    .starts_with(k.as_str())
            })
        });
        if !wanted {
            return Some(Vec::new());
        }
        let uri = p.text_document.uri;
        let fixes = self.engine.fixes(uri.as_str(), convert::range(p.range));
        let actions = fixes
            .into_iter()
            .map(|(problem, fix)| {
                let edit = lsp::TextEdit::new(convert::to_range(fix.range), fix.new_text);
                let diagnostic = convert::diagnostic(&uri, problem, &mut self.pages);
                lsp::CodeActionOrCommand::CodeAction(lsp::CodeAction {
                    title: fix.title,
                    kind: Some(lsp::CodeActionKind::QUICKFIX),
                    diagnostics: Some(vec![diagnostic]),
                    edit: Some(lsp::WorkspaceEdit::new(HashMap::from([(
                        uri.clone(),
                        vec![edit],
                    )]))),
                    is_preferred: Some(true),
                    ..lsp::CodeAction::default()
                })
            })
            .collect();
        Some(actions)
    }
}
