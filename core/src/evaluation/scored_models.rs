//! The models a score expression calls: `compare()` reads `lead_scoring.score('inbound', src)`
//! and warns when the rows it compares include leads that model was trained on.

/// The model names ('inbound', 'inbound@3') given as a literal first argument to `score(`,
/// `score_100(` or `tier(` in a SQL expression, in order of appearance, each once. A function
/// whose name only ends in "score" (`rule_score(`) is not one of them; a model named by an
/// expression rather than a literal cannot be read.
pub fn models_scored_in(expr: &str) -> Vec<String> {
    let lower = expr.to_ascii_lowercase();
    let bytes = lower.as_bytes();
    let mut found: Vec<String> = Vec::new();
    for name in ["score_100", "score", "tier"] {
        let mut from = 0;
        while let Some(at) = lower[from..].find(name).map(|i| i + from) {
            from = at + name.len();
            let before = at.checked_sub(1).map(|i| bytes[i]);
            if before.is_some_and(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'"') {
                continue;
            }
            let rest = expr[from..].trim_start();
            let Some(args) = rest.strip_prefix('(') else { continue };
            if let Some(model) = leading_literal(args.trim_start()) {
                if !found.contains(&model) {
                    found.push(model);
                }
            }
        }
    }
    // Back in the order they appear in the expression.
    found.sort_by_key(|m| expr.find(&format!("'{}'", m.replace('\'', "''"))).unwrap_or(usize::MAX));
    found
}

/// The SQL string literal `'...'` at the start of `text` ('' inside is one quote).
fn leading_literal(text: &str) -> Option<String> {
    let mut chars = text.strip_prefix('\'')?.chars().peekable();
    let mut out = String::new();
    while let Some(c) = chars.next() {
        if c == '\'' {
            if chars.peek() == Some(&'\'') {
                chars.next();
                out.push('\'');
            } else {
                return Some(out);
            }
        } else {
            out.push(c);
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_the_models_a_score_expression_calls() {
        assert_eq!(models_scored_in("lead_scoring.score('inbound', src)"), vec!["inbound"]);
        assert_eq!(models_scored_in("LEAD_SCORING.SCORE ( 'inbound@3' , src)"), vec!["inbound@3"]);
        assert_eq!(
            models_scored_in("0.5 * lead_scoring.score_100('b', src) + lead_scoring.score('a', src) + score('b', src)"),
            vec!["b", "a"]
        );
        assert_eq!(models_scored_in("lead_scoring.score('it''s', src)"), vec!["it's"]);
    }

    #[test]
    fn ignores_columns_other_functions_and_non_literal_names() {
        assert!(models_scored_in("src.rule_points").is_empty());
        assert!(models_scored_in("src.score").is_empty());
        assert!(models_scored_in("rule_score('x', src)").is_empty());
        assert!(models_scored_in("\"score\"('x')").is_empty());
        assert!(models_scored_in("lead_scoring.score(src.model_name, src)").is_empty());
        assert!(models_scored_in("lead_scoring.score('unterminated").is_empty());
    }
}
