-- The benchmark lead table (bench/make_leads.py writes the CSV to psql's stdin).
DROP TABLE IF EXISTS bench_leads;
CREATE TABLE bench_leads (
  id bigint, n0 float8, n1 float8, n2 float8, n3 float8, n4 float8, n5 float8, n6 float8, n7 float8, n8 float8,
  c0 text, c1 text, c2 text, c3 text, c4 text, c5 text, c6 text, c7 text, c8 text, c9 text,
  part text, converted boolean);
\copy bench_leads FROM pstdin WITH (FORMAT csv, HEADER true)
ANALYZE bench_leads;
