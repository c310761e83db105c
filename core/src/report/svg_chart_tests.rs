//! Unit tests of `svg_chart.rs` and `svg_bar_chart.rs`.

use super::*;
use crate::report::svg_bar_chart::bar_chart;

fn unit(title: &str) -> Axis {
    Axis { title: title.into(), min: 0.0, max: 1.0 }
}

#[test]
fn escaping_covers_markup_and_quotes() {
    assert_eq!(escape("a<b & \"c\" 'd'>"), "a&lt;b &amp; &quot;c&quot; &#39;d&#39;&gt;");
    assert_eq!(escape("plain"), "plain");
}

#[test]
fn ticks_and_numbers() {
    assert_eq!(nice_ticks(0.0, 1.0, 5), [0.0, 0.2, 0.4, 0.6000000000000001, 0.8, 1.0]);
    assert_eq!(nice_ticks(0.0, 3.0, 5), [0.0, 1.0, 2.0, 3.0]); // step 1: the first nice step >= 3/5
    assert_eq!(nice_ticks(1.0, 1.0, 5), [1.0]);
    assert_eq!(format_number(0.6000000000000001, 3), "0.6");
    assert_eq!(
        (format_number(2.0, 3), format_number(0.126, 2), format_number(-0.0001, 2)),
        ("2".into(), "0.13".into(), "0".into())
    );
    assert_eq!(format_number(f64::NAN, 2), "n/a");
    assert_eq!((nice_max(2.7), nice_max(0.31), nice_max(0.0), nice_max(1.0)), (3.0, 0.4, 1.0, 1.0));
}

#[test]
fn line_chart_maps_points_into_the_plot_and_labels_everything() {
    let c = LineChart {
        title: "ROC curve".into(),
        x: unit("False positive rate"),
        y: unit("True positive rate"),
        series: vec![
            Series {
                name: "model".into(),
                color: BLUE,
                points: vec![(0.0, 0.0), (0.5, 0.8), (1.0, 1.0)],
                dashed: false,
                markers: false,
            },
            Series { name: "chance".into(), color: GREY, points: vec![(0.0, 0.0), (1.0, 1.0)], dashed: true, markers: false },
        ],
        legend_at_top: false,
    };
    let svg = line_chart(&c);
    // Plot area: x from 64 to 536 (472 wide), y from 304 (bottom) up to 40 (264 high).
    assert!(svg.contains("points=\"64.0,304.0 300.0,92.8 536.0,40.0\""), "{svg}");
    assert!(svg.contains("stroke-dasharray=\"6 4\" points=\"64.0,304.0 536.0,40.0\""));
    for text in [
        ">ROC curve</text>",
        ">False positive rate</text>",
        ">True positive rate</text>",
        ">0.6</text>",
        ">1</text>",
        ">model</text>",
        ">chance</text>",
    ] {
        assert!(svg.contains(text), "missing {text}");
    }
    assert!(svg.starts_with("<svg xmlns=\"http://www.w3.org/2000/svg\"") && svg.ends_with("</svg>"));
    assert!(!svg.contains("no data"));
    // Values outside the axis are clamped to its edge, never drawn outside the plot.
    let clamped =
        line_chart(&LineChart { series: vec![Series { points: vec![(-1.0, 2.0)], ..c.series[0].clone() }], ..c.clone() });
    assert!(clamped.contains("points=\"64.0,40.0\""));
    let empty = line_chart(&LineChart { series: vec![], ..c });
    assert!(empty.contains(">no data</text>"));
}

#[test]
fn bars_are_sized_by_value_with_reference_lines_and_escaped_labels() {
    let bars = vec![
        Bar { label: "1".into(), value: 3.0, color: BLUE, note: Some("3.0x".into()) },
        Bar { label: "2".into(), value: 1.5, color: BLUE, note: None },
    ];
    let c = BarChart {
        title: "Lift by decile".into(),
        category_title: "Decile".into(),
        value_title: "Lift".into(),
        bars,
        horizontal: false,
        reference_lines: vec![(1.0, "no model".into())],
    };
    let svg = bar_chart(&c);
    // Axis 0..3 over 264 px: a 3.0 bar is 264 high, 1.5 is 132; bands of 236 px.
    assert!(svg.contains("<rect class=\"bar\" x=\"99.4\" y=\"40.0\" width=\"165.2\" height=\"264.0\""), "{svg}");
    assert!(svg.contains("y=\"172.0\" width=\"165.2\" height=\"132.0\""));
    assert!(svg.contains(">3.0x</text>") && svg.contains(">1.5</text>") && svg.contains(">no model</text>"));
    assert!(svg.contains("class=\"reference\" x1=\"64.0\" y1=\"216.0\""));

    let hostile = "<script>alert(\"x\") & 'y'</script>";
    let h = BarChart {
        title: "Importance & <drift>".into(),
        category_title: "Feature".into(),
        value_title: "Mean |SHAP|".into(),
        bars: vec![Bar { label: hostile.into(), value: 0.5, color: RED, note: None }],
        horizontal: true,
        reference_lines: vec![],
    };
    let svg = bar_chart(&h);
    assert!(!svg.contains("<script") && !svg.contains("alert(\"x\")"));
    assert!(
        svg.contains("&lt;script&gt;alert(&quot;x&quot;) &amp; &#39;y&#39;&lt;/script&gt;"),
        "tooltip keeps the full escaped name"
    );
    assert!(svg.contains(">Importance &amp; &lt;drift&gt;</text>"));
    // Long names are cut with an ellipsis in the label.
    assert!(svg.contains("&lt;script&gt;alert(&quot;x&quot;) &amp; &#39;y&#39;&lt;/s\u{2026}</text>"), "{svg}");
    let none = bar_chart(&BarChart { bars: vec![], ..h });
    assert!(none.contains(">no data</text>"));
}

#[test]
fn negative_values_extend_the_axis_below_zero() {
    let c = BarChart {
        title: "t".into(),
        category_title: "c".into(),
        value_title: "v".into(),
        bars: vec![
            Bar { label: "a".into(), value: -1.0, color: RED, note: None },
            Bar { label: "b".into(), value: 1.0, color: BLUE, note: None },
        ],
        horizontal: false,
        reference_lines: vec![],
    };
    let svg = bar_chart(&c);
    // Axis -1..1: zero is mid-plot (y 172), both bars 132 high.
    assert!(svg.contains("y=\"172.0\" width=\"165.2\" height=\"132.0\" fill=\"#d62728\""), "{svg}");
    assert!(svg.contains("y=\"40.0\" width=\"165.2\" height=\"132.0\" fill=\"#1f77b4\""));
    assert!(svg.contains(">-1</text>"));
}
