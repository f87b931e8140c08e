//! Problems found in a spec file, reported like a compiler's: `file:line:column`,
//! the path in the spec, a message and an optional did-you-mean suggestion.
//! This module formats diagnostics; it does not decide what is wrong.

use std::fmt;

/// A position in a spec file (1-based line and column).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, serde::Serialize)]
pub struct Position {
    /// 1-based line number.
    pub line: usize,
    /// 1-based column number, in characters.
    pub column: usize,
}

/// One problem in a spec file.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Diagnostic {
    /// The spec file's name as the user gave it.
    pub file: String,
    /// Where the problem is; `None` when the file could not be read at all.
    pub position: Option<Position>,
    /// The dotted path in the spec, e.g. `resources.books.fields.author`.
    pub path: String,
    /// What is wrong.
    pub message: String,
    /// A likely fix, e.g. `did you mean 'authors'?`.
    pub suggestion: Option<String>,
}

impl fmt::Display for Diagnostic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.file)?;
        if let Some(position) = self.position {
            write!(f, ":{}:{}", position.line, position.column)?;
        }
        write!(f, ": error")?;
        if !self.path.is_empty() {
            write!(f, " at {}", self.path)?;
        }
        write!(f, ": {}", self.message)?;
        if let Some(suggestion) = &self.suggestion {
            write!(f, " ({suggestion})")?;
        }
        Ok(())
    }
}

impl Diagnostic {
    /// Renders the diagnostic with the offending source line and a caret under the column.
    pub fn render(&self, source: &str) -> String {
        let mut out = self.to_string();
        if let Some(position) = self.position
            && let Some(line) = source.lines().nth(position.line.saturating_sub(1))
        {
            let gutter = position.line.to_string();
            let pad = " ".repeat(gutter.len());
            let caret = " ".repeat(position.column.saturating_sub(1));
            out.push_str(&format!("\n{pad} |\n{gutter} | {line}\n{pad} | {caret}^"));
        }
        out
    }
}

/// Every problem found in a spec file (and the files it includes), with the sources they refer to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SpecErrors {
    /// The diagnostics, in the order of the file.
    pub diagnostics: Vec<Diagnostic>,
    /// The file's text, for rendering source lines (empty if unreadable).
    pub source: String,
    /// The name and text of every file the spec includes, for rendering their lines.
    pub included: Vec<(String, String)>,
}

impl SpecErrors {
    /// The text of the file `diagnostic` is about.
    fn source_of(&self, diagnostic: &Diagnostic) -> &str {
        self.included
            .iter()
            .find(|(name, _)| *name == diagnostic.file)
            .map_or(self.source.as_str(), |(_, source)| source.as_str())
    }
}

impl fmt::Display for SpecErrors {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (index, diagnostic) in self.diagnostics.iter().enumerate() {
            if index > 0 {
                writeln!(f)?;
            }
            writeln!(f, "{}", diagnostic.render(self.source_of(diagnostic)))?;
        }
        let count = self.diagnostics.len();
        write!(
            f,
            "{count} problem{} in the spec",
            if count == 1 { "" } else { "s" }
        )
    }
}

impl std::error::Error for SpecErrors {}
