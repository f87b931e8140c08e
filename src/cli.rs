//! The command line: `standin serve`, `check`, `openapi`, `schema` and `init`.

use std::path::PathBuf;

use clap::builder::BoolishValueParser;
use clap::{Parser, Subcommand, ValueEnum};

/// Turn a resource description file into a real, stateful REST API.
#[derive(Debug, Parser)]
#[command(name = "standin", version, about, long_about = None)]
pub struct Cli {
    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

/// The subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Serve the API a spec file (or several) describes.
    #[command(
        after_help = "Examples:\n  standin serve specs/blog.yaml\n  standin serve specs/shop.yaml --port 0 --db shop.db\n  standin serve openapi.yaml db.json    # on ports 8080 and 8081\n  standin serve specs/shop.yaml --upstream http://localhost:9000 --record recorded.json"
    )]
    Serve(Box<ServeArgs>),
    /// Print the OpenAPI 3.1 description of the API a spec file describes.
    Openapi {
        /// The spec file.
        #[arg(default_value = "standin.yaml")]
        file: PathBuf,
        /// Output format.
        #[arg(long, value_enum, default_value_t = DocumentFormat::Json)]
        format: DocumentFormat,
    },
    /// Print the JSON Schema of the spec format, for editors.
    Schema,
    /// Print the standin spec inferred from a json-server db.json or an OpenAPI document (YAML by default).
    #[command(
        after_help = "Examples:\n  standin import db.json > standin.yaml\n  standin import openapi.yaml > standin.yaml"
    )]
    Import {
        /// The db.json file or OpenAPI 3.x document.
        file: PathBuf,
        /// Output format.
        #[arg(long, value_enum, default_value_t = DocumentFormat::Yaml)]
        format: DocumentFormat,
    },
    /// Check a spec file and report every problem.
    Check {
        /// The spec file.
        #[arg(default_value = "standin.yaml")]
        file: PathBuf,
    },
    /// Write a starter spec (never over an existing file).
    Init {
        /// Where to write it.
        #[arg(default_value = "standin.yaml")]
        file: PathBuf,
    },
}

/// Options of `standin serve`.
#[derive(Debug, clap::Args)]
pub struct ServeArgs {
    /// The files to serve (standin specs, OpenAPI documents, db.json files);
    /// several are served side by side, each on its own port.
    #[arg(default_value = "standin.yaml", env = "STANDIN_SPEC", num_args = 1..)]
    pub files: Vec<PathBuf>,
    /// Interface to listen on.
    #[arg(long, default_value = "127.0.0.1", env = "STANDIN_HOST")]
    pub host: String,
    /// Port to listen on (several files: this one and the next ones); 0 picks free ports and prints the URLs.
    #[arg(long, short, default_value_t = 8080, env = "STANDIN_PORT")]
    pub port: u16,
    /// Keep the data in this SQLite file (durable across restarts) instead of in memory.
    #[arg(long, env = "STANDIN_DB")]
    pub db: Option<PathBuf>,
    /// Seed of the fake data, overriding the spec's.
    #[arg(long, env = "STANDIN_SEED")]
    pub seed: Option<u64>,
    /// Worker threads (default: one per core).
    #[arg(long, env = "STANDIN_WORKERS")]
    pub workers: Option<usize>,
    /// Do not reload the spec when its file changes.
    #[arg(long, env = "STANDIN_NO_WATCH", value_parser = BoolishValueParser::new())]
    pub no_watch: bool,
    /// Serving a json-server db.json: keep changes in memory (and --db) instead of
    /// writing them back to the file.
    #[arg(long, env = "STANDIN_NO_WRITE_BACK", value_parser = BoolishValueParser::new())]
    pub no_write_back: bool,
    /// Answer every read from the store instead of keeping answers until the next write.
    #[arg(long, env = "STANDIN_NO_READ_CACHE", value_parser = BoolishValueParser::new())]
    pub no_read_cache: bool,
    /// Stop a request's store operation after this many milliseconds (answered 503), so
    /// that no one request holds the data for long.
    #[arg(long, env = "STANDIN_QUERY_BUDGET_MS", value_name = "MS",
          default_value_t = standin::DEFAULT_QUERY_BUDGET.as_millis() as u64,
          value_parser = clap::value_parser!(u64).range(1..))]
    pub query_budget_ms: u64,
    /// Require `Authorization: Bearer <TOKEN>` on the admin API (/_standin: reset, requests, ...).
    #[arg(
        long,
        env = "STANDIN_ADMIN_TOKEN",
        value_name = "TOKEN",
        hide_env_values = true
    )]
    pub admin_token: Option<String>,
    /// Custom routes in json-server's routes.json format, e.g. {"/api/*": "/$1"}.
    #[arg(long, env = "STANDIN_ROUTES", value_name = "FILE")]
    pub routes: Option<PathBuf>,
    /// For OpenAPI documents: a credential value (bearer token, API key, ...)
    /// operations with security requirements accept; repeatable. Without
    /// any, every credential present is accepted.
    #[arg(long = "credential", value_name = "VALUE", hide_env_values = true)]
    pub credentials: Vec<String>,
    /// Forward requests for routes the spec does not declare to this real service
    /// (an http:// or https:// URL; the request's path and query are appended): a partial mock
    /// in front of a real API. Overrides the spec's `upstream`.
    #[arg(long, env = "STANDIN_UPSTREAM", value_name = "URL")]
    pub upstream: Option<String>,
    /// How long the upstream may take to answer a forwarded request before it is
    /// answered 504 (default: the spec's upstream.timeout, else 30 s).
    #[arg(long, env = "STANDIN_UPSTREAM_TIMEOUT_MS", value_name = "MS",
          requires = "upstream", value_parser = clap::value_parser!(u64).range(1..=3_600_000))]
    pub upstream_timeout_ms: Option<u64>,
    /// Record the upstream's JSON answers to GETs of collections and items into
    /// this db.json (added to, if it exists), to serve them later without it:
    /// `standin serve FILE`.
    #[arg(long, env = "STANDIN_RECORD", value_name = "FILE")]
    pub record: Option<PathBuf>,
    /// The most isolated sessions (Standin-Session header or /_session/KEY/ prefix) alive at once.
    #[arg(long, env = "STANDIN_MAX_SESSIONS", value_name = "N", default_value_t = 64,
          value_parser = clap::value_parser!(u64).range(0..=100_000))]
    pub max_sessions: u64,
    /// The memory sessions' data may take together, in MiB (each counts the seeded data's size).
    #[arg(long, env = "STANDIN_SESSION_MEMORY_MB", value_name = "MIB", default_value_t = 1024,
          value_parser = clap::value_parser!(u64).range(1..=1_048_576))]
    pub session_memory_mb: u64,
    /// End a session unused for this many seconds.
    #[arg(long, env = "STANDIN_SESSION_IDLE_SECS", value_name = "SECS", default_value_t = 600,
          value_parser = clap::value_parser!(u64).range(1..=604_800))]
    pub session_idle_secs: u64,
    /// Write the URL (one per file served, a line each) to this file once the server accepts connections (for scripts).
    #[arg(long, env = "STANDIN_READY_FILE")]
    pub ready_file: Option<PathBuf>,
    /// How log lines look.
    #[arg(long, value_enum, default_value_t = LogFormat::Pretty, env = "STANDIN_LOG_FORMAT")]
    pub log_format: LogFormat,
}

/// Formats of printed documents.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum DocumentFormat {
    /// JSON.
    Json,
    /// YAML.
    Yaml,
}

/// Log line formats.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum LogFormat {
    /// Human-readable lines.
    Pretty,
    /// One JSON object per line.
    Json,
}
