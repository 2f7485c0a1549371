//! A chart's lines thinned to what its dots can show before ratatui's `Chart` draws them: a
//! ten-minute span of one-second samples is ten times more points than a chart has columns of
//! dots, and six hours of them four hundred times more. Thinned, a line draws exactly the dots
//! it would have drawn with every point (the tests hold the two together).

use ratatui::layout::Rect;

/// Where ratatui's `Chart` puts its dots in `area`, for a bordered chart with two labels on
/// each axis and no axis titles, if there is room for any: the chart's own layout, which
/// thinning must know to map points to the columns they will be drawn in.
pub fn graph_area(area: Rect, widest_y_label: u16, first_x_label: u16) -> Option<Rect> {
    let area = Rect::new(
        area.x.saturating_add(1).min(area.right()),
        area.y.saturating_add(1).min(area.bottom()),
        area.width.saturating_sub(2),
        area.height.saturating_sub(2),
    );
    if area.height == 0 || area.width == 0 {
        return None;
    }
    let mut x = area.left();
    let mut y = area.bottom() - 1;
    // The row of x labels, then the x axis, each when there is a row left for it.
    if y > area.top() {
        y -= 1;
    }
    // The first x label may reach left of the y axis, up to its last character.
    x += widest_y_label
        .max(first_x_label.saturating_sub(1))
        .min(area.width / 3);
    if y > area.top() {
        y -= 1;
    }
    if x + 1 < area.right() {
        x += 1;
    }
    Some(Rect::new(
        x,
        area.top(),
        area.right().saturating_sub(x),
        y.saturating_sub(area.top()).saturating_add(1),
    ))
}

/// Which column of dots each point of a line falls in: the chart's canvas mapping.
pub struct Columns {
    x: [f64; 2],
    y: [f64; 2],
    width: f64,
    columns: f64,
}

impl Columns {
    /// For a chart with these bounds whose dots are in `graph` (two columns of dots a cell).
    pub fn new(x: [f64; 2], y: [f64; 2], graph: Rect) -> Self {
        Columns {
            x,
            y,
            width: x[1] - x[0],
            columns: f64::from(graph.width) * 2.0,
        }
    }

    /// None for a point outside the bounds, which the chart clips rather than maps.
    #[cfg(test)]
    pub fn of(&self, (x, y): (f64, f64)) -> Option<usize> {
        self.of_x(x).filter(|_| self.holds(y))
    }

    /// The column of a point at `x`, if `x` is within the bounds.
    pub fn of_x(&self, x: f64) -> Option<usize> {
        ((self.x[0]..=self.x[1]).contains(&x) && self.width > 0.0 && self.y[1] > self.y[0])
            .then(|| round((x - self.x[0]) * (self.columns - 1.0) / self.width))
    }

    /// Whether `y` is within the bounds.
    pub fn holds(&self, y: f64) -> bool {
        (self.y[0]..=self.y[1]).contains(&y)
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

/// The points of a line that draw the same dots as all of them. Of each run of points in one
/// column of dots only the first, the lowest, the highest and the last are kept, in their
/// order: the line between them still covers the column from its lowest dot to its highest,
/// and meets the next column where it did. A spike, up or down, is always kept; a chart a few
/// hundred dots wide then draws at most four points a column however many there are.
#[cfg(test)]
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

#[cfg(test)]
mod tests {
    use super::*;
    use ratatui::buffer::Buffer;
    use ratatui::style::{Color, Style};
    use ratatui::symbols::Marker;
    use ratatui::text::Line;
    use ratatui::widgets::{Axis, Block, Chart, Dataset, GraphType, LegendPosition, Widget};

    const X: [f64; 2] = [-600.0, 0.0];
    const Y: [f64; 2] = [0.0, 2.3];

    /// The canary panel's chart, as ratatui draws it, of these lines.
    fn chart<'a>(lines: &'a [Vec<(f64, f64)>]) -> Chart<'a> {
        let sets = lines
            .iter()
            .zip([Color::Blue, Color::Yellow])
            .zip(["stable", "canary"])
            .map(|((points, c), name)| {
                Dataset::default()
                    .name(name)
                    .marker(Marker::Braille)
                    .graph_type(GraphType::Line)
                    .style(Style::new().fg(c))
                    .data(points)
            })
            .collect();
        Chart::new(sets)
            .block(Block::bordered().title(" error rate "))
            .x_axis(Axis::default().bounds(X).labels(["-10m", "now"]))
            .y_axis(Axis::default().bounds(Y).labels(["0", "2.30%"]))
            .legend_position(Some(LegendPosition::TopLeft))
    }

    fn graph(area: Rect) -> Option<Rect> {
        graph_area(area, Line::raw("2.30%").width() as u16, 4)
    }

    #[test]
    fn the_graph_area_is_where_the_chart_draws_dots() {
        let corners = [vec![(-600.0, 0.0)], vec![(0.0, 2.3)]];
        for (w, h) in [(20, 8), (67, 15), (86, 27)] {
            let g = graph(Rect::new(0, 0, w, h)).expect("room for a graph");
            let mut buf = Buffer::empty(Rect::new(0, 0, w, h));
            chart(&corners).render(buf.area, &mut buf);
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
            let g = graph(area).expect("room for a graph");
            let columns = Columns::new(X, Y, g);
            let thinned = [
                thin(all[0].clone(), &columns),
                thin(all[1].clone(), &columns),
            ];
            let dots = usize::from(g.width) * 2;
            assert!(
                thinned[0].len() <= 4 * dots + 12,
                "{} points",
                thinned[0].len()
            );
            let mut want = Buffer::empty(area);
            let mut got = Buffer::empty(area);
            chart(&all).render(area, &mut want);
            chart(&thinned).render(area, &mut got);
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
        let g = graph(Rect::new(0, 0, 40, 12)).expect("room for a graph");
        let kept = thin(points, &Columns::new(X, Y, g));
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
