//! `rohas explain CODE`: the long form of a diagnostic code, like
//! `rustc --explain`.
//!
//! A diagnostic names its code (`error[E0012]`) but has room for one
//! message about one place; this prints the rule behind it, an example
//! and the fix, from the texts in `rohas_schema::Code`. Without a code it
//! lists every code with its title. It reads no project, so it works
//! anywhere.

use crate::output::{stdout_line, Output};
use rohas_schema::Code;
use std::process::ExitCode;

#[derive(clap::Args)]
#[command(
    after_help = "Examples:\n  rohas explain E0012   what a duplicate route is and how to fix it\n  rohas explain e12     the same, leniently spelled\n  rohas explain         every code with its title"
)]
pub struct Args {
    /// A diagnostic code such as E0012 or W0001 (case and leading zeros optional).
    pub code: Option<String>,
}

pub fn run(args: Args, out: &Output) -> anyhow::Result<ExitCode> {
    let Some(text) = args.code else {
        for code in Code::ALL {
            stdout_line(&format!("{code}  {}", code.title()));
        }
        return Ok(ExitCode::SUCCESS);
    };
    let Some(code) = Code::parse(&text) else {
        out.error(&format!(
            "unknown diagnostic code `{}`\n  help: known codes: {}",
            text.escape_debug(),
            known_codes()
        ));
        return Ok(ExitCode::FAILURE);
    };
    for line in explanation(code).lines() {
        stdout_line(line);
    }
    Ok(ExitCode::SUCCESS)
}

/// The text for one code: title, what triggers it, an indented example,
/// the fix, prose wrapped for an 80-column terminal.
fn explanation(code: Code) -> String {
    let e = code.explanation();
    let example: Vec<String> = e
        .example
        .lines()
        .map(|l| {
            if l.is_empty() {
                String::new()
            } else {
                format!("    {l}")
            }
        })
        .collect();
    format!(
        "{code}: {}\n\n{}\n\nExample:\n\n{}\n\nFix:\n{}",
        e.title,
        wrap(e.what),
        example.join("\n"),
        wrap(e.fix)
    )
}

/// Greedy word wrap at 78 columns; a word longer than that gets a line of
/// its own rather than being cut.
fn wrap(text: &str) -> String {
    const WIDTH: usize = 78;
    let mut lines = Vec::new();
    let mut line = String::new();
    for word in text.split_whitespace() {
        if !line.is_empty() && line.chars().count() + 1 + word.chars().count() > WIDTH {
            lines.push(std::mem::take(&mut line));
        }
        if !line.is_empty() {
            line.push(' ');
        }
        line.push_str(word);
    }
    lines.push(line);
    lines.join("\n")
}

fn known_codes() -> String {
    Code::ALL.map(Code::as_str).join(", ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wrap_keeps_lines_short_and_words_whole() {
        let text = "word ".repeat(40);
        let wrapped = wrap(&text);
        assert!(wrapped.lines().all(|l| l.chars().count() <= 78), "{wrapped}");
        assert_eq!(wrapped.split_whitespace().count(), 40);
        assert_eq!(wrap("short"), "short");
    }

    #[test]
    fn explanation_has_every_part_and_no_trailing_spaces() {
        for code in Code::ALL {
            let text = explanation(code);
            assert!(text.starts_with(&format!("{code}: ")), "{text}");
            assert!(text.contains("\nExample:\n\n    "), "{text}");
            assert!(text.contains("\nFix:\n"), "{text}");
            assert!(text.lines().all(|l| l == l.trim_end()), "{code}: trailing spaces");
        }
    }
}
