//! The one error type of request handling, rendered as RFC 9457
//! `application/problem+json` with the status and headers each case needs.
//! Handlers return `Result<_, Problem>` and never build error responses by hand.

use actix_web::http::StatusCode;
use actix_web::http::header::{self, HeaderValue};
use actix_web::{HttpResponse, ResponseError};
use serde_json::json;

use crate::spec::FieldError;
use crate::store::StoreError;

/// Why a request was not served.
#[derive(Debug, thiserror::Error)]
pub enum Problem {
    /// The request is malformed (bad JSON, a bad path id, ...).
    #[error("{detail}")]
    BadRequest {
        /// What is wrong.
        detail: String,
    },
    /// A query parameter is unknown or has a bad value.
    #[error("{detail}")]
    BadParameter {
        /// The parameter's name.
        parameter: String,
        /// What is wrong, with a suggestion where one helps.
        detail: String,
    },
    /// The body's fields are invalid.
    #[error("{}", describe_invalid(errors))]
    Invalid {
        /// Every invalid field.
        errors: Vec<FieldError>,
    },
    /// No such route or record.
    #[error("{detail}")]
    NotFound {
        /// What was not found.
        detail: String,
    },
    /// The method is not allowed on this route.
    #[error("{method} is not allowed here; allowed: {}", allow.join(", "))]
    MethodNotAllowed {
        /// The method asked for.
        method: String,
        /// The methods that are allowed.
        allow: Vec<&'static str>,
    },
    /// No representation the client accepts is available.
    #[error("none of the requested media types is available; available: {}", available.join(", "))]
    NotAcceptable {
        /// The media types this route offers.
        available: Vec<&'static str>,
    },
    /// The write conflicts with the data.
    #[error("{detail}")]
    Conflict {
        /// What conflicts.
        detail: String,
        /// The fields involved.
        errors: Vec<FieldError>,
    },
    /// The record was deleted.
    #[error("{detail}")]
    Gone {
        /// What was deleted.
        detail: String,
    },
    /// The body is larger than the limit.
    #[error("the body is larger than the limit of {limit} bytes")]
    PayloadTooLarge {
        /// The limit in bytes.
        limit: usize,
    },
    /// The record a write would make is larger than the limit (a JSON patch can grow one).
    #[error(
        "the patched record would be larger than the limit of {limit} bytes: a record may be as large as a request body, no larger"
    )]
    RecordTooLarge {
        /// The limit in bytes.
        limit: usize,
    },
    /// The body's media type is not accepted.
    #[error("{content_type} is not accepted here; send one of: {}", accepted.join(", "))]
    UnsupportedMediaType {
        /// The media type sent.
        content_type: String,
        /// The media types accepted.
        accepted: Vec<&'static str>,
        /// `Accept-Post` or `Accept-Patch`.
        header: &'static str,
    },
    /// The body is in a content coding standin does not decode.
    #[error(
        "the body is sent with Content-Encoding '{encoding}', which is not accepted: send it uncoded (identity)"
    )]
    UnsupportedEncoding {
        /// The `Content-Encoding` sent.
        encoding: String,
    },
    /// The client took too long to send its request (the connection is closed).
    #[error("{detail}")]
    RequestTimeout {
        /// What was late.
        detail: String,
    },
    /// The request's line and headers are larger than the limit (answered by the transport).
    #[error("{detail}")]
    HeadTooLarge {
        /// Which limit.
        detail: String,
    },
    /// A precondition (`If-Match`, `If-None-Match: *`, `If-Unmodified-Since`) does not hold.
    #[error("{detail}")]
    PreconditionFailed {
        /// Which precondition, and why.
        detail: String,
    },
    /// The resource requires `If-Match` on writes.
    #[error("this resource requires If-Match on writes: GET the item and send its ETag")]
    PreconditionRequired,
    /// A well-formed patch that cannot be applied to the record.
    #[error("{detail}")]
    Unprocessable {
        /// What could not be applied.
        detail: String,
    },
    /// No token, or an unknown one, where auth is configured.
    #[error("{detail}")]
    Unauthorized {
        /// What was missing or wrong.
        detail: String,
    },
    /// A known token without the scope the request needs.
    #[error("{detail}")]
    Forbidden {
        /// Which scope is missing.
        detail: String,
    },
    /// A status asked for by fault injection (`Prefer: status=503`, `error_rate`).
    #[error("{detail}")]
    Injected {
        /// The status to answer.
        status: StatusCode,
        /// Why.
        detail: String,
    },
    /// The request's store operation ran past its budget and was stopped.
    #[error(
        "the request ran past the time one request may hold the data for (its query budget), and was stopped with no effect: narrow it (equality filters, a smaller page, fewer search words)"
    )]
    OverBudget,
    /// A reset is restoring the seeded data.
    #[error("a reset is restoring the seeded data: retry in a moment")]
    Resetting,
    /// More store operations are waiting than the store takes.
    #[error(
        "the server is busy: more requests are waiting for the data than it queues ({}); retry in a moment",
        crate::service::MAX_QUEUED
    )]
    Busy,
    /// No session could start: the sessions alive take all the room allowed.
    #[error("{detail}")]
    SessionsExhausted {
        /// Which bound, and what to do.
        detail: String,
    },
    /// The server failed; only storage failures end here.
    #[error("{detail}")]
    Internal {
        /// What failed.
        detail: String,
    },
    /// A forwarded request got no answer from the upstream: `502` (unreachable,
    /// failed), `504` (too late) or `508` (forwarded in a loop).
    #[error("{detail}")]
    Upstream {
        /// `502`, `504` or `508`.
        status: StatusCode,
        /// The upstream's URL.
        upstream: String,
        /// What failed.
        detail: String,
    },
}

/// `invalid fields: title, year`, naming each field once.
fn describe_invalid(errors: &[FieldError]) -> String {
    let mut names: Vec<&str> = Vec::new();
    for error in errors {
        if !names.contains(&error.field.as_str()) {
            names.push(&error.field);
        }
    }
    let plural = if names.len() == 1 { "" } else { "s" };
    format!("invalid field{plural}: {}", names.join(", "))
}

impl Problem {
    /// A problem of status 404 for a missing thing.
    pub fn not_found(detail: impl Into<String>) -> Problem {
        Problem::NotFound {
            detail: detail.into(),
        }
    }

    /// A problem of status 400.
    pub fn bad_request(detail: impl Into<String>) -> Problem {
        Problem::BadRequest {
            detail: detail.into(),
        }
    }

    /// A problem naming a bad query parameter.
    pub fn bad_parameter(parameter: impl Into<String>, detail: impl Into<String>) -> Problem {
        Problem::BadParameter {
            parameter: parameter.into(),
            detail: detail.into(),
        }
    }

    /// The short slug that names the problem type.
    fn slug(&self) -> &'static str {
        match self {
            Problem::BadRequest { .. } => "bad-request",
            Problem::BadParameter { .. } => "bad-parameter",
            Problem::Invalid { .. } => "validation",
            Problem::NotFound { .. } => "not-found",
            Problem::MethodNotAllowed { .. } => "method-not-allowed",
            Problem::NotAcceptable { .. } => "not-acceptable",
            Problem::Conflict { .. } => "conflict",
            Problem::Gone { .. } => "gone",
            Problem::PayloadTooLarge { .. } => "payload-too-large",
            Problem::RecordTooLarge { .. } => "record-too-large",
            Problem::UnsupportedMediaType { .. } => "unsupported-media-type",
            Problem::UnsupportedEncoding { .. } => "unsupported-encoding",
            Problem::RequestTimeout { .. } => "request-timeout",
            Problem::HeadTooLarge { .. } => "head-too-large",
            Problem::PreconditionFailed { .. } => "precondition-failed",
            Problem::PreconditionRequired => "precondition-required",
            Problem::Unprocessable { .. } => "unprocessable",
            Problem::Unauthorized { .. } => "unauthorized",
            Problem::Forbidden { .. } => "forbidden",
            Problem::Injected { .. } => "injected",
            Problem::OverBudget => "over-budget",
            Problem::Resetting => "resetting",
            Problem::Busy => "busy",
            Problem::SessionsExhausted { .. } => "sessions-exhausted",
            Problem::Internal { .. } => "internal",
            Problem::Upstream { status, .. } => match *status {
                StatusCode::GATEWAY_TIMEOUT => "upstream-timeout",
                StatusCode::LOOP_DETECTED => "upstream-loop",
                _ => "upstream-unreachable",
            },
        }
    }

    /// The problem's JSON body.
    pub fn body(&self) -> serde_json::Value {
        let status = self.status_code();
        let mut body = json!({
            "type": format!("urn:standin:problem:{}", self.slug()),
            "title": status.canonical_reason().unwrap_or("Error"),
            "status": status.as_u16(),
            "detail": self.to_string(),
        });
        match self {
            Problem::Invalid { errors } | Problem::Conflict { errors, .. }
                if !errors.is_empty() =>
            {
                body["errors"] = json!(errors);
            }
            Problem::BadParameter { parameter, .. } => {
                body["errors"] = json!([{ "field": parameter, "message": self.to_string() }]);
                body["parameter"] = json!(parameter);
            }
            Problem::NotAcceptable { available } => body["available"] = json!(available),
            Problem::Upstream { upstream, .. } => body["upstream"] = json!(upstream),
            _ => {}
        }
        body
    }
}

impl ResponseError for Problem {
    fn status_code(&self) -> StatusCode {
        match self {
            Problem::BadRequest { .. } | Problem::BadParameter { .. } | Problem::Invalid { .. } => {
                StatusCode::BAD_REQUEST
            }
            Problem::NotFound { .. } => StatusCode::NOT_FOUND,
            Problem::MethodNotAllowed { .. } => StatusCode::METHOD_NOT_ALLOWED,
            Problem::NotAcceptable { .. } => StatusCode::NOT_ACCEPTABLE,
            Problem::Conflict { .. } => StatusCode::CONFLICT,
            Problem::Gone { .. } => StatusCode::GONE,
            Problem::PayloadTooLarge { .. } | Problem::RecordTooLarge { .. } => {
                StatusCode::PAYLOAD_TOO_LARGE
            }
            Problem::UnsupportedMediaType { .. } | Problem::UnsupportedEncoding { .. } => {
                StatusCode::UNSUPPORTED_MEDIA_TYPE
            }
            Problem::RequestTimeout { .. } => StatusCode::REQUEST_TIMEOUT,
            Problem::HeadTooLarge { .. } => StatusCode::REQUEST_HEADER_FIELDS_TOO_LARGE,
            Problem::PreconditionFailed { .. } => StatusCode::PRECONDITION_FAILED,
            Problem::PreconditionRequired => StatusCode::PRECONDITION_REQUIRED,
            Problem::Unprocessable { .. } => StatusCode::UNPROCESSABLE_ENTITY,
            Problem::Unauthorized { .. } => StatusCode::UNAUTHORIZED,
            Problem::Forbidden { .. } => StatusCode::FORBIDDEN,
            Problem::Injected { status, .. } => *status,
            Problem::OverBudget
            | Problem::Resetting
            | Problem::Busy
            | Problem::SessionsExhausted { .. } => StatusCode::SERVICE_UNAVAILABLE,
            Problem::Internal { .. } => StatusCode::INTERNAL_SERVER_ERROR,
            Problem::Upstream { status, .. } => *status,
        }
    }

    fn error_response(&self) -> HttpResponse {
        let mut response = HttpResponse::build(self.status_code());
        response.insert_header((header::CONTENT_TYPE, "application/problem+json"));
        response.insert_header((header::CACHE_CONTROL, "no-store"));
        match self {
            Problem::MethodNotAllowed { allow, .. } => {
                response.insert_header((header::ALLOW, allow.join(", ")));
            }
            Problem::UnsupportedMediaType {
                accepted, header, ..
            } => {
                if let Ok(value) = HeaderValue::from_str(&accepted.join(", ")) {
                    response.insert_header((*header, value));
                }
            }
            Problem::NotAcceptable { .. } => {
                response.insert_header((header::VARY, "Accept"));
            }
            // RFC 9110, section 15.5.16: the codings that would be accepted.
            Problem::UnsupportedEncoding { .. } => {
                response.insert_header((header::ACCEPT_ENCODING, "identity"));
            }
            // The rest of the body may never come: the connection cannot be reused.
            Problem::RequestTimeout { .. } => {
                response.force_close();
            }
            Problem::Unauthorized { .. } => {
                response.insert_header((header::WWW_AUTHENTICATE, "Bearer realm=\"standin\""));
            }
            Problem::Resetting | Problem::Busy => {
                response.insert_header((header::RETRY_AFTER, "1"));
            }
            _ => {}
        }
        response.body(self.body().to_string())
    }
}

impl From<crate::query::QueryError> for Problem {
    fn from(error: crate::query::QueryError) -> Problem {
        Problem::bad_parameter(error.parameter, error.message)
    }
}

impl From<crate::service::Unavailable> for Problem {
    fn from(unavailable: crate::service::Unavailable) -> Problem {
        match unavailable {
            crate::service::Unavailable::Busy => Problem::Busy,
            other => Problem::Internal {
                detail: other.to_string(),
            },
        }
    }
}

impl From<crate::service::SessionError> for Problem {
    fn from(error: crate::service::SessionError) -> Problem {
        use crate::service::SessionError;
        match error {
            SessionError::BadKey(_) => Problem::BadRequest {
                detail: error.to_string(),
            },
            SessionError::TooMany { .. } | SessionError::OutOfMemory { .. } => {
                Problem::SessionsExhausted {
                    detail: error.to_string(),
                }
            }
            SessionError::Failed(_) => Problem::Internal {
                detail: error.to_string(),
            },
        }
    }
}

impl From<crate::service::WriteBackError> for Problem {
    fn from(error: crate::service::WriteBackError) -> Problem {
        match error {
            crate::service::WriteBackError::Store(error) => error.into(),
            file => Problem::Internal {
                detail: file.to_string(),
            },
        }
    }
}

impl From<StoreError> for Problem {
    fn from(error: StoreError) -> Problem {
        match error {
            StoreError::NotFound => Problem::not_found("no record with this id"),
            StoreError::Gone => Problem::Gone {
                detail: "this record was deleted".into(),
            },
            StoreError::Conflict { message, errors } => Problem::Conflict {
                detail: message,
                errors,
            },
            StoreError::Invalid(errors) => Problem::Invalid { errors },
            StoreError::PreconditionFailed(detail) => Problem::PreconditionFailed { detail },
            StoreError::OverBudget => Problem::OverBudget,
            StoreError::TooManyEmbedded { limit } => Problem::bad_parameter(
                "embed",
                format!(
                    "the embeds would hold more than {limit} records in one answer: ask for fewer records (per_page), or embed less deep"
                ),
            ),
            // The database's own message stays in the log: it names tables
            // and SQL, which are no business of the client's.
            StoreError::Database(error) => {
                tracing::error!(%error, "database error");
                Problem::Internal {
                    detail: "the database failed; the server's log says why".into(),
                }
            }
        }
    }
}
