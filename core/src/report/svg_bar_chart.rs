//! The bar chart of the model report (lift by decile, feature importance, drift): horizontal
//! or vertical bars with their value labels, category labels cut to a readable length with the
//! full text in each bar's tooltip, and dashed reference lines. Drawn on the frame and axes of
//! `svg_chart.rs`.

use std::fmt::Write;

use super::svg_chart::{
    axis_lines, axis_titles, escape, format_number, nice_max, no_data, open_svg, value_axis, Axis, BarChart, Frame, BOTTOM, GREY,
    HEIGHT, LEFT, TOP, WIDTH,
};

/// Longest category label shown in full; longer ones are cut with an ellipsis (the full text
/// stays in the bar's tooltip).
const MAX_LABEL_CHARS: usize = 28;

/// A label cut to [`MAX_LABEL_CHARS`] characters with an ellipsis.
fn short_label(s: &str) -> String {
    if s.chars().count() <= MAX_LABEL_CHARS {
        s.to_string()
    } else {
        let cut: String = s.chars().take(MAX_LABEL_CHARS - 1).collect();
        format!("{cut}\u{2026}")
    }
}

/// The value axis of a bar chart: from min(0, smallest) to a nice bound over the largest
/// value and reference line.
fn bar_axis(c: &BarChart) -> Axis {
    let values = c.bars.iter().map(|b| b.value).chain(c.reference_lines.iter().map(|r| r.0)).filter(|v| v.is_finite());
    let (lo, hi) = values.fold((0.0f64, 0.0f64), |(lo, hi), v| (lo.min(v), hi.max(v)));
    Axis { title: c.value_title.clone(), min: if lo < 0.0 { -nice_max(-lo) } else { 0.0 }, max: nice_max(hi) }
}

/// Renders a bar chart.
pub fn bar_chart(c: &BarChart) -> String {
    let axis = bar_axis(c);
    let n = c.bars.len();
    let f = if c.horizontal {
        Frame::new(WIDTH, TOP + BOTTOM + 22.0 * n.max(3) as f64, 190.0)
    } else {
        Frame::new(WIDTH, HEIGHT, LEFT)
    };
    let mut out = String::new();
    open_svg(&mut out, &f, &c.title);
    value_axis(&mut out, &f, &axis, !c.horizontal);
    if c.horizontal {
        axis_titles(&mut out, &f, &c.value_title, &c.category_title);
    } else {
        axis_titles(&mut out, &f, &c.category_title, &c.value_title);
    }
    if n == 0 {
        no_data(&mut out, &f);
    }
    let band = if c.horizontal { f.plot_h } else { f.plot_w } / n.max(1) as f64;
    for (i, b) in c.bars.iter().enumerate() {
        let note = b.note.clone().unwrap_or_else(|| format_number(b.value, 3));
        let label = escape(&short_label(&b.label));
        let tooltip = format!("{}: {}", escape(&b.label), escape(&note));
        let mid = band * (i as f64 + 0.5);
        if c.horizontal {
            let (x0, x1) = (f.x(0.0, &axis), f.x(b.value, &axis));
            let (y, h) = (f.top + mid - band * 0.35, band * 0.7);
            let _ = write!(
                out,
                "<rect class=\"bar\" x=\"{:.1}\" y=\"{y:.1}\" width=\"{:.1}\" height=\"{h:.1}\" fill=\"{}\"><title>{tooltip}</title></rect>\
                 <text class=\"category\" x=\"{:.1}\" y=\"{:.1}\" text-anchor=\"end\" font-size=\"11\" fill=\"#222222\">{label}</text>\
                 <text class=\"value\" x=\"{:.1}\" y=\"{:.1}\" font-size=\"11\" fill=\"#333333\">{}</text>",
                x0.min(x1),
                (x1 - x0).abs(),
                b.color,
                f.left - 8.0,
                f.top + mid + 4.0,
                x0.max(x1) + 4.0,
                f.top + mid + 4.0,
                escape(&note)
            );
        } else {
            let (y0, y1) = (f.y(0.0, &axis), f.y(b.value, &axis));
            let (x, w) = (f.left + mid - band * 0.35, band * 0.7);
            let _ = write!(
                out,
                "<rect class=\"bar\" x=\"{x:.1}\" y=\"{:.1}\" width=\"{w:.1}\" height=\"{:.1}\" fill=\"{}\"><title>{tooltip}</title></rect>\
                 <text class=\"category\" x=\"{:.1}\" y=\"{:.1}\" text-anchor=\"middle\" font-size=\"11\" fill=\"#222222\">{label}</text>\
                 <text class=\"value\" x=\"{:.1}\" y=\"{:.1}\" text-anchor=\"middle\" font-size=\"10\" fill=\"#333333\">{}</text>",
                y0.min(y1),
                (y1 - y0).abs(),
                b.color,
                f.left + mid,
                f.bottom() + 18.0,
                f.left + mid,
                y0.min(y1) - 4.0,
                escape(&note)
            );
        }
    }
    for (v, label) in &c.reference_lines {
        let label = escape(label);
        if c.horizontal {
            let x = f.x(*v, &axis);
            let _ = write!(
                out,
                "<line class=\"reference\" x1=\"{x:.1}\" y1=\"{:.1}\" x2=\"{x:.1}\" y2=\"{:.1}\" stroke=\"{GREY}\" stroke-width=\"1.5\" stroke-dasharray=\"6 4\"/>\
                 <text x=\"{:.1}\" y=\"{:.1}\" font-size=\"10\" fill=\"{GREY}\">{label}</text>",
                f.top,
                f.bottom(),
                x + 3.0,
                f.top - 4.0
            );
        } else {
            let y = f.y(*v, &axis);
            let _ = write!(
                out,
                "<line class=\"reference\" x1=\"{:.1}\" y1=\"{y:.1}\" x2=\"{:.1}\" y2=\"{y:.1}\" stroke=\"{GREY}\" stroke-width=\"1.5\" stroke-dasharray=\"6 4\"/>\
                 <text x=\"{:.1}\" y=\"{:.1}\" text-anchor=\"end\" font-size=\"10\" fill=\"{GREY}\">{label}</text>",
                f.left,
                f.left + f.plot_w,
                f.left + f.plot_w,
                y - 4.0
            );
        }
    }
    axis_lines(&mut out, &f);
    out.push_str("</svg>");
    out
}
