-- Searches at a region of a million patients: the duplicate check and the name search.
--
-- The duplicate check's candidates, each read as a short walk of one index outward from
-- the new patient's birth date, so that a create reads a bounded number of rows however
-- many patients the region holds (src/patients/duplicates.rs). Each index pairs a name key
-- (or its first two letters) with the birth date; the single-column indexes they replace
-- made PostgreSQL fetch and recheck every patient born within a year (23,000 rows at a
-- million patients).
CREATE INDEX IF NOT EXISTS patients_dup_family_idx
    ON patients (family_key, birth_date) WHERE deleted_at IS NULL AND merged_into IS NULL;
CREATE INDEX IF NOT EXISTS patients_dup_given_idx
    ON patients (given_key, birth_date) WHERE deleted_at IS NULL AND merged_into IS NULL;
CREATE INDEX IF NOT EXISTS patients_dup_family_prefix_idx
    ON patients (left(family_key, 2), birth_date) WHERE deleted_at IS NULL AND merged_into IS NULL;
CREATE INDEX IF NOT EXISTS patients_dup_given_prefix_idx
    ON patients (left(given_key, 2), birth_date) WHERE deleted_at IS NULL AND merged_into IS NULL;
-- Covered by the pairs above (their leading column) and by patients_list_birth_idx.
DROP INDEX IF EXISTS patients_family_key_idx;
DROP INDEX IF EXISTS patients_given_key_idx;
DROP INDEX IF EXISTS patients_birth_date_idx;

-- How common each name prefix is, for the planner: a search for "mo" matches a tenth of a
-- region and is best answered by walking the list order's index until a page is full; one
-- for "lekets" matches forty patients, best fetched by the name indexes and sorted. Without
-- these the planner guesses 0.5 % for every prefix (the name indexes are partial, and
-- PostgreSQL keeps no statistics of a partial index's expressions).
CREATE STATISTICS IF NOT EXISTS patients_given_name_stats ON (lower(given_name)) FROM patients;
CREATE STATISTICS IF NOT EXISTS patients_family_name_stats ON (lower(family_name)) FROM patients;
ANALYZE patients;
