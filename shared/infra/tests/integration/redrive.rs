//! Redrive against the emulator: a DLQ's messages go back to their source queue once.

use infra::redrive::redrive;

#[tokio::test]
async fn messages_move_back_with_their_attributes_and_leave_the_dlq() {
    let stack = local::Stack::shared();
    let sqs = aws_sdk_sqs::Client::new(&stack.sdk_config().await);
    let name = format!("redrive-{}", ulid::Ulid::new());
    let dlq = sqs
        .create_queue()
        .queue_name(format!("{name}-dlq"))
        .send()
        .await
        .unwrap()
        .queue_url
        .unwrap();
    let source = sqs
        .create_queue()
        .queue_name(&name)
        .send()
        .await
        .unwrap()
        .queue_url
        .unwrap();
    for i in 0..13 {
        let kind = aws_sdk_sqs::types::MessageAttributeValue::builder()
            .data_type("String")
            .string_value("result.recorded")
            .build()
            .unwrap();
        sqs.send_message()
            .queue_url(&dlq)
            .message_body(format!("message {i}"))
            .message_attributes("type", kind)
            .send()
            .await
            .unwrap();
    }
    assert_eq!(redrive(&sqs, &dlq, &source, 100).await.unwrap(), 13);
    assert_eq!(
        redrive(&sqs, &dlq, &source, 100).await.unwrap(),
        0,
        "the DLQ is empty now"
    );

    let mut bodies = Vec::new();
    while bodies.len() < 13 {
        let output = sqs
            .receive_message()
            .queue_url(&source)
            .max_number_of_messages(10)
            .message_attribute_names("All")
            .wait_time_seconds(1)
            .send()
            .await
            .unwrap();
        let messages = output.messages.unwrap_or_default();
        assert!(!messages.is_empty(), "only {} of 13 arrived", bodies.len());
        for m in messages {
            assert_eq!(
                m.message_attributes.as_ref().unwrap()["type"].string_value(),
                Some("result.recorded")
            );
            bodies.push(m.body.unwrap());
            sqs.delete_message()
                .queue_url(&source)
                .receipt_handle(m.receipt_handle.unwrap())
                .send()
                .await
                .unwrap();
        }
    }
    bodies.sort();
    bodies.dedup();
    assert_eq!(bodies.len(), 13, "each message exactly once");
}

/// `move_back` prefers SQS's message move task; the emulator has none (it answers 500), so
/// the messages are copied, all of them, and the reason is kept.
#[tokio::test]
async fn move_back_copies_where_the_service_has_no_message_move_task() {
    let stack = local::Stack::shared();
    let sqs = aws_sdk_sqs::Client::new(&stack.sdk_config().await);
    let name = format!("move-{}", ulid::Ulid::new());
    let url = async |name: String| {
        sqs.create_queue()
            .queue_name(name)
            .send()
            .await
            .unwrap()
            .queue_url
            .unwrap()
    };
    let (dlq, source) = (url(format!("{name}-dlq")).await, url(name).await);
    for i in 0..3 {
        sqs.send_message()
            .queue_url(&dlq)
            .message_body(format!("message {i}"))
            .send()
            .await
            .unwrap();
    }
    let moved = infra::redrive::move_back(&sqs, &dlq, &source, std::time::Duration::from_millis(100))
        .await
        .unwrap();
    match moved {
        infra::redrive::Moved::ByCopy { moved, why } => {
            assert_eq!(moved, 3);
            assert!(!why.is_empty());
        }
        other => panic!("the emulator has no message move task: {other:?}"),
    }
    let left = sqs
        .receive_message()
        .queue_url(&dlq)
        .wait_time_seconds(0)
        .send()
        .await
        .unwrap();
    assert!(left.messages().is_empty());
}
