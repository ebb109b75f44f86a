-- The central database: what is not any one region's. For now the forwarding records of
-- patients moved between regions, so that an old patient ID still resolves to one shard.
CREATE TABLE IF NOT EXISTS patient_forwarding (
    patient_id uuid PRIMARY KEY,
    region text NOT NULL,
    moved_at timestamptz NOT NULL DEFAULT now()
);
