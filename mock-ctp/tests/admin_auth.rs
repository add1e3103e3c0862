//! The admin API refuses every protected route without the bearer token in the
//! `Authorization` header: no token, a wrong one, another scheme, or the right token in a query
//! string (a token in a URL ends up in logs and histories). `/health` needs none.

mod common;

use common::*;
use rstest::rstest;

#[rstest]
#[case::no_token(None, "")]
#[case::wrong_token(Some("Bearer not-the-token"), "")]
#[case::another_scheme(Some("Basic dGVzdC10b2tlbg=="), "")]
#[case::token_in_the_query_string(None, "?token=test-token&access_token=test-token")]
#[tokio::test]
async fn a_protected_route_is_refused(#[case] authorization: Option<&str>, #[case] query: &str) {
    let srv = server().await;
    let mut request = reqwest::Client::new().get(format!("{}{query}", admin(&srv, "/record")));
    if let Some(value) = authorization {
        request = request.header("Authorization", value);
    }
    let answer = request.send().await.expect("admin answers");
    assert_eq!(answer.status(), 401);
    let post = reqwest::Client::new()
        .post(format!("{}{query}", admin(&srv, "/reset")))
        .send()
        .await
        .expect("admin answers");
    assert_eq!(post.status(), 401, "a refused reset changes nothing");
    srv.shutdown().await;
}

#[tokio::test]
async fn the_token_in_the_header_opens_the_routes_and_health_needs_none() {
    let srv = server().await;
    assert!(get(&srv, "/record").await["orders"].is_array());
    let health = reqwest::get(admin(&srv, "/health")).await.unwrap();
    assert_eq!(health.status(), 200);
    srv.shutdown().await;
}
