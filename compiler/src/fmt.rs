//! Syntax tree + comments → canonical source text (`vplc fmt`). Idempotent; keeps every
//! comment; the result parses to the same tree. Refuses files with syntax errors.

use crate::syntax::ast::*;
use crate::syntax::dump::type_to;
use crate::syntax::errors::SyntaxError;
use crate::syntax::{Mode, Span, parse};

const WIDTH: usize = 100;
const INDENT: &str = "    ";

/// Formats `text`, or returns the syntax errors that prevent it.
pub fn format(text: &str, mode: Mode) -> Result<String, Vec<SyntaxError>> {
    let plain = crate::syntax::parse::plain_text(text);
    let text: &str = &plain;
    let parsed = parse(text, mode);
    if !parsed.errors.is_empty() {
        return Err(parsed.errors);
    }
    let mut f = Formatter {
        text,
        comments: &parsed.file.comments,
        next_comment: 0,
        out: String::new(),
    };
    f.file(&parsed.file);
    Ok(f.out)
}

struct Formatter<'a> {
    text: &'a str,
    comments: &'a [Comment],
    /// Comments before this index are already written.
    next_comment: usize,
    out: String,
}

impl Formatter<'_> {
    fn file(&mut self, file: &SourceFile) {
        let mut prev: Option<&Item> = None;
        for item in &file.items {
            if let Some(p) = prev {
                let grouped = matches!(
                    (p, item),
                    (Item::Use(_), Item::Use(_)) | (Item::Const(_), Item::Const(_))
                );
                if !grouped || self.blank_line_between(p.span().end, item.span().start) {
                    self.out.push('\n');
                }
            }
            self.leading_comments(item.span().start as usize, "");
            match item {
                Item::Use(u) => {
                    let path: Vec<&str> = u.path.iter().map(|i| i.name.as_str()).collect();
                    self.out.push_str(&format!("use {};", path.join(".")));
                }
                Item::Const(c) => {
                    self.hoist_inner(c.span, "");
                    self.out
                        .push_str(&format!("const {} = {};", c.name.name, expr(&c.value)));
                }
                Item::Model(m) => self.model(m),
                Item::Pipeline(p) => self.pipeline(p),
                Item::Builtin(b) => self.builtin(b),
            }
            self.trailing_comment(item.span().end);
            self.out.push('\n');
            prev = Some(item);
        }
        if self.next_comment < self.comments.len() {
            if !self.out.is_empty() {
                self.out.push('\n');
            }
            self.leading_comments(self.text.len() + 1, "");
        }
    }

    fn blank_line_between(&self, from: u32, to: u32) -> bool {
        let between = self.text.get(from as usize..to as usize).unwrap_or("");
        let parts: Vec<&str> = between.split('\n').collect();
        parts.len() > 2
            && parts[1..parts.len() - 1]
                .iter()
                .any(|l| l.trim().is_empty())
    }

    /// Writes the comments that start before `offset`, each on its own line.
    fn leading_comments(&mut self, offset: usize, indent: &str) {
        let mut last_end: Option<usize> = None;
        while let Some(c) = self.comments.get(self.next_comment) {
            if c.span.start as usize >= offset {
                break;
            }
            if let Some(end) = last_end
                && self.text[end..c.span.start as usize].matches('\n').count() > 1
            {
                self.out.push('\n');
            }
            self.out.push_str(indent);
            self.out.push_str(c.text.trim_end());
            self.out.push('\n');
            last_end = Some(c.span.end as usize);
            self.next_comment += 1;
        }
        if let Some(end) = last_end
            && offset <= self.text.len()
            && self.text[end..offset].matches('\n').count() > 1
        {
            self.out.push('\n');
        }
    }

    /// Comments inside a construct printed on one line go before it.
    fn hoist_inner(&mut self, span: Span, indent: &str) {
        self.leading_comments(span.end as usize, indent);
    }

    fn has_comments_within(&self, span: Span) -> bool {
        self.comments
            .iter()
            .any(|c| c.span.start >= span.start && c.span.start < span.end)
    }

    /// A comment on the same line right after `end` is kept there.
    fn trailing_comment(&mut self, end: u32) {
        let Some(c) = self.comments.get(self.next_comment) else {
            return;
        };
        let between = self
            .text
            .get(end as usize..c.span.start as usize)
            .unwrap_or("\n");
        if between.contains('\n') || !between.trim().chars().all(|ch| ch == ',' || ch == ';') {
            return;
        }
        self.out.push(' ');
        self.out.push_str(c.text.trim_end());
        self.next_comment += 1;
    }

    fn model(&mut self, m: &ModelItem) {
        let head = format!("model {} = ", m.name.name);
        let one_line = format!("{head}{};", call(&m.value));
        // Only comments inside the call break it over lines; one between `)` and `;` is
        // written after the item.
        if one_line.len() <= WIDTH && !self.has_comments_within(m.value.span) {
            self.out.push_str(&one_line);
            return;
        }
        self.out.push_str(&head);
        self.broken_call(&m.value);
        self.out.push(';');
    }

    /// `name(first,` then one argument a line, then `)`.
    fn broken_call(&mut self, c: &Call) {
        self.out.push_str(&c.name.name);
        self.out.push('(');
        let mut args = c.args.iter().peekable();
        if let Some(first) = args.peek()
            && first.name.is_none()
            && !self.has_comments_within(first.span)
            && !self.comment_between(c.name.span.end, first.span.start)
        {
            self.out.push_str(&arg(first));
            self.out.push(',');
            self.trailing_comment(first.span.end);
            args.next();
        }
        self.out.push('\n');
        for a in args {
            self.leading_comments(a.span.start as usize, INDENT);
            self.hoist_inner(a.span, INDENT);
            self.out.push_str(INDENT);
            self.out.push_str(&arg(a));
            self.out.push(',');
            self.trailing_comment(a.span.end);
            self.out.push('\n');
        }
        self.leading_comments(c.span.end as usize, INDENT);
        self.out.push(')');
    }

    fn comment_between(&self, from: u32, to: u32) -> bool {
        self.comments
            .iter()
            .any(|c| c.span.start >= from && c.span.start < to)
    }

    fn builtin(&mut self, b: &BuiltinDecl) {
        self.out
            .push_str(&format!("builtin {} {}(", b.role.as_str(), b.name.name));
        if b.params.is_empty() {
            self.hoist_inner(b.span, "");
            self.out.push_str(");");
            return;
        }
        self.out.push('\n');
        for p in &b.params {
            self.leading_comments(p.span.start as usize, INDENT);
            self.hoist_inner(p.span, INDENT);
            self.out.push_str(INDENT);
            self.out.push_str(&param(p));
            self.out.push(',');
            self.trailing_comment(p.span.end);
            self.out.push('\n');
        }
        self.leading_comments(b.span.end as usize, INDENT);
        self.out.push_str(");");
    }

    fn pipeline(&mut self, p: &Pipeline) {
        self.out.push_str(&format!("pipeline {} {{", p.name.name));
        let body_start = p.name.span.end;
        self.trailing_comment_after_brace(body_start);
        self.out.push('\n');
        let mut prev_end: Option<u32> = None;
        for stmt in &p.body {
            let span = stmt.span();
            if let Some(end) = prev_end
                && self.blank_line_between(end, self.first_comment_or(span.start, end))
            {
                self.out.push('\n');
            }
            self.leading_comments(span.start as usize, INDENT);
            self.hoist_inner(span, INDENT);
            self.out.push_str(INDENT);
            self.statement(stmt);
            self.trailing_comment(span.end);
            self.out.push('\n');
            prev_end = Some(span.end);
        }
        self.leading_comments(p.span.end as usize, INDENT);
        self.out.push('}');
    }

    /// The start of the first unwritten comment between `from` and `to`, or `to`.
    fn first_comment_or(&self, to: u32, from: u32) -> u32 {
        match self.comments.get(self.next_comment) {
            Some(c) if c.span.start >= from && c.span.start < to => c.span.start,
            _ => to,
        }
    }

    /// `pipeline p { // note` keeps its comment on the header line.
    fn trailing_comment_after_brace(&mut self, name_end: u32) {
        let Some(c) = self.comments.get(self.next_comment) else {
            return;
        };
        let between = self
            .text
            .get(name_end as usize..c.span.start as usize)
            .unwrap_or("\n");
        if !between.contains('\n') && between.trim() == "{" {
            self.out.push(' ');
            self.out.push_str(c.text.trim_end());
            self.next_comment += 1;
        }
    }

    fn statement(&mut self, stmt: &Statement) {
        let (prefix, f) = match stmt {
            Statement::Let(l) => (format!("let {} = ", l.name.name), &l.flow),
            Statement::Flow(s) => (String::new(), &s.flow),
        };
        let one_line = format!("{prefix}{};", flow(f));
        if INDENT.len() + one_line.len() <= WIDTH || f.stages.is_empty() {
            self.out.push_str(&one_line);
            return;
        }
        self.out.push_str(&prefix);
        self.out.push_str(&term(&f.head));
        for s in &f.stages {
            self.out.push('\n');
            self.out.push_str(INDENT);
            self.out.push_str(INDENT);
            self.out.push_str("| ");
            self.out.push_str(&call(s));
        }
        self.out.push(';');
    }
}

fn flow(f: &Flow) -> String {
    let mut out = term(&f.head);
    for s in &f.stages {
        out.push_str(" | ");
        out.push_str(&call(s));
    }
    out
}

fn term(t: &Term) -> String {
    let mut out = match &t.kind {
        TermKind::Call(c) => call(c),
        TermKind::Name(n) => n.name.clone(),
        TermKind::List(flows) => {
            let items: Vec<String> = flows.iter().map(flow).collect();
            format!("[{}]", items.join(", "))
        }
        TermKind::Paren(f) => format!("({})", flow(f)),
        TermKind::Error => String::new(),
    };
    if let Some(ty) = &t.ascription {
        out.push_str(" : ");
        type_to(&mut out, ty);
    }
    out
}

fn call(c: &Call) -> String {
    if c.bare {
        return c.name.name.clone();
    }
    let args: Vec<String> = c.args.iter().map(arg).collect();
    format!("{}({})", c.name.name, args.join(", "))
}

fn arg(a: &Arg) -> String {
    match &a.name {
        Some(n) => format!("{}: {}", n.name, expr(&a.value)),
        None => expr(&a.value),
    }
}

fn param(p: &Param) -> String {
    let mut out = format!("{}: ", p.name.name);
    type_to(&mut out, &p.ty);
    if let Some(r) = &p.range {
        let lit = |l: &Option<crate::syntax::literal::Literal>| {
            l.as_ref().map(|l| l.text.clone()).unwrap_or_default()
        };
        let dots = if r.inclusive { "..=" } else { ".." };
        out.push_str(&format!(" in {}{dots}{}", lit(&r.min), lit(&r.max)));
    }
    if let Some(d) = &p.default {
        out.push_str(" = ");
        out.push_str(&expr(d));
    }
    out
}

fn expr(e: &Expr) -> String {
    match &e.kind {
        ExprKind::Number(l) => l.text.clone(),
        ExprKind::String(s) => quote(s),
        ExprKind::Bool(b) => b.to_string(),
        ExprKind::Wildcard => "_".into(),
        ExprKind::Name(n) => n.name.clone(),
        ExprKind::Call(c) => call(c),
        ExprKind::Type(t) => {
            let mut out = String::new();
            type_to(&mut out, t);
            out
        }
        ExprKind::List(items) => {
            let items: Vec<String> = items.iter().map(expr).collect();
            format!("[{}]", items.join(", "))
        }
    }
}

fn quote(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\t' => out.push_str("\\t"),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}
