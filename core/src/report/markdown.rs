//! Markdown to HTML for the subset the model card writes: `#` headings, paragraphs, `- `
//! lists, pipe tables (with `\|` inside cells), `**bold**` and `` `code` ``. Everything else is
//! text. All text is escaped first, so a feature or model name cannot inject markup.

use crate::report::svg_chart::escape;

/// Renders markdown as HTML; headings are shifted down `heading_offset` levels (the card's
/// `#` becomes `<h2>` inside a page that has its own `<h1>`), at most `<h6>`.
pub fn markdown_to_html(md: &str, heading_offset: usize) -> String {
    let mut out = String::new();
    let lines: Vec<&str> = md.lines().collect();
    let mut paragraph: Vec<&str> = Vec::new();
    let mut i = 0;
    while i < lines.len() {
        let line = lines[i].trim_end();
        let trimmed = line.trim_start();
        let block_start = trimmed.is_empty() || trimmed.starts_with('#') || trimmed.starts_with("- ") || trimmed.starts_with('|');
        if block_start {
            flush_paragraph(&mut out, &mut paragraph);
        }
        if trimmed.is_empty() {
            i += 1;
        } else if let Some((level, text)) = heading(trimmed) {
            let h = (level + heading_offset).min(6);
            out.push_str(&format!("<h{h}>{}</h{h}>\n", inline(text)));
            i += 1;
        } else if trimmed.starts_with("- ") {
            out.push_str("<ul>\n");
            while i < lines.len() && lines[i].trim_start().starts_with("- ") {
                out.push_str(&format!("<li>{}</li>\n", inline(&lines[i].trim_start()[2..])));
                i += 1;
            }
            out.push_str("</ul>\n");
        } else if trimmed.starts_with('|') {
            let start = i;
            while i < lines.len() && lines[i].trim_start().starts_with('|') {
                i += 1;
            }
            table(&mut out, &lines[start..i]);
        } else {
            paragraph.push(trimmed);
            i += 1;
        }
    }
    flush_paragraph(&mut out, &mut paragraph);
    out
}

fn flush_paragraph(out: &mut String, paragraph: &mut Vec<&str>) {
    if !paragraph.is_empty() {
        out.push_str(&format!("<p>{}</p>\n", inline(&paragraph.join(" "))));
        paragraph.clear();
    }
}

/// `## Title` -> (2, "Title"); `#hashtag` is not a heading.
fn heading(line: &str) -> Option<(usize, &str)> {
    let level = line.chars().take_while(|&c| c == '#').count();
    let rest = &line[level..];
    (1..=6).contains(&level).then_some(())?;
    rest.strip_prefix(' ').map(|text| (level, text.trim()))
}

/// Cells of a `| a | b \| c |` row (`\|` is a literal bar).
fn cells(row: &str) -> Vec<String> {
    let inner = row.trim().trim_start_matches('|');
    let inner = inner.strip_suffix('|').filter(|s| !s.ends_with('\\')).unwrap_or(inner);
    let mut cells = vec![String::new()];
    let mut chars = inner.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\\' if chars.peek() == Some(&'|') => {
                cells.last_mut().expect("one cell").push('|');
                chars.next();
            }
            '|' => cells.push(String::new()),
            c => cells.last_mut().expect("one cell").push(c),
        }
    }
    cells.into_iter().map(|c| c.trim().to_string()).collect()
}

fn is_separator(row: &str) -> bool {
    cells(row).iter().all(|c| !c.is_empty() && c.chars().all(|ch| matches!(ch, '-' | ':')))
}

/// A pipe table: the header row, an optional `| --- |` line, then body rows.
fn table(out: &mut String, rows: &[&str]) {
    out.push_str("<table>\n");
    let has_header = rows.len() >= 2 && is_separator(rows[1]);
    let mut body = rows;
    if has_header {
        out.push_str("<thead><tr>");
        for c in cells(rows[0]) {
            out.push_str(&format!("<th>{}</th>", inline(&c)));
        }
        out.push_str("</tr></thead>\n");
        body = &rows[2..];
    }
    out.push_str("<tbody>\n");
    for row in body {
        out.push_str("<tr>");
        for c in cells(row) {
            out.push_str(&format!("<td>{}</td>", inline(&c)));
        }
        out.push_str("</tr>\n");
    }
    out.push_str("</tbody></table>\n");
}

/// Escapes the text, then turns `code` spans and **bold** into tags (code first: no bold
/// inside code).
fn inline(text: &str) -> String {
    let mut out = String::new();
    for (i, part) in text.split('`').enumerate() {
        // Odd parts are inside backticks, unless the last backtick has no partner.
        let unclosed = i % 2 == 1 && i == text.split('`').count() - 1;
        if i % 2 == 1 && !unclosed {
            out.push_str(&format!("<code>{}</code>", escape(part)));
        } else {
            if unclosed {
                out.push('`');
            }
            out.push_str(&bold(&keep_entities(&escape(part))));
        }
    }
    out
}

/// The model card writes `&`, `<` and `>` in names as `&amp;`, `&lt;` and `&gt;` (markdown
/// text); escaping them again would show the entity, so these three are kept as they were.
fn keep_entities(escaped: &str) -> String {
    let mut out = String::with_capacity(escaped.len());
    let mut rest = escaped;
    while let Some(at) = rest.find("&amp;") {
        out.push_str(&rest[..at]);
        let after = &rest[at + "&amp;".len()..];
        match ["lt;", "gt;", "amp;"].iter().find(|e| after.starts_with(*e)) {
            Some(entity) => {
                out.push('&');
                out.push_str(entity);
                rest = &after[entity.len()..];
            }
            None => {
                out.push_str("&amp;");
                rest = after;
            }
        }
    }
    out.push_str(rest);
    out
}

fn bold(escaped: &str) -> String {
    let parts: Vec<&str> = escaped.split("**").collect();
    if parts.len() < 3 {
        return escaped.to_string();
    }
    let mut out = String::new();
    for (i, part) in parts.iter().enumerate() {
        if i % 2 == 1 && i + 1 < parts.len() {
            out.push_str(&format!("<strong>{part}</strong>"));
        } else {
            if i % 2 == 1 {
                out.push_str("**");
            }
            out.push_str(part);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn headings_paragraphs_and_lists() {
        let html = markdown_to_html("# Model card: m\n\nTrained by `me`\non **data**.\n\n## Use\n\n- one\n- two <b>\n", 1);
        assert_eq!(
            html,
            "<h2>Model card: m</h2>\n<p>Trained by <code>me</code> on <strong>data</strong>.</p>\n<h3>Use</h3>\n<ul>\n<li>one</li>\n<li>two &lt;b&gt;</li>\n</ul>\n"
        );
        assert_eq!(markdown_to_html("#tag", 0), "<p>#tag</p>\n");
        assert_eq!(markdown_to_html("###### six", 3), "<h6>six</h6>\n");
    }

    #[test]
    fn tables_with_escaped_bars_and_hostile_text() {
        let md = "| at | by |\n| --- | --- |\n| t | a\\|b |\n| <script>\"x\" & 'y' | `c|d` |\n";
        let html = markdown_to_html(md, 0);
        assert!(html.contains("<thead><tr><th>at</th><th>by</th></tr></thead>"), "{html}");
        assert!(html.contains("<tr><td>t</td><td>a|b</td></tr>"));
        assert!(html.contains("<td>&lt;script&gt;&quot;x&quot; &amp; &#39;y&#39;</td>"), "{html}");
        assert!(!html.contains("<script>"));
        // A table without a separator line has no header.
        assert_eq!(markdown_to_html("| a |", 0), "<table>\n<tbody>\n<tr><td>a</td></tr>\n</tbody></table>\n");
    }

    #[test]
    fn unbalanced_markers_stay_text() {
        assert_eq!(markdown_to_html("a ` b", 0), "<p>a ` b</p>\n");
        assert_eq!(markdown_to_html("2 ** 3", 0), "<p>2 ** 3</p>\n");
        assert_eq!(markdown_to_html("**a** and **b", 0), "<p><strong>a</strong> and **b</p>\n");
    }

    #[test]
    fn renders_the_real_model_card_sections() {
        use crate::report::model_card::{render_model_card, CardInput};
        use serde_json::json;
        let card = render_model_card(&CardInput {
            name: "m<1>".into(),
            version: 1,
            features: json!([{"name": "a|b", "kind": "text", "levels": ["x"]}]),
            training: json!({"rows": 10}),
            metrics: json!({}),
            threshold: 0.5,
            tiers: json!([{"name": "hot", "min_score": 0.5}]),
            events: vec![],
            ..crate::report::model_card::tests::input()
        });
        let html = markdown_to_html(&card, 1);
        assert!(html.contains("<h2>Model card: m&lt;1&gt; (version 1, deployed)</h2>"), "{html}");
        assert!(card.contains("# Model card: m&lt;1&gt; (version 1"), "{card}");
        assert!(html.contains("<h3>Known limitations</h3>"));
        assert!(html.contains("<td>a|b</td><td>text</td>"));
        assert!(html.contains("tier <strong>hot</strong> from score 0.5"));
    }
}
