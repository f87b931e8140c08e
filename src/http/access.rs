//! Authorisation. The admin API is never served to another site (a request
//! whose `Origin` or `Sec-Fetch-Site` says it comes from a web page elsewhere
//! is `403`), and needs the admin token when one is set (`--admin-token`).
//! Otherwise bearer tokens, when the spec configures `auth`: reads need
//! the `read` scope, other methods `write`, the admin API `admin`; OPTIONS
//! is open (it only tells what a route allows). No token
//! (without the anonymous scope) or an unknown one is `401`; a known token
//! without the scope is `403`. Tokens are never logged.

use actix_web::HttpRequest;
use actix_web::http::{Method, header};

use super::problem::Problem;
use super::route::Target;
use crate::spec::{Scope, Spec};

/// Marks a request to the admin API (in its extensions), whose answers
/// never carry CORS headers.
#[derive(Debug, Clone, Copy)]
pub struct AdminRequest;

/// Whether `target` is the admin API proper; the API's description
/// (`openapi.json`) is for every client (home and items link to it), and so
/// are the browsable API's assets and the admin page's shell, which holds no
/// data (its script fetches the admin API, with the token if one is set).
pub fn is_admin(target: &Target) -> bool {
    matches!(target, Target::Admin(path)
        if path != "openapi.json" && !path.is_empty() && !path.starts_with("assets/"))
}

/// Whether a request to `path` may be for the admin API, before it is
/// routed (a session's prefix still on, segments percent-encoded): any
/// segment that decodes to `_standin`. Wider than routing, never narrower.
pub fn may_be_admin(path: &str) -> bool {
    path.split('/').any(|segment| {
        percent_encoding::percent_decode_str(segment).decode_utf8_lossy() == "_standin"
    })
}

/// The scope a request to `target` needs.
fn needed(method: &Method, target: &Target) -> Scope {
    if is_admin(target) {
        Scope::Admin
    } else if matches!(*method, Method::GET | Method::HEAD) {
        Scope::Read
    } else {
        Scope::Write
    }
}

/// Lets the request through, or says why not; `admin_token` is the token
/// the admin API requires, if any.
pub fn authorise(
    request: &HttpRequest,
    spec: &Spec,
    target: &Target,
    admin_token: Option<&str>,
) -> Result<(), Problem> {
    if is_admin(target) {
        same_site(request)?;
        if let Some(token) = admin_token {
            return admin_token_given(request, token);
        }
    }
    let Some(auth) = &spec.auth else {
        return Ok(());
    };
    // OPTIONS discloses only what a route allows, and browsers send CORS
    // preflights without credentials.
    if request.method() == Method::OPTIONS {
        return Ok(());
    }
    let scope = needed(request.method(), target);
    let name = match scope {
        Scope::Read => "read",
        Scope::Write => "write",
        Scope::Admin => "admin",
    };
    let credentials = request
        .headers()
        .get(header::AUTHORIZATION)
        .map(|value| value.to_str().unwrap_or_default());
    let Some(credentials) = credentials else {
        if auth.anonymous.contains(&scope) {
            return Ok(());
        }
        return Err(Problem::Unauthorized {
            detail: format!(
                "this request needs the '{name}' scope: send Authorization: Bearer <token>"
            ),
        });
    };
    let token = credentials
        .split_once(' ')
        .filter(|(scheme, _)| scheme.eq_ignore_ascii_case("bearer"))
        .map(|(_, token)| token.trim());
    let Some(scopes) = token.and_then(|token| auth.tokens.get(token)) else {
        return Err(Problem::Unauthorized {
            detail: "the bearer token is unknown (or the scheme is not Bearer)".into(),
        });
    };
    if scopes.contains(&scope) || auth.anonymous.contains(&scope) {
        Ok(())
    } else {
        Err(Problem::Forbidden {
            detail: format!("this token lacks the '{name}' scope this request needs"),
        })
    }
}

/// Refuses an admin request a web page on another site sent: a browser
/// says so with `Sec-Fetch-Site`, or with an `Origin` other than the
/// server's own. Clients other than browsers send neither.
fn same_site(request: &HttpRequest) -> Result<(), Problem> {
    let headers = request.headers();
    let site = headers
        .get("sec-fetch-site")
        .map(|value| String::from_utf8_lossy(value.as_bytes()).to_ascii_lowercase());
    let why = if let Some(site) = site.filter(|site| site == "cross-site" || site == "same-site") {
        format!("the browser says it comes from another site (Sec-Fetch-Site: {site})")
    } else if let Some(origin) = headers.get(header::ORIGIN) {
        let origin = String::from_utf8_lossy(origin.as_bytes());
        let info = request.connection_info();
        let own = format!("{}://{}", info.scheme(), info.host());
        if origin.eq_ignore_ascii_case(&own) {
            return Ok(());
        }
        format!("its Origin {origin} is not this server's ({own})")
    } else {
        return Ok(());
    };
    Err(Problem::Forbidden {
        detail: format!(
            "the admin API does not answer web pages of other sites, and {why}: send admin requests from a test suite, curl or a page of this server"
        ),
    })
}

/// Lets an admin request through only with `Authorization: Bearer <token>`.
fn admin_token_given(request: &HttpRequest, token: &str) -> Result<(), Problem> {
    if request.method() == Method::OPTIONS {
        return Ok(());
    }
    let given = request
        .headers()
        .get(header::AUTHORIZATION)
        .and_then(|value| value.to_str().ok())
        .and_then(|credentials| credentials.split_once(' '))
        .filter(|(scheme, _)| scheme.eq_ignore_ascii_case("bearer"))
        .map(|(_, given)| given.trim());
    match given {
        Some(given) if same_secret(given.as_bytes(), token.as_bytes()) => Ok(()),
        Some(_) => Err(Problem::Unauthorized {
            detail: "the bearer token is not the admin token".into(),
        }),
        None => Err(Problem::Unauthorized {
            detail: "the admin API needs the admin token: send Authorization: Bearer <token>"
                .into(),
        }),
    }
}

/// Compares secrets in a time that depends only on their lengths.
fn same_secret(given: &[u8], secret: &[u8]) -> bool {
    given.len() == secret.len()
        && given
            .iter()
            .zip(secret)
            .fold(0u8, |difference, (a, b)| difference | (a ^ b))
            == 0
}
