//! Markdown as `summary.md` and `compare --format markdown` write it: text made
//! safe for a table cell, a heading or a paragraph ([`inline`]), a fenced code
//! block nothing inside can close ([`code_block`]), and the one table writer
//! ([`table`]). Every text from a target or a file goes through here.

use std::fmt::Write as _;

/// The most bytes of one code block (an exchange, a `curl` line, a timeline).
pub(crate) const BLOCK_CAP: usize = 6 * 1024;

/// Text for a table cell, a heading or a paragraph: one line, at most `max`
/// characters, control characters gone, and every character Markdown or HTML
/// would read as syntax (a pipe ending the cell, a backtick opening code, a
/// tag) escaped with a backslash.
pub(crate) fn inline(text: &str, max: usize) -> String {
    let mut out = String::new();
    let mut count = 0;
    let mut last_space = false;
    for c in text.chars() {
        if count == max {
            out.push('…');
            break;
        }
        let c = if c.is_whitespace() { ' ' } else { c };
        if c == ' ' && last_space {
            continue;
        }
        last_space = c == ' ';
        if c.is_control() {
            continue;
        }
        if matches!(
            c,
            '\\' | '`' | '*' | '_' | '[' | ']' | '<' | '>' | '|' | '~' | '&' | '#'
        ) {
            out.push('\\');
        }
        out.push(c);
        count += 1;
    }
    out
}

/// A fenced code block holding `content` as it is (cut to [`BLOCK_CAP`] bytes),
/// with a fence longer than any run of backticks inside, so nothing in it can
/// close the block; control characters but tab and newline become `�`.
pub(crate) fn code_block(info: &str, content: &str) -> String {
    let mut text: String = content
        .chars()
        .filter(|c| *c != '\r')
        .map(|c| {
            if c.is_control() && c != '\n' && c != '\t' {
                '\u{FFFD}'
            } else {
                c
            }
        })
        .collect();
    if text.len() > BLOCK_CAP {
        let mut end = BLOCK_CAP;
        while !text.is_char_boundary(end) {
            end -= 1;
        }
        let left = text.len() - end;
        text.truncate(end);
        let _ = write!(
            text,
            "\n… cut here: {left} more bytes (`results.json` and `report.html` hold it whole)"
        );
    }
    let text = text.trim_end_matches('\n');
    let longest = text.split(|c| c != '`').map(str::len).max().unwrap_or(0);
    let fence = "`".repeat(longest.max(2) + 1);
    format!("{fence}{info}\n{text}\n{fence}\n\n")
}

/// A GitHub table: the `header` cells, the separator row, then each row of
/// `rows`, every cell as given (already made safe with [`inline`]).
pub(crate) fn table<H: AsRef<str>>(
    out: &mut String,
    header: &[H],
    rows: impl IntoIterator<Item = Vec<String>>,
) {
    row(out, header);
    out.push('|');
    out.push_str(&"---|".repeat(header.len()));
    out.push('\n');
    for cells in rows {
        row(out, &cells);
    }
}

/// One row of a table: `| a | b |`.
fn row<C: AsRef<str>>(out: &mut String, cells: &[C]) {
    out.push('|');
    for cell in cells {
        let _ = write!(out, " {} |", cell.as_ref());
    }
    out.push('\n');
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn inline_text_cannot_break_a_table_or_open_code() {
        assert_eq!(inline("a|b `c` <i>", 100), "a\\|b \\`c\\` \\<i\\>");
        assert_eq!(inline("one\ntwo\r\n  three", 100), "one two three");
        assert_eq!(inline("abcdef", 3), "abc…");
    }

    #[test]
    fn a_code_block_fence_outlasts_the_backticks_inside() {
        let block = code_block("text", "x ```` y");
        assert!(block.starts_with("`````text\nx ```` y\n`````\n"), "{block}");
        assert!(code_block("sh", "curl").starts_with("```sh\ncurl\n```\n"));
        let long = code_block("text", &"é".repeat(BLOCK_CAP));
        assert!(long.len() < BLOCK_CAP + 200 && long.contains("… cut here: "));
    }

    #[test]
    fn a_table_has_its_header_a_separator_and_a_line_a_row() {
        let mut out = String::new();
        table(&mut out, &["", "a"], [vec!["x".to_owned(), "y".to_owned()]]);
        assert_eq!(out, "|  | a |\n|---|---|\n| x | y |\n");
    }
}
