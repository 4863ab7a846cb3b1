//! The command-line side of the `dentpro` binary: work on a data dir without a window.

use clap::{Parser, Subcommand};
use dentpro_core::device::{DeviceIdentity, KeyStorePreference};
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
    /// Enrol this workstation with a branch server, using the ticket `dentpro-server
    /// enrol-code` printed (`dentpro-enrol:<code>@<host:port>#<fingerprint>`).
    Enrol {
        #[arg(long)]
        ticket: String,
        #[arg(long, default_value = "")]
        label: String,
    },
    /// Database tools for support.
    Db {
        #[command(subcommand)]
        command: DbCommand,
    },
    /// Sync once with the branch server (push pending records, pull everyone else's).
    Sync,
    /// The branch log this workstation holds.
    Log {
        #[command(subcommand)]
        command: LogCommand,
    },
    /// Write the UI's TypeScript command bindings.
    ExportBindings {
        #[arg(default_value = "ui/src/bindings.ts")]
        path: PathBuf,
    },
}

#[derive(Subcommand, Debug)]
pub enum DbCommand {
    /// Runs SQL on the (encrypted) workstation database with this device's key and prints the
    /// rows, `|` between columns. Refused while DentPro has the data dir open. Writing with it
    /// bypasses the app: verification (`dentpro audit verify`) reports such changes.
    Sql { sql: String },
}

#[derive(Subcommand, Debug)]
pub enum LogCommand {
    /// Writes this workstation's copy of the branch log (from log index FROM up to the
    /// checkpoint it verified) for `dentpro-server recover-log` after a server restore.
    Export {
        #[arg(long)]
        out: PathBuf,
        #[arg(long, default_value_t = 0)]
        from: u64,
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
        Command::Db {
            command: DbCommand::Sql { sql },
        } => db_sql(cli, sql),
        Command::Enrol { ticket, label } => enrol(cli, ticket, label),
        Command::Sync => sync(cli),
        Command::Log {
            command: LogCommand::Export { out, from },
        } => export_log(cli, out, *from),
        Command::ExportBindings { path } => crate::export_bindings(path).map(|()| ExitCode::SUCCESS),
    };
    Some(result.unwrap_or_else(|message| {
        eprintln!("dentpro: {message}");
        ExitCode::from(2)
    }))
}

/// The database key of an existing data dir (never creates a device identity).
fn database_key(dir: &std::path::Path) -> Result<dentpro_core::store::DbKey, String> {
    Ok(DeviceIdentity::load_existing(dir)
        .map_err(|e| e.message)?
        .database_key())
}

fn db_sql(cli: &Cli, sql: &str) -> Result<ExitCode, String> {
    let dir = required_dir(cli)?;
    let out = dentpro_core::store::run_sql(&dir, &database_key(&dir)?, sql).map_err(|e| e.message)?;
    print!("{out}");
    Ok(ExitCode::SUCCESS)
}

fn verify(cli: &Cli) -> Result<ExitCode, String> {
    let dir = required_dir(cli)?;
    let conn = dentpro_core::store::open_read_only(&dir, &database_key(&dir)?).map_err(|e| e.message)?;
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

fn open(cli: &Cli) -> Result<std::sync::Mutex<Workstation>, String> {
    let mut opts = OpenOptions::new(required_dir(cli)?);
    opts.key_store = key_store(cli)?;
    Ok(std::sync::Mutex::new(
        Workstation::open(opts).map_err(|e| e.message)?,
    ))
}

fn enrol(cli: &Cli, ticket: &str, label: &str) -> Result<ExitCode, String> {
    let ws = open(cli)?;
    let ticket = ticket.parse().map_err(|e: dentpro_core::CoreError| e.message)?;
    let enrolment = dentpro_sync::client::enrol(&ws, &ticket, label).map_err(|e| e.message)?;
    println!(
        "enrolled with {} (branch {}) as a {} workstation",
        enrolment.server_url,
        enrolment.branch_name,
        enrolment.device_kind.as_str()
    );
    Ok(ExitCode::SUCCESS)
}

fn sync(cli: &Cli) -> Result<ExitCode, String> {
    let ws = open(cli)?;
    let mut client = dentpro_sync::client::SyncClient::for_workstation(&ws)
        .map_err(|e| e.message)?
        .ok_or("this workstation is not enrolled with a branch server")?;
    let report = client.sync_once(&ws, |_| {}).map_err(|e| e.message)?;
    println!(
        "synced: pushed {}, refused {}, pulled {}, log size {}, pending {}",
        report.pushed, report.refused, report.pulled, report.log_size, report.pending
    );
    if let Some(skew) = report.clock_skew_seconds {
        println!("warning: this machine's clock is {skew} s off the server's");
    }
    Ok(ExitCode::SUCCESS)
}

fn export_log(cli: &Cli, out: &std::path::Path, from: u64) -> Result<ExitCode, String> {
    let ws = open(cli)?;
    let export = dentpro_sync::client::export_log(&ws, from).map_err(|e| e.message)?;
    let json = serde_json::to_vec(&export).map_err(|e| e.to_string())?;
    std::fs::write(out, json).map_err(|e| format!("{}: {e}", out.display()))?;
    println!(
        "wrote {} log entries (checkpoint size {}) to {}",
        export.entries.len(),
        export.checkpoint.tree_size,
        out.display()
    );
    Ok(ExitCode::SUCCESS)
}

pub fn key_store(cli: &Cli) -> Result<KeyStorePreference, String> {
    cli.key_store
        .parse()
        .map_err(|e: dentpro_core::CoreError| e.message)
}
