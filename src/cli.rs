//! The command line: `check`, `graph`, `rules`, `explain`, `init`, `completions`, `man`.

use crate::baseline::Baseline;
use crate::diagnostic::Severity;
use crate::engine::{self, CheckOptions};
use crate::graph::GraphFormat;
use crate::report::{self, Format};
use crate::rules;
use clap::{Args, CommandFactory, Parser, Subcommand, ValueEnum};
use std::io::{IsTerminal, Write};
use std::path::PathBuf;
use std::process::ExitCode;

/// What a bare `--changed` stands for (not a valid git ref, so it cannot collide).
const DEFAULT_BASE: &str = ":default:";

/// `preflight --version`: the version and the cargo features built in.
#[cfg(feature = "aws")]
pub const VERSION: &str = concat!(env!("CARGO_PKG_VERSION"), " (features: aws)");
#[cfg(not(feature = "aws"))]
pub const VERSION: &str = concat!(env!("CARGO_PKG_VERSION"), " (features: none)");

#[derive(Parser, Debug)]
#[command(
    name = "preflight",
    version = VERSION,
    about = "Stop a deploy before terraform apply or an ArgoCD sync breaks it",
    long_about = "preflight reads a platform repository (Terraform, ArgoCD/Kubernetes YAML, IAM policies) \
and reports the mistakes that break a deploy, with the file, line and fix.\n\n\
Exit codes: 0 no finding at or above --fail-on; 1 findings at or above it; 2 usage, configuration or I/O error."
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Subcommand, Debug)]
pub enum Command {
    /// Check a repository, or some of its folders.
    Check(Box<CheckArgs>),
    /// Draw what each root creates and reads and what each Application deploys, with the
    /// findings marked (Mermaid or Graphviz DOT on standard output).
    Graph(Box<GraphArgs>),
    /// List every rule: id, default severity, summary.
    Rules {
        #[arg(long, value_enum, default_value_t = RulesFormat::Human)]
        format: RulesFormat,
    },
    /// Print a rule's page: what it catches, why it breaks deploys, an example, the fix.
    Explain {
        /// The rule id, e.g. `ungated-data-source`.
        rule: String,
    },
    /// Write a commented preflight.toml with what can be inferred from the repository
    /// (the passes of a staged bootstrap, the documented CI policy, the repository URL).
    Init {
        /// The repository folder (default: the current directory).
        path: Option<PathBuf>,
        /// Print the file instead of writing it.
        #[arg(long)]
        stdout: bool,
        /// Replace an existing preflight.toml.
        #[arg(long)]
        force: bool,
    },
    /// Print a shell completion script (e.g. `preflight completions bash > /etc/bash_completion.d/preflight`).
    Completions {
        #[arg(value_enum)]
        shell: clap_complete::Shell,
    },
    /// Print the manual page (roff), e.g. `preflight man > preflight.1`.
    Man,
}

#[derive(Copy, Clone, Debug, PartialEq, Eq, ValueEnum)]
pub enum RulesFormat {
    /// One rule a line: id, default severity, summary.
    Human,
    /// A JSON array: id, severity, summary, url, options.
    Json,
}

#[derive(Copy, Clone, Debug, PartialEq, Eq, ValueEnum)]
pub enum ColorChoice {
    /// Colour on a terminal, unless NO_COLOR is set or the report goes to a file.
    Auto,
    Always,
    Never,
}

#[derive(Copy, Clone, Debug, PartialEq, Eq, ValueEnum)]
pub enum FailOn {
    Error,
    Warning,
    Note,
    /// Always exit 0 when checking succeeded.
    Never,
}

#[derive(Args, Debug)]
pub struct GraphArgs {
    /// Folders or files to draw (default: the current directory).
    pub paths: Vec<PathBuf>,
    #[arg(long, value_enum, default_value_t = GraphFormat::Mermaid)]
    pub format: GraphFormat,
    /// Configuration file (default: preflight.toml at the repository root).
    #[arg(long)]
    pub config: Option<PathBuf>,
    /// Terraform variable value, as `terraform -var` (repeatable).
    #[arg(long = "var", value_name = "NAME=VALUE")]
    pub vars: Vec<String>,
    /// Terraform variable file (repeatable).
    #[arg(long = "var-file", value_name = "FILE")]
    pub var_files: Vec<PathBuf>,
    /// Draw one pass declared in `[terraform.passes]`.
    #[arg(long)]
    pub pass: Option<String>,
}

#[derive(Args, Debug)]
pub struct CheckArgs {
    /// Folders or files to check (default: the current directory). References are followed
    /// across the whole repository.
    pub paths: Vec<PathBuf>,
    /// Output format.
    #[arg(long, value_enum, default_value_t = Format::Human)]
    pub format: Format,
    /// Findings only: no summary line and no progress messages (errors still go to
    /// standard error).
    #[arg(long, short = 'q')]
    pub quiet: bool,
    /// Colour in the human format.
    #[arg(long, value_enum, default_value_t = ColorChoice::Auto, value_name = "WHEN")]
    pub color: ColorChoice,
    /// Run only these rules (comma-separated or repeated).
    #[arg(long, value_name = "RULE,...", value_delimiter = ',')]
    pub select: Vec<String>,
    /// Do not run these rules (comma-separated or repeated).
    #[arg(long, value_name = "RULE,...", value_delimiter = ',')]
    pub ignore: Vec<String>,
    /// Lowest severity that makes the exit code 1.
    #[arg(long, value_enum, default_value_t = FailOn::Error)]
    pub fail_on: FailOn,
    /// Configuration file (default: preflight.toml at the repository root).
    #[arg(long)]
    pub config: Option<PathBuf>,
    /// Glob of files to skip, relative to the repository root (repeatable).
    #[arg(long, value_name = "GLOB")]
    pub exclude: Vec<String>,
    /// Terraform variable value, as `terraform -var` (repeatable).
    #[arg(long = "var", value_name = "NAME=VALUE")]
    pub vars: Vec<String>,
    /// Terraform variable file, as `terraform -var-file` (repeatable).
    #[arg(long = "var-file", value_name = "FILE")]
    pub var_files: Vec<PathBuf>,
    /// Check one pass declared in `[terraform.passes]`.
    #[arg(long)]
    pub pass: Option<String>,
    /// Check only the Terraform roots and Applications touched by the files changed since
    /// REF (default: the merge base with the default branch; the staged files in a
    /// pre-commit run).
    #[arg(long, value_name = "REF", num_args = 0..=1, default_missing_value = DEFAULT_BASE, require_equals = false)]
    pub changed: Option<String>,
    /// Run the live AWS checks (read-only calls with the standard credential chain).
    #[arg(long)]
    pub aws: bool,
    /// Hide the findings recorded in this baseline file (see --write-baseline).
    #[arg(long, value_name = "FILE")]
    pub baseline: Option<PathBuf>,
    /// Record every current finding in a baseline file, then exit 0.
    #[arg(long, value_name = "FILE", conflicts_with = "baseline")]
    pub write_baseline: Option<PathBuf>,
    /// Apply the safe fixes that findings carry (text splices; comments and layout kept),
    /// then report what is left.
    #[arg(long)]
    pub fix: bool,
    /// With --fix: print the fixes as a unified diff instead of writing them.
    #[arg(long, requires = "fix")]
    pub diff: bool,
    /// Write the report to a file instead of standard output.
    #[arg(long, short = 'o', value_name = "FILE")]
    pub output: Option<PathBuf>,
    /// Also say what the models could not inspect (external modules, remote charts).
    #[arg(long, short = 'v')]
    pub verbose: bool,
}

pub fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => {
            let code = if e.use_stderr() { 2 } else { 0 };
            let _ = e.print();
            return ExitCode::from(code);
        }
    };
    match cli.command {
        Command::Check(args) => check(*args),
        Command::Graph(args) => graph(*args),
        Command::Rules { format } => list_rules(format),
        Command::Explain { rule } => match rules::find(&rule) {
            Some(r) => stdout(&r.meta().page()),
            None => {
                let known: Vec<&str> = rules::all().iter().map(|r| r.meta().id).collect();
                eprintln!(
                    "error: unknown rule `{rule}`{} (`preflight rules` lists them)",
                    crate::suggest::did_you_mean(&rule, known)
                );
                ExitCode::from(2)
            }
        },
        Command::Init {
            path,
            stdout,
            force,
        } => init(path, stdout, force),
        Command::Completions { shell } => {
            clap_complete::generate(
                shell,
                &mut Cli::command(),
                "preflight",
                &mut std::io::stdout(),
            );
            ExitCode::SUCCESS
        }
        Command::Man => {
            let mut out = std::io::stdout().lock();
            match clap_mangen::Man::new(Cli::command()).render(&mut out) {
                Ok(()) => ExitCode::SUCCESS,
                Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => ExitCode::SUCCESS,
                Err(e) => {
                    eprintln!("error: cannot write the manual page: {e}");
                    ExitCode::from(2)
                }
            }
        }
    }
}

/// `preflight rules`, from the rule registry (every registered rule appears).
fn list_rules(format: RulesFormat) -> ExitCode {
    let mut out = std::io::stdout().lock();
    let result = match format {
        RulesFormat::Human => rules::all().iter().try_for_each(|r| {
            let m = r.meta();
            writeln!(out, "{:<28} {:<8} {}", m.id, m.default_severity, m.summary)
        }),
        RulesFormat::Json => {
            let list: Vec<serde_json::Value> = rules::all()
                .iter()
                .map(|r| {
                    let m = r.meta();
                    serde_json::json!({
                        "id": m.id,
                        "severity": m.default_severity,
                        "summary": m.summary,
                        "url": report::rule_url(m.id),
                        "options": m.options.iter().map(|o| serde_json::json!({
                            "name": o.name,
                            "kind": format!("{:?}", o.kind).to_lowercase(),
                            "doc": o.doc,
                        })).collect::<Vec<_>>(),
                    })
                })
                .collect();
            serde_json::to_writer_pretty(&mut out, &list)
                .map_err(std::io::Error::other)
                .and_then(|_| writeln!(out))
        }
    };
    match result {
        Err(e) if e.kind() != std::io::ErrorKind::BrokenPipe => {
            eprintln!("error: {e}");
            ExitCode::from(2)
        }
        _ => ExitCode::SUCCESS,
    }
}

fn init(path: Option<PathBuf>, to_stdout: bool, force: bool) -> ExitCode {
    let dir = path.unwrap_or_else(|| PathBuf::from("."));
    if !dir.is_dir() {
        eprintln!("error: {} is not a folder", dir.display());
        return ExitCode::from(2);
    }
    let target = dir.join(crate::config::FILE_NAME);
    if !to_stdout && !force && target.exists() {
        eprintln!(
            "error: {} exists; --force replaces it, --stdout prints the inferred file",
            target.display()
        );
        return ExitCode::from(2);
    }
    // Infer with the folder as the root, whatever configuration exists there.
    let text = match crate::init::generate(dir.clone()) {
        Ok(t) => t,
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::from(2);
        }
    };
    if to_stdout {
        print!("{text}");
        return ExitCode::SUCCESS;
    }
    match std::fs::write(&target, &text) {
        Ok(()) => {
            eprintln!("preflight: wrote {}", target.display());
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("error: cannot write {}: {e}", target.display());
            ExitCode::from(2)
        }
    }
}

/// Write to standard output; a reader that went away (`preflight graph | head -1`) ends
/// the run quietly, as for any filter.
fn stdout(text: &str) -> ExitCode {
    let mut out = std::io::stdout().lock();
    match out.write_all(text.as_bytes()).and_then(|_| out.flush()) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: cannot write to standard output: {e}");
            ExitCode::from(2)
        }
    }
}

/// Text from the repository for standard error: sensitive values redacted, control
/// characters escaped.
fn for_stderr(outcome: &engine::Outcome, text: &str) -> String {
    crate::redact::terminal_safe(&outcome.session.redactor().text(text), false).into_owned()
}

fn parse_vars(vars: &[String]) -> Result<Vec<(String, String)>, String> {
    vars.iter()
        .map(|v| match v.split_once('=') {
            Some((k, val)) if !k.trim().is_empty() => Ok((k.trim().to_string(), val.to_string())),
            _ => Err(format!("--var takes NAME=VALUE, got `{v}`")),
        })
        .collect()
}

fn graph(args: GraphArgs) -> ExitCode {
    let vars = match parse_vars(&args.vars) {
        Ok(v) => v,
        Err(e) => {
            eprintln!(
                "error: {}",
                crate::redact::terminal_safe(&e.to_string(), false)
            );
            return ExitCode::from(2);
        }
    };
    let options = CheckOptions {
        paths: args.paths,
        config: args.config,
        vars,
        var_files: args.var_files,
        pass: args.pass,
        ..Default::default()
    };
    match engine::check(options) {
        Ok(outcome) => {
            let g = crate::graph::build(&outcome);
            let text = crate::graph::render(&g, args.format);
            stdout(&outcome.session.redactor().text(&text))
        }
        Err(e) => {
            eprintln!(
                "error: {}",
                crate::redact::terminal_safe(&e.to_string(), false)
            );
            ExitCode::from(2)
        }
    }
}

fn check(args: CheckArgs) -> ExitCode {
    let vars = match parse_vars(&args.vars) {
        Ok(v) => v,
        Err(e) => {
            eprintln!(
                "error: {}",
                crate::redact::terminal_safe(&e.to_string(), false)
            );
            return ExitCode::from(2);
        }
    };
    let options = CheckOptions {
        paths: args.paths.clone(),
        config: args.config.clone(),
        excludes: args.exclude.clone(),
        vars,
        var_files: args.var_files.clone(),
        pass: args.pass.clone(),
        changed: args.changed.as_ref().map(|r| {
            if r == DEFAULT_BASE {
                String::new()
            } else {
                r.clone()
            }
        }),
        aws: args.aws,
        verbose: args.verbose,
        select: args.select.clone(),
        ignore: args.ignore.clone(),
    };
    let quiet = args.quiet;
    let baseline = match &args.baseline {
        Some(path) => match Baseline::load(path) {
            Ok(b) => Some(b),
            Err(e) => {
                eprintln!(
                    "error: {}",
                    crate::redact::terminal_safe(&e.to_string(), false)
                );
                return ExitCode::from(2);
            }
        },
        None => None,
    };
    let options_again = options.clone();
    let progress = Progress::start();
    let result = engine::check(options);
    progress.finish();
    // The outcome (the workspace, its models, every parsed file) is never dropped: the
    // process ends right after the report, and freeing it all cost ~6 % of a large check.
    let mut outcome = match result {
        Ok(o) => std::mem::ManuallyDrop::new(o),
        Err(e) => {
            eprintln!(
                "error: {}",
                crate::redact::terminal_safe(&e.to_string(), false)
            );
            return ExitCode::from(2);
        }
    };
    if args.fix {
        let plan = crate::fix::plan(&outcome.session.repo, &outcome.findings);
        let fixed: usize = plan.files.iter().map(|f| f.fixes).sum();
        for why in &plan.refused {
            eprintln!("preflight: not fixed: {}", for_stderr(&outcome, why));
        }
        if args.diff {
            let diff = crate::fix::diff(&plan);
            let diff = outcome.session.redactor().text(&diff);
            let mut diff = if std::io::stdout().is_terminal() {
                crate::redact::terminal_safe(&diff, false).into_owned()
            } else {
                diff.into_owned()
            };
            if !diff.is_empty() && !diff.ends_with('\n') {
                diff.push('\n');
            }
            let code = stdout(&diff);
            if code != ExitCode::SUCCESS {
                return code;
            }
            if !quiet {
                eprintln!(
                    "preflight: {fixed} fixes in {} files (not written: --diff)",
                    plan.files.len()
                );
                eprintln!("{}", report::summary_line(&outcome));
            }
            // The exit code is the check's: the diff is not applied.
            return exit_code(&outcome, args.fail_on);
        }
        if let Err(e) = crate::fix::apply(&outcome.session.repo, &plan) {
            eprintln!("error: cannot write a fix: {e}");
            return ExitCode::from(2);
        }
        if !quiet {
            eprintln!(
                "preflight: applied {fixed} fixes in {} files",
                plan.files.len()
            );
        }
        if plan.skipped > 0 {
            eprintln!(
                "preflight: {} fixes overlapped others; run --fix again to apply them",
                plan.skipped
            );
        }
        if !plan.files.is_empty() {
            // Report what is left after the fixes.
            match engine::check(options_again.clone()) {
                Ok(o) => {
                    // The first check's workspace is no longer needed.
                    let first = std::mem::replace(&mut outcome, std::mem::ManuallyDrop::new(o));
                    drop(std::mem::ManuallyDrop::into_inner(first));
                }
                Err(e) => {
                    eprintln!(
                        "error: {}",
                        crate::redact::terminal_safe(&e.to_string(), false)
                    );
                    return ExitCode::from(2);
                }
            }
        }
    }
    if args.changed.is_some() && outcome.session.scope.is_empty() {
        eprintln!("preflight: no changed files to check");
    } else if outcome.session.files_in_scope() == 0 {
        // A green result that checked nothing must not look like a pass.
        let named: Vec<String> = if args.paths.is_empty() {
            vec![".".into()]
        } else {
            args.paths.iter().map(|p| p.display().to_string()).collect()
        };
        eprintln!(
            "preflight: checked nothing: no Terraform, YAML or JSON file under {} (root {})",
            named.join(", "),
            report::root_display(&outcome.session.repo.root)
        );
    }
    if let Some(path) = &args.write_baseline {
        let b = Baseline::from_findings(&outcome.session.repo, &outcome.findings);
        if let Err(e) = b.write(path) {
            eprintln!("error: cannot write the baseline: {e}");
            return ExitCode::from(2);
        }
        eprintln!(
            "preflight: recorded {} findings in {}",
            b.entries.len(),
            path.display()
        );
        return ExitCode::SUCCESS;
    }
    if let Some(b) = &baseline {
        let before = outcome.findings.len();
        let o: &mut engine::Outcome = &mut outcome;
        let stale = b.filter(&o.session.repo, &mut o.findings);
        if !quiet {
            eprintln!(
                "preflight: the baseline hid {} findings",
                before - outcome.findings.len()
            );
        }
        if !stale.is_empty() {
            eprintln!(
                "preflight: {} baseline entries no longer match any finding (re-run with --write-baseline to shrink it):",
                stale.len()
            );
            for e in &stale {
                let line = format!(
                    "{} {} {}",
                    e.rule,
                    e.file,
                    if e.address.is_empty() {
                        &e.message
                    } else {
                        &e.address
                    }
                );
                eprintln!("  {}", for_stderr(&outcome, &line));
            }
        }
    }
    if args.verbose
        && let Ok(log) = outcome.session.log.lock()
    {
        for line in log.iter() {
            eprintln!("preflight: {}", for_stderr(&outcome, line));
        }
    }
    let color = args.format == Format::Human
        && match args.color {
            ColorChoice::Always => true,
            ColorChoice::Never => false,
            ColorChoice::Auto => {
                args.output.is_none()
                    && std::io::stdout().is_terminal()
                    && std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty())
            }
        };
    let render_options = report::RenderOptions { color, quiet };
    let result = match &args.output {
        Some(path) => std::fs::File::create(path).and_then(|f| {
            let mut w = std::io::BufWriter::new(f);
            report::render(&outcome, args.format, render_options, &mut w)?;
            w.flush()
        }),
        None => {
            let mut w = std::io::BufWriter::new(std::io::stdout().lock());
            report::render(&outcome, args.format, render_options, &mut w).and_then(|_| w.flush())
        }
    };
    if let Err(e) = result
        && e.kind() != std::io::ErrorKind::BrokenPipe
    {
        eprintln!("error: cannot write the report: {e}");
        return ExitCode::from(2);
    }
    // The summary goes to standard error when standard output does not end with it: the
    // report went to a file (any format), or the format has no summary line.
    let summary_in_stdout =
        args.output.is_none() && matches!(args.format, Format::Human | Format::Github);
    if !quiet && !summary_in_stdout {
        eprintln!("{}", report::summary_line(&outcome));
    }
    exit_code(&outcome, args.fail_on)
}

fn exit_code(outcome: &engine::Outcome, fail_on: FailOn) -> ExitCode {
    let threshold = match fail_on {
        FailOn::Error => Some(Severity::Error),
        FailOn::Warning => Some(Severity::Warning),
        FailOn::Note => Some(Severity::Note),
        FailOn::Never => None,
    };
    match threshold {
        Some(t) if outcome.findings.iter().any(|f| f.severity >= t) => ExitCode::from(1),
        _ => ExitCode::SUCCESS,
    }
}

/// A progress line on standard error, only on a terminal and only when a check takes more
/// than about a second; cleared when the check ends.
struct Progress {
    done: std::sync::Arc<std::sync::atomic::AtomicBool>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl Progress {
    fn start() -> Progress {
        use std::sync::atomic::{AtomicBool, Ordering};
        let done = std::sync::Arc::new(AtomicBool::new(false));
        let thread = std::io::stderr().is_terminal().then(|| {
            let done = done.clone();
            std::thread::spawn(move || {
                let started = std::time::Instant::now();
                let frames = ['|', '/', '-', '\\'];
                let mut shown = false;
                let mut i = 0;
                while !done.load(Ordering::Relaxed) {
                    std::thread::sleep(std::time::Duration::from_millis(100));
                    if started.elapsed().as_millis() >= 1000 && !done.load(Ordering::Relaxed) {
                        eprint!(
                            "\r{} preflight: checking… {:.0}s",
                            frames[i % 4],
                            started.elapsed().as_secs_f32()
                        );
                        shown = true;
                        i += 1;
                    }
                }
                if shown {
                    eprint!("\r\x1b[2K");
                }
            })
        });
        Progress { done, thread }
    }

    fn finish(mut self) {
        self.done.store(true, std::sync::atomic::Ordering::Relaxed);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}
