//! The event graph: which event triggers which, and who handles each one.
//!
//! Both checks are warnings. A trigger cycle can be intended (a retrying
//! workflow), and an event with no handler may be consumed by another
//! service through a broker; the user should still know about either.

use crate::code::Code;
use crate::diagnostic::Diagnostic;
use crate::model::{NameRef, Schema};
use std::collections::HashMap;

pub(super) fn check(schema: &Schema, diags: &mut Vec<Diagnostic>) {
    cycles(schema, diags);
    for event in &schema.events {
        if event.handlers.is_empty() {
            let at = event.span.start as usize;
            let header = crate::span::Span::new(
                event.span.file,
                at,
                (at + 6 + event.name.len()).min(event.span.end as usize),
            );
            diags.push(
                Diagnostic::warning(Code::W0003, format!("event `{}` has no handler", event.name))
                    .with_primary(header, "published messages reach no handler in this project")
                    .with_help("add `handler: [handle_it]`, or ignore this if another service consumes the event from the broker"),
            );
        }
    }
}

const MAX_REPORTED: usize = 20;

/// Report each elementary cycle of `event → triggers` once, starting from
/// its first event in schema order.
fn cycles(schema: &Schema, diags: &mut Vec<Diagnostic>) {
    let index: HashMap<&str, usize> = schema
        .events
        .iter()
        .enumerate()
        .map(|(i, e)| (e.name.as_str(), i))
        .collect();
    let edges: Vec<Vec<(usize, &NameRef)>> = schema
        .events
        .iter()
        .map(|e| {
            e.triggers
                .iter()
                .filter_map(|t| index.get(t.name.as_str()).map(|&j| (j, t)))
                .collect()
        })
        .collect();

    // Depth-first search from each event, only through events with a larger
    // index: every cycle is then found exactly once, from its smallest member.
    // A budget keeps a pathological graph (millions of cycles) from hanging
    // validation; the first cycles found are the useful ones anyway.
    let mut budget = 1_000_000usize;
    let mut reported = 0;
    for start in 0..edges.len() {
        let mut path: Vec<(usize, Option<&NameRef>)> = vec![(start, None)];
        let mut next_edge: Vec<usize> = vec![0];
        while let Some(&(node, _)) = path.last() {
            if budget == 0 || reported == MAX_REPORTED {
                return;
            }
            budget -= 1;
            let depth = path.len() - 1;
            let Some(&(to, via)) = edges[node].get(next_edge[depth]) else {
                path.pop();
                next_edge.pop();
                continue;
            };
            next_edge[depth] += 1;
            if to == start {
                report(schema, &path, via, diags);
                reported += 1;
            } else if to > start && !path.iter().any(|(n, _)| *n == to) {
                path.push((to, Some(via)));
                next_edge.push(0);
            }
        }
    }
}

fn report(schema: &Schema, path: &[(usize, Option<&NameRef>)], closing: &NameRef, diags: &mut Vec<Diagnostic>) {
    let mut names: Vec<&str> = path.iter().map(|(i, _)| schema.events[*i].name.as_str()).collect();
    names.push(names[0]);
    let cycle = names.join(" → ");
    let mut diag = Diagnostic::warning(Code::W0002, format!("trigger cycle: {cycle}"))
        .with_primary(closing.span, "this trigger closes the cycle")
        .with_help("each event in the cycle publishes the next one forever; break the cycle unless that is intended");
    for (_, via) in path.iter().skip(1) {
        if let Some(via) = via {
            diag = diag.with_secondary(via.span, "triggered here");
        }
    }
    diags.push(diag);
}
