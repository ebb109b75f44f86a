-- Statistics of a region of a million patients without computing an age for each one: the
-- patients are counted per district, sex and birth date from an index (a few tens of
-- thousands of groups), and the age band is computed once per group. The band is one
-- function, used by the planners' view too, so that both give the same bands.
-- One expression without FROM, so that PostgreSQL inlines it into the view's queries.
CREATE OR REPLACE FUNCTION planning.age_band(birth date) RETURNS text
LANGUAGE sql STABLE PARALLEL SAFE AS $$
    SELECT CASE WHEN extract(year FROM age(current_date, birth)) >= 80 THEN '80+'
                WHEN birth > current_date THEN '00-04'
                ELSE lpad((extract(year FROM age(current_date, birth))::integer / 5 * 5)::text, 2, '0')
                     || '-' ||
                     lpad((extract(year FROM age(current_date, birth))::integer / 5 * 5 + 4)::text, 2, '0')
           END
$$;

CREATE OR REPLACE VIEW planning.patients AS
SELECT p.id,
       p.sex,
       extract(year FROM p.birth_date)::integer AS birth_year,
       -- Zero-padded so that the bands sort in order as text; 80 and over is one band.
       planning.age_band(p.birth_date) AS age_band,
       p.birth_date_estimated,
       p.district,
       p.facility,
       p.created_at,
       p.deleted_at IS NOT NULL AS deleted,
       p.merged_into IS NOT NULL AS merged
FROM public.patients p;

CREATE INDEX IF NOT EXISTS patients_stats_idx
    ON patients (district, sex, birth_date) WHERE deleted_at IS NULL AND merged_into IS NULL;
