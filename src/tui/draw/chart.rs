//! A line chart in braille dots, drawn straight into the buffer: the same cells as the ratatui
//! `Chart` it describes (`LineChart::widget`; the tests hold the two together) for what the
//! canary panel asks of it: lines in braille, a bordered box, two labels per axis, the legend
//! top left. ratatui's chart walks its whole area several times (a style pass, the block's,
//! the canvas's, then once per dataset to copy its layer), which for two charts at 200×60 took
//! a fifth of the frame budget; this walks it once.
//!
//! A point outside the bounds (or not a number) is clipped by ratatui's own chart, which this
//! then hands the whole drawing to.

use ratatui::buffer::Buffer;
use ratatui::layout::{Constraint, Flex, Layout, Rect};
use ratatui::style::{Color, Style};
use ratatui::symbols::{self, Marker};
use ratatui::text::Line;
use ratatui::widgets::{Axis, BorderType, Chart, Dataset, GraphType, LegendPosition, Widget};

use super::border::Bordered;
use super::cells;

#[derive(Debug, Clone)]
pub struct LineChart<'a> {
    pub title: Line<'a>,
    pub border_style: Style,
    pub x_bounds: [f64; 2],
    pub y_bounds: [f64; 2],
    /// The first and last label of each axis: the left end and the right; the bottom and top.
    pub x_labels: [Line<'a>; 2],
    pub y_labels: [Line<'a>; 2],
    pub axis_style: Style,
    /// Drawn in order, each over the ones before.
    pub lines: Vec<ChartLine<'a>>,
}

#[derive(Debug, Clone)]
pub struct ChartLine<'a> {
    pub name: &'a str,
    pub style: Style,
    pub points: &'a [(f64, f64)],
}

/// Where the parts of the chart go inside its box.
struct Parts {
    label_x: Option<u16>,
    label_y: u16,
    axis_x: Option<u16>,
    axis_y: Option<u16>,
    graph: Rect,
    legend: Option<Rect>,
}

impl<'a> LineChart<'a> {
    /// The ratatui chart this draws.
    pub fn widget(&self) -> Chart<'a> {
        let sets = self
            .lines
            .iter()
            .map(|l| {
                Dataset::default()
                    .name(l.name)
                    .marker(Marker::Braille)
                    .graph_type(GraphType::Line)
                    .style(l.style)
                    .data(l.points)
            })
            .collect();
        Chart::new(sets)
            .block(self.frame().block())
            .x_axis(
                Axis::default()
                    .bounds(self.x_bounds)
                    .labels(self.x_labels.clone())
                    .style(self.axis_style),
            )
            .y_axis(
                Axis::default()
                    .bounds(self.y_bounds)
                    .labels(self.y_labels.clone())
                    .style(self.axis_style),
            )
            .legend_position(Some(LegendPosition::TopLeft))
    }

    fn frame(&self) -> Bordered<'a> {
        Bordered::new(BorderType::Plain, self.border_style, self.title.clone())
    }

    /// The dots' area: where the chart would put it inside `area`, if anywhere.
    pub fn graph_area(&self, area: Rect) -> Option<Rect> {
        self.parts(Bordered::inner(area)).map(|p| p.graph)
    }

    /// How the chart would map points to columns of dots in `area`, if it has room for any.
    pub fn columns(&self, area: Rect) -> Option<Columns> {
        let graph = self.graph_area(area)?;
        Some(Columns {
            x: self.x_bounds,
            y: self.y_bounds,
            dots: Dots::new(
                self.x_bounds,
                self.y_bounds,
                graph.width.into(),
                graph.height.into(),
            ),
        })
    }

    fn in_bounds(&self) -> bool {
        let [left, right] = self.x_bounds;
        let [bottom, top] = self.y_bounds;
        right > left
            && top > bottom
            && self.lines.len() < usize::from(NONE)
            && self
                .lines
                .iter()
                .flat_map(|l| l.points)
                .all(|&(x, y)| (left..=right).contains(&x) && (bottom..=top).contains(&y))
    }

    pub fn render(&self, area: Rect, buf: &mut Buffer) {
        if !self.in_bounds() || area.intersection(buf.area) != area {
            self.widget().render(area, buf);
            return;
        }
        let inside = self.frame().render(area, buf);
        let Some(parts) = self.parts(inside) else {
            return;
        };
        let box_style = buf[(area.left(), area.top())].style();
        let graph = parts.graph;

        if let Some(y) = parts.label_x {
            let between = graph.width / 2;
            let first = Rect::new(inside.left(), y, graph.left() - inside.left(), 1);
            cells::line(buf, first, &self.x_labels[0].clone().right_aligned());
            let last = Rect::new(graph.right() - between, y, between, 1);
            cells::line(buf, last, &self.x_labels[1].clone().right_aligned());
        }
        for (i, label) in self.y_labels.iter().enumerate() {
            let dy = i as u16 * (graph.height - 1);
            if dy < graph.bottom() {
                let at = Rect::new(
                    parts.label_y,
                    graph.bottom().saturating_sub(1) - dy,
                    (graph.left() - inside.left()).saturating_sub(1),
                    1,
                );
                cells::line(buf, at, &label.clone().left_aligned());
            }
        }
        if let Some(y) = parts.axis_x {
            for x in graph.left()..graph.right() {
                self.axis(buf, x, y, symbols::line::HORIZONTAL);
            }
        }
        if let Some(x) = parts.axis_y {
            for y in graph.top()..graph.bottom() {
                self.axis(buf, x, y, symbols::line::VERTICAL);
            }
        }
        if let (Some(x), Some(y)) = (parts.axis_y, parts.axis_x) {
            self.axis(buf, x, y, symbols::line::BOTTOM_LEFT);
        }
        self.dots(graph, buf);
        if let Some(legend) = parts.legend {
            cells::set_style(buf, legend, box_style);
            Bordered::new(BorderType::Plain, Style::default(), Line::default()).render(legend, buf);
            for (i, l) in self.lines.iter().enumerate() {
                let row = Rect::new(legend.x + 1, legend.y + 1 + i as u16, legend.width - 2, 1);
                cells::line(buf, row, &Line::raw(l.name).style(l.style));
            }
        }
    }

    fn axis(&self, buf: &mut Buffer, x: u16, y: u16, symbol: &str) {
        let i = buf.index_of(x, y);
        buf.content[i].set_symbol(symbol).set_style(self.axis_style);
    }

    /// As the chart's layout, for labels on both axes and no axis titles.
    fn parts(&self, area: Rect) -> Option<Parts> {
        if area.height == 0 || area.width == 0 {
            return None;
        }
        let mut x = area.left();
        let mut y = area.bottom() - 1;
        let label_x = (y > area.top()).then(|| {
            y -= 1;
            y + 1
        });
        let label_y = x;
        let widest = self.y_labels.iter().map(Line::width).max().unwrap_or(0) as u16;
        // The first x label may reach left of the y axis, up to its last character.
        let first = (self.x_labels[0].width() as u16).saturating_sub(1);
        x += widest.max(first).min(area.width / 3);
        let axis_x = (y > area.top()).then(|| {
            y -= 1;
            y + 1
        });
        let axis_y = (x + 1 < area.right()).then(|| {
            x += 1;
            x - 1
        });
        let graph = Rect::new(
            x,
            area.top(),
            area.right().saturating_sub(x),
            y.saturating_sub(area.top()).saturating_add(1),
        );

        let inner_width = self.lines.iter().map(|l| Line::raw(l.name).width()).max();
        let legend = inner_width.and_then(|inner| {
            let (width, height) = (inner as u16 + 2, self.lines.len() as u16 + 2);
            let [most_wide] = Layout::horizontal([Constraint::Ratio(1, 4)])
                .flex(Flex::Start)
                .areas(graph);
            let [most_high] = Layout::vertical([Constraint::Ratio(1, 4)])
                .flex(Flex::Start)
                .areas(graph);
            (inner > 0 && width <= most_wide.width && height <= most_high.height)
                .then(|| Rect::new(graph.left(), graph.top(), width, height))
        });
        Some(Parts {
            label_x,
            label_y,
            axis_x,
            axis_y,
            graph,
            legend,
        })
    }

    /// The lines, as the chart's canvas draws them: each dataset on a layer of its own, a
    /// cell showing the dots of the last layer that has any there.
    fn dots(&self, graph: Rect, buf: &mut Buffer) {
        if graph.is_empty() {
            return;
        }
        cells::set_style(buf, graph, Style::default().bg(Color::Reset));
        let (w, h) = (usize::from(graph.width), usize::from(graph.height));
        let mut layers = Layers {
            width: w,
            cells: vec![(0, NONE); w * h],
            top: 0,
        };
        let dots = Dots::new(self.x_bounds, self.y_bounds, w, h);
        let mut at = Vec::new();
        for (k, l) in self.lines.iter().enumerate() {
            layers.top = k as u8;
            at.clear();
            at.extend(l.points.iter().map(|&(x, y)| (dots.column(x), dots.row(y))));
            // A line's ends are its points: only a lone point needs drawing by itself.
            if let [(x, y)] = at[..] {
                layers.dot(x, y);
            }
            for pair in at.windows(2) {
                layers.line(pair[0], pair[1]);
            }
        }
        for (y, cells) in layers.cells.chunks(w).enumerate() {
            let start = buf.index_of(graph.x, graph.y + y as u16);
            for (cell, &(pattern, k)) in buf.content[start..start + w].iter_mut().zip(cells) {
                if k != NONE {
                    cell.set_char(symbols::braille::BRAILLE[usize::from(pattern)])
                        .set_fg(self.lines[usize::from(k)].style.fg.unwrap_or(Color::Reset));
                }
            }
        }
    }
}

/// The canvas's mapping from a point to a dot, for points within the bounds.
struct Dots {
    left: f64,
    top: f64,
    width: f64,
    height: f64,
    columns: f64,
    rows: f64,
}

impl Dots {
    fn new(x: [f64; 2], y: [f64; 2], w: usize, h: usize) -> Self {
        Dots {
            left: x[0],
            top: y[1],
            width: x[1] - x[0],
            height: y[1] - y[0],
            columns: (w * 2) as f64,
            rows: (h * 4) as f64,
        }
    }

    fn column(&self, x: f64) -> usize {
        round((x - self.left) * (self.columns - 1.0) / self.width)
    }

    fn row(&self, y: f64) -> usize {
        round((self.top - y) * (self.rows - 1.0) / self.height)
    }
}

/// `v.round() as usize` for a `v` from zero to a few thousand dots, without the call into
/// the maths library that `round` makes: that call was a tenth of the charts' time.
fn round(v: f64) -> usize {
    let whole = v as i64;
    // Exact: the whole part and the fraction of a number share its exponent.
    let fraction = v - whole as f64;
    (whole + i64::from(fraction >= 0.5)) as usize
}

/// Which column of dots each point of a line falls in.
pub struct Columns {
    x: [f64; 2],
    y: [f64; 2],
    dots: Dots,
}

impl Columns {
    /// None for a point outside the bounds, which the chart clips rather than maps.
    pub fn of(&self, (x, y): (f64, f64)) -> Option<usize> {
        self.of_x(x).filter(|_| self.holds(y))
    }

    /// The column of a point at `x`, if `x` is within the bounds.
    pub fn of_x(&self, x: f64) -> Option<usize> {
        ((self.x[0]..=self.x[1]).contains(&x) && self.dots.width > 0.0 && self.dots.height > 0.0)
            .then(|| self.dots.column(x))
    }

    /// Whether `y` is within the bounds.
    pub fn holds(&self, y: f64) -> bool {
        (self.y[0]..=self.y[1]).contains(&y)
    }
}

/// The points of a line that draw the same dots as all of them. Of each run of points in one
/// column of dots only the first, the lowest, the highest and the last are kept, in their
/// order: the line between them still covers the column from its lowest dot to its highest,
/// and meets the next column where it did. A spike, up or down, is always kept; a chart a few
/// hundred dots wide then draws at most four points a column however many there are.
pub fn thin(points: impl IntoIterator<Item = (f64, f64)>, columns: &Columns) -> Vec<(f64, f64)> {
    let mut line = Thin::default();
    for p in points {
        line.push(columns.of(p), p);
    }
    line.finish()
}

/// A line thinned point by point, as `thin` does, for lines that share their points' columns.
#[derive(Default)]
pub struct Thin {
    out: Vec<(f64, f64)>,
    run: Option<Run>,
    next: usize,
}

impl Thin {
    /// The next point and its column, `Columns::of` it.
    pub fn push(&mut self, column: Option<usize>, p: (f64, f64)) {
        let i = self.next;
        self.next += 1;
        if let (Some(r), Some(c)) = (&mut self.run, column)
            && r.column == c
        {
            r.add(i, p);
            return;
        }
        if let Some(r) = self.run.take() {
            r.flush(&mut self.out);
        }
        match column {
            Some(column) => self.run = Some(Run::new(column, i, p)),
            None => self.out.push(p),
        }
    }

    pub fn finish(mut self) -> Vec<(f64, f64)> {
        if let Some(r) = self.run.take() {
            r.flush(&mut self.out);
        }
        self.out
    }
}

/// Points in one column: the kept ones, each with its place in the line.
struct Run {
    column: usize,
    first: (usize, (f64, f64)),
    low: (usize, (f64, f64)),
    high: (usize, (f64, f64)),
    last: (usize, (f64, f64)),
}

impl Run {
    fn new(column: usize, i: usize, p: (f64, f64)) -> Self {
        Run {
            column,
            first: (i, p),
            low: (i, p),
            high: (i, p),
            last: (i, p),
        }
    }

    fn add(&mut self, i: usize, p: (f64, f64)) {
        // Selects rather than branches: in a noisy series which way they go is a coin toss.
        let lower = p.1 < self.low.1.1;
        let higher = p.1 > self.high.1.1;
        self.low = select(lower, (i, p), self.low);
        self.high = select(higher, (i, p), self.high);
        self.last = (i, p);
    }

    fn flush(self, out: &mut Vec<(f64, f64)>) {
        let (a, b) = if self.low.0 <= self.high.0 {
            (self.low, self.high)
        } else {
            (self.high, self.low)
        };
        out.push(self.first.1);
        let mut previous = self.first.0;
        for (i, p) in [a, b, self.last] {
            if i > previous {
                out.push(p);
                previous = i;
            }
        }
    }
}

fn select(take: bool, a: (usize, (f64, f64)), b: (usize, (f64, f64))) -> (usize, (f64, f64)) {
    (
        if take { a.0 } else { b.0 },
        (
            if take { a.1.0 } else { b.1.0 },
            if take { a.1.1 } else { b.1.1 },
        ),
    )
}

/// No line has dots in the cell.
const NONE: u8 = u8::MAX;

/// The lines' dots, a cell's eight in a byte as the canvas keeps them, with the line they are
/// of. The canvas draws each line on a layer of its own and shows in a cell the dots of the
/// last layer with any there; drawing the lines in order into one grid, where a line's first
/// dot in a cell replaces what earlier lines left there, comes to the same.
struct Layers {
    width: usize,
    cells: Vec<(u8, u8)>,
    /// The line being drawn.
    top: u8,
}

impl Layers {
    /// Dots of the column `x % 2` of a cell, rows `from..=to` of its four.
    fn paint(&mut self, cell: usize, x: usize, from: usize, to: usize) {
        let mask = (from..=to).fold(0u8, |m, r| m | 1 << (x % 2 + 2 * r));
        if let Some(c) = self.cells.get_mut(cell) {
            if c.1 == self.top {
                c.0 |= mask;
            } else {
                *c = (mask, self.top);
            }
        }
    }

    fn dot(&mut self, x: usize, y: usize) {
        self.paint(y / 4 * self.width + x / 2, x, y % 4, y % 4);
    }

    /// The dots of column `x` from row `top` down to `bottom`, a cell at a time: most of a
    /// thinned line is these.
    fn run(&mut self, x: usize, top: usize, bottom: usize) {
        let mut y = top;
        while y <= bottom {
            let last = (y | 3).min(bottom);
            self.paint(y / 4 * self.width + x / 2, x, y % 4, last % 4);
            y = last + 1;
        }
    }

    /// The canvas's Bresenham line, both ends included.
    fn line(&mut self, (x1, y1): (usize, usize), (x2, y2): (usize, usize)) {
        let dx = x2.abs_diff(x1);
        let dy = y2.abs_diff(y1);
        if dx == 0 {
            self.run(x1, y1.min(y2), y1.max(y2));
        } else if dy == 0 {
            (x1.min(x2)..=x1.max(x2)).for_each(|x| self.dot(x, y1));
        } else if dy < dx {
            let ((x1, y1), (x2, y2)) = if x1 > x2 {
                ((x2, y2), (x1, y1))
            } else {
                ((x1, y1), (x2, y2))
            };
            let (dx, dy) = ((x2 - x1) as isize, (y2 as isize - y1 as isize).abs());
            let mut d = 2 * dy - dx;
            let mut y = y1;
            for x in x1..=x2 {
                self.dot(x, y);
                if d > 0 {
                    y = if y1 > y2 { y.saturating_sub(1) } else { y + 1 };
                    d -= 2 * dx;
                }
                d += 2 * dy;
            }
        } else {
            let ((x1, y1), (x2, y2)) = if y1 > y2 {
                ((x2, y2), (x1, y1))
            } else {
                ((x1, y1), (x2, y2))
            };
            let (dx, dy) = ((x2 as isize - x1 as isize).abs(), (y2 - y1) as isize);
            let mut d = 2 * dx - dy;
            let mut x = x1;
            // A steep line is a run of dots down each column it crosses.
            let mut from = y1;
            for y in y1..=y2 {
                if d > 0 {
                    self.run(x, from, y);
                    from = y + 1;
                    x = if x1 > x2 { x.saturating_sub(1) } else { x + 1 };
                    d -= 2 * dy;
                }
                d += 2 * dx;
            }
            if from <= y2 {
                self.run(x, from, y2);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tui::draw::cells::tests::canvas;
    use ratatui::text::Span;

    /// A wavy series with spikes, `n` points over `[-span, 0]`, between 0 and `top`.
    fn wave(n: usize, span: f64, top: f64, seed: f64) -> Vec<(f64, f64)> {
        (0..n)
            .map(|i| {
                let t = i as f64 / (n.max(2) - 1) as f64;
                let v = 0.5 + 0.4 * (t * 17.0 + seed).sin() * (t * 3.0 + seed).cos();
                let v = if i % 37 == 5 { 1.0 } else { v };
                (-span + span * t, v * top)
            })
            .collect()
    }

    fn chart<'a>(points: &'a [Vec<(f64, f64)>], slo: &'a [(f64, f64)]) -> LineChart<'a> {
        let mut lines: Vec<ChartLine> = points
            .iter()
            .zip([("stable", Color::Blue), ("canary", Color::Yellow)])
            .map(|(p, (name, c))| ChartLine {
                name,
                style: Style::new().fg(c),
                points: p,
            })
            .collect();
        lines.push(ChartLine {
            name: "slo",
            style: Style::new().fg(Color::Red),
            points: slo,
        });
        LineChart {
            title: Line::from(vec![
                Span::styled(" error rate ", Style::new().bold()),
                Span::styled("slo 1.00% ", Style::new().red()),
            ]),
            border_style: Style::new().fg(Color::DarkGray),
            x_bounds: [-600.0, 0.0],
            y_bounds: [0.0, 2.3],
            x_labels: [Line::raw("-10m"), Line::raw("now")],
            y_labels: [Line::raw("0"), Line::raw("2.30%")],
            axis_style: Style::new().fg(Color::Gray),
            lines,
        }
    }

    fn same(c: &LineChart, sizes: &[(u16, u16)]) {
        for &(w, h) in sizes {
            let area = Rect::new(4, 3, w, h);
            let mut want = canvas(90, 30);
            let mut got = want.clone();
            c.widget().render(area, &mut want);
            c.render(area, &mut got);
            assert_eq!(got, want, "in {area:?}");
        }
    }

    const SIZES: [(u16, u16); 10] = [
        (0, 0),
        (1, 1),
        (2, 2),
        (3, 3),
        (6, 4),
        (12, 5),
        (20, 8),
        (40, 12),
        (67, 15),
        (86, 27),
    ];

    #[test]
    fn draws_what_the_chart_draws() {
        let slo = [(-600.0, 1.0), (0.0, 1.0)];
        for n in [0, 1, 2, 7, 120, 600] {
            let series = [wave(n, 600.0, 2.0, 0.0), wave(n, 600.0, 2.0, 1.3)];
            same(&chart(&series, &slo), &SIZES);
        }
    }

    #[test]
    fn steep_flat_and_reversed_lines_draw_as_the_chart_draws_them() {
        let zigzag: Vec<(f64, f64)> = (0..40)
            .map(|i| (-600.0 + 15.0 * i as f64, if i % 2 == 0 { 0.0 } else { 2.3 }))
            .collect();
        let back = vec![(0.0, 0.1), (-600.0, 2.2), (-300.0, 2.3), (-310.0, 0.0)];
        let series = [zigzag, back];
        same(&chart(&series, &[]), &SIZES);
    }

    #[test]
    fn points_out_of_bounds_are_left_to_the_chart() {
        let odd = vec![(-700.0, 1.0), (10.0, 3.0), (-5.0, f64::NAN), (-3.0, -1.0)];
        let series = [odd, wave(50, 600.0, 2.0, 0.0)];
        same(&chart(&series, &[(-600.0, 1.0), (0.0, 1.0)]), &SIZES);
    }

    #[test]
    fn the_graph_area_is_where_the_chart_draws_dots() {
        let series = [vec![(-600.0, 0.0)], vec![(0.0, 2.3)]];
        let c = chart(&series, &[]);
        for (w, h) in [(20, 8), (67, 15)] {
            let g = c
                .graph_area(Rect::new(0, 0, w, h))
                .expect("room for a graph");
            let mut buf = Buffer::empty(Rect::new(0, 0, w, h));
            c.widget().render(buf.area, &mut buf);
            assert_eq!(buf[(g.left(), g.bottom() - 1)].symbol(), "⡀");
            assert_eq!(buf[(g.right() - 1, g.top())].symbol(), "⠈");
        }
    }

    /// Noisy samples, many to a column of dots, with a few the chart has to clip.
    fn dense(n: usize) -> Vec<(f64, f64)> {
        (0..n)
            .map(|i| {
                let x = -600.0 + 600.0 * i as f64 / (n - 1) as f64;
                let noise = ((i as f64 * 12.9898).sin() * 43_758.547).fract().abs();
                let y = match i {
                    _ if i == n / 3 => 2.29,
                    _ if i == n / 2 => 0.0,
                    _ if i == n / 5 => 2.6,
                    _ if i == n - 2 => f64::NAN,
                    _ => 0.8 + 0.3 * (x / 50.0).sin() + 0.4 * noise,
                };
                (x, y)
            })
            .collect()
    }

    #[test]
    fn thinned_lines_draw_the_same_dots_as_every_point() {
        for (w, h) in [(20, 8), (67, 15), (86, 27)] {
            let area = Rect::new(0, 0, w, h);
            let all = [dense(6_000), dense(600)];
            let full = chart(&all, &[]);
            let columns = full.columns(area).expect("room for a graph");
            let thinned = [
                thin(all[0].clone(), &columns),
                thin(all[1].clone(), &columns),
            ];
            let dots = full
                .graph_area(area)
                .map_or(0, |g| usize::from(g.width) * 2);
            assert!(
                thinned[0].len() <= 4 * dots + 12,
                "{} points",
                thinned[0].len()
            );
            let mut want = Buffer::empty(area);
            let mut got = Buffer::empty(area);
            full.widget().render(area, &mut want);
            chart(&thinned, &[]).widget().render(area, &mut got);
            assert_eq!(got, want, "{w}×{h}");
        }
    }

    #[test]
    fn thinning_keeps_spikes_up_and_down() {
        let mut points: Vec<(f64, f64)> = (0..3_000)
            .map(|i| (-600.0 + 0.2 * f64::from(i), 1.0))
            .collect();
        points[1_234].1 = 2.2;
        points[2_345].1 = 0.1;
        let c = chart(&[], &[]);
        let columns = c
            .columns(Rect::new(0, 0, 40, 12))
            .expect("room for a graph");
        let kept = thin(points, &columns);
        assert!(kept.len() < 300, "{} points", kept.len());
        assert!(kept.iter().any(|p| p.1 == 2.2), "the spike is kept");
        assert!(kept.iter().any(|p| p.1 == 0.1), "the dip is kept");
        assert!(kept.is_sorted_by(|a, b| a.0 <= b.0), "in their order");
    }

    #[test]
    fn rounding_is_the_maths_librarys() {
        let mut v = 0.0_f64;
        while v < 300.0 {
            for w in [
                v,
                v.next_up(),
                v.next_down().max(0.0),
                v + 0.5,
                (v + 0.5).next_down(),
            ] {
                assert_eq!(round(w), w.round() as usize, "{w}");
            }
            v += 0.125;
        }
        for w in [
            0.499_999_999_999_999_94,
            4_503_599_627_370_495.5,
            1e15 + 0.5,
        ] {
            assert_eq!(round(w), w.round() as usize, "{w}");
        }
    }
}
