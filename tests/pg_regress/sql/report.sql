-- report(): one self-contained HTML page about a model for people who do not read SQL (headline
-- metrics, ROC, precision-recall, calibration and lift charts, feature importance, tiers, the
-- latest monitoring run and the model card), to save, mail or attach to a ticket. The page is
-- long, so this checks its parts rather than printing it.
SELECT setseed(0.11);
CREATE TABLE report_leads AS
SELECT id, visits, channel,
       random() < 1 / (1 + exp(-(-2.5 + 0.5 * visits + CASE channel WHEN 'partner' THEN 1.2 ELSE 0 END))) AS converted
  FROM (SELECT id, floor(random() * 8)::int AS visits, (ARRAY['web', 'partner', 'event'])[1 + floor(random() * 3)::int] AS channel
          FROM generate_series(1, 1500) id) s;
SELECT version FROM lead_scoring.train('reported', 'report_leads', 'converted', ARRAY['visits', 'channel']);
CREATE FUNCTION report_matches(html text, pattern text) RETURNS text[] LANGUAGE sql AS $$
  SELECT array_agg(m[1]) FROM regexp_matches(html, pattern, 'g') m
$$;

-- One page: a document of tens of kilobytes, no scripts and no external files (the only URL is
-- the SVG namespace), styles inline.
SELECT length(r) BETWEEN 15000 AND 200000 AS size_ok, r LIKE '<!DOCTYPE html>%' AS is_html, r LIKE '%</html>%' AS complete,
       position('<script' IN r) = 0 AS no_scripts, position('<link' IN r) = 0 AS no_links,
       (SELECT bool_and(u = 'http://www.w3.org/2000/svg') FROM unnest(report_matches(r, '(https?://[^"]*)')) u) AS only_svg_namespace
  FROM lead_scoring.report('reported') r;
-- Its sections and the model card's.
SELECT unnest(report_matches(lead_scoring.report('reported'), '<h[123][^>]*>([^<]*)</h[123]>')) AS heading;
-- Five inline SVG charts, each with a title (the numbers in them depend on the fit).
SELECT (SELECT count(*) FROM regexp_matches(r, '<svg', 'g')) AS charts,
       (SELECT array_agg(regexp_replace(t, '[0-9.]+\)$', 'n)')) FROM unnest(report_matches(r, '<svg[^>]*>\s*<title>([^<]*)</title>')) t) AS titles
  FROM lead_scoring.report('reported') r;
-- The headline numbers are the test part's.
SELECT unnest(report_matches(lead_scoring.report('reported'), '<span>([^<]*)</span>')) AS headline;
SELECT position(format('<b>%s</b><span>test leads</span>', metrics->'test'->>'rows') IN lead_scoring.report('reported')) > 0 AS test_rows_shown
  FROM lead_scoring.models WHERE name = 'reported';
-- The tier table, one row per tier.
SELECT unnest(report_matches(lead_scoring.report('reported'), '<tr><td><strong>([^<]*)</strong>')) AS tier;

-- Before the first monitor() run the monitoring section says how to run one; after it, it shows
-- the run's status and drift.
SELECT position('No monitoring run yet' IN lead_scoring.report('reported')) > 0 AS says_how;
SELECT status FROM lead_scoring.monitor('reported', 'report_leads');
SELECT position('No monitoring run yet' IN r) = 0 AS has_run, position('class="status ok"' IN r) > 0 AS status_shown,
       (report_matches(r, '<svg[^>]*>\s*<title>([^<]*)</title>'))[6] AS sixth_chart
  FROM lead_scoring.report('reported') r;

-- Every name is HTML-escaped: a model named like markup cannot inject any.
SELECT version FROM lead_scoring.train('<script>alert(1)</script> & "Q3"', 'report_leads', 'converted', ARRAY['visits', 'channel']);
SELECT position('<script' IN r) = 0 AS no_script, position('&lt;script&gt;alert(1)&lt;/script&gt; &amp; &quot;Q3&quot;' IN r) > 0 AS escaped,
       (report_matches(r, '<title>([^<]*)</title>'))[1] AS page_title
  FROM lead_scoring.report('<script>alert(1)</script> & "Q3"') r;
-- A version by name@version, here gbm trees: the same sections; the monitoring section shows
-- the model's latest run and says which version it checked.
SELECT version FROM lead_scoring.train('reported', 'report_leads', 'converted', ARRAY['visits', 'channel'],
                                       algorithm => 'gbm', options => '{"trees": 20, "deploy": "never"}');
SELECT (report_matches(r, '<h1>([^<]*)</h1>'))[1] AS title, (SELECT count(*) FROM regexp_matches(r, '<svg', 'g')) AS charts,
       position('(version 1): 1500 leads' IN r) > 0 AS run_of_version_1
  FROM lead_scoring.report('reported@2') r;

-- The funnel per tier (funnel()'s arguments as JSON): without a tier column the leads of the
-- source are tiered by the reported version itself; per quarter of created_at here.
CREATE VIEW report_pipeline AS
SELECT *, timestamptz '2026-01-02 12:00+00' + id * interval '3 hours' AS created_at FROM report_leads;
SELECT regexp_replace(regexp_replace(r, '</t[dh]><t[dh][^>]*>', ' | ', 'g'), '<[^>]+>', '', 'g') AS funnel_row
  FROM unnest(report_matches(substring(lead_scoring.report('reported', funnel => '{"source": "report_pipeline", "period": "quarter"}')
                                       FROM '<table class="funnel">.*?</table>'), '<tr>(.*?)</tr>')) r;
-- The same counts from funnel() itself.
SELECT period, tier, leads, conversions
  FROM lead_scoring.funnel('SELECT *, lead_scoring.tier(''reported'', p) AS model_tier FROM report_pipeline p', 'model_tier', 'quarter');

-- Mistakes.
SELECT lead_scoring.report('no_such_model');
SELECT lead_scoring.report('reported@9');
SELECT lead_scoring.report(NULL);
SELECT lead_scoring.report('reported', funnel => '{"period": "month"}');
