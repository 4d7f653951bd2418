//! Provisioning a synthetic template on a real emulator (no mocks): a queue with its DLQ,
//! a FIFO queue, a topic and a filtered raw subscription, plus resource types the
//! emulator has no use for; everything read back from the emulator.

use aws_sdk_sns::types::MessageAttributeValue;
use aws_sdk_sqs::types::QueueAttributeName;
use local::{Emulator, Error, Options, Template, provision, sdk_config};
use serde_json::json;

const SYNTHETIC: &str = r#"
Parameters:
  Retention: { Type: Number, Default: 1209600 }
Resources:
  Work:
    Type: AWS::SQS::Queue
    Properties:
      VisibilityTimeout: 60
      MessageRetentionPeriod: !Ref Retention
      RedrivePolicy:
        deadLetterTargetArn: !GetAtt WorkDlq.Arn
        maxReceiveCount: 3
  WorkDlq:
    Type: AWS::SQS::Queue
    Properties:
      QueueName: !Sub "${AWS::StackName}-work-dlq"
      MessageRetentionPeriod: 1209600
  Ordered:
    Type: AWS::SQS::Queue
    Properties: { FifoQueue: true, ContentBasedDeduplication: true }
  Events:
    Type: AWS::SNS::Topic
  WorkSubscription:
    Type: AWS::SNS::Subscription
    Properties:
      TopicArn: !Ref Events
      Protocol: sqs
      Endpoint: !GetAtt Work.Arn
      RawMessageDelivery: true
      FilterPolicyScope: MessageAttributes
      FilterPolicy:
        type: [result.recorded, result.corrected]
  ConsumerSubscription:
    Type: AWS::SNS::Subscription
    Properties:
      TopicArn: !Ref Events
      Protocol: lambda
      Endpoint: !GetAtt Consumer.Arn
  WorkPolicy:
    Type: AWS::SQS::QueuePolicy
    Properties:
      Queues: [!Ref Work]
      PolicyDocument: { Statement: [{ Effect: Allow, Principal: { Service: sns.amazonaws.com }, Action: sqs:SendMessage, Resource: !GetAtt Work.Arn }] }
  WorkDlqAlarm:
    Type: AWS::CloudWatch::Alarm
    Properties:
      Dimensions: [{ Name: QueueName, Value: !GetAtt WorkDlq.QueueName }]
  Consumer:
    Type: AWS::Serverless::Function
    Properties:
      CodeUri: functions/consumer
      Environment:
        Variables:
          WORK_QUEUE_URL: !Ref Work
          EVENTS_TOPIC_ARN: !Ref Events
          DLQ_ARN: !GetAtt WorkDlq.Arn
          REGION_AND_STACK: !Sub "${AWS::Region}/${AWS::StackName}"
      Events:
        Work:
          Type: SQS
          Properties: { Queue: !GetAtt Work.Arn, BatchSize: 10 }
"#;

#[tokio::test]
async fn synthetic_queue_dlq_topic_and_filtered_subscription() {
    let emulator = Emulator::start(None).expect("the emulator starts");
    let config = sdk_config(emulator.endpoint());
    let template = Template::from_yaml(SYNTHETIC).unwrap();
    let options = Options::new("synthetic");
    let provisioned = provision(&config, &template, &options).await.unwrap();
    assert_eq!(
        provision(&config, &template, &options).await.unwrap(),
        provisioned,
        "provisioning is idempotent"
    );

    let sqs = aws_sdk_sqs::Client::new(&config);
    let sns = aws_sdk_sns::Client::new(&config);
    let work_url = provisioned.url("Work").unwrap();
    let dlq_arn = provisioned.arn("WorkDlq").unwrap();
    assert_eq!(provisioned.physical_name("Work"), Some("synthetic-Work"));
    assert_eq!(provisioned.physical_name("WorkDlq"), Some("synthetic-work-dlq"));
    assert_eq!(dlq_arn, "arn:aws:sqs:us-east-1:123456789012:synthetic-work-dlq");

    // Queue attributes, redrive policy included, as the emulator reports them.
    let attributes = sqs
        .get_queue_attributes()
        .queue_url(work_url)
        .attribute_names(QueueAttributeName::All)
        .send()
        .await
        .unwrap()
        .attributes
        .unwrap();
    assert_eq!(attributes[&QueueAttributeName::VisibilityTimeout], "60");
    assert_eq!(attributes[&QueueAttributeName::MessageRetentionPeriod], "1209600");
    let redrive: serde_json::Value =
        serde_json::from_str(&attributes[&QueueAttributeName::RedrivePolicy]).unwrap();
    assert_eq!(redrive["deadLetterTargetArn"], dlq_arn);
    assert_eq!(redrive["maxReceiveCount"].to_string().trim_matches('"'), "3");

    // A FIFO queue without a name gets the .fifo suffix SQS requires.
    assert_eq!(
        provisioned.physical_name("Ordered"),
        Some("synthetic-Ordered.fifo")
    );
    let fifo = sqs
        .get_queue_attributes()
        .queue_url(provisioned.url("Ordered").unwrap())
        .attribute_names(QueueAttributeName::FifoQueue)
        .send()
        .await
        .unwrap()
        .attributes
        .unwrap();
    assert_eq!(fifo[&QueueAttributeName::FifoQueue], "true");

    // Subscription attributes.
    let subscription_arn = provisioned.arn("WorkSubscription").unwrap();
    let sub = sns
        .get_subscription_attributes()
        .subscription_arn(subscription_arn)
        .send()
        .await
        .unwrap()
        .attributes
        .unwrap();
    assert_eq!(sub["RawMessageDelivery"], "true");
    assert_eq!(sub["FilterPolicyScope"], "MessageAttributes");
    let filter: serde_json::Value = serde_json::from_str(&sub["FilterPolicy"]).unwrap();
    assert_eq!(filter, json!({"type": ["result.recorded", "result.corrected"]}));
    assert_eq!(sub["Endpoint"], provisioned.arn("Work").unwrap());

    // And the wiring works: a filtered-out message never arrives, a matching one arrives raw.
    let topic_arn = provisioned.arn("Events").unwrap();
    for (kind, body) in [
        ("points.awarded", "filtered out"),
        ("result.recorded", "delivered"),
    ] {
        sns.publish()
            .topic_arn(topic_arn)
            .message(body)
            .message_attributes(
                "type",
                MessageAttributeValue::builder()
                    .data_type("String")
                    .string_value(kind)
                    .build()
                    .unwrap(),
            )
            .send()
            .await
            .unwrap();
    }
    let received = sqs
        .receive_message()
        .queue_url(work_url)
        .max_number_of_messages(10)
        .wait_time_seconds(1)
        .send()
        .await
        .unwrap()
        .messages
        .unwrap_or_default();
    let bodies: Vec<&str> = received.iter().filter_map(|m| m.body()).collect();
    assert_eq!(bodies, ["delivered"]);

    // Resources with no emulator meaning are skipped; functions resolve against the rest.
    for skipped in ["WorkPolicy", "WorkDlqAlarm", "Consumer", "ConsumerSubscription"] {
        assert!(!provisioned.resource(skipped).unwrap().created, "{skipped}");
    }
    assert_eq!(
        provisioned.arn("Consumer"),
        Some("arn:aws:lambda:us-east-1:123456789012:function:synthetic-Consumer")
    );
    let env = provisioned.function_env("Consumer").unwrap();
    assert_eq!(env["WORK_QUEUE_URL"], work_url);
    assert_eq!(env["EVENTS_TOPIC_ARN"], topic_arn);
    assert_eq!(env["DLQ_ARN"], dlq_arn);
    assert_eq!(env["REGION_AND_STACK"], "us-east-1/synthetic");
    let event = &provisioned.function("Consumer").unwrap().events[0];
    assert_eq!(event.kind, "SQS");
    let resolved = provisioned.resolve(&event.properties).unwrap();
    assert_eq!(resolved["Queue"], provisioned.arn("Work").unwrap());
}

#[tokio::test]
async fn reset_forgets_everything_and_provisioning_starts_over() {
    let emulator = Emulator::start(None).unwrap();
    let config = sdk_config(emulator.endpoint());
    let template = Template::from_yaml(SYNTHETIC).unwrap();
    let options = Options::new("resettable");
    provision(&config, &template, &options).await.unwrap();
    let sqs = aws_sdk_sqs::Client::new(&config);
    let count = |sqs: aws_sdk_sqs::Client| async move {
        sqs.list_queues()
            .send()
            .await
            .unwrap()
            .queue_urls
            .unwrap_or_default()
            .len()
    };
    assert_eq!(count(sqs.clone()).await, 3);

    emulator.reset().unwrap();
    assert_eq!(count(sqs.clone()).await, 0);
    provision(&config, &template, &options).await.unwrap();
    assert_eq!(count(sqs).await, 3);
}

const TABLES: &str = r#"
Parameters:
  ReadCapacity: { Type: Number, Default: 5 }
Resources:
  Races:
    Type: AWS::DynamoDB::Table
    Properties:
      BillingMode: PROVISIONED
      ProvisionedThroughput: { ReadCapacityUnits: !Ref ReadCapacity, WriteCapacityUnits: 5 }
      AttributeDefinitions:
        - { AttributeName: pk, AttributeType: S }
        - { AttributeName: sk, AttributeType: S }
        - { AttributeName: gsi1pk, AttributeType: S }
        - { AttributeName: date, AttributeType: S }
      KeySchema:
        - { AttributeName: pk, KeyType: HASH }
        - { AttributeName: sk, KeyType: RANGE }
      GlobalSecondaryIndexes:
        - IndexName: by-organizer
          KeySchema: [{ AttributeName: gsi1pk, KeyType: HASH }, { AttributeName: sk, KeyType: RANGE }]
          Projection: { ProjectionType: INCLUDE, NonKeyAttributes: [name] }
          ProvisionedThroughput: { ReadCapacityUnits: 1, WriteCapacityUnits: 1 }
      LocalSecondaryIndexes:
        - IndexName: by-date
          KeySchema: [{ AttributeName: pk, KeyType: HASH }, { AttributeName: date, KeyType: RANGE }]
          Projection: { ProjectionType: KEYS_ONLY }
      StreamSpecification: { StreamViewType: NEW_AND_OLD_IMAGES }
      TimeToLiveSpecification: { AttributeName: ttl, Enabled: "true" }
  Stream:
    Type: AWS::Serverless::Function
    Properties:
      Events:
        Changes:
          Type: DynamoDB
          Properties: { Stream: !GetAtt Races.StreamArn, StartingPosition: LATEST }
"#;

#[tokio::test]
async fn tables_with_indexes_stream_and_ttl_and_drift_is_reported() {
    let emulator = Emulator::start(None).unwrap();
    let config = sdk_config(emulator.endpoint());
    let options = Options::new("tables");
    let template = Template::from_yaml(TABLES).unwrap();
    let provisioned = provision(&config, &template, &options).await.unwrap();
    assert_eq!(
        provision(&config, &template, &options).await.unwrap(),
        provisioned
    );

    let dynamodb = aws_sdk_dynamodb::Client::new(&config);
    let table = dynamodb
        .describe_table()
        .table_name("tables-Races")
        .send()
        .await
        .unwrap()
        .table
        .unwrap();
    let gsi = &table.global_secondary_indexes()[0];
    assert_eq!(gsi.index_name(), Some("by-organizer"));
    assert_eq!(gsi.projection().unwrap().non_key_attributes(), ["name"]);
    assert_eq!(table.local_secondary_indexes()[0].index_name(), Some("by-date"));
    assert_eq!(
        table.provisioned_throughput().unwrap().read_capacity_units(),
        Some(5),
        "a !Ref to a Number parameter arrives as text and is accepted"
    );
    let stream_arn = provisioned.resource("Races").unwrap().stream_arn.clone().unwrap();
    assert_eq!(table.latest_stream_arn(), Some(stream_arn.as_str()));
    let event = &provisioned.function("Stream").unwrap().events[0];
    assert_eq!(
        provisioned.resolve(&event.properties).unwrap()["Stream"],
        stream_arn
    );
    let ttl = dynamodb
        .describe_time_to_live()
        .table_name("tables-Races")
        .send()
        .await
        .unwrap();
    assert_eq!(
        ttl.time_to_live_description().unwrap().attribute_name(),
        Some("ttl")
    );

    // A changed shape cannot be applied in place: provisioning says so, loudly.
    let changed = Template::from_yaml(&TABLES.replace("NEW_AND_OLD_IMAGES", "KEYS_ONLY")).unwrap();
    match provision(&config, &changed, &options).await {
        Err(Error::Drift { resource, what }) => {
            assert_eq!(
                (resource.as_str(), what.as_str()),
                ("Races", "stream specification")
            )
        }
        other => panic!("expected a drift error, got {other:?}"),
    }
}

const LOCAL_METADATA: &str = r#"
Metadata:
  mrmrthon::local:
    DiscordSink: { WebhookUrlSecretParameter: HookSecret }
    SesIdentityParameters: [Sender, SenderDomain]
Parameters:
  HookSecret: { Type: String, Default: app/discord-webhook-url }
  Sender: { Type: String, Default: no-reply@mrmrthon.dev }
  SenderDomain: { Type: String, Default: mail.mrmrthon.dev }
Resources: {}
"#;

#[tokio::test]
async fn the_sink_url_goes_into_the_named_secret_and_senders_are_verified() {
    let emulator = Emulator::start(None).unwrap();
    let config = sdk_config(emulator.endpoint());
    let template = Template::from_yaml(LOCAL_METADATA).unwrap();
    let secrets = aws_sdk_secretsmanager::Client::new(&config);
    let secret_value = async |name: &str| {
        secrets
            .get_secret_value()
            .secret_id(name)
            .send()
            .await
            .ok()
            .and_then(|s| s.secret_string)
    };

    // Without a sink URL the secret is only named, not written.
    let provisioned = provision(&config, &template, &Options::new("meta"))
        .await
        .unwrap();
    assert_eq!(
        provisioned.discord_webhook_secret(),
        Some("app/discord-webhook-url")
    );
    assert_eq!(secret_value("app/discord-webhook-url").await, None);

    for url in [
        "http://127.0.0.1:3001/webhooks/local/mrmrthon",
        "http://127.0.0.1:4001/webhooks/local/mrmrthon",
    ] {
        let mut options = Options::new("meta");
        options.discord_webhook_url = Some(url.to_owned());
        provision(&config, &template, &options).await.unwrap();
        assert_eq!(
            secret_value("app/discord-webhook-url").await.as_deref(),
            Some(url)
        );
    }

    assert_eq!(
        provisioned.ses_identities(),
        ["no-reply@mrmrthon.dev", "mail.mrmrthon.dev"]
    );
    let ses = aws_sdk_ses::Client::new(&config);
    let identities = ses.list_identities().send().await.unwrap().identities;
    assert!(
        identities.contains(&"no-reply@mrmrthon.dev".to_owned()),
        "{identities:?}"
    );
    assert!(
        identities.contains(&"mail.mrmrthon.dev".to_owned()),
        "{identities:?}"
    );
    // The emulator now accepts mail from the verified sender.
    use aws_sdk_ses::types::{Body, Content, Destination, Message};
    let text = |t: &str| Content::builder().data(t).build().unwrap();
    ses.send_email()
        .source("no-reply@mrmrthon.dev")
        .destination(Destination::builder().to_addresses("kim@example.com").build())
        .message(
            Message::builder()
                .subject(text("s"))
                .body(Body::builder().text(text("b")).build())
                .build(),
        )
        .send()
        .await
        .expect("a verified sender may send");
}
