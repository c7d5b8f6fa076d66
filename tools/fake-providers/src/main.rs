//! `fake-providers --port 5070`: the loopback provider fakes, for the test
//! command and the dev server (see the library's docs for the routes).

use clap::Parser;
use std::net::SocketAddr;

/// Serves the provider fakes on loopback.
#[derive(Parser)]
struct Args {
    /// The port to listen on (127.0.0.1 only).
    #[arg(long, default_value_t = 5070)]
    port: u16,
}

#[tokio::main]
async fn main() -> std::io::Result<()> {
    tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .init();
    let args = Args::parse();
    let listener =
        tokio::net::TcpListener::bind(SocketAddr::from(([127, 0, 0, 1], args.port))).await?;
    tracing::info!(port = args.port, "fake providers listening");
    fake_providers::serve(listener).await
}
