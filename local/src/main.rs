//! `mrmrthon-local`: the local stack's command line; see `local::dev`.

#[tokio::main]
async fn main() -> std::process::ExitCode {
    local::dev::main(std::env::args().skip(1).collect()).await
}
