// No console window on Windows release builds.
#![cfg_attr(not(debug_assertions), windows_subsystem = "windows")]

use clap::Parser;
use dentpro_app::cli::{self, Cli};
use std::process::ExitCode;

fn main() -> ExitCode {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| "info,refinery_core=warn".into()),
        )
        .with_writer(std::io::stderr)
        .init();
    let args = Cli::parse();
    if let Some(code) = cli::run(&args) {
        return code;
    }
    let key_store = match cli::key_store(&args) {
        Ok(k) => k,
        Err(message) => {
            eprintln!("dentpro: {message}");
            return ExitCode::from(2);
        }
    };
    dentpro_app::run(dentpro_app::RunOptions {
        data_dir: args.data_dir,
        key_store,
        demo: args.demo,
    });
    ExitCode::SUCCESS
}
