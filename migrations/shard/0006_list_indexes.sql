-- Orders of the cross-region lists, as indexes, so that a page reads `limit` index entries
-- instead of sorting every patient of the region. Text in byte order (`COLLATE "C"`): the
-- order hmis merges the regions' answers in.
CREATE INDEX IF NOT EXISTS patients_list_name_idx
    ON patients (family_name COLLATE "C", given_name COLLATE "C", id)
    WHERE deleted_at IS NULL AND merged_into IS NULL;
CREATE INDEX IF NOT EXISTS patients_list_birth_idx
    ON patients (birth_date, id) WHERE deleted_at IS NULL AND merged_into IS NULL;
CREATE INDEX IF NOT EXISTS patients_list_created_idx
    ON patients (created_at, id) WHERE deleted_at IS NULL AND merged_into IS NULL;
