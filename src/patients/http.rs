//! Helpers the patient handlers share: the record's guard status, and the response
//! headers (`ETag`, `X-Hmis-Region`, `Location`).

use super::model::PatientRow;
use crate::records::{Guarded, REGION_HEADER, Status, region_value};
use crate::shards::Shard;
use axum::Json;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};

impl Guarded for PatientRow {
    fn status(&self) -> Status {
        Status {
            deleted: self.deleted_at.is_some(),
            merged_into: self.merged_into,
            transferring: self.transfer_id.is_some(),
        }
    }
}

/// A patient answer with its ETag and region.
pub fn patient_response(
    status: StatusCode,
    row: PatientRow,
    shard: &Shard,
    identity: bool,
) -> Response {
    let etag = format!("\"{}\"", row.version);
    let id = row.id;
    let body = row.into_api(shard.name(), shard.settings.tz(), identity);
    let mut response = (status, Json(body)).into_response();
    let headers = response.headers_mut();
    headers.insert(
        header::ETAG,
        HeaderValue::from_str(&etag).expect("digits are a valid header"),
    );
    headers.insert(REGION_HEADER, region_value(shard));
    if status == StatusCode::CREATED {
        let location = format!("/api/v1/patients/{id}");
        headers.insert(
            header::LOCATION,
            HeaderValue::from_str(&location).expect("uuid path"),
        );
    }
    response
}
