-- Runs first (scripts/regress.sh runs the other specs after it, in name order, in the same
-- database): creates the extension they all use.
CREATE EXTENSION lead_scoring;
