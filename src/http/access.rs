//! Bearer-token authorisation, when the spec configures `auth`: reads need
//! the `read` scope, other methods `write`, the admin API `admin`; OPTIONS
//! is open (it only tells what a route allows). No token
//! (without the anonymous scope) or an unknown one is `401`; a known token
//! without the scope is `403`. Tokens are never logged.

use actix_web::HttpRequest;
use actix_web::http::{Method, header};

use super::problem::Problem;
use super::route::Target;
use crate::spec::{Scope, Spec};

/// The scope a request to `target` needs.
fn needed(method: &Method, target: &Target) -> Scope {
    // The API's description is for every client (home and items link to it).
    if matches!(target, Target::Admin(path) if path != "openapi.json") {
        Scope::Admin
    } else if matches!(*method, Method::GET | Method::HEAD) {
        Scope::Read
    } else {
        Scope::Write
    }
}

/// Lets the request through, or says why not.
pub fn authorise(request: &HttpRequest, spec: &Spec, target: &Target) -> Result<(), Problem> {
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
