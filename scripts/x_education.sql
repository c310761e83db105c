-- The public X Education lead data set (../shared/data/x_education_leads.csv), typed.
-- Load it with COPY ... (FORMAT csv, HEADER true) listing the file's columns
-- (scripts/run_demo.sh does this with psql's \copy); file_row numbers the rows in file order,
-- which the reference split in ../shared/data/README.md is defined on.
CREATE SCHEMA IF NOT EXISTS x_education;
DROP TABLE IF EXISTS x_education.leads CASCADE;
CREATE TABLE x_education.leads (
    "Prospect ID" text,
    "Lead Number" bigint,
    "Lead Origin" text,
    "Lead Source" text,
    "Do Not Email" text,
    "Do Not Call" text,
    "Converted" integer,
    "TotalVisits" numeric,
    "Total Time Spent on Website" numeric,
    "Page Views Per Visit" numeric,
    "Last Activity" text,
    "Country" text,
    "Specialization" text,
    "How did you hear about X Education" text,
    "What is your current occupation" text,
    "What matters most to you in choosing a course" text,
    "Search" text,
    "Magazine" text,
    "Newspaper Article" text,
    "X Education Forums" text,
    "Newspaper" text,
    "Digital Advertisement" text,
    "Through Recommendations" text,
    "Receive More Updates About Our Courses" text,
    "Tags" text,
    "Lead Quality" text,
    "Update me on Supply Chain Content" text,
    "Get updates on DM Content" text,
    "Lead Profile" text,
    "City" text,
    "Asymmetrique Activity Index" text,
    "Asymmetrique Profile Index" text,
    "Asymmetrique Activity Score" numeric,
    "Asymmetrique Profile Score" numeric,
    "I agree to pay the amount through cheque" text,
    "A free copy of Mastering The Interview" text,
    "Last Notable Activity" text,
    file_row bigint GENERATED ALWAYS AS IDENTITY
);

-- The README's split: test if r % 5 = 0, validation if r % 5 = 1, train otherwise.
CREATE VIEW x_education.leads_split AS
SELECT l.*,
       CASE l.file_row % 5 WHEN 0 THEN 'test' WHEN 1 THEN 'validation' ELSE 'train' END AS part
  FROM x_education.leads l;
