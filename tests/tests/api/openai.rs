//! The OpenAI-compatible client against the Chat Completions mock: the request it sends, the
//! answer it finds (a tool call, or JSON in the content from servers that ignore tools), its
//! retries, its cap on calls in flight, and every failure mode as a typed error.

use std::time::{Duration, Instant};

use jobs::llm::{Llm, LlmError, OpenAiConfig, OpenAiLlm, Purpose, Tool, ToolRequest, Usage};
use serde_json::json;
use tests::mock_openai::{API_KEY, MODEL, MockOpenAi, OpenAiReply};

fn config(base_url: &str) -> OpenAiConfig {
    OpenAiConfig {
        base_url: base_url.to_owned(),
        api_key: Some(API_KEY.into()),
        model: MODEL.into(),
        concurrency: 4,
        max_tokens: 512,
        connect_timeout: Duration::from_secs(1),
        attempt_timeout: Duration::from_millis(800),
        operation_timeout: Duration::from_secs(5),
        max_attempts: 2,
        retry_initial_backoff: Duration::from_millis(10),
    }
}

fn llm(mock: &MockOpenAi) -> OpenAiLlm {
    OpenAiLlm::new(&config(&mock.base_url())).expect("client")
}

fn tool() -> Tool {
    Tool {
        name: "record_match",
        description: "Record the fit.",
        schema: json!({"type": "object", "properties": {"score": {"type": "integer"}},
                       "required": ["score"]}),
    }
}

async fn call(llm: &OpenAiLlm) -> Result<serde_json::Value, LlmError> {
    let tool = tool();
    llm.call_tool(ToolRequest::new(
        Purpose::Score,
        "You score resumes.",
        &tool,
        "Resume and listing here.".into(),
    ))
    .await
    .map(|r| r.input)
}

fn answer(score: i64) -> OpenAiReply {
    OpenAiReply::tool_call("record_match", json!({"score": score}))
}

#[tokio::test]
async fn the_request_forces_the_function_with_both_messages_and_the_key() {
    let mock = MockOpenAi::start().await;
    mock.script(vec![answer(87), answer(88)]);
    let llm = llm(&mock);
    assert_eq!((llm.model_id(), llm.provider()), (MODEL, "openai"));
    let tool = tool();
    let request = ToolRequest {
        prefix: Some("Resume: Rust, SQL.".into()),
        ..ToolRequest::new(
            Purpose::Score,
            "You score resumes.",
            &tool,
            "Listing: backend engineer.".into(),
        )
    };
    llm.call_tool(request.clone()).await.expect("a tool answer");
    llm.call_tool(ToolRequest {
        max_tokens: Some(2048),
        ..request
    })
    .await
    .expect("a tool answer");

    let calls = mock.calls();
    assert_eq!(calls.len(), 2);
    let c = &calls[0];
    assert_eq!(c.body["model"], MODEL);
    assert_eq!(c.forced_tool(), Some("record_match"));
    assert_eq!(c.body["tool_choice"]["type"], "function");
    assert_eq!(c.body["temperature"], 0);
    assert_eq!(c.body["max_tokens"], 512);
    assert_eq!(c.system(), "You score resumes.");
    assert_eq!(
        c.user_message(),
        "Resume: Rust, SQL.\n\nListing: backend engineer.",
        "the cacheable prefix leads the user message"
    );
    let function = &c.body["tools"][0];
    assert_eq!(function["type"], "function");
    assert_eq!(function["function"]["name"], "record_match");
    assert_eq!(function["function"]["description"], "Record the fit.");
    assert_eq!(function["function"]["parameters"], tool.schema);
    assert_eq!(
        c.headers.get("authorization").and_then(|v| v.to_str().ok()),
        Some(format!("Bearer {API_KEY}").as_str())
    );
    assert_eq!(
        calls[1].body["max_tokens"], 2048,
        "a request's own budget wins"
    );
}

#[tokio::test]
async fn without_a_key_no_authorization_is_sent() {
    let mock = MockOpenAi::start().await;
    mock.script(vec![answer(1)]);
    let llm = OpenAiLlm::new(&OpenAiConfig {
        api_key: None,
        ..config(&format!("{}/", mock.base_url()))
    })
    .expect("client");
    call(&llm).await.expect("answer");
    assert!(mock.calls()[0].headers.get("authorization").is_none());
}

#[tokio::test]
async fn the_tool_call_arguments_come_back_with_cached_tokens_as_cache_reads() {
    let mock = MockOpenAi::start().await;
    mock.script(vec![OpenAiReply::tool_call_with_usage(
        "record_match",
        json!({"score": 64, "reasons": ["rust"]}),
        1200,
        80,
        1024,
    )]);
    let tool = tool();
    let reply = llm(&mock)
        .call_tool(ToolRequest::new(
            Purpose::Score,
            "You score resumes.",
            &tool,
            "Resume and listing here.".into(),
        ))
        .await
        .expect("a tool answer");
    assert_eq!(reply.input, json!({"score": 64, "reasons": ["rust"]}));
    assert_eq!(
        reply.usage,
        Usage {
            input_tokens: 176,
            output_tokens: 80,
            cache_read_tokens: 1024,
            cache_write_tokens: 0,
        }
    );
}

#[tokio::test]
async fn json_in_the_content_is_the_answer_when_the_server_ignores_tools() {
    let mock = MockOpenAi::start().await;
    let llm = llm(&mock);
    for text in [
        r#"{"score": 71}"#,
        "```json\n{\"score\": 71}\n```",
        "Here is the result:\n{\"score\": 71}\nLet me know if you need more.",
    ] {
        mock.script(vec![OpenAiReply::content_json(text)]);
        assert_eq!(call(&llm).await, Ok(json!({"score": 71})), "{text}");
    }
}

#[tokio::test]
async fn a_429_waits_for_retry_after_before_the_retry() {
    let mock = MockOpenAi::start().await;
    mock.script(vec![OpenAiReply::rate_limited(1), answer(55)]);
    let started = Instant::now();
    assert_eq!(call(&llm(&mock)).await, Ok(json!({"score": 55})));
    let waited = started.elapsed();
    assert!(
        waited >= Duration::from_secs(1) && waited < Duration::from_secs(3),
        "{waited:?}"
    );
    assert_eq!(mock.call_count(), 2);
}

#[tokio::test]
async fn throttling_and_5xx_are_retried_before_giving_up() {
    let mock = MockOpenAi::start().await;
    let llm = llm(&mock);
    for first in [
        OpenAiReply::error(429, "Rate limit reached"),
        OpenAiReply::error(503, "The server is overloaded or not ready yet."),
        OpenAiReply::error(
            500,
            "The server had an error while processing your request.",
        ),
    ] {
        mock.script(vec![first, answer(55)]);
        assert_eq!(call(&llm).await, Ok(json!({"score": 55})));
    }
    assert_eq!(mock.call_count(), 6);
}

/// What happens, the replies, the error expected, and the attempts made.
type Case = (&'static str, Vec<OpenAiReply>, fn(&LlmError) -> bool, usize);

#[tokio::test]
async fn every_failure_is_a_typed_error() {
    let mock = MockOpenAi::start().await;
    let llm = llm(&mock);
    let slow = || answer(1).delayed(Duration::from_secs(3));
    let cases: Vec<Case> = vec![
        (
            "throttled on every attempt",
            vec![OpenAiReply::rate_limited(0), OpenAiReply::rate_limited(0)],
            |e| matches!(e, LlmError::Throttled(m) if m.contains("429")),
            2,
        ),
        (
            "5xx on every attempt",
            vec![
                OpenAiReply::error(503, "overloaded"),
                OpenAiReply::error(502, "bad gateway"),
            ],
            |e| matches!(e, LlmError::Unavailable(m) if m.contains("502")),
            2,
        ),
        (
            "a bad request",
            vec![OpenAiReply::error(
                400,
                "Invalid schema for function 'record_match'.",
            )],
            |e| matches!(e, LlmError::Validation(m) if m.contains("Invalid schema")),
            1,
        ),
        (
            "an unknown model",
            vec![OpenAiReply::error(
                404,
                "The model `qwen2.5-7b-instruct` does not exist.",
            )],
            |e| matches!(e, LlmError::Validation(m) if m.contains("does not exist")),
            1,
        ),
        (
            "a wrong key, echoed by the server",
            vec![OpenAiReply::error(
                401,
                &format!("Incorrect API key provided: {API_KEY}."),
            )],
            |e| {
                matches!(e, LlmError::Unavailable(m) if m.contains("access denied"))
                    && !e.to_string().contains(API_KEY)
            },
            1,
        ),
        (
            "no answer within the attempt timeout",
            vec![slow(), slow()],
            |e| matches!(e, LlmError::Timeout(_)),
            2,
        ),
        (
            "a body that is not JSON",
            vec![OpenAiReply::garbage()],
            |e| matches!(e, LlmError::Malformed(_)),
            1,
        ),
        (
            "text but no tool call and no JSON",
            vec![OpenAiReply::content_json("I think the score is 80.")],
            |e| matches!(e, LlmError::MissingToolOutput(_)),
            1,
        ),
        (
            "a content filter",
            vec![OpenAiReply::content_filtered()],
            |e| matches!(e, LlmError::ContentFiltered(_)),
            1,
        ),
        (
            "arguments that are not an object",
            vec![OpenAiReply::tool_call("record_match", json!("87"))],
            |e| matches!(e, LlmError::Malformed(_)),
            1,
        ),
    ];
    for (what, replies, expected, attempts) in cases {
        let before = mock.call_count();
        mock.script(replies);
        let err = call(&llm).await.expect_err(what);
        assert!(expected(&err), "{what}: got {err:?}");
        assert_eq!(mock.call_count() - before, attempts, "{what}: attempts");
    }
}

#[tokio::test]
async fn a_refused_connection_is_unavailable() {
    let port = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").expect("port");
        l.local_addr().expect("addr").port()
    };
    let llm = OpenAiLlm::new(&config(&format!("http://127.0.0.1:{port}/v1"))).expect("client");
    let err = call(&llm).await.expect_err("nothing listens");
    assert!(matches!(err, LlmError::Unavailable(_)), "{err:?}");
}

#[tokio::test]
async fn no_more_calls_are_in_flight_than_the_concurrency_allows() {
    let mock = MockOpenAi::start().await;
    mock.respond(|_| answer(9).delayed(Duration::from_millis(200)));
    let llm = OpenAiLlm::new(&OpenAiConfig {
        concurrency: 2,
        ..config(&mock.base_url())
    })
    .expect("client");
    let started = Instant::now();
    let answers = futures::future::join_all((0..6).map(|_| call(&llm))).await;
    assert!(
        answers.iter().all(|a| *a == Ok(json!({"score": 9}))),
        "{answers:?}"
    );
    assert_eq!(mock.call_count(), 6);
    assert_eq!(mock.max_in_flight(), 2);
    assert!(
        started.elapsed() >= Duration::from_millis(600),
        "{:?}",
        started.elapsed()
    );
}
