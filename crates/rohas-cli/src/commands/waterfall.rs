//! A trace as a waterfall in the terminal: one line per span in tree
//! order (indented by depth), its kind, duration and status, and a bar
//! placing it in the trace's time; the span's logs under it. Pure: a tree
//! and a width in, lines out.

use super::telemetry_text::{self as text, Paint};
use crate::telemetry_client::{SpanNode, TraceTree};
use rohas_telemetry::{LogEntry, SpanKind, SpanStatus};

/// Narrowest bar worth drawing.
const MIN_BAR: usize = 10;
/// A bar wide enough to read, kept by cutting long names down to
/// [`MIN_NAME`].
const GOOD_BAR: usize = 24;
const MIN_NAME: usize = 20;
/// Eighth blocks, for where a bar ends inside a cell.
const EIGHTHS: [char; 7] = ['▏', '▎', '▍', '▌', '▋', '▊', '▉'];

pub fn render(tree: &TraceTree, width: usize, paint: Paint) -> Vec<String> {
    let mut lines: Vec<String> = headline(tree, width, paint).into();
    lines.push(String::new());
    let name_w = column(
        tree.spans.iter().map(|n| 2 * n.depth + n.span.name.chars().count()),
        "SPAN",
    )
    .min((width * 35 / 100).max(16));
    let kind_w = column(tree.spans.iter().map(|n| n.span.kind.as_str().len()), "KIND");
    let durations: Vec<String> = tree.spans.iter().map(|n| text::duration(n.span.duration_ns)).collect();
    let duration_w = column(durations.iter().map(|d| d.chars().count()), "DURATION");
    let statuses: Vec<String> = tree.spans.iter().map(status).collect();
    let status_w = column(statuses.iter().map(|s| s.chars().count()), "STATUS");
    // A narrow terminal takes room from long names before the bar: the
    // bar is what a waterfall is for.
    let others = kind_w + duration_w + status_w + 4 * 2 + 2;
    let name_w = name_w
        .min(width.saturating_sub(others + GOOD_BAR))
        .max(MIN_NAME.min(name_w));
    let bar_w = width.saturating_sub(name_w + others).max(MIN_BAR);

    let total = text::duration(tree.duration_ns);
    let scale = format!(
        "0{}{total}",
        " ".repeat((bar_w + 2).saturating_sub(1 + total.chars().count()))
    );
    lines.push(paint.dim(&format!(
        "{:<name_w$}  {:<kind_w$}  {:>duration_w$}  {:<status_w$}  {scale}",
        "SPAN", "KIND", "DURATION", "STATUS"
    )));
    for ((node, duration), status) in tree.spans.iter().zip(&durations).zip(&statuses) {
        let span = &node.span;
        let failed = span.status == SpanStatus::Error;
        let name = text::fit(&format!("{}{}", "  ".repeat(node.depth), span.name), name_w);
        let status = format!("{status:<status_w$}");
        let bar = bar(tree, node, bar_w);
        let (status, bar) = if failed {
            (paint.error(&status), paint.error(&bar))
        } else {
            (status, bar)
        };
        lines.push(format!(
            "{name}{}  {:<kind_w$}  {duration:>duration_w$}  {status}  |{bar}|",
            " ".repeat(name_w - name.chars().count()),
            span.kind.as_str(),
        ));
        let indent = "  ".repeat(node.depth + 1);
        if let Some(error) = &span.error {
            let line = text::fit(&format!("{indent}! {}", error.replace('\n', " ⏎ ")), width);
            lines.push(paint.error(&line));
        }
        for log in &node.logs {
            lines.push(log_line(tree, log, &indent, width, paint));
        }
    }
    if !tree.logs.is_empty() {
        lines.push(String::new());
        lines.push("logs of this trace not tied to a span:".into());
        for log in &tree.logs {
            lines.push(log_line(tree, log, "  ", width, paint));
        }
    }
    lines
}

/// `trace <id>  <when>`, then `<root>  <duration>  <n> spans, <m> errors`.
fn headline(tree: &TraceTree, width: usize, paint: Paint) -> [String; 2] {
    let spans = tree.spans.len();
    let errors = tree.spans.iter().filter(|n| n.span.status == SpanStatus::Error).count();
    let first = format!("trace {}  {}", tree.trace_id, text::time(tree.start_ns));
    let root = tree
        .spans
        .first()
        .map(|n| format!("{}  ", n.span.name))
        .unwrap_or_default();
    let second = format!(
        "{root}{}  {spans} span{}, {errors} error{}",
        text::duration(tree.duration_ns),
        plural(spans),
        plural(errors),
    );
    let second = text::fit(&second, width);
    [
        paint.paint("1", &text::fit(&first, width)),
        if errors > 0 { paint.error(&second) } else { second },
    ]
}

fn plural(n: usize) -> &'static str {
    if n == 1 {
        ""
    } else {
        "s"
    }
}

fn column(widths: impl Iterator<Item = usize>, header: &str) -> usize {
    widths.fold(header.len(), usize::max)
}

/// `ok 201`, `error, attempt 2`, `error, attempt 3, dead-lettered`.
fn status(node: &SpanNode) -> String {
    let span = &node.span;
    let mut s = span.status.as_str().to_string();
    if let Some(code) = span.status_code {
        s.push_str(&format!(" {code}"));
    }
    if span.kind == SpanKind::Delivery {
        if let Some(attempt) = span.attempt {
            s.push_str(&format!(", attempt {attempt}"));
        }
    }
    if span.dead_lettered {
        s.push_str(", dead-lettered");
    }
    s
}

/// Where the span ran in the trace's time, `width` cells: whole cells up
/// to where it starts, then blocks to where it ends (to an eighth of a
/// cell), at least a sliver so the shortest span still shows.
fn bar(tree: &TraceTree, node: &SpanNode, width: usize) -> String {
    let total = tree.duration_ns.max(1) as f64;
    let cells = width as f64;
    let from = node.span.start_ns.saturating_sub(tree.start_ns) as f64 / total * cells;
    let to = node.span.end_ns().saturating_sub(tree.start_ns) as f64 / total * cells;
    let start = (from.floor() as usize).min(width - 1);
    let end_eighths = ((to * 8.0).round() as usize).clamp(start * 8 + 1, width * 8);
    let (full, part) = (end_eighths / 8, end_eighths % 8);
    let mut bar = " ".repeat(start);
    bar.extend(std::iter::repeat_n('█', full - start));
    if part > 0 {
        bar.push(EIGHTHS[part - 1]);
    }
    let used = bar.chars().count();
    bar.push_str(&" ".repeat(width - used));
    bar
}

/// `· +2.0ms   INFO   creating user`, under its span.
fn log_line(tree: &TraceTree, log: &LogEntry, indent: &str, width: usize, paint: Paint) -> String {
    let offset = format!("+{}", text::duration(log.time_ns.saturating_sub(tree.start_ns)));
    let line = text::fit(
        &format!(
            "{indent}· {offset:<8} {}  {}",
            text::level(log.level),
            text::message(log)
        ),
        width,
    );
    // Colour after fitting, so escape codes are never cut.
    let level = text::level(log.level);
    line.replacen(&level, &paint.level(log.level, &level), 1)
}

#[cfg(test)]
mod tests {
    use super::*;
    use rohas_telemetry::{Span, SpanId};
    use std::sync::Arc;

    fn node(name: &str, depth: usize, start_ns: u64, duration_ns: u64) -> SpanNode {
        let mut span = Span::new("t", SpanId::random(), None, Arc::from(name), SpanKind::Handler);
        span.start_ns = start_ns;
        span.duration_ns = duration_ns;
        SpanNode {
            span,
            depth,
            logs: Vec::new(),
        }
    }

    fn tree(spans: Vec<SpanNode>) -> TraceTree {
        TraceTree {
            trace_id: "t".into(),
            start_ns: 1_000,
            duration_ns: 800,
            spans,
            logs: Vec::new(),
        }
    }

    #[test]
    fn bars_place_spans_in_the_traces_time() {
        let t = tree(vec![]);
        assert_eq!(bar(&t, &node("a", 0, 1_000, 800), 8), "████████");
        assert_eq!(bar(&t, &node("b", 1, 1_400, 400), 8), "    ████");
        assert_eq!(bar(&t, &node("c", 1, 1_000, 150), 8), "█▌      ");
        assert_eq!(
            bar(&t, &node("d", 1, 1_200, 0), 8),
            "  ▏     ",
            "an instant still shows"
        );
    }

    #[test]
    fn lines_fit_the_width_and_indent_by_depth() {
        let t = tree(vec![node("root", 0, 1_000, 800), node("child", 1, 1_400, 400)]);
        let lines = render(&t, 80, Paint { on: false });
        assert!(lines.iter().all(|l| l.chars().count() <= 80), "{lines:#?}");
        assert!(lines[3].starts_with("SPAN"), "{lines:#?}");
        assert!(lines[5].starts_with("  child"), "{lines:#?}");
    }
}
