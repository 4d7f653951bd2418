//! S3 triggers on the emulator (`esm::bucket`), on a synthetic template: an object created
//! under the event's prefix invokes the function with the S3 event, other keys do not; a
//! failed invocation is retried (after the function's timeout) and dropped after the
//! third attempt, as Lambda's asynchronous invocation does.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, Instant};

use local::{Emulator, InProcess, Options, ServiceOptions, Services, Template, provision, sdk_config};
use serde_json::{Value, json};

const TEMPLATE: &str = r#"
Resources:
  Uploads:
    Type: AWS::S3::Bucket
    Properties:
      BucketName: !Sub "${AWS::StackName}-uploads"
  Unused:
    Type: AWS::S3::Bucket
  OnUpload:
    Type: AWS::Serverless::Function
    Properties:
      Timeout: 1
      Events:
        Created:
          Type: S3
          Properties:
            Bucket: !Ref Uploads
            Events: s3:ObjectCreated:*
            Filter:
              S3Key:
                Rules:
                  - Name: prefix
                    Value: in/
"#;

const DEADLINE: Duration = Duration::from_secs(30);

fn emulator() -> &'static Emulator {
    static EMULATOR: OnceLock<Emulator> = OnceLock::new();
    EMULATOR.get_or_init(|| Emulator::start(None).expect("the emulator starts (run `make tools` first)"))
}

#[tokio::test]
async fn an_object_under_the_prefix_invokes_the_function_with_retries_then_is_dropped() {
    let endpoint = emulator().endpoint();
    let sdk = sdk_config(endpoint);
    let template = Template::from_yaml(TEMPLATE).unwrap();
    let provisioned = provision(&sdk, &template, &Options::new("buckets"))
        .await
        .expect("the synthetic template provisions");
    let uploads = provisioned.resource("Uploads").unwrap();
    assert!(uploads.created || uploads.physical_name == "buckets-uploads");
    assert!(
        !provisioned.resource("Unused").unwrap().created,
        "no trigger, no bucket"
    );

    let calls: Arc<Mutex<HashMap<String, u32>>> = Arc::default();
    let seen = Arc::clone(&calls);
    let handlers = InProcess::new().with("OnUpload", move |event: Value| {
        let seen = Arc::clone(&seen);
        async move {
            assert_eq!(event["Records"][0]["eventSource"], "aws:s3");
            assert_eq!(event["Records"][0]["s3"]["bucket"]["name"], "buckets-uploads");
            // URL-encoded as S3 writes keys in events (the emulator encodes "/" too)
            let key = event["Records"][0]["s3"]["object"]["key"]
                .as_str()
                .unwrap()
                .replace("%2F", "/");
            let attempt = {
                let mut calls = seen.lock().unwrap();
                let n = calls.entry(key.clone()).or_default();
                *n += 1;
                *n
            };
            match key.as_str() {
                "in/flaky" if attempt == 1 => Err("the first attempt fails".into()),
                "in/poison" => Err("always fails".into()),
                _ => Ok(json!(null)),
            }
        }
    });
    let _services = Services::start(
        endpoint,
        &provisioned,
        Arc::new(handlers),
        ServiceOptions::for_tests(None),
    )
    .await
    .expect("the services start");

    let s3 = aws_sdk_s3::Client::new(&sdk);
    for key in ["in/ok", "in/flaky", "in/poison", "out/ignored"] {
        s3.put_object()
            .bucket("buckets-uploads")
            .key(key)
            .body(b"x".to_vec().into())
            .send()
            .await
            .unwrap();
    }
    let count = |key: &str| calls.lock().unwrap().get(key).copied().unwrap_or(0);
    let started = Instant::now();
    while !(count("in/ok") == 1 && count("in/flaky") == 2 && count("in/poison") == 3) {
        assert!(
            started.elapsed() < DEADLINE,
            "calls so far: {:?}",
            calls.lock().unwrap()
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    // nothing more comes: the poison was dropped after its third attempt
    tokio::time::sleep(Duration::from_millis(2_500)).await;
    assert_eq!((count("in/ok"), count("in/flaky"), count("in/poison")), (1, 2, 3));
    assert_eq!(count("out/ignored"), 0, "outside the prefix");
}
