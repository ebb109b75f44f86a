-- What planners may see of a region: de-identified patients and their observations.
-- Planners' queries (POST /api/v1/query) run as <region>_planner, which may read this
-- schema and nothing in public; the central database's federated views read it too.
-- The views belong to the service role (which runs the migrations), so they read the base
-- tables on the planner's behalf; the role itself is granted in src/dbroles.rs.
--
-- Left out on purpose: names and their keys, phone, national ID, village, the health record
-- number, and the exact birth date. Birth date, sex and place together single out most
-- people, so the view gives the birth year and a five-year age band (today's age), which
-- is what district health statistics are grouped by.
CREATE SCHEMA IF NOT EXISTS planning;

CREATE OR REPLACE VIEW planning.patients AS
SELECT p.id,
       p.sex,
       extract(year FROM p.birth_date)::integer AS birth_year,
       -- Zero-padded so that the bands sort in order as text; 80 and over is one band.
       CASE WHEN a.years >= 80 THEN '80+'
            ELSE lpad((a.years / 5 * 5)::text, 2, '0') || '-' || lpad((a.years / 5 * 5 + 4)::text, 2, '0')
       END AS age_band,
       p.birth_date_estimated,
       p.district,
       p.facility,
       p.created_at,
       p.deleted_at IS NOT NULL AS deleted,
       p.merged_into IS NOT NULL AS merged
FROM public.patients p
CROSS JOIN LATERAL (
    SELECT greatest(extract(year FROM age(current_date, p.birth_date))::integer, 0) AS years
) a;

-- Every version status is kept (final, amended, entered-in-error): planners filter on it.
CREATE OR REPLACE VIEW planning.observations AS
SELECT o.id, o.patient_id, o.code, o.value, o.unit, o.flag, o.status, o.taken_at
FROM public.observations o;

-- The SQL of each planner's query, kept with its audit line (or its SHA-256 when longer
-- than 4000 characters): what was asked matters to an auditor, and planners' SQL names
-- no patient.
ALTER TABLE audit_log ADD COLUMN IF NOT EXISTS query_text text;
