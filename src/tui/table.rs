//! A table that stays fast at 100k rows: rows are kept once with their cells pre-formatted and
//! pre-folded; `view` holds the filtered and sorted row indices; only the visible window is
//! ever turned into widgets. Selection is kept by row id, so it survives reloads and re-sorts.

use std::collections::HashSet;

use unicode_normalization::UnicodeNormalization;
use unicode_normalization::char::is_combining_mark;
use unicode_width::UnicodeWidthStr;

/// Lowercase with accents removed: what filtering and sorting compare.
pub fn fold(text: &str) -> String {
    text.nfkd()
        .filter(|c| !is_combining_mark(*c))
        .flat_map(char::to_lowercase)
        .collect()
}

#[derive(Debug, Clone, PartialEq)]
pub struct TableRow {
    pub id: i64,
    pub cells: Vec<String>,
    /// Folded copy of every cell, for filter and sort.
    pub folded: Vec<String>,
    /// Extra fields shown only in the detail view (JSON object), kept raw until needed.
    pub extra: Option<Box<str>>,
}

impl TableRow {
    pub fn new(id: i64, cells: Vec<String>) -> TableRow {
        let folded = cells.iter().map(|c| fold(c)).collect();
        TableRow {
            id,
            cells,
            folded,
            extra: None,
        }
    }

    pub fn with_extra(mut self, extra: &str) -> TableRow {
        if extra != "{}" && !extra.is_empty() {
            self.extra = Some(extra.into());
        }
        self
    }
}

/// How a column is laid out: its headers, the widths it can take, and when it gives way to
/// the others. See [`layout`].
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Column {
    /// The full header; also the field's name in the detail view and the sort and filter texts.
    pub name: &'static str,
    /// The header when the full one does not fit: a whole word or an abbreviation ("First",
    /// "Conf."), never a word cut in two.
    pub short: &'static str,
    /// The narrowest useful width; the column is dropped rather than drawn narrower.
    pub min: u16,
    /// The widest useful width (0: no limit).
    pub max: u16,
    /// Its share of the room left once every column has its minimum. The column that carries
    /// the explanation (a reason, a message) has the largest.
    pub weight: u16,
    /// When the columns do not all fit, the one with the highest rank is dropped first, then
    /// the next; 0 is never dropped.
    pub rank: u8,
    /// Hidden while no row has a value in it (O/C/R before anything was sent).
    pub sparse: bool,
    /// Never a column of the table: a field for the detail view, the search and
    /// [`Column::or_show`] (a no-domain row's reason).
    pub hidden: bool,
    /// Narrower than its values, the column shows their first word (" 97 █████" → "97"),
    /// so a decoration goes before the number it decorates.
    pub first_word: bool,
    /// Gets room only once every other column has its maximum (a decoration).
    pub grows_last: bool,
    /// An empty cell shows this column's value instead (dimmed by the caller): where a
    /// row has no address, the reason it has none.
    pub fallback: Option<usize>,
    /// Its values are what the table is read for (an address): columns that
    /// [`Column::gives_way`] are dropped, highest rank first, before one of them is cut.
    pub keep_whole: bool,
    /// Dropped, when its rank comes, to keep a [`Column::keep_whole`] column's values whole.
    pub gives_way: bool,
}

impl Column {
    pub const fn new(name: &'static str, min: u16, weight: u16) -> Column {
        Column {
            name,
            short: name,
            min,
            max: 0,
            weight,
            rank: 0,
            sparse: false,
            hidden: false,
            first_word: false,
            grows_last: false,
            fallback: None,
            keep_whole: false,
            gives_way: false,
        }
    }

    /// A column of values that all take `width` cells (a date, a status code).
    pub const fn fixed(name: &'static str, width: u16) -> Column {
        Column::new(name, width, 0).max(width)
    }

    pub const fn short(mut self, short: &'static str) -> Column {
        self.short = short;
        self
    }

    pub const fn max(mut self, max: u16) -> Column {
        self.max = max;
        self
    }

    /// Dropped when the width is tight: a higher `rank` goes first.
    pub const fn drops(mut self, rank: u8) -> Column {
        self.rank = rank;
        self
    }

    pub const fn sparse(mut self) -> Column {
        self.sparse = true;
        self
    }

    pub const fn hidden(mut self) -> Column {
        self.hidden = true;
        self
    }

    /// See [`Column::first_word`]: `min` is then the width of that word.
    pub const fn first_word_when_narrow(mut self) -> Column {
        self.first_word = true;
        self
    }

    pub const fn grows_last(mut self) -> Column {
        self.grows_last = true;
        self
    }

    pub const fn keep_whole(mut self) -> Column {
        self.keep_whole = true;
        self
    }

    pub const fn gives_way(mut self) -> Column {
        self.gives_way = true;
        self
    }

    pub const fn or_show(mut self, column: usize) -> Column {
        self.fallback = Some(column);
        self
    }

    /// What a cell of this column shows in `width` cells: its first word when the value is
    /// wider and the column says so, else the value (the caller cuts it).
    pub fn fit<'a>(&self, value: &'a str, width: u16) -> &'a str {
        if self.first_word && value.width() > width as usize {
            value.split_whitespace().next().unwrap_or_default()
        } else {
            value
        }
    }
}

/// One drawn column: which of the table's columns, its width and the header that fits it.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Placed {
    pub index: usize,
    pub width: u16,
    pub header: &'static str,
}

/// Cells the sort arrow (" ↑") takes after a header.
pub const ARROW: u16 = 2;

/// Lays `columns` out in `width` cells with `spacing` between them. A sparse column without
/// any value (`filled[i]` false) is left out; then, while the minimums do not fit, the column
/// with the highest rank is dropped. Every column left gets its minimum (wide enough for its
/// short header, and the sort arrow on the `sorted` one), and the room left is shared by
/// weight up to each column's maximum. The header is the full one when it fits, else the
/// short one. Only when nothing more can be dropped (a very narrow terminal) are columns
/// drawn under their minimum; the caller then cuts the header as it cuts a value.
///
/// `widest[i]` is the width of column i's widest value (empty: unknown). Cells no value
/// would fill (past a column's widest value, or left over once every column has its
/// maximum) go to the columns whose values are cut, so a wide terminal shows whole addresses
/// and subjects, not blank room. A [`Column::keep_whole`] column whose values are still cut
/// has the columns that [`Column::gives_way`] dropped for it, highest rank first.
pub fn layout(
    columns: &[Column],
    filled: &[bool],
    widest: &[u16],
    sorted: Option<usize>,
    width: u16,
    spacing: u16,
) -> Vec<Placed> {
    let arrow = |i: usize| if sorted == Some(i) { ARROW } else { 0 };
    let floor = |i: usize| {
        let c = &columns[i];
        c.min.max(c.short.width() as u16 + arrow(i))
    };
    let mut shown: Vec<usize> = (0..columns.len())
        .filter(|&i| !columns[i].hidden)
        .filter(|&i| !columns[i].sparse || filled.get(i).copied().unwrap_or(true))
        .collect();
    let needed = |shown: &[usize]| -> u32 {
        shown.iter().map(|&i| floor(i) as u32).sum::<u32>()
            + spacing as u32 * shown.len().saturating_sub(1) as u32
    };
    while needed(&shown) > width as u32 {
        // The highest rank goes first; between equals, the rightmost.
        let Some(at) = (0..shown.len())
            .filter(|&at| columns[shown[at]].rank > 0)
            .max_by_key(|&at| (columns[shown[at]].rank, at))
        else {
            break;
        };
        shown.remove(at);
    }
    loop {
        let widths = widths_for(columns, &shown, widest, &floor, width, spacing);
        // A value to keep whole that is cut: a column that gives way makes room for it.
        let cut = shown.iter().zip(&widths).any(|(&i, &w)| {
            let c = &columns[i];
            let whole = widest.get(i).copied().unwrap_or(0);
            let whole = if c.max > 0 { whole.min(c.max) } else { whole };
            c.keep_whole && w < whole
        });
        let yielding = (0..shown.len())
            .filter(|&at| columns[shown[at]].gives_way)
            .max_by_key(|&at| (columns[shown[at]].rank, at));
        match yielding {
            Some(at) if cut => {
                shown.remove(at);
            }
            _ => {
                return shown
                    .iter()
                    .zip(widths)
                    .map(|(&i, w)| {
                        let c = &columns[i];
                        let header = if c.name.width() as u16 + arrow(i) <= w {
                            c.name
                        } else {
                            c.short
                        };
                        Placed {
                            index: i,
                            width: w,
                            header,
                        }
                    })
                    .collect();
            }
        }
    }
}

/// The widths of the `shown` columns in `width` cells (see [`layout`]).
fn widths_for(
    columns: &[Column],
    shown: &[usize],
    widest: &[u16],
    floor: &dyn Fn(usize) -> u16,
    width: u16,
    spacing: u16,
) -> Vec<u16> {
    let mut widths: Vec<u16> = shown.iter().map(|&i| floor(i)).collect();
    let spaces = spacing.saturating_mul(shown.len().saturating_sub(1) as u16);
    let avail = width.saturating_sub(spaces);
    let used: u16 = widths.iter().sum();
    if used > avail {
        // Nothing left to drop: take cells from the widest columns until they fit.
        for _ in 0..(used - avail) {
            if let Some(w) = widths.iter_mut().filter(|w| **w > 0).max_by_key(|w| **w) {
                *w -= 1;
            }
        }
        return widths;
    }
    // The room left, one cell at a time to the growable column furthest below its share
    // (a column that grows last only when no other can).
    let weight = |at: usize| columns[shown[at]].weight as u32;
    let growable = |at: usize, w: u16| {
        let c = &columns[shown[at]];
        c.weight > 0 && (c.max == 0 || w < c.max.max(floor(shown[at])))
    };
    let first_tier = |at: usize, w: u16| growable(at, w) && !columns[shown[at]].grows_last;
    let mut room = (avail - used) as u32;
    room = share(&mut widths, room, &weight, &first_tier);
    room = share(&mut widths, room, &weight, &growable);
    if widest.is_empty() {
        return widths;
    }
    // Cells no value fills: the room nobody took, and a column without maximum past its
    // widest value. They go to the columns whose values are cut, then back where they were.
    let whole = |at: usize| {
        let i = shown[at];
        widest.get(i).copied().unwrap_or(0).max(floor(i))
    };
    for (at, w) in widths.iter_mut().enumerate() {
        if columns[shown[at]].max == 0 && columns[shown[at]].weight > 0 && *w > whole(at) {
            room += (*w - whole(at)) as u32;
            *w = whole(at);
        }
    }
    let any_weight = |at: usize| weight(at).max(1);
    room = share(&mut widths, room, &any_weight, &|at, w| w < whole(at));
    share(&mut widths, room, &weight, &|at, _| {
        columns[shown[at]].max == 0 && columns[shown[at]].weight > 0
    });
    widths
}

/// Gives up to `room` cells, one at a time, to the column `wants` furthest below its share by
/// `weight`; returns the cells no column wanted.
fn share(
    widths: &mut [u16],
    mut room: u32,
    weight: &dyn Fn(usize) -> u32,
    wants: &dyn Fn(usize, u16) -> bool,
) -> u32 {
    let mut given = vec![0u32; widths.len()];
    while room > 0 {
        // given/weight smallest: compare given_a * weight_b with given_b * weight_a.
        let next = (0..widths.len())
            .filter(|&at| wants(at, widths[at]))
            .min_by(|&a, &b| (given[a] * weight(b)).cmp(&(given[b] * weight(a))));
        let Some(at) = next else { break };
        widths[at] += 1;
        given[at] += 1;
        room -= 1;
    }
    room
}

#[derive(Debug, Clone)]
pub struct TableView {
    pub columns: Vec<Column>,
    /// Per column: whether any row has a value in it (kept for sparse columns, so a render
    /// never scans the rows).
    pub filled: Vec<bool>,
    /// Per column: the width of its widest value, measured when the rows change (see
    /// [`layout`]).
    pub widest: Vec<u16>,
    pub rows: Vec<TableRow>,
    pub view: Vec<u32>,
    /// Index into `view`.
    pub selected: usize,
    /// First visible index into `view`; adjusted at render time.
    pub offset: usize,
    pub sort: Option<(usize, bool)>,
    pub filter: String,
    /// Exact match on one column (e.g. the Outbox status), applied before the text filter.
    pub column_filter: Option<(usize, String)>,
    pub marked: HashSet<i64>,
    /// Shown when the table has no rows at all.
    pub empty_hint: &'static str,
    /// `false` until the first load, so "loading…" is shown instead of the hint.
    pub loaded: bool,
    /// Rows before a filter applied at load (Suggestions `+`, Bounces dates, domain,
    /// reason), when there is one: counts then say how many exist.
    pub all_rows: Option<usize>,
}

impl TableView {
    pub fn new(columns: Vec<Column>, empty_hint: &'static str) -> Self {
        TableView {
            filled: vec![true; columns.len()],
            widest: Vec::new(),
            columns,
            rows: Vec::new(),
            view: Vec::new(),
            selected: 0,
            offset: 0,
            sort: None,
            filter: String::new(),
            column_filter: None,
            marked: HashSet::new(),
            empty_hint,
            loaded: false,
            all_rows: None,
        }
    }

    /// Every row the tab has, whatever the filters.
    pub fn total(&self) -> usize {
        self.all_rows
            .unwrap_or(self.rows.len())
            .max(self.rows.len())
    }

    pub fn selected_row(&self) -> Option<&TableRow> {
        self.view
            .get(self.selected)
            .map(|&i| &self.rows[i as usize])
    }

    /// Re-apply filter and sort after cells changed in place, keeping the selection.
    pub fn refresh(&mut self) {
        let keep = self.selected_row().map(|r| r.id);
        self.measure();
        self.apply(keep, 0);
    }

    /// The widest value of each column, once per change of the rows (not per filter key).
    fn measure(&mut self) {
        self.widest = (0..self.columns.len())
            .map(|i| {
                self.rows
                    .iter()
                    .filter_map(|r| r.cells.get(i))
                    .map(|v| v.width().min(u16::MAX as usize) as u16)
                    .max()
                    .unwrap_or(0)
            })
            .collect();
    }

    /// Replace the rows, keeping the selection on the same id when it still exists and
    /// dropping marks of rows that are gone. When the selected row left the view (skipped or
    /// suppressed under a READY filter), the selection stays at the same place, on the row
    /// that took its position: reviewing a long list goes on from there, not from the top.
    pub fn set_rows(&mut self, rows: Vec<TableRow>) {
        let keep = self.selected_row().map(|r| r.id);
        let at = self.selected;
        self.rows = rows;
        self.loaded = true;
        let ids: HashSet<i64> = self.rows.iter().map(|r| r.id).collect();
        self.marked.retain(|id| ids.contains(id));
        self.measure();
        self.apply(keep, at);
    }

    /// Recompute `view` from filter and sort, then put the selection back on `keep`, else on
    /// position `fallback`.
    fn apply(&mut self, keep: Option<i64>, fallback: usize) {
        for (i, c) in self.columns.iter().enumerate() {
            if c.sparse {
                self.filled[i] = self
                    .rows
                    .iter()
                    .any(|r| r.cells.get(i).is_some_and(|v| !v.is_empty()));
            }
        }
        let needle = fold(&self.filter);
        self.view = self
            .rows
            .iter()
            .enumerate()
            .filter(|(_, r)| match &self.column_filter {
                Some((col, value)) => r.cells.get(*col) == Some(value),
                None => true,
            })
            .filter(|(_, r)| needle.is_empty() || r.folded.iter().any(|c| c.contains(&needle)))
            .map(|(i, _)| i as u32)
            .collect();
        if let Some((col, asc)) = self.sort {
            let rows = &self.rows;
            self.view.sort_by(|&a, &b| {
                let (ra, rb) = (&rows[a as usize], &rows[b as usize]);
                let ord = ra.folded[col].cmp(&rb.folded[col]).then(ra.id.cmp(&rb.id));
                if asc { ord } else { ord.reverse() }
            });
        }
        self.selected = keep
            .and_then(|id| {
                self.view
                    .iter()
                    .position(|&i| self.rows[i as usize].id == id)
            })
            .unwrap_or(fallback)
            .min(self.view.len().saturating_sub(1));
    }

    pub fn set_filter(&mut self, filter: &str) {
        if self.filter != filter {
            let keep = self.selected_row().map(|r| r.id);
            self.filter = filter.to_string();
            self.apply(keep, 0);
        }
    }

    pub fn set_column_filter(&mut self, filter: Option<(usize, String)>) {
        let keep = self.selected_row().map(|r| r.id);
        self.column_filter = filter;
        self.apply(keep, 0);
    }

    /// The marked rows the view shows (none: an empty list, not the selected row).
    pub fn marked_targets(&self) -> Vec<i64> {
        let mut ids: Vec<i64> = self
            .view
            .iter()
            .map(|&i| self.rows[i as usize].id)
            .filter(|id| self.marked.contains(id))
            .collect();
        ids.sort_unstable();
        ids
    }

    /// What bulk actions apply to: the marked rows the view shows, or the selected row when
    /// none is. A row marked and then hidden by a filter is never changed unseen; its mark
    /// stays for when the filter is lifted.
    pub fn targets(&self) -> Vec<i64> {
        let ids = self.marked_targets();
        if ids.is_empty() {
            return self.selected_row().map(|r| vec![r.id]).unwrap_or_default();
        }
        ids
    }

    /// Marked rows the current filter hides.
    pub fn hidden_marks(&self) -> usize {
        let shown = self
            .view
            .iter()
            .filter(|&&i| self.marked.contains(&self.rows[i as usize].id))
            .count();
        self.marked.len() - shown
    }

    /// `o`: next sort column (unsorted → column 0 → … → last → unsorted).
    pub fn cycle_sort(&mut self) {
        let keep = self.selected_row().map(|r| r.id);
        self.sort = match self.sort {
            None => Some((0, true)),
            Some((c, asc)) if c + 1 < self.columns.len() => Some((c + 1, asc)),
            Some(_) => None,
        };
        self.apply(keep, 0);
    }

    /// `O`: reverse the order (sorting by the first column if unsorted).
    pub fn reverse_sort(&mut self) {
        let keep = self.selected_row().map(|r| r.id);
        self.sort = Some(match self.sort {
            None => (0, false),
            Some((c, asc)) => (c, !asc),
        });
        self.apply(keep, 0);
    }

    pub fn move_by(&mut self, delta: isize) {
        if self.view.is_empty() {
            return;
        }
        let last = self.view.len() - 1;
        self.selected = (self.selected as isize + delta).clamp(0, last as isize) as usize;
    }

    pub fn top(&mut self) {
        self.selected = 0;
    }

    pub fn bottom(&mut self) {
        self.selected = self.view.len().saturating_sub(1);
    }

    pub fn toggle_mark(&mut self) {
        if let Some(id) = self.selected_row().map(|r| r.id)
            && !self.marked.remove(&id)
        {
            self.marked.insert(id);
        }
    }

    /// `v`: mark every filtered row, or unmark them all when they already are.
    pub fn mark_all_filtered(&mut self) {
        let ids: Vec<i64> = self
            .view
            .iter()
            .map(|&i| self.rows[i as usize].id)
            .collect();
        if ids.iter().all(|id| self.marked.contains(id)) {
            for id in ids {
                self.marked.remove(&id);
            }
        } else {
            self.marked.extend(ids);
        }
    }

    /// Keep `selected` visible in a window of `height` rows; returns the visible index range.
    pub fn window(&mut self, height: usize) -> std::ops::Range<usize> {
        if self.selected < self.offset {
            self.offset = self.selected;
        } else if height > 0 && self.selected >= self.offset + height {
            self.offset = self.selected + 1 - height;
        }
        if self.offset + height > self.view.len() {
            self.offset = self.view.len().saturating_sub(height);
        }
        self.offset..(self.offset + height).min(self.view.len())
    }

    /// "row i of n" plus filter and sort, for the info line.
    /// The view's own filters in words (`status = READY, "acme"`), or `None` without any.
    pub fn filter_text(&self) -> Option<String> {
        let mut parts = Vec::new();
        if let Some((col, value)) = &self.column_filter {
            parts.push(format!("{} = {value}", self.columns[*col].name));
        }
        if !self.filter.is_empty() {
            parts.push(format!("\"{}\"", self.filter));
        }
        (!parts.is_empty()).then(|| parts.join(", "))
    }

    pub fn position_text(&self) -> String {
        crate::text::join_present(&self.position_parts(false))
    }

    /// [`Self::position_text`] in at most `width` cells: the marks' note shortened first, then
    /// the sort, the column filter and the text filter left out, in that order (the row and
    /// the marks count stay: they say what `a` or `x` will act on); a cut never ends mid-word
    /// without an `…`.
    pub fn position_text_within(&self, width: usize) -> String {
        use unicode_width::UnicodeWidthStr;
        let full = self.position_text();
        if full.width() <= width {
            return full;
        }
        let mut parts = self.position_parts(true);
        // Order of parts: row, column filter, text filter, sort, marks.
        for drop in [None, Some(3), Some(1), Some(2)] {
            if let Some(i) = drop {
                parts[i] = None;
            }
            let text = crate::text::join_present(&parts);
            if text.width() <= width {
                return text;
            }
        }
        super::ui::cut(&crate::text::join_present(&parts), width)
    }

    /// The position line in `width` cells with `room` of them left for the key hint after
    /// it: the sort goes first (the header's arrow shows it), and when that is not enough
    /// the line takes what it needs as [`Self::position_text_within`] and the hint shrinks.
    pub fn position_text_leaving(&self, width: usize, room: usize) -> String {
        use unicode_width::UnicodeWidthStr;
        let full = self.position_text_within(width);
        if full.width() + room <= width || self.sort.is_none() {
            return full;
        }
        [false, true]
            .into_iter()
            .map(|short_marks| {
                let mut parts = self.position_parts(short_marks);
                parts[3] = None;
                crate::text::join_present(&parts)
            })
            .find(|unsorted| unsorted.width() + room <= width)
            .unwrap_or(full)
    }

    /// The position line's parts in display order: row, column filter, text filter, sort,
    /// marks (`short_marks`: "(1 hidden)" for "(1 hidden by the filter)").
    fn position_parts(&self, short_marks: bool) -> [Option<String>; 5] {
        let row = if self.view.is_empty() {
            format!("row 0 of 0 ({} total)", self.total())
        } else {
            format!("row {} of {}", self.selected + 1, self.view.len())
        };
        let column_filter = self
            .column_filter
            .as_ref()
            .map(|(col, value)| format!("{} = {value}", self.columns[*col].name));
        let filter = (!self.filter.is_empty())
            .then(|| format!("filter \"{}\" ({} total)", self.filter, self.total()));
        let sort = self.sort.map(|(c, asc)| {
            format!(
                "sort {} {}",
                self.columns[c].name,
                if asc { "↑" } else { "↓" }
            )
        });
        let marks = (!self.marked.is_empty()).then(|| {
            let hidden = match (self.hidden_marks(), short_marks) {
                (0, _) => String::new(),
                (n, false) if n == self.marked.len() => " (all hidden by the filter)".into(),
                (n, true) if n == self.marked.len() => " (all hidden)".into(),
                (n, false) => format!(" ({n} hidden by the filter)"),
                (n, true) => format!(" ({n} hidden)"),
            };
            format!("{} marked{hidden}", self.marked.len())
        });
        [Some(row), column_filter, filter, sort, marks]
    }

    /// The selected record as (field, value) pairs, extra fields included.
    pub fn detail(&self) -> Vec<(String, String)> {
        let Some(row) = self.selected_row() else {
            return Vec::new();
        };
        let mut out: Vec<(String, String)> = self
            .columns
            .iter()
            .zip(&row.cells)
            .map(|(c, v)| (c.name.to_string(), v.clone()))
            .collect();
        if let Some(extra) = &row.extra
            && let Ok(serde_json::Value::Object(map)) = serde_json::from_str(extra)
        {
            for (k, v) in map {
                let v = v.as_str().map_or_else(|| v.to_string(), str::to_string);
                out.push((k, v));
            }
        }
        out.push(("id".into(), row.id.to_string()));
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn table() -> TableView {
        let mut t = TableView::new(
            vec![Column::new("name", 4, 1), Column::new("company", 7, 1)],
            "empty",
        );
        t.set_rows(vec![
            TableRow::new(1, vec!["Élodie".into(), "Acme".into()]),
            TableRow::new(2, vec!["bob".into(), "Zeta".into()]),
            TableRow::new(3, vec!["Anaïs".into(), "acme".into()]),
            TableRow::new(4, vec!["Eloise".into(), "Beta".into()]),
        ]);
        t
    }

    fn ids(t: &TableView) -> Vec<i64> {
        t.view.iter().map(|&i| t.rows[i as usize].id).collect()
    }

    #[test]
    fn filter_is_case_and_accent_insensitive() {
        let mut t = table();
        t.set_filter("ELO");
        assert_eq!(ids(&t), [1, 4]);
        t.set_filter("anais");
        assert_eq!(ids(&t), [3]);
        t.set_filter("");
        assert_eq!(ids(&t).len(), 4);
    }

    #[test]
    fn sort_cycles_and_reverses() {
        let mut t = table();
        t.cycle_sort();
        assert_eq!(t.sort, Some((0, true)));
        assert_eq!(ids(&t), [3, 2, 1, 4]); // anais, bob, elodie, eloise
        t.reverse_sort();
        assert_eq!(ids(&t), [4, 1, 2, 3]);
        t.cycle_sort();
        assert_eq!(t.sort, Some((1, false)));
        t.cycle_sort();
        assert_eq!(t.sort, None);
        assert_eq!(ids(&t), [1, 2, 3, 4]);
    }

    #[test]
    fn selection_follows_the_row_across_sort_filter_and_reload() {
        let mut t = table();
        t.move_by(1); // bob
        t.cycle_sort();
        assert_eq!(t.selected_row().unwrap().id, 2);
        t.set_filter("o"); // élodie, bob, eloise
        assert_eq!(t.selected_row().unwrap().id, 2);
        let mut rows = t.rows.clone();
        rows.push(TableRow::new(5, vec!["Aaron".into(), "Co".into()]));
        t.set_rows(rows);
        assert_eq!(t.selected_row().unwrap().id, 2);
        // The selected row disappears: selection stays in range.
        t.set_rows(vec![TableRow::new(9, vec!["x".into(), "y".into()])]);
        assert_eq!(t.selected, 0);
        t.set_filter("nothing matches");
        assert!(t.selected_row().is_none());
        t.move_by(3);
        assert_eq!(t.selected, 0);
    }

    /// Skipping the selected row under a status filter reloads the table without it: the
    /// selection stays at that place, on the next row, instead of going back to the top.
    #[test]
    fn a_reload_without_the_selected_row_keeps_the_place() {
        let mut t = table();
        t.move_by(2); // Anaïs, third
        let rows: Vec<TableRow> = t.rows.iter().filter(|r| r.id != 3).cloned().collect();
        t.set_rows(rows);
        assert_eq!(
            t.selected_row().unwrap().id,
            4,
            "the row that took its place"
        );
        t.bottom();
        let rows: Vec<TableRow> = t.rows.iter().filter(|r| r.id != 4).cloned().collect();
        t.set_rows(rows);
        assert_eq!(t.selected_row().unwrap().id, 2, "the last row left");
    }

    #[test]
    fn moves_are_clamped_and_window_follows() {
        let mut t = table();
        t.move_by(-5);
        assert_eq!(t.selected, 0);
        t.bottom();
        assert_eq!(t.selected, 3);
        assert_eq!(t.window(2), 2..4);
        t.top();
        assert_eq!(t.window(2), 0..2);
        t.move_by(100);
        assert_eq!(t.selected, 3);
    }

    #[test]
    fn marks_single_and_all_filtered() {
        let mut t = table();
        t.toggle_mark();
        assert!(t.marked.contains(&1));
        t.toggle_mark();
        assert!(t.marked.is_empty());
        t.set_filter("acme");
        t.mark_all_filtered();
        assert_eq!(t.marked, HashSet::from([1, 3]));
        t.mark_all_filtered();
        assert!(t.marked.is_empty());
        assert!(t.position_text().contains("filter \"acme\""));
    }

    /// A bulk action never reaches a marked row the filter hides: with marks only out of
    /// view it applies to the selected row, and the footer says the marks are hidden.
    #[test]
    fn targets_are_the_visible_marked_rows() {
        let mut t = table();
        t.set_filter("acme");
        t.mark_all_filtered();
        assert_eq!(t.targets(), [1, 3]);
        t.set_filter("anais");
        assert_eq!(t.targets(), [3]);
        assert!(
            t.position_text()
                .contains("2 marked (1 hidden by the filter)")
        );
        t.set_filter("bob");
        assert_eq!(t.targets(), [2], "the selected row, not the hidden marks");
        assert!(t.position_text().contains("(all hidden by the filter)"));
        t.set_filter("");
        assert_eq!(t.targets(), [1, 3]);
    }

    #[test]
    fn a_narrow_position_line_keeps_the_row_and_the_marks_whole() {
        use unicode_width::UnicodeWidthStr;
        let mut t = table();
        t.set_filter("acme");
        t.mark_all_filtered();
        t.set_filter("anais");
        let full = t.position_text();
        assert_eq!(t.position_text_within(full.width()), full);
        // "row 1 of 1 · 2 marked (1 hidden)" is 32 cells.
        for width in [20, 31, 32, 40, 50, 60] {
            let text = t.position_text_within(width);
            assert!(text.width() <= width, "{width}: {text}");
            if width >= 32 {
                assert!(text.starts_with("row 1 of 1"), "{width}: {text}");
                assert!(text.ends_with("2 marked (1 hidden)"), "{width}: {text}");
            } else {
                assert!(text.ends_with('…'), "{width}: {text}");
            }
        }
        // The filter goes before anything else is cut.
        assert!(!t.position_text_within(40).contains("filter"));
    }

    #[test]
    fn detail_includes_extra_fields() {
        let mut t = TableView::new(vec![Column::new("name", 4, 1)], "");
        t.set_rows(vec![
            TableRow::new(7, vec!["A".into()]).with_extra(r#"{"City":"Lyon"}"#),
        ]);
        let d = t.detail();
        assert!(d.contains(&("City".to_string(), "Lyon".to_string())));
        assert!(d.contains(&("id".to_string(), "7".to_string())));
    }

    fn headers(placed: &[Placed]) -> Vec<&'static str> {
        placed.iter().map(|p| p.header).collect()
    }

    fn used(placed: &[Placed]) -> u16 {
        placed.iter().map(|p| p.width).sum::<u16>() + placed.len().saturating_sub(1) as u16
    }

    const COLUMNS: [Column; 5] = [
        Column::fixed("Status", 6),
        Column::new("First name", 6, 1).short("First").max(12),
        Column::new("Domain", 8, 1).max(20).drops(1),
        Column::new("O/C/R", 5, 1).max(7).drops(2).sparse(),
        Column::new("Reason / reply", 10, 4).short("Reason"),
    ];

    /// Wide, every column shows with its full header; the room left goes by weight, up to
    /// each column's maximum, and the rest to the reason.
    #[test]
    fn wide_layouts_give_the_slack_to_the_reason() {
        let placed = layout(&COLUMNS, &[true; 5], &[], None, 100, 1);
        assert_eq!(
            headers(&placed),
            ["Status", "First name", "Domain", "O/C/R", "Reason / reply"]
        );
        let widths: Vec<u16> = placed.iter().map(|p| p.width).collect();
        assert_eq!(widths, [6, 12, 19, 7, 52]);
        assert_eq!(used(&placed), 100);
    }

    /// Narrower, a header that does not fit is replaced by its short form, never cut; then
    /// the highest-ranked column goes first (O/C/R), then the next (Domain).
    #[test]
    fn narrow_layouts_shorten_headers_then_drop_columns() {
        let placed = layout(&COLUMNS, &[true; 5], &[], None, 39, 1);
        assert_eq!(
            headers(&placed),
            ["Status", "First", "Domain", "O/C/R", "Reason"]
        );
        assert!(used(&placed) <= 39);
        let placed = layout(&COLUMNS, &[true; 5], &[], None, 38, 1);
        assert_eq!(headers(&placed), ["Status", "First", "Domain", "Reason"]);
        let placed = layout(&COLUMNS, &[true; 5], &[], None, 26, 1);
        assert_eq!(headers(&placed), ["Status", "First", "Reason"]);
        assert_eq!(used(&placed), 26, "the slack still goes somewhere");
        // With the room left, the reason is wide enough for its full header again.
        let placed = layout(&COLUMNS, &[true; 5], &[], None, 30, 1);
        assert_eq!(headers(&placed), ["Status", "First", "Reason / reply"]);
        // Nothing more to drop: the columns are squeezed, never wider than the table.
        let placed = layout(&COLUMNS, &[true; 5], &[], None, 12, 1);
        assert_eq!(placed.len(), 3);
        assert!(used(&placed) <= 12);
    }

    /// A sparse column without any value is not drawn at all, however wide the table.
    #[test]
    fn an_empty_sparse_column_is_hidden() {
        let filled = [true, true, true, false, true];
        let placed = layout(&COLUMNS, &filled, &[], None, 100, 1);
        assert_eq!(
            headers(&placed),
            ["Status", "First name", "Domain", "Reason / reply"]
        );
        assert_eq!(used(&placed), 100);
    }

    /// The sorted column has room for its arrow after the short header.
    #[test]
    fn the_sorted_column_keeps_room_for_its_arrow() {
        let placed = layout(&COLUMNS, &[true; 5], &[], Some(1), 33, 1);
        let first = placed.iter().find(|p| p.index == 1).unwrap();
        assert!(first.width >= 5 + ARROW, "{placed:?}");
        assert_eq!(first.header, "First");
    }

    /// The table tracks whether a sparse column has any value, on load and on refresh.
    #[test]
    fn sparse_columns_know_when_they_are_filled() {
        let mut t = TableView::new(
            vec![
                Column::new("name", 4, 1),
                Column::new("counts", 5, 1).sparse(),
            ],
            "",
        );
        t.set_rows(vec![
            TableRow::new(1, vec!["a".into(), String::new()]),
            TableRow::new(2, vec!["b".into(), String::new()]),
        ]);
        assert_eq!(t.filled, [true, false]);
        t.rows[1].cells[1] = "1/0/0".into();
        t.refresh();
        assert_eq!(t.filled, [true, true]);
    }
}
