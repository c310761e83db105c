-- pgbench client: inserts one lead into a table attach() scores on write (its trigger fills
-- lead_score and lead_tier from the deployed version of "cm").
\set id random(1, :leads)
INSERT INTO inbox SELECT * FROM leads WHERE id = :id;
