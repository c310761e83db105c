-- After a restore, a drop and create, or an upgrade: new rows in crm.leads are still scored
-- by the trigger, with what score() gives the same row, bit for bit. Prints one line:
-- the number of rows inserted and how many of them the trigger scored exactly.
INSERT INTO crm.leads (id, region, source, visits, pages, employees)
SELECT 1000 + id, region, source, visits, pages, employees FROM crm.fixed_leads;
SELECT count(*) AS inserted,
       count(*) FILTER (WHERE float8send(lead_score) = float8send(lead_scoring.score('logit_mem', l))
                          AND lead_tier = lead_scoring.tier('logit_mem', l)) AS scored_exactly
  FROM crm.leads l WHERE id > 1000;
