//! The services CI configures are really there: a set `TEST_*_URL` that does not answer fails.

#[tokio::test]
async fn the_configured_test_redis_answers() {
    let Some(url) = tests::redis::redis_url_from_env() else {
        eprintln!("TEST_REDIS_URL is unset: nothing to check");
        return;
    };
    let reply = tests::redis::ping(&url)
        .await
        .unwrap_or_else(|e| panic!("TEST_REDIS_URL={url} is set but unreachable: {e}"));
    assert_eq!(
        reply, "+PONG",
        "TEST_REDIS_URL={url} did not answer PING like Redis"
    );
}
