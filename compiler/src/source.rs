//! Source files, spans and the map from preprocessed text back to them.
//!
//! The parser works on the preprocessor's output, but every diagnostic must point at the
//! user's own text. The preprocessor therefore records, for each run of output bytes, where
//! it came from: a verbatim copy of some file range, or the expansion of a `#!define` (which
//! maps back to the identifier that was expanded).

use std::ops::Range;
use std::path::{Path, PathBuf};

/// Index of a file in a [`SourceMap`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct FileId(pub u32);

/// A byte range in one source file.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Span {
    pub file: FileId,
    pub start: u32,
    pub end: u32,
}

impl Span {
    pub fn new(file: FileId, range: Range<usize>) -> Span {
        Span { file, start: clamp_u32(range.start), end: clamp_u32(range.end) }
    }

    pub fn range(&self) -> Range<usize> {
        self.start as usize..self.end as usize
    }

    /// The smallest span covering both, when they are in the same file.
    pub fn to(self, other: Span) -> Span {
        if self.file != other.file {
            return self;
        }
        Span { file: self.file, start: self.start.min(other.start), end: self.end.max(other.end) }
    }
}

fn clamp_u32(n: usize) -> u32 {
    u32::try_from(n).unwrap_or(u32::MAX)
}

/// One loaded file: its name as the user wrote it, its text, and the include line that
/// brought it in (if any).
#[derive(Debug)]
pub struct SourceFile {
    pub name: String,
    pub path: PathBuf,
    pub text: String,
    pub included_from: Option<Span>,
    line_starts: Vec<usize>,
}

impl SourceFile {
    fn new(name: String, path: PathBuf, text: String, included_from: Option<Span>) -> Self {
        let line_starts = std::iter::once(0).chain(text.match_indices('\n').map(|(i, _)| i + 1)).collect();
        SourceFile { name, path, text, included_from, line_starts }
    }

    /// 0-based line index of a byte offset.
    pub fn line_index(&self, offset: usize) -> usize {
        match self.line_starts.binary_search(&offset) {
            Ok(line) => line,
            Err(next) => next - 1,
        }
    }

    pub fn line_start(&self, line: usize) -> usize {
        self.line_starts.get(line).copied().unwrap_or(self.text.len())
    }

    pub fn line_count(&self) -> usize {
        self.line_starts.len()
    }

    /// 1-based line and column (in characters) of a byte offset.
    pub fn line_col(&self, offset: usize) -> (usize, usize) {
        let offset = offset.min(self.text.len());
        let line = self.line_index(offset);
        let start = self.line_starts[line];
        let column = self.text.get(start..offset).map(|s| s.chars().count()).unwrap_or(offset - start);
        (line + 1, column + 1)
    }

    /// The text of the 0-based line, without its line ending.
    pub fn line_text(&self, line: usize) -> &str {
        let start = self.line_start(line);
        let end = self.line_start(line + 1).min(self.text.len());
        self.text[start..end].trim_end_matches(['\n', '\r'])
    }
}

/// All files of one compilation.
#[derive(Debug, Default)]
pub struct SourceMap {
    files: Vec<SourceFile>,
}

impl SourceMap {
    pub fn new() -> Self {
        SourceMap::default()
    }

    pub fn add(
        &mut self,
        name: impl Into<String>,
        path: impl Into<PathBuf>,
        text: String,
        included_from: Option<Span>,
    ) -> FileId {
        let id = FileId(clamp_u32(self.files.len()));
        self.files.push(SourceFile::new(name.into(), path.into(), text, included_from));
        id
    }

    pub fn get(&self, id: FileId) -> &SourceFile {
        &self.files[id.0 as usize]
    }

    pub fn files(&self) -> impl Iterator<Item = (FileId, &SourceFile)> {
        self.files.iter().enumerate().map(|(i, f)| (FileId(clamp_u32(i)), f))
    }

    pub fn find_path(&self, path: &Path) -> Option<FileId> {
        self.files().find(|(_, f)| f.path == path).map(|(id, _)| id)
    }

    /// The source text a span covers.
    pub fn snippet(&self, span: Span) -> &str {
        self.get(span.file).text.get(span.range()).unwrap_or("")
    }

    /// `file:line:col` of the start of a span, 1-based.
    pub fn location(&self, span: Span) -> String {
        let file = self.get(span.file);
        let (line, col) = file.line_col(span.start as usize);
        format!("{}:{}:{}", file.name, line, col)
    }
}

/// How one run of preprocessed output maps back to the sources.
#[derive(Clone, Copy, Debug)]
struct Segment {
    out_start: usize,
    origin: Origin,
}

#[derive(Clone, Copy, Debug)]
enum Origin {
    /// Output byte `out_start + k` is source byte `src_start + k` of `file`.
    Verbatim { file: FileId, src_start: usize },
    /// Every byte comes from expanding something at `span` (a define, a subst rule).
    Expansion { span: Span },
}

/// The preprocessed text of a whole config with its map back to the sources.
#[derive(Debug, Default)]
pub struct Expanded {
    pub text: String,
    segments: Vec<Segment>,
}

impl Expanded {
    /// Appends text copied from `file` at `src_start`.
    pub(crate) fn push_verbatim(&mut self, text: &str, file: FileId, src_start: usize) {
        if text.is_empty() {
            return;
        }
        let out_start = self.text.len();
        let continues_last = matches!(
            self.segments.last(),
            Some(Segment { out_start: s, origin: Origin::Verbatim { file: f, src_start: ss } })
                if *f == file && ss + (out_start - s) == src_start
        );
        if !continues_last {
            self.segments.push(Segment { out_start, origin: Origin::Verbatim { file, src_start } });
        }
        self.text.push_str(text);
    }

    /// Appends text that does not exist in any file as such; it maps to `span`.
    pub(crate) fn push_expansion(&mut self, text: &str, span: Span) {
        if text.is_empty() {
            return;
        }
        let out_start = self.text.len();
        self.segments.push(Segment { out_start, origin: Origin::Expansion { span } });
        self.text.push_str(text);
    }

    fn segment_at(&self, offset: usize) -> Option<(usize, &Segment)> {
        if self.segments.is_empty() {
            return None;
        }
        let index = match self.segments.binary_search_by(|s| s.out_start.cmp(&offset)) {
            Ok(i) => i,
            Err(0) => 0,
            Err(i) => i - 1,
        };
        Some((index, &self.segments[index]))
    }

    fn segment_end(&self, index: usize) -> usize {
        self.segments.get(index + 1).map(|s| s.out_start).unwrap_or(self.text.len())
    }

    /// Maps an output byte range to a span in the user's sources.
    pub fn span(&self, range: Range<usize>) -> Span {
        let Some((index, segment)) = self.segment_at(range.start) else {
            return Span::new(FileId(0), 0..0);
        };
        match segment.origin {
            Origin::Expansion { span } => span,
            Origin::Verbatim { file, src_start } => {
                let start = src_start + (range.start - segment.out_start);
                let end_offset = range.end.max(range.start);
                let end = match self.segment_at(end_offset.saturating_sub(1).max(range.start)) {
                    Some((_, Segment { out_start, origin: Origin::Verbatim { file: f, src_start: s } }))
                        if *f == file && end_offset > range.start =>
                    {
                        let candidate = s + (end_offset - out_start);
                        if candidate >= start { candidate } else { start }
                    }
                    Some((_, Segment { origin: Origin::Expansion { span }, .. }))
                        if span.file == file && span.end as usize >= start =>
                    {
                        span.end as usize
                    }
                    _ => start + (self.segment_end(index) - range.start).min(end_offset - range.start),
                };
                Span::new(file, start..end)
            }
        }
    }

    /// The span of a single output position (for errors that have no extent).
    pub fn point(&self, offset: usize) -> Span {
        let offset = offset.min(self.text.len());
        if offset == self.text.len() && offset > 0 {
            // Point just past the last byte: map the last byte and move past it.
            let last = self.span(offset - 1..offset);
            return Span { start: last.end, ..last };
        }
        self.span(offset..offset + 1)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn line_col_counts_characters() {
        let mut map = SourceMap::new();
        let id = map.add("a.cfg", "a.cfg", "ab\n“c”d\n".to_string(), None);
        let file = map.get(id);
        assert_eq!(file.line_col(0), (1, 1));
        assert_eq!(file.line_col(3), (2, 1));
        let d = file.text.find('d').unwrap_or(0);
        assert_eq!(file.line_col(d), (2, 4));
        assert_eq!(file.line_text(1), "“c”d");
    }

    #[test]
    fn spans_map_through_verbatim_and_expansions() {
        let mut expanded = Expanded::default();
        let f = FileId(0);
        expanded.push_verbatim("debug=", f, 10);
        expanded.push_expansion("3", Span::new(f, 16..21));
        expanded.push_verbatim(" x", f, 21);
        assert_eq!(expanded.span(0..5), Span::new(f, 10..15));
        assert_eq!(expanded.span(6..7), Span::new(f, 16..21));
        assert_eq!(expanded.span(8..9), Span::new(f, 22..23));
        // A range that starts verbatim and ends in the expansion covers the define use.
        assert_eq!(expanded.span(0..7), Span::new(f, 10..21));
    }
}
