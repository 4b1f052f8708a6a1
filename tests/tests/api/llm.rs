//! The Bedrock client through the real AWS SDK against the Converse mock: the request it sends,
//! the tool output it finds, and every failure mode as a typed error.

use std::time::Duration;

use jobs::llm::{
    BedrockAuth, BedrockConfig, BedrockLlm, Llm, LlmError, Purpose, Tool, ToolRequest,
};
use serde_json::json;
use tests::mock_bedrock::{API_KEY, BedrockReply, MODEL_ID, MockBedrock};

fn config(endpoint: &str) -> BedrockConfig {
    BedrockConfig {
        region: "us-east-1".into(),
        model_id: MODEL_ID.into(),
        endpoint_url: Some(endpoint.to_owned()),
        auth: BedrockAuth::ApiKey(API_KEY.into()),
        concurrency: 4,
        max_tokens: 512,
        connect_timeout: Duration::from_secs(1),
        attempt_timeout: Duration::from_millis(800),
        operation_timeout: Duration::from_secs(5),
        max_attempts: 2,
        retry_initial_backoff: Duration::from_millis(10),
        prompt_cache: true,
    }
}

fn tool() -> Tool {
    Tool {
        name: "record_match",
        description: "Record the fit.",
        schema: json!({"type": "object", "properties": {"score": {"type": "integer"}},
                       "required": ["score"]}),
    }
}

async fn call(llm: &BedrockLlm) -> Result<serde_json::Value, LlmError> {
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

#[tokio::test]
async fn the_request_forces_the_tool_and_the_tool_output_is_found_after_text() {
    let mock = MockBedrock::start().await;
    mock.script(vec![BedrockReply::tool_use(
        "record_match",
        json!({"score": 87}),
        Some("Let me think about this candidate first."),
    )]);
    let llm = BedrockLlm::new(&config(&mock.endpoint)).await;
    let tool = tool();
    let reply = llm
        .call_tool(ToolRequest::new(
            Purpose::Score,
            "You score resumes.",
            &tool,
            "Resume and listing here.".into(),
        ))
        .await
        .expect("a tool answer");
    assert_eq!(reply.input, json!({"score": 87}));
    assert_eq!(
        (reply.usage.input_tokens, reply.usage.output_tokens),
        (812, 64)
    );

    let calls = mock.calls();
    assert_eq!(calls.len(), 1);
    let c = &calls[0];
    assert_eq!(c.model_id, MODEL_ID, "the model id travels in the path");
    assert_eq!(c.forced_tool(), Some("record_match"));
    assert_eq!(c.body["inferenceConfig"]["temperature"], json!(0.0));
    assert_eq!(c.body["inferenceConfig"]["maxTokens"], 512);
    assert_eq!(c.body["system"][0]["text"], "You score resumes.");
    assert_eq!(c.prompt(), "Resume and listing here.");
    assert_eq!(
        c.body["toolConfig"]["tools"][0]["toolSpec"]["inputSchema"]["json"]["required"],
        json!(["score"])
    );
    assert_eq!(
        c.headers.get("authorization").and_then(|v| v.to_str().ok()),
        Some(format!("Bearer {API_KEY}").as_str()),
        "a Bedrock API key is sent as a bearer token"
    );
}

#[tokio::test]
async fn access_keys_sign_the_request() {
    let mock = MockBedrock::start().await;
    mock.script(vec![BedrockReply::tool_use(
        "record_match",
        json!({"score": 1}),
        None,
    )]);
    let llm = BedrockLlm::new(&BedrockConfig {
        auth: BedrockAuth::Static {
            access_key_id: "AKIDEXAMPLE".into(),
            secret_access_key: "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY".into(),
        },
        ..config(&mock.endpoint)
    })
    .await;
    call(&llm).await.expect("answer");
    let auth = mock.calls()[0]
        .headers
        .get("authorization")
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned)
        .unwrap_or_default();
    assert!(
        auth.starts_with("AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/")
            && auth.contains("/us-east-1/bedrock/aws4_request"),
        "{auth}"
    );
}

/// What happens, the replies, the error expected, and the attempts made.
type Case = (
    &'static str,
    Vec<BedrockReply>,
    fn(&LlmError) -> bool,
    usize,
);

#[tokio::test]
async fn every_failure_is_a_typed_error() {
    let mock = MockBedrock::start().await;
    let llm = BedrockLlm::new(&config(&mock.endpoint)).await;
    let throttled = || {
        BedrockReply::error(
            429,
            "ThrottlingException",
            "Too many requests, please wait before trying again.",
        )
    };
    let cases: Vec<Case> = vec![
        (
            "throttled on every attempt",
            vec![throttled(), throttled()],
            |e| matches!(e, LlmError::Throttled(_)),
            2,
        ),
        (
            "a retired model id",
            vec![BedrockReply::error(
                400,
                "ValidationException",
                "The provided model identifier is invalid.",
            )],
            |e| matches!(e, LlmError::Validation(m) if m.contains("model identifier")),
            1,
        ),
        (
            "the model timed out",
            vec![BedrockReply::error(
                408,
                "ModelTimeoutException",
                "Model has timed out in processing the request.",
            )],
            |e| matches!(e, LlmError::Timeout(_)),
            1,
        ),
        (
            "5xx on every attempt",
            vec![
                BedrockReply::error(
                    503,
                    "ServiceUnavailableException",
                    "Bedrock is unable to process your request.",
                ),
                BedrockReply::error(
                    503,
                    "ServiceUnavailableException",
                    "Bedrock is unable to process your request.",
                ),
            ],
            |e| matches!(e, LlmError::Unavailable(m) if m.contains("503")),
            2,
        ),
        (
            "no answer within the attempt timeout",
            vec![
                BedrockReply::tool_use("record_match", json!({"score": 1}), None)
                    .delayed(Duration::from_secs(3)),
                BedrockReply::tool_use("record_match", json!({"score": 1}), None)
                    .delayed(Duration::from_secs(3)),
            ],
            |e| matches!(e, LlmError::Timeout(_)),
            2,
        ),
        (
            "a body that is not JSON",
            vec![BedrockReply::malformed()],
            |e| matches!(e, LlmError::Malformed(_)),
            1,
        ),
        (
            "text but no tool call",
            vec![BedrockReply::text_only("I think the score is 80.")],
            |e| matches!(e, LlmError::MissingToolOutput(_)),
            1,
        ),
        (
            "a content filter",
            vec![BedrockReply::content_filtered()],
            |e| matches!(e, LlmError::ContentFiltered(_)),
            1,
        ),
        (
            "arguments that are not an object",
            vec![BedrockReply::tool_use("record_match", json!("87"), None)],
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
async fn throttling_and_5xx_are_retried_before_giving_up() {
    let mock = MockBedrock::start().await;
    let llm = BedrockLlm::new(&config(&mock.endpoint)).await;
    for first in [
        BedrockReply::error(429, "ThrottlingException", "Too many requests"),
        BedrockReply::error(503, "ServiceUnavailableException", "try again"),
        BedrockReply::error(500, "InternalServerException", "internal"),
    ] {
        mock.script(vec![
            first,
            BedrockReply::tool_use("record_match", json!({"score": 55}), None),
        ]);
        assert_eq!(
            call(&llm).await.expect("the retry answers"),
            json!({"score": 55})
        );
    }
    assert_eq!(mock.call_count(), 6);
}

#[tokio::test]
async fn a_refused_connection_is_unavailable() {
    let port = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").expect("port");
        l.local_addr().expect("addr").port()
    };
    let llm = BedrockLlm::new(&config(&format!("http://127.0.0.1:{port}"))).await;
    let err = call(&llm).await.expect_err("nothing listens");
    assert!(matches!(err, LlmError::Unavailable(_)), "{err:?}");
}
