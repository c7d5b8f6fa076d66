//! `inbox-dev`: reads the configuration, sets up logging and runs the dev server.

use clap::Parser;
use inbox_dev::config::Cli;
use std::process::ExitCode;
use tracing_subscriber::EnvFilter;

#[tokio::main]
async fn main() -> ExitCode {
    let cli = Cli::parse();
    // The AWS SDK and the empty sweeps are chatty at info; requests and changes are what a developer wants to see.
    let filter = EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| EnvFilter::new("info,inbox_autoclose::sweep=warn,aws_config=warn,aws_smithy_runtime=warn,aws_sdk_dynamodb=warn"));
    let logs = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    if cli.serve.log_json {
        logs.json().init();
    } else {
        logs.init();
    }
    match inbox_dev::run(cli).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("inbox-dev: {e}");
            ExitCode::FAILURE
        }
    }
}
