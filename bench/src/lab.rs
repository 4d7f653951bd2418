//! The functions under measurement, and the lab they run in: the local emulator provisioned
//! from template.yaml, a Discord stand-in, and the environment a bootstrap is started with.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use aws_config::SdkConfig;

use crate::runtime_api::DiscordSink;

/// How a function is invoked, which decides its handler-CPU budget.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// API Gateway HTTP API requests: at most 50 µs of handler CPU per request.
    Api,
    /// Stream or queue records: at most 10 µs per record.
    Records,
}

#[derive(Debug, Clone, Copy)]
pub struct Function {
    /// Cargo package, also the binary's name.
    pub package: &'static str,
    /// The function's logical id in template.yaml.
    pub logical_id: &'static str,
    pub kind: Kind,
}

pub const FUNCTIONS: [Function; 6] = [
    Function {
        package: "login",
        logical_id: "LoginFunction",
        kind: Kind::Api,
    },
    Function {
        package: "record-api",
        logical_id: "RecordApiFunction",
        kind: Kind::Api,
    },
    Function {
        package: "official-record-stream",
        logical_id: "OfficialRecordStreamFunction",
        kind: Kind::Records,
    },
    Function {
        package: "point-increase",
        logical_id: "PointIncreaseFunction",
        kind: Kind::Records,
    },
    Function {
        package: "discord-webhook",
        logical_id: "DiscordWebhookFunction",
        kind: Kind::Records,
    },
    Function {
        package: "log-mailer",
        logical_id: "LogMailerFunction",
        kind: Kind::Records,
    },
];

/// The hello-world yardstick (a bin of this crate).
pub const HELLO: &str = "mrmrthon-bench-hello";

pub type Result<T> = std::result::Result<T, String>;

/// The workspace root (this crate lives in `<root>/bench`).
pub fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .map(Path::to_path_buf)
        .unwrap_or_else(|| PathBuf::from(".."))
}

/// The shared target directory: `CARGO_TARGET_DIR` or `<root>/target`.
pub fn target_dir() -> PathBuf {
    match std::env::var_os("CARGO_TARGET_DIR") {
        Some(dir) if !dir.is_empty() => {
            let dir = PathBuf::from(dir);
            if dir.is_absolute() {
                dir
            } else {
                repo_root().join(dir)
            }
        }
        _ => repo_root().join("target"),
    }
}

/// Where logs of builds and of every bootstrap run go.
pub fn work_dir() -> PathBuf {
    target_dir().join("bench")
}

/// Where the measured binaries are: `target/release`, unless `--bin-dir` said otherwise
/// (for trying the harness itself on debug builds).
pub static BIN_DIR: std::sync::OnceLock<PathBuf> = std::sync::OnceLock::new();

pub fn release_binary(name: &str) -> PathBuf {
    BIN_DIR
        .get()
        .cloned()
        .unwrap_or_else(|| target_dir().join("release"))
        .join(name)
}

pub struct Lab {
    pub stack: local::Stack,
    pub sdk: SdkConfig,
    pub sink: DiscordSink,
    /// Added to every bootstrap's environment (`--bootstrap-env`, for diagnosis).
    pub extra_env: Vec<(String, String)>,
    template: local::Template,
}

impl Lab {
    /// Starts and provisions the emulator, starts the Discord stand-in and stores its URL
    /// in discord-webhook's secret.
    pub async fn start() -> Result<Lab> {
        let stack = tokio::task::spawn_blocking(local::Stack::start)
            .await
            .map_err(|e| format!("the emulator start panicked: {e}"))?
            .map_err(|e| format!("the local stack cannot start: {e}"))?;
        let sdk = stack.sdk_config().await;
        let template = local::Template::from_path(&local::stack::template_path())
            .map_err(|e| format!("cannot read template.yaml: {e}"))?;
        let sink = DiscordSink::start()
            .await
            .map_err(|e| format!("cannot start the Discord stand-in: {e}"))?;
        let lab = Lab {
            stack,
            sdk,
            sink,
            extra_env: Vec::new(),
            template,
        };
        lab.store_webhook_url().await?;
        Ok(lab)
    }

    async fn store_webhook_url(&self) -> Result<()> {
        let Ok(env) = self.stack.provisioned().function_env("DiscordWebhookFunction") else {
            return Ok(());
        };
        let Some(secret) = env.get("DISCORD_WEBHOOK_SECRET") else {
            return Ok(());
        };
        let client = aws_sdk_secretsmanager::Client::new(&self.sdk);
        let created = client
            .create_secret()
            .name(secret)
            .secret_string(self.sink.url())
            .send()
            .await;
        if created.is_err() {
            // Most likely it exists already (provisioning may create it): set its value.
            client
                .put_secret_value()
                .secret_id(secret)
                .secret_string(self.sink.url())
                .send()
                .await
                .map_err(|e| {
                    format!(
                        "cannot store the webhook URL in secret {secret}: {}",
                        aws_sdk_secretsmanager::error::DisplayErrorContext(&e)
                    )
                })?;
        }
        Ok(())
    }

    pub fn function_env(&self, function: &Function) -> Result<BTreeMap<String, String>> {
        self.stack
            .provisioned()
            .function_env(function.logical_id)
            .map_err(|e| format!("{}: {e}", function.logical_id))
    }

    /// MemorySize from the template (the function's own, else Globals, else 128).
    pub fn memory_size(&self, logical_id: &str) -> u64 {
        let own = self
            .template
            .resources
            .get(logical_id)
            .and_then(|r| r.property("MemorySize").as_u64());
        let global = self
            .template
            .globals
            .get("Function")
            .and_then(|f| f.get("MemorySize"))
            .and_then(|m| m.as_u64());
        own.or(global).unwrap_or(128)
    }

    /// The environment the Lambda service gives a bootstrap, pointed at the stub Runtime
    /// API and the emulator, plus the function's own variables from the template.
    pub fn process_env(
        &self,
        name: &str,
        memory: u64,
        runtime_api: &str,
        function_env: &BTreeMap<String, String>,
    ) -> Vec<(String, String)> {
        let mut env: BTreeMap<String, String> = function_env.clone();
        let fixed = [
            ("AWS_LAMBDA_RUNTIME_API", runtime_api.to_owned()),
            ("AWS_LAMBDA_FUNCTION_NAME", name.to_owned()),
            ("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", memory.to_string()),
            ("AWS_LAMBDA_FUNCTION_VERSION", "$LATEST".to_owned()),
            (
                "AWS_LAMBDA_LOG_STREAM_NAME",
                "2026/01/01/[$LATEST]mrmrthonbench".to_owned(),
            ),
            ("AWS_LAMBDA_LOG_GROUP_NAME", format!("/aws/lambda/{name}")),
            ("AWS_LAMBDA_INITIALIZATION_TYPE", "on-demand".to_owned()),
            ("_HANDLER", "bootstrap".to_owned()),
            ("AWS_EXECUTION_ENV", "AWS_Lambda_rapid".to_owned()),
            ("AWS_REGION", local::emulator::REGION.to_owned()),
            ("AWS_DEFAULT_REGION", local::emulator::REGION.to_owned()),
            ("AWS_ACCESS_KEY_ID", "test".to_owned()),
            ("AWS_SECRET_ACCESS_KEY", "test".to_owned()),
            ("AWS_ENDPOINT_URL", self.stack.endpoint().to_owned()),
            ("LAMBDA_TASK_ROOT", "/var/task".to_owned()),
            ("LANG", "en_US.UTF-8".to_owned()),
            ("TZ", ":UTC".to_owned()),
            ("PATH", "/usr/local/bin:/usr/bin/:/bin".to_owned()),
        ];
        for (key, value) in fixed {
            env.insert(key.to_owned(), value);
        }
        for (key, value) in &self.extra_env {
            env.insert(key.clone(), value.clone());
        }
        env.into_iter().collect()
    }
}
