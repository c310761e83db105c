-- After a restore: a new page view rescores its lead from the feature view (attach_events()),
-- and rescore() still finds the view. Prints two lines: the leads that got views and how many
-- of them now store exactly score() of their feature row; then the rows rescore() updated.
INSERT INTO crm.page_views SELECT id, '/pricing' FROM crm.event_leads WHERE id <= 4;
SELECT count(*) || '|' || count(*) FILTER (WHERE float8send(l.lead_score) = float8send(lead_scoring.score('logit_mem', f)))
  FROM crm.event_leads l JOIN crm.event_features f USING (id) WHERE l.id <= 4;
SELECT lead_scoring.rescore('crm.event_leads', 'logit_mem');
