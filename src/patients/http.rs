//! Helpers the patient handlers share: locating a patient's shard from its ID, the
//! response headers (`ETag`, `X-Hmis-Region`, `Location`), and `If-Match`.

use super::model::PatientRow;
use crate::http::ApiError;
use crate::records::{REGION_HEADER, region_value};
use crate::shards::Shard;
use axum::Json;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use uuid::Uuid;

/// A live row, or 404 / 410.
pub fn live(row: Option<PatientRow>, id: Uuid) -> Result<PatientRow, ApiError> {
    match row {
        None => Err(ApiError::NotFound(format!("no patient with ID {id}"))),
        Some(r) if r.deleted_at.is_some() => {
            Err(ApiError::Gone(format!("patient {id} was deleted")))
        }
        Some(r) => Ok(r),
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
