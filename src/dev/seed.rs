//! Demo data for `hmis dev`: patients with Sesotho names in every district, placed by the
//! same rules and written by the same code as the API's creates, so the demo also shows
//! the routing at work. Deterministic (a fixed seed), so screenshots and docs agree.

use crate::app::App;
use crate::config::Settings;
use crate::domain::PatientId;
use crate::domain::patient::{NewPatient, Sex};
use crate::patients::{model::routing_record, repo};
use crate::shards::Abort;
use chrono::{Duration, NaiveDate};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

const GIVEN_FEMALE: &[&str] = &[
    "Palesa",
    "Lerato",
    "Limpho",
    "Lineo",
    "Nthabiseng",
    "Rethabile",
    "Puleng",
    "Refiloe",
    "Mamello",
    "Nthati",
    "'Mathabo",
    "Keneuoe",
    "Lisebo",
    "Masechaba",
    "Tšepiso",
    "Mpho",
];
const GIVEN_MALE: &[&str] = &[
    "Thabo", "Teboho", "Tšepo", "Lebohang", "Bokang", "Tumelo", "Khotso", "Tlali", "Motlatsi",
    "Mohau", "Paballo", "Seabata", "Rorisang", "Tokelo", "Katleho", "Mpho",
];
const FAMILY: &[&str] = &[
    "Mokoena",
    "Mofokeng",
    "Molapo",
    "Letsie",
    "Nkuebe",
    "Mohapi",
    "Ramakatane",
    "Sekhonyana",
    "Lerotholi",
    "Thamae",
    "Makara",
    "Mabote",
    "Seeiso",
    "Ntšekhe",
    "Mokhehle",
    "Majara",
    "Tau",
    "Lesia",
    "Matete",
    "Mpeli",
    "Khatala",
    "Ramoholi",
    "Letšela",
    "Mosala",
    "Phafoli",
];
const VILLAGES: &[&str] = &[
    "Ha Mafa",
    "Ha Ramabanta",
    "Ha Lejone",
    "Ha Sekake",
    "Ha Nqabeni",
    "Ha Mosiuoa",
    "Ha Potsane",
    "Ha Tlali",
    "Ha Makhoroana",
    "Ha Moshebi",
];

/// Seeds `total` patients, spread over all districts, into the regions that have none,
/// then weeks of vital signs for the patients of regions without any.
pub async fn seed_empty_regions(settings: &Settings, total: usize) -> anyhow::Result<()> {
    let app = App::new(settings.clone()).await?;
    patients(&app, total).await?;
    let shards: Vec<_> = app.shards.iter().collect();
    let readings = super::vitals::seed(&shards, chrono::Utc::now()).await?;
    if readings > 0 {
        tracing::info!(readings, "seeded demo vital signs");
    }
    Ok(())
}

async fn patients(app: &App, total: usize) -> anyhow::Result<()> {
    let mut empty = Vec::new();
    for shard in app.shards.iter() {
        let conn = shard.conn().await?;
        let n: i64 = conn
            .query_one("SELECT count(*) FROM patients", &[])
            .await?
            .get(0);
        if n == 0 {
            empty.push(shard.name().to_owned());
        }
    }
    if empty.is_empty() || total == 0 {
        return Ok(());
    }
    let districts: Vec<String> = app.districts.values().cloned().collect();
    let mut rng = StdRng::seed_from_u64(2026);
    let mut written = 0;
    for i in 0..total {
        let patient = demo_patient(&mut rng, &districts[i % districts.len()], app.today());
        let resolve = |e: &str, id: &str| app.resolve_parent(e, id);
        let routed = app.rules.route(&routing_record(&patient), &resolve)?;
        if !empty.contains(&routed.region) {
            continue;
        }
        let shard = app
            .shards
            .get(&routed.region)
            .expect("rules name known regions");
        let id = PatientId::new(shard.settings.code).uuid();
        let line = crate::audit::Line {
            actor: "hmis-dev-seed".into(),
            roles: "system".into(),
            action: "create".into(),
            region: routed.region.clone(),
            request_id: "seed".into(),
        };
        // A unit of work of its own per patient, as a registration is.
        shard
            .write(async |tx| -> Result<_, Abort<anyhow::Error>> {
                Ok(repo::insert(tx, id, &patient, None, &line).await?)
            })
            .await?;
        written += 1;
    }
    tracing::info!(patients = written, regions = ?empty, "seeded demo patients");
    Ok(())
}

fn pick<'a>(rng: &mut StdRng, list: &[&'a str]) -> &'a str {
    list[rng.random_range(0..list.len())]
}

pub fn demo_patient(rng: &mut StdRng, district: &str, today: NaiveDate) -> NewPatient {
    let sex = if rng.random_bool(0.52) {
        Sex::Female
    } else {
        Sex::Male
    };
    let given = pick(
        rng,
        if sex == Sex::Female {
            GIVEN_FEMALE
        } else {
            GIVEN_MALE
        },
    );
    let age_days = rng.random_range(0..85 * 365);
    let estimated = rng.random_bool(0.1);
    let phone = rng.random_bool(0.7).then(|| {
        let prefix = pick(rng, &["5", "6"]);
        format!("+266{prefix}{:07}", rng.random_range(0..10_000_000))
    });
    NewPatient {
        given_name: given.to_owned(),
        family_name: pick(rng, FAMILY).to_owned(),
        sex,
        birth_date: today - Duration::days(age_days),
        birth_date_estimated: estimated,
        district: district.to_owned(),
        village: Some(pick(rng, VILLAGES).to_owned()),
        facility: Some(format!("{district} Health Centre")),
        phone,
        national_id: rng
            .random_bool(0.4)
            .then(|| format!("LS{:09}", rng.random_range(0..1_000_000_000u32))),
    }
}
