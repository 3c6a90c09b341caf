//! Printing results: aligned tables for people, stable JSON for scripts, and
//! errors (with their cause chain) on standard error.

use std::io::Write;

use serde_json::{Value, json};

use crate::cli::OutputFormat;

/// Where results go, and in which form.
#[derive(Debug, Clone, Copy)]
pub struct Out {
    format: OutputFormat,
}

impl Out {
    /// Printing in `format`.
    pub fn new(format: OutputFormat) -> Self {
        Self { format }
    }

    /// Whether results are JSON.
    pub fn is_json(&self) -> bool {
        self.format == OutputFormat::Json
    }

    /// Prints a JSON document on stdout.
    pub fn json(&self, value: &Value) {
        let text = serde_json::to_string_pretty(value).unwrap_or_else(|_| "null".to_owned());
        let mut stdout = std::io::stdout().lock();
        let _ = writeln!(stdout, "{text}");
    }

    /// Prints `json` in JSON mode, else the table.
    pub fn emit(&self, json: &Value, table: &Table) {
        if self.is_json() {
            self.json(json);
        } else {
            table.print();
        }
    }

    /// A line for people (on stdout in table mode; nothing in JSON mode).
    pub fn say(&self, line: &str) {
        if !self.is_json() {
            let mut stdout = std::io::stdout().lock();
            let _ = writeln!(stdout, "{line}");
        }
    }

    /// A warning on stderr (in both modes).
    pub fn warn(&self, line: &str) {
        eprintln!("warning: {line}");
    }

    /// Prints an error with its cause chain on stderr: JSON in JSON mode.
    pub fn error(&self, e: &gar::Error) {
        let mut causes = Vec::new();
        let mut source = std::error::Error::source(e);
        while let Some(s) = source {
            causes.push(s.to_string());
            source = s.source();
        }
        if self.is_json() {
            let doc = json!({"error": {
                "code": e.code(),
                "category": e.category().code(),
                "message": e.to_string(),
                "causes": causes,
                "exitCode": crate::exit::code(e),
            }});
            eprintln!("{}", serde_json::to_string(&doc).unwrap_or_default());
        } else {
            eprintln!("error: {e}");
            for c in causes {
                eprintln!("  caused by: {c}");
            }
        }
    }
}

/// A table: a header and rows of cells, printed with aligned columns.
#[derive(Debug, Default)]
pub struct Table {
    header: Vec<String>,
    rows: Vec<Vec<String>>,
}

impl Table {
    /// A table with these column titles.
    pub fn new(header: &[&str]) -> Self {
        Self {
            header: header.iter().map(|h| (*h).to_owned()).collect(),
            rows: Vec::new(),
        }
    }

    /// Adds a row.
    pub fn row(&mut self, cells: Vec<String>) {
        self.rows.push(cells);
    }

    /// The table as text.
    pub fn render(&self) -> String {
        let mut widths: Vec<usize> = self.header.iter().map(|h| h.chars().count()).collect();
        for row in &self.rows {
            for (i, cell) in row.iter().enumerate() {
                let w = cell.chars().count();
                match widths.get_mut(i) {
                    Some(slot) => *slot = (*slot).max(w),
                    None => widths.push(w),
                }
            }
        }
        let line = |cells: &[String]| {
            let mut s = String::new();
            for (i, cell) in cells.iter().enumerate() {
                let w = widths.get(i).copied().unwrap_or(0);
                if i + 1 == cells.len() {
                    s.push_str(cell);
                } else {
                    s.push_str(&format!("{cell:<w$}  "));
                }
            }
            s.trim_end().to_owned()
        };
        let mut out = line(&self.header);
        out.push('\n');
        for row in &self.rows {
            out.push_str(&line(row));
            out.push('\n');
        }
        out
    }

    /// Prints it on stdout (just the header when empty, and "(none)").
    pub fn print(&self) {
        let mut stdout = std::io::stdout().lock();
        let _ = write!(stdout, "{}", self.render());
        if self.rows.is_empty() {
            let _ = writeln!(stdout, "(none)");
        }
    }
}

/// Bytes in a human unit.
pub fn bytes(n: i64) -> String {
    let n = n.max(0) as f64;
    if n < 1024.0 {
        format!("{n} B")
    } else if n < 1024.0 * 1024.0 {
        format!("{:.1} KiB", n / 1024.0)
    } else if n < 1024.0 * 1024.0 * 1024.0 {
        format!("{:.1} MiB", n / 1024.0 / 1024.0)
    } else {
        format!("{:.2} GiB", n / 1024.0 / 1024.0 / 1024.0)
    }
}

/// The last segment of a resource name (`.../packages/team%2Fapp` -> `team/app`).
pub fn short(name: &str) -> String {
    let last = name.rsplit('/').next().unwrap_or(name);
    last.replace("%2F", "/").replace("%2f", "/")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tables_align() {
        let mut t = Table::new(&["NAME", "SIZE"]);
        t.row(vec!["a-long-name".into(), "1 B".into()]);
        t.row(vec!["b".into(), "22 B".into()]);
        assert_eq!(
            t.render(),
            "NAME         SIZE\na-long-name  1 B\nb            22 B\n"
        );
        assert_eq!(bytes(2048), "2.0 KiB");
        assert_eq!(
            short("projects/p/locations/l/repositories/r/packages/team%2Fapp"),
            "team/app"
        );
    }
}
