//! The `standin` binary: parses the command line and calls the library.

mod cli;

use std::io::Write;
use std::process::ExitCode;

use anyhow::Context;
use clap::Parser;
use standin::{CustomRoutes, Options, Prepared, SpecFile, SpecKind};
use tracing_subscriber::EnvFilter;

use cli::{Cli, Command, DocumentFormat, LogFormat, ServeArgs};

/// mimalloc: a server allocating small, short-lived values on many threads
/// spends a sixth of its time in glibc's malloc without it.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> ExitCode {
    let cli = Cli::parse();
    let outcome = match cli.command {
        Command::Check { file } => check(&file),
        Command::Import { file, format } => import(&file, format),
        Command::Openapi { file, format } => openapi(&file, format),
        Command::Schema => print_document(&standin::spec_format_schema(), DocumentFormat::Json)
            .map(|()| ExitCode::SUCCESS),
        Command::Serve(args) => serve(*args),
        Command::Init { file } => init(&file),
    };
    match outcome {
        Ok(code) => code,
        Err(error) => {
            eprintln!("error: {error:#}");
            ExitCode::FAILURE
        }
    }
}

/// The spec `standin init` writes.
const STARTER: &str = include_str!("starter.yaml");

fn init(file: &std::path::Path) -> anyhow::Result<ExitCode> {
    // `create_new`: an existing file, even one created a moment ago, is kept.
    let mut created = match std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(file)
    {
        Ok(created) => created,
        Err(error) if error.kind() == std::io::ErrorKind::AlreadyExists => {
            eprintln!(
                "error: {file} exists; init writes only new files: remove it, or name another (standin init other.yaml)",
                file = file.display()
            );
            return Ok(ExitCode::FAILURE);
        }
        Err(error) => {
            return Err(error).with_context(|| format!("cannot create {}", file.display()));
        }
    };
    if let Err(error) = created.write_all(STARTER.as_bytes()) {
        // A partial starter would stop the next `init` from writing a whole one.
        let _ = std::fs::remove_file(file);
        return Err(error).with_context(|| format!("cannot write {}", file.display()));
    }
    println!(
        "wrote {file}: serve it with `standin serve {file}`",
        file = file.display()
    );
    Ok(ExitCode::SUCCESS)
}

fn import(file: &std::path::Path, format: DocumentFormat) -> anyhow::Result<ExitCode> {
    match standin::import_spec(file) {
        Ok((document, warnings)) => {
            for warning in warnings {
                eprintln!(
                    "{}",
                    warning.to_string().replacen(": error", ": warning", 1)
                );
            }
            print_document(&document, format)?;
            Ok(ExitCode::SUCCESS)
        }
        Err(errors) => {
            eprintln!("{errors}");
            Ok(ExitCode::FAILURE)
        }
    }
}

fn check(file: &std::path::Path) -> anyhow::Result<ExitCode> {
    match standin::load(file) {
        Ok(spec) => {
            if spec.kind() == SpecKind::DbJson
                && let Ok((_, warnings)) = standin::import_spec(file)
            {
                for warning in warnings {
                    eprintln!(
                        "{}",
                        warning.to_string().replacen(": error", ": warning", 1)
                    );
                }
            }
            println!(
                "{}: ok ({} resources)",
                file.display(),
                spec.resource_names().count()
            );
            // An OpenAPI document: what standin understood of it.
            let source = std::fs::read_to_string(file).unwrap_or_default();
            let model = standin::describe_inferred(&spec, &file.display().to_string(), &source);
            print!("{model}");
            Ok(ExitCode::SUCCESS)
        }
        Err(errors) => {
            eprintln!("{errors}");
            Ok(ExitCode::FAILURE)
        }
    }
}

fn openapi(file: &std::path::Path, format: DocumentFormat) -> anyhow::Result<ExitCode> {
    let spec = match standin::load(file) {
        Ok(spec) => spec,
        Err(errors) => {
            eprintln!("{errors}");
            return Ok(ExitCode::FAILURE);
        }
    };
    print_document(&standin::openapi_document(&spec), format)?;
    Ok(ExitCode::SUCCESS)
}

fn print_document(document: &serde_json::Value, format: DocumentFormat) -> anyhow::Result<()> {
    let text = match format {
        DocumentFormat::Json => serde_json::to_string_pretty(document)?,
        DocumentFormat::Yaml => serde_yaml::to_string(document)?,
    };
    println!("{}", text.trim_end());
    Ok(())
}

/// Logged by default: standin's lines at `info`, not the lines actix-http's
/// connection handler writes at `error` for requests too malformed to reach
/// standin (a bad `Content-Length`, an unknown HTTP version, ...), which it
/// has already answered 400 or 431: a client's mistake, not the server's.
const DEFAULT_LOG: &str = "info,actix_http::h1::dispatcher=off";

fn init_logging(format: LogFormat) {
    let filter =
        EnvFilter::try_from_env("STANDIN_LOG").unwrap_or_else(|_| EnvFilter::new(DEFAULT_LOG));
    // Colour only for a person at a terminal: a file or a pipe gets plain text.
    let colour = std::io::IsTerminal::is_terminal(&std::io::stderr())
        && std::env::var_os("NO_COLOR").is_none();
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_ansi(colour)
        .with_writer(std::io::stderr);
    match format {
        LogFormat::Pretty => builder.with_target(false).init(),
        LogFormat::Json => builder.json().init(),
    }
}

fn serve(args: ServeArgs) -> anyhow::Result<ExitCode> {
    init_logging(args.log_format);
    if args.files.len() > 1 {
        for (flag, given) in [
            ("--db", args.db.is_some()),
            ("--routes", args.routes.is_some()),
            ("--record", args.record.is_some()),
        ] {
            if given {
                eprintln!(
                    "error: {flag} applies to one input: serve the files one per standin to use it"
                );
                return Ok(ExitCode::FAILURE);
            }
        }
    }
    let mut spec_files = Vec::new();
    let mut refused = false;
    for file in &args.files {
        match SpecFile::load(file) {
            Ok(spec_file) => spec_files.push(spec_file),
            Err(errors) => {
                eprintln!("{errors}");
                refused = true;
            }
        }
    }
    let custom_routes = match args.routes.as_deref().map(CustomRoutes::load).transpose() {
        Ok(routes) => routes.map(std::sync::Arc::new),
        Err(errors) => {
            eprintln!("{errors}");
            return Ok(ExitCode::FAILURE);
        }
    };
    if refused {
        return Ok(ExitCode::FAILURE);
    }
    let upstream = match &args.upstream {
        Some(url) => {
            let timeout = args.upstream_timeout_ms.map_or(
                standin::DEFAULT_UPSTREAM_TIMEOUT,
                std::time::Duration::from_millis,
            );
            match standin::Upstream::new(url, timeout) {
                Ok(upstream) => Some(upstream),
                Err(message) => {
                    eprintln!("error: --upstream: {message}");
                    return Ok(ExitCode::FAILURE);
                }
            }
        }
        None => None,
    };
    let options = Options {
        upstream,
        record: args.record.clone(),
        custom_routes,
        host: args.host,
        port: args.port,
        db: args.db,
        seed: args.seed,
        workers: args.workers,
        watch: !args.no_watch,
        read_cache: !args.no_read_cache,
        write_back: !args.no_write_back,
        query_budget: std::time::Duration::from_millis(args.query_budget_ms),
        admin_token: args.admin_token.clone(),
        credentials: args.credentials.clone(),
        sessions: standin::SessionLimits {
            max: usize::try_from(args.max_sessions).unwrap_or(usize::MAX),
            memory: usize::try_from(args.session_memory_mb.saturating_mul(1 << 20))
                .unwrap_or(usize::MAX),
            idle: std::time::Duration::from_secs(args.session_idle_secs),
        },
        ..Options::default()
    };
    let open_files = standin::raise_open_file_limit();
    tracing::debug!("up to {open_files} open files");
    let (mut served, mut listeners) = (Vec::new(), Vec::new());
    for (index, (spec_file, file)) in spec_files.into_iter().zip(&args.files).enumerate() {
        // Several files: each on the port after the one before (or each on a free one).
        let port = match options.port {
            0 => 0,
            first => u16::try_from(index)
                .ok()
                .and_then(|index| first.checked_add(index))
                .context("too many files for the ports after --port")?,
        };
        let options = Options {
            port,
            ..options.clone()
        };
        let prepared = Prepared::new(spec_file, &options)?;
        let listener = options.bind()?;
        let address = listener.local_addr().context("reading the bound address")?;
        let url = prepared.url(address);
        let watch = match options.watch {
            true => Some(
                prepared
                    .watch(file)
                    .with_context(|| format!("watching {} for changes", file.display()))?,
            ),
            false => None,
        };
        served.push((file, url, prepared, watch));
        listeners.push(listener);
    }
    let urls: Vec<&str> = served.iter().map(|(_, url, ..)| url.as_str()).collect();
    let ready = || {
        for (file, url, prepared, ..) in &served {
            // The banner is best-effort: a closed stdout must not stop the server.
            if let Err(error) = print_banner(url, file, &options, prepared) {
                tracing::warn!("cannot print the start-up banner: {error}");
            }
        }
        let _ = writeln!(std::io::stdout(), "Press Ctrl-C to stop.");
        if let Some(path) = &args.ready_file {
            let lines: String = urls.iter().map(|url| format!("{url}\n")).collect();
            if let Err(error) = std::fs::write(path, lines) {
                tracing::error!("cannot write the ready file {}: {error}", path.display());
            }
        }
    };
    let servers = served
        .iter()
        .map(|(_, _, prepared, _)| prepared)
        .zip(listeners);
    standin::run_until_signal(servers, options.workers, ready)?;
    for (_, _, prepared, _) in &served {
        // A db.json's write back may be queued still, for writes whose
        // requests the stop ended.
        prepared.finish();
    }
    drop(served); // closes the databases
    // In memory, their temporary files, even those a thread still holds open.
    standin::remove_temporary_databases();
    tracing::info!("stopped");
    Ok(ExitCode::SUCCESS)
}

fn print_banner(
    url: &str,
    file: &std::path::Path,
    options: &Options,
    prepared: &Prepared,
) -> anyhow::Result<()> {
    let spec = prepared.spec();
    let mut out = std::io::stdout().lock();
    // The URL comes first, on a line of its own, for scripts that start standin with --port 0.
    writeln!(out, "{url}")?;
    let storage = match &options.db {
        Some(path) => format!("data in {}", path.display()),
        None => "data in memory".to_string(),
    };
    writeln!(
        out,
        "standin serving \"{}\" from {} ({storage})",
        spec.title(),
        file.display()
    )?;
    if let Some(routes) = &options.custom_routes {
        writeln!(
            out,
            "  {} custom route(s), listed at GET /__rules",
            routes.document().len()
        )?;
    }
    if let Some(upstream) = options.upstream.as_ref().or(spec.upstream()) {
        writeln!(
            out,
            "  other routes are forwarded to {} (timeout {} ms)",
            upstream.url,
            upstream.timeout.as_millis()
        )?;
    }
    if let Some(record) = &options.record {
        writeln!(
            out,
            "  recording the upstream's answers into {} (serve it later: standin serve {})",
            record.display(),
            record.display()
        )?;
    }
    let origin = url.strip_suffix(spec.base_path()).unwrap_or(url);
    for collection in prepared.collections() {
        writeln!(
            out,
            "  {:<16} {origin}{}  ({} records)",
            collection.name, collection.path, collection.records
        )?;
    }
    if spec.kind() == SpecKind::DbJson {
        let back = match prepared.writes_back() {
            true => format!("changes are written back to {}", file.display()),
            false => "changes are not written back (--no-write-back)".to_string(),
        };
        writeln!(
            out,
            "A json-server db.json, served as json-server 0.17 serves it (plus {url}/db); {back}."
        )?;
    } else if spec.default_media_type() == "application/json" {
        writeln!(
            out,
            "Plain JSON by default (defaults.accept); HAL with Accept: application/hal+json."
        )?;
    } else {
        writeln!(
            out,
            "Plain JSON (json-server style): send Accept: application/json, or set defaults.accept in the spec."
        )?;
    }
    writeln!(
        out,
        "Admin API: {url}/_standin/health, /_standin/reset (POST), /_standin/requests, /_standin/openapi.json"
    )?;
    writeln!(
        out,
        "Browse the API: open {url} in a web browser (admin page: {url}/_standin)."
    )?;
    if options.watch {
        writeln!(out, "Watching {} for changes.", file.display())?;
    }
    out.flush()?;
    Ok(())
}
