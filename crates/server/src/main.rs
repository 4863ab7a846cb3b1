//! `dentpro-server`: the branch server's command line. `init` sets up a data dir, `serve` runs
//! the HTTPS API, and the admin commands (`enrol-code`, `devices`, `revoke`, `alerts`) work on
//! the data dir directly, beside a running server.

use chrono::Duration;
use clap::{Parser, Subcommand};
use dentpro_core::devices::DeviceKind;
use dentpro_server::listener::{self, Limits};
use dentpro_server::store::{self, DataDir};
use dentpro_server::{Server, Settings};
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;

#[derive(Parser)]
#[command(name = "dentpro-server", version, about = "DentPro branch server")]
struct Cli {
    /// Where the server keeps its database, keys and certificate.
    #[arg(
        long,
        env = "DENTPRO_SERVER_DATA_DIR",
        global = true,
        default_value = "dentpro-server-data"
    )]
    data_dir: PathBuf,
    /// The database key file (default: db.key in the data dir). Keep it outside the data dir,
    /// e.g. a systemd credential (`LoadCredential=db.key:/etc/dentpro/db.key`, then
    /// `--db-key-file %d/db.key`), so that a copy of the data dir alone does not open.
    #[arg(long, env = "DENTPRO_SERVER_DB_KEY_FILE", global = true)]
    db_key_file: Option<PathBuf>,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Creates the branch server: signing key, TLS certificate, database.
    Init {
        #[arg(long)]
        branch_name: String,
        /// Extra host names or IP addresses for the certificate (localhost and 127.0.0.1 are
        /// always in it).
        #[arg(long = "san")]
        subject_alt_names: Vec<String>,
    },
    /// Runs the HTTPS API.
    Serve {
        #[arg(long, env = "DENTPRO_SERVER_LISTEN", default_value = "127.0.0.1:8443")]
        listen: SocketAddr,
        /// A device whose clock is further off than this is warned and its records flagged.
        #[arg(long, default_value_t = 120)]
        max_clock_skew_seconds: i64,
        /// Log as JSON lines (for log collectors) instead of text.
        #[arg(long)]
        json_logs: bool,
        /// Connections at once (TLS handshakes included); beyond it new ones wait.
        #[arg(long, env = "DENTPRO_SERVER_MAX_CONNECTIONS", default_value_t = Limits::default().max_connections)]
        max_connections: usize,
        /// A client must finish its TLS handshake within this.
        #[arg(long, env = "DENTPRO_SERVER_TLS_HANDSHAKE_TIMEOUT_SECONDS", default_value_t = Limits::default().tls_handshake_timeout.as_secs())]
        tls_handshake_timeout_seconds: u64,
        /// A request's headers must arrive within this (also the idle keep-alive limit).
        #[arg(long, env = "DENTPRO_SERVER_HEADER_READ_TIMEOUT_SECONDS", default_value_t = Limits::default().header_read_timeout.as_secs())]
        header_read_timeout_seconds: u64,
        /// A whole request, body included, must arrive within this.
        #[arg(long, env = "DENTPRO_SERVER_REQUEST_TIMEOUT_SECONDS", default_value_t = Limits::default().request_timeout.as_secs())]
        request_timeout_seconds: u64,
        /// Bound on the DPoP replay state of one device (for tests; the default suits a branch).
        #[arg(long, hide = true)]
        replay_cache_entries: Option<usize>,
        /// Refusals a peer address may cause in a minute before they are only counted.
        #[arg(long, hide = true)]
        refusals_per_minute: Option<u32>,
    },
    /// Issues a one-time enrolment code for a workstation of a kind.
    EnrolCode {
        #[arg(long)]
        kind: DeviceKind,
        #[arg(long, default_value = "")]
        label: String,
        #[arg(long, default_value_t = 72)]
        valid_hours: i64,
        /// The address workstations reach this server at, put into the enrolment string.
        #[arg(long, default_value = "127.0.0.1:8443")]
        address: String,
    },
    /// Lists enrolled devices with last-seen time and sync lag.
    Devices {
        #[arg(long)]
        json: bool,
    },
    /// Revokes a device: its later records are refused, its earlier ones stay.
    Revoke { device_id: String },
    /// Forks, refused records and refused requests, oldest first.
    Alerts,
    /// Writes a consistent copy of the database to a new file, while the server runs.
    Backup {
        #[arg(long)]
        out: PathBuf,
    },
    /// Brings a backup back as this data dir's database (the server must be stopped).
    Restore {
        #[arg(long)]
        from: PathBuf,
        /// Replace an existing database (it is kept beside it, not deleted).
        #[arg(long)]
        force: bool,
    },
    /// After a restore: takes back the entries logged after the backup from a workstation's
    /// copy of the log (`dentpro log export`), each re-checked (the server must be stopped).
    RecoverLog {
        #[arg(long)]
        from: PathBuf,
    },
}

fn main() -> std::process::ExitCode {
    let cli = Cli::parse();
    let json_logs = matches!(cli.command, Command::Serve { json_logs: true, .. });
    let filter = tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "info".into());
    if json_logs {
        tracing_subscriber::fmt()
            .json()
            .with_env_filter(filter)
            .with_writer(std::io::stderr)
            .init();
    } else {
        tracing_subscriber::fmt()
            .with_env_filter(filter)
            .with_writer(std::io::stderr)
            .init();
    }
    match run(cli) {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e}");
            std::process::ExitCode::FAILURE
        }
    }
}

fn run(cli: Cli) -> Result<(), Box<dyn std::error::Error>> {
    let dir = DataDir::new(&cli.data_dir).with_db_key_file(cli.db_key_file.clone());
    match cli.command {
        Command::Init {
            branch_name,
            subject_alt_names,
        } => {
            let config = dir.init(&branch_name, &subject_alt_names)?;
            println!("branch server ready in {}", dir.path.display());
            println!(
                "certificate fingerprint (SHA-256): {}",
                config.certificate_fingerprint
            );
        }
        Command::Serve {
            listen,
            max_clock_skew_seconds,
            max_connections,
            tls_handshake_timeout_seconds,
            header_read_timeout_seconds,
            request_timeout_seconds,
            replay_cache_entries,
            refusals_per_minute,
            ..
        } => {
            let limits = Limits {
                max_connections,
                tls_handshake_timeout: std::time::Duration::from_secs(tls_handshake_timeout_seconds),
                header_read_timeout: std::time::Duration::from_secs(header_read_timeout_seconds),
                request_timeout: std::time::Duration::from_secs(request_timeout_seconds),
            };
            let defaults = Settings::default();
            let settings = Settings {
                max_clock_skew: Duration::seconds(max_clock_skew_seconds),
                replay_cache_entries: replay_cache_entries.unwrap_or(defaults.replay_cache_entries),
                refusals_per_minute: refusals_per_minute.unwrap_or(defaults.refusals_per_minute),
                ..defaults
            };
            // Held while serving: a second server or a restore on this dir is refused.
            let _serving = dentpro_server::backup::hold_serve_lock(&dir)?;
            let server = Arc::new(Server::open(&dir, settings)?);
            let (cert, key) = dir.tls_pem()?;
            let _ = rustls::crypto::ring::default_provider().install_default();
            let runtime = tokio::runtime::Runtime::new()?;
            runtime.block_on(async move {
                let tls = listener::tls_config(&cert, &key)?;
                let handle = axum_server::Handle::new();
                let announce = handle.clone();
                tokio::spawn(async move {
                    if let Some(addr) = announce.listening().await {
                        tracing::info!(%addr, "serving");
                        // Scripts and tests read the bound address (the port may be 0 = any).
                        println!("listening on {addr}");
                    }
                });
                let router = listener::with_request_timeout(server.router(), limits.request_timeout);
                listener::server(listen, tls, &limits)
                    .handle(handle)
                    // The peer's address: refusals are counted and recorded per source.
                    .serve(router.into_make_service_with_connect_info::<SocketAddr>())
                    .await
            })?;
        }
        Command::EnrolCode {
            kind,
            label,
            valid_hours,
            address,
        } => {
            let config = dir.config()?;
            let conn = dir.open_db()?;
            let code = store::issue_code(&conn, kind, &label, Duration::hours(valid_hours))?;
            println!(
                "{}",
                dentpro_sync::client::EnrolmentTicket {
                    address,
                    code,
                    certificate_fingerprint: config.certificate_fingerprint,
                }
            );
        }
        Command::Devices { json } => {
            let devices = store::devices(&dir.open_db()?)?;
            if json {
                println!("{}", serde_json::to_string_pretty(&devices)?);
            } else {
                println!(
                    "{:<34} {:<17} {:<20} {:<26} {:>8} {:>9}",
                    "DEVICE", "KIND", "LABEL", "LAST SEEN", "SEQ", "PULL LAG"
                );
                for d in devices {
                    // Stored text printed escaped: no control characters reach the terminal.
                    let (device_id, label) = (shown(&d.device_id), shown(&d.label));
                    let seen = d.last_seen_at.map_or("never".into(), |t| t.to_rfc3339());
                    let kind = if d.revoked_at.is_some() {
                        format!("{} (revoked)", d.kind.as_str())
                    } else {
                        d.kind.as_str().into()
                    };
                    println!(
                        "{:<34} {:<17} {:<20} {:<26} {:>8} {:>9}",
                        device_id, kind, label, seen, d.logged_seq, d.pull_lag
                    );
                }
            }
        }
        Command::Revoke { device_id } => {
            store::revoke(&dir.open_db()?, &device_id)?;
            println!("device {} revoked", shown(&device_id));
        }
        Command::Alerts => {
            let conn = dir.open_db()?;
            // One line per aggregated event; every stored field escaped (rows of older versions
            // were stored raw).
            for e in store::security_events(&conn)? {
                let times = if e.count > 1 {
                    format!("{} … {} ×{}", shown(&e.at), shown(&e.last_at), e.count)
                } else {
                    shown(&e.at)
                };
                println!(
                    "{times} {} {} {} {}: {}",
                    shown(&e.source),
                    shown(e.device_id.as_deref().unwrap_or("-")),
                    shown(&e.kind),
                    shown(&e.reason),
                    shown(&e.message)
                );
            }
            println!("quarantined forks: {}", store::quarantined(&conn)?);
        }
        Command::Backup { out } => {
            let snapshot = dentpro_server::backup::backup(&dir, &out)?;
            println!("backup written to {snapshot}");
            // `VACUUM INTO` on the keyed connection writes the copy with the database's key.
            println!(
                "note: the backup is encrypted with the database key ({}): keep a copy of that key, apart from the backups",
                dir.db_key_file().display()
            );
        }
        Command::Restore { from, force } => {
            use dentpro_server::backup::{Existing, restore};
            let snapshot = restore(
                &dir,
                &from,
                if force {
                    Existing::Replace
                } else {
                    Existing::Refuse
                },
            )?;
            println!("restored {}", snapshot);
            println!("unused enrolment codes were invalidated: issue new ones");
        }
        Command::RecoverLog { from } => {
            let file = std::fs::File::open(&from)?;
            let export = serde_json::from_reader(std::io::BufReader::new(file))?;
            let recovered = dentpro_server::backup::recover_log(&dir, &export)?;
            println!(
                "recovered {} entries: log size {}, root {}",
                recovered.entries, recovered.log_size, recovered.log_root
            );
        }
    }
    Ok(())
}

/// Stored text as printed on the admin's terminal: control characters escaped.
fn shown(text: &str) -> String {
    store::printable(text, usize::MAX)
}
