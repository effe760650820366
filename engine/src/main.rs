//! The `sluice` binary.
//!
//! Errors end the process with one line on stderr naming the cause, and a
//! non-zero exit: 2 for a wrong command line, 1 for everything else.

use std::process::ExitCode;

use anyhow::Context as _;
use clap::{Args, Parser, Subcommand, ValueEnum};
use engine::clickhouse::Endpoint;
use engine::schema::{self, IndexChoice, IndexVariant, SchemaOptions, Ttl};

#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[derive(Parser, Debug)]
#[command(name = "sluice", version, about = "OTLP ingest gateway for ClickHouse")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Run the gateway: OTLP in on :4317 (gRPC) and :4318 (HTTP), ClickHouse out.
    Run {
        /// TOML config file (see sluice.example.toml); every key can also be set with
        /// `SLUICE_<SECTION>_<KEY>` environment variables.
        #[arg(long, value_name = "FILE")]
        config: Option<std::path::PathBuf>,
    },
    /// Manage the ClickStack schema in ClickHouse.
    Schema {
        #[command(subcommand)]
        action: SchemaAction,
    },
}

#[derive(Subcommand, Debug)]
enum SchemaAction {
    /// Print the DDL, one statement after another.
    Print {
        #[command(flatten)]
        schema: SchemaArgs,
    },
    /// Create the schema in ClickHouse (idempotent: existing objects are kept).
    Apply {
        #[command(flatten)]
        clickhouse: ClickHouseArgs,
        #[command(flatten)]
        schema: SchemaArgs,
    },
}

#[derive(Args, Debug)]
struct ClickHouseArgs {
    /// ClickHouse HTTP endpoint [default: $SLUICE_CLICKHOUSE_URL, $CLICKHOUSE_ENDPOINT, $CLICKHOUSE_URL, http://127.0.0.1:8123]
    #[arg(long, value_name = "URL")]
    clickhouse: Option<String>,
    /// ClickHouse user.
    #[arg(long, env = "CLICKHOUSE_USER", default_value = "default")]
    user: String,
    /// ClickHouse password.
    #[arg(
        long,
        env = "CLICKHOUSE_PASSWORD",
        default_value = "",
        hide_env_values = true
    )]
    password: String,
}

#[derive(Args, Debug)]
struct SchemaArgs {
    /// Database to create the tables in.
    #[arg(long, env = "SLUICE_CLICKHOUSE_DATABASE", default_value = "default")]
    database: String,
    /// Create every object `ON CLUSTER` this cluster.
    #[arg(long, value_name = "NAME")]
    cluster: Option<String>,
    /// Retention of every table (72h, 30d, 4w); the per-signal options override it.
    #[arg(long, default_value = "30d", value_parser = parse_ttl)]
    ttl: Ttl,
    #[arg(long, value_parser = parse_ttl, value_name = "TTL")]
    logs_ttl: Option<Ttl>,
    #[arg(long, value_parser = parse_ttl, value_name = "TTL")]
    traces_ttl: Option<Ttl>,
    #[arg(long, value_parser = parse_ttl, value_name = "TTL")]
    metrics_ttl: Option<Ttl>,
    #[arg(long, value_parser = parse_ttl, value_name = "TTL")]
    sessions_ttl: Option<Ttl>,
    /// Rename a table or view: DEFAULT=NAME, e.g. otel_logs=app_logs (repeatable).
    #[arg(long = "table", value_name = "DEFAULT=NAME", value_parser = parse_rename)]
    tables: Vec<(String, String)>,
    /// Index variant: `auto` asks the server (text indexes from ClickHouse 26.2 on).
    #[arg(long, value_enum, default_value_t = IndexArg::Auto)]
    indexes: IndexArg,
}

#[derive(Clone, Copy, Debug, ValueEnum)]
enum IndexArg {
    Auto,
    Text,
    Bloom,
}

fn parse_ttl(s: &str) -> Result<Ttl, String> {
    Ttl::parse(s).map_err(|e| e.to_string())
}

fn parse_rename(s: &str) -> Result<(String, String), String> {
    match s.split_once('=') {
        Some((from, to)) if !from.is_empty() && !to.is_empty() => Ok((from.into(), to.into())),
        _ => Err(format!("expected DEFAULT=NAME, got {s:?}")),
    }
}

impl SchemaArgs {
    fn options(self) -> SchemaOptions {
        SchemaOptions {
            database: self.database,
            cluster: self.cluster,
            logs_ttl: self.logs_ttl.unwrap_or(self.ttl),
            traces_ttl: self.traces_ttl.unwrap_or(self.ttl),
            metrics_ttl: self.metrics_ttl.unwrap_or(self.ttl),
            sessions_ttl: self.sessions_ttl.unwrap_or(self.ttl),
            names: self.tables.into_iter().collect(),
            indexes: match self.indexes {
                IndexArg::Auto => IndexChoice::Auto,
                IndexArg::Text => IndexChoice::Text,
                IndexArg::Bloom => IndexChoice::Bloom,
            },
        }
    }
}

fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) if !e.use_stderr() => {
            // --help and --version.
            let _ = e.print();
            return ExitCode::SUCCESS;
        }
        Err(e) => {
            let rendered = e.to_string();
            let first = rendered.lines().next().unwrap_or("invalid command line");
            eprintln!(
                "sluice: {} (see sluice --help)",
                first.trim_start_matches("error: ")
            );
            return ExitCode::from(2);
        }
    };
    match run(cli) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            // `{:#}` puts the whole cause chain on one line.
            eprintln!("sluice: {e:#}");
            ExitCode::FAILURE
        }
    }
}

fn run(cli: Cli) -> anyhow::Result<()> {
    match cli.command {
        Command::Run { config } => {
            let config = engine::config::load(config.as_deref())?;
            engine::run::run(config)
        }
        Command::Schema { action } => match action {
            SchemaAction::Print { schema } => {
                let opts = schema.options();
                let variant = match opts.indexes {
                    IndexChoice::Bloom => IndexVariant::Bloom,
                    IndexChoice::Auto | IndexChoice::Text => IndexVariant::Text,
                };
                for s in schema::render(&opts, variant)? {
                    println!("{};\n", s.sql);
                }
                Ok(())
            }
            SchemaAction::Apply { clickhouse, schema } => {
                let endpoint =
                    Endpoint::resolve(clickhouse.clickhouse, clickhouse.user, clickhouse.password)?;
                let opts = schema.options();
                let runtime = tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build()
                    .context("cannot start the async runtime")?;
                let report = runtime.block_on(schema::apply(&endpoint, &opts))?;
                let indexes = match report.variant {
                    IndexVariant::Text => "text",
                    IndexVariant::Bloom => "bloom-filter",
                };
                println!(
                    "schema applied to {} (ClickHouse {}, {indexes} indexes) in database {:?}: {}",
                    endpoint.url,
                    report.server_version,
                    opts.database,
                    report.objects[1..].join(", ")
                );
                Ok(())
            }
        },
    }
}
