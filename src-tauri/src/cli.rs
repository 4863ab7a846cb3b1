//! The command-line side of the `dentpro` binary: work on a data dir without a window.

use clap::{Parser, Subcommand};
use dentpro_core::device::KeyStorePreference;
use dentpro_core::workstation::{OpenOptions, Workstation};
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(Parser, Debug)]
#[command(name = "dentpro", version, about = "DentPro dental clinic workstation")]
pub struct Cli {
    #[command(subcommand)]
    pub command: Option<Command>,
    /// Data directory (default: the platform's app data dir). Also DENTPRO_DATA_DIR.
    #[arg(long, global = true, env = "DENTPRO_DATA_DIR")]
    pub data_dir: Option<PathBuf>,
    /// Where the device key is kept: auto (keyring, else a 0600 file, logged), keyring, file.
    #[arg(long, global = true, env = "DENTPRO_KEY_STORE", default_value = "auto")]
    pub key_store: String,
    /// On a new data dir, start with the demo branch (users of every role, 300 patients).
    #[arg(long)]
    pub demo: bool,
}

#[derive(Subcommand, Debug)]
pub enum Command {
    /// Audit trail tools.
    Audit {
        #[command(subcommand)]
        command: AuditCommand,
    },
    /// Create a demo branch: a user of every role (password demo-pass-1) and some patients.
    Demo {
        #[arg(long, default_value_t = 300)]
        patients: usize,
    },
    /// Write the UI's TypeScript command bindings.
    ExportBindings {
        #[arg(default_value = "ui/src/bindings.ts")]
        path: PathBuf,
    },
}

#[derive(Subcommand, Debug)]
pub enum AuditCommand {
    /// Verify the record chain, its signed head and the projections; exit 1 on tampering.
    Verify,
}

fn required_dir(cli: &Cli) -> Result<PathBuf, String> {
    cli.data_dir
        .clone()
        .ok_or_else(|| "--data-dir is required".to_owned())
}

/// Runs a subcommand; `None` means "no subcommand: open the window".
pub fn run(cli: &Cli) -> Option<ExitCode> {
    let command = cli.command.as_ref()?;
    let result = match command {
        Command::Audit {
            command: AuditCommand::Verify,
        } => verify(cli),
        Command::Demo { patients } => demo(cli, *patients),
        Command::ExportBindings { path } => crate::export_bindings(path).map(|()| ExitCode::SUCCESS),
    };
    Some(result.unwrap_or_else(|message| {
        eprintln!("dentpro: {message}");
        ExitCode::from(2)
    }))
}

fn verify(cli: &Cli) -> Result<ExitCode, String> {
    let dir = required_dir(cli)?;
    let conn = dentpro_core::store::open_read_only(&dir).map_err(|e| e.message)?;
    let own_device = dentpro_core::store::meta_get(&conn, "device_id").map_err(|e| e.message)?;
    let report =
        dentpro_core::audit::verify(&conn, Some(&dir), own_device.as_deref()).map_err(|e| e.message)?;
    println!(
        "records checked: {} (devices: {})",
        report.records_checked, report.devices
    );
    println!("chain head anchor: {}", report.anchor);
    if let Some(bad) = &report.first_bad {
        let at = |v: &Option<i64>| v.map_or("?".to_owned(), |n| n.to_string());
        println!(
            "TAMPERED: first bad record: seq {} (row {}) of device {} id {}: {}",
            at(&bad.seq),
            at(&bad.local_index),
            bad.device_id.as_deref().unwrap_or("?"),
            bad.record_id.as_deref().unwrap_or("?"),
            bad.problem
        );
    }
    if let Some(problem) = &report.projection_problem {
        println!("TAMPERED: projections: {problem}");
    }
    if report.ok {
        println!("OK: the chain and the tables are intact");
        Ok(ExitCode::SUCCESS)
    } else {
        Ok(ExitCode::from(1))
    }
}

fn demo(cli: &Cli, patients: usize) -> Result<ExitCode, String> {
    let dir = required_dir(cli)?;
    let mut opts = OpenOptions::new(&dir);
    opts.key_store = key_store(cli)?;
    let mut ws = Workstation::open(opts).map_err(|e| e.message)?;
    dentpro_core::demo::populate(&mut ws, patients).map_err(|e| e.message)?;
    println!(
        "demo branch created in {}: users admin, manager, reception, assistant, doctor, cashier \
         (password {}), {patients} patients",
        dir.display(),
        dentpro_core::demo::DEMO_PASSWORD
    );
    Ok(ExitCode::SUCCESS)
}

pub fn key_store(cli: &Cli) -> Result<KeyStorePreference, String> {
    cli.key_store
        .parse()
        .map_err(|e: dentpro_core::CoreError| e.message)
}
