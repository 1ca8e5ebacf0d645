//! The command-line interface (spec section 8).

use std::path::PathBuf;

use clap::{Parser, Subcommand, ValueEnum};

#[derive(Debug, Parser)]
#[command(
    name = "vplc",
    version,
    about = "vpl: check, format and run video-analytics pipelines"
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Parse, resolve and type-check .vpl files, reporting every mistake.
    Check(CheckArgs),
    /// Lower a pipeline and print its optimised plan, a gst-launch description, or a graph.
    Build(BuildArgs),
    /// Compile a pipeline and run it. Exit status: 0 finished; 1 compile errors; 2 could
    /// not start; 3 run-time error; 4 finished, but a broker sink delivered none of its
    /// messages; 130 interrupted (outputs finished); 128 + N a second signal N.
    Run(RunArgs),
    /// Rewrite .vpl files in the canonical layout.
    Fmt(FmtArgs),
    /// Print the page about a diagnostic code, e.g. `vplc explain E0301`.
    Explain(ExplainArgs),
    /// Run the language server on standard input and output, for editors.
    Lsp(LspArgs),
    /// Turn another tool's pipeline config into a .vpl program and check it.
    #[command(subcommand)]
    Import(ImportFrom),
    /// Write what runs a pipeline on a cluster, its cameras split into shards.
    Deploy(DeployArgs),
}

#[derive(Debug, Subcommand)]
pub enum ImportFrom {
    /// A deepstream-app config and the nvinfer, tracker and nvdsanalytics files it names.
    /// Every diagnostic points at the DeepStream file and line that caused it. Exit status:
    /// 0 clean (warnings allowed); 1 errors (nothing written without --partial); 2 the
    /// config or the output cannot be read or written.
    Deepstream(DeepstreamArgs),
}

#[derive(Debug, clap::Args)]
pub struct DeepstreamArgs {
    /// The deepstream-app config (or one nvinfer, tracker or nvdsanalytics config).
    pub config: PathBuf,
    /// Where to write the program (default: the config's path with `.vpl`).
    #[arg(short, long)]
    pub output: Option<PathBuf>,
    /// How to print diagnostics.
    #[arg(long, value_enum, default_value_t = ImportFormat::Human)]
    pub format: ImportFormat,
    /// Write the program even when there are errors, with a comment for each thing not
    /// imported.
    #[arg(long)]
    pub partial: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ImportFormat {
    /// Source excerpts of the DeepStream files with labels, for people.
    Human,
    /// One JSON object on standard output, as `vplc check --format json`, with `output`.
    Json,
    /// A SARIF 2.1.0 log on standard output.
    Sarif,
}

#[derive(Debug, clap::Args)]
pub struct DeployArgs {
    #[command(subcommand)]
    pub target: DeployTarget,
}

#[derive(Debug, Subcommand)]
pub enum DeployTarget {
    /// Kubernetes manifests and a kustomization.yaml: a ConfigMap with the program and the
    /// camera list, a headless Service, a StatefulSet of N pods, pod i running shard i/N
    /// (docs/scale.md). Exit status: 0 written; 1 the program or the camera list is wrong
    /// (a shard with more cameras than the pool's `max`); 2 an input or DIR unusable.
    K8s(K8sArgs),
}

#[derive(Debug, clap::Args)]
pub struct K8sArgs {
    /// The program to deploy: checked first, with one pool the cameras are admitted into.
    pub file: PathBuf,
    /// The pipeline to run, when the file has several.
    #[arg(long)]
    pub pipeline: Option<String>,
    /// The camera list (`- id: … url: … params: …`, the format of a pool's `streams:`).
    #[arg(long, value_name = "FILE")]
    pub cameras: PathBuf,
    /// How many shards (pods); each runs the cameras rendezvous hashing gives it.
    #[arg(long, value_name = "N")]
    pub shards: usize,
    /// The container image with vplc (and `sh` and `wget`, for the health probes).
    #[arg(long)]
    pub image: String,
    /// Give each pod one NVIDIA GPU (`nvidia.com/gpu: 1`).
    #[arg(long)]
    pub gpu: bool,
    /// The objects' name (default: the program file's name, as a DNS label).
    #[arg(long)]
    pub name: Option<String>,
    /// The folder the manifests are written to (made if missing).
    #[arg(short, long, value_name = "DIR")]
    pub output: PathBuf,
}

#[derive(Debug, clap::Args)]
pub struct CheckArgs {
    /// The files to check.
    #[arg(required = true)]
    pub files: Vec<PathBuf>,
    /// How to print diagnostics.
    #[arg(long, value_enum, default_value_t = Format::Human)]
    pub format: Format,
    /// Fail (exit 1) on warnings too.
    #[arg(long)]
    pub deny_warnings: bool,
    /// Also print the type of every `let`-bound stream (with `--format json`: a `types` list).
    #[arg(long)]
    pub types: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Format {
    /// Source excerpts with labels, for people.
    Human,
    /// One JSON object on standard output (docs/language.md §7).
    Json,
    /// A SARIF 2.1.0 log on standard output, for code-scanning services.
    Sarif,
    /// GitHub Actions workflow commands (`::error file=...::...`), one a diagnostic.
    Github,
}

#[derive(Debug, clap::Args)]
pub struct BuildArgs {
    /// The file to build.
    pub file: PathBuf,
    /// The pipeline to build, when the file has several.
    #[arg(long)]
    pub pipeline: Option<String>,
    /// What to print.
    #[arg(long, value_enum, required_unless_present = "engine")]
    pub emit: Option<Emit>,
    /// Build the TensorRT engines of the pipeline's models ahead of time, into the engine
    /// cache, instead of printing (needs an NVIDIA GPU and a GPU build of vpl).
    #[arg(long, conflicts_with_all = ["emit", "output"])]
    pub engine: bool,
    /// The engine cache directory (default: $VPL_ENGINE_CACHE, else ~/.cache/vpl/engines).
    #[arg(long, conflicts_with_all = ["emit", "output"])]
    pub engine_cache: Option<PathBuf>,
    /// Write to this file instead of standard output.
    #[arg(short, long)]
    pub output: Option<PathBuf>,
    /// The backend to lower for, as `vplc run --backend` (a GPU decodes with NVDEC and
    /// encodes with NVENC where GStreamer has them).
    #[arg(long, value_enum, default_value_t = Backend::Auto)]
    pub backend: Backend,
}

#[derive(Debug, clap::Args)]
pub struct RunArgs {
    /// The file to run.
    pub file: PathBuf,
    /// The pipeline to run, when the file has several.
    #[arg(long)]
    pub pipeline: Option<String>,
    /// Stop after this many frames of each stream.
    #[arg(long)]
    pub max_frames: Option<u64>,
    /// Where decoding and models run: `auto` is the GPU where the CUDA driver reports one
    /// (and vplc was built with GPU support), else the CPU.
    #[arg(long, value_enum, default_value_t = Backend::Auto)]
    pub backend: Backend,
    /// Threads for each model (0: ONNX Runtime's default, one per core).
    #[arg(long, default_value_t = 0)]
    pub threads: usize,
    /// Play recorded files at their frame rate, as live cameras would deliver them
    /// (every sink waits for its frame's time), instead of as fast as the machine goes.
    #[arg(long)]
    pub realtime: bool,
    /// Write run statistics as JSON to this file.
    #[arg(long)]
    pub stats: Option<PathBuf>,
    /// Serve the run's figures (fps, latency, dropped frames, queue fill, inference time,
    /// broker buffers) as Prometheus text at http://ADDR/metrics, e.g. 127.0.0.1:9100.
    #[arg(long, value_name = "ADDR")]
    pub metrics: Option<std::net::SocketAddr>,
    /// Give each frame record (`json`) its time from the source to the records sink, as
    /// "latency_ms" (docs/records.md).
    #[arg(long)]
    pub latency: bool,
    /// Serve the control API at http://ADDR/v1/… (streams of pools added and removed,
    /// health, stop), e.g. 127.0.0.1:9000; port 0 picks a free one, said on standard error.
    /// An address other than loopback requires VPL_CONTROL_TOKEN (docs/live.md).
    #[arg(long, value_name = "ADDR")]
    pub control: Option<std::net::SocketAddr>,
    /// A list of cameras (`- id: … url: … params: …`, the format of a pool's `streams:`
    /// file) to admit into the program's pool; with `--shard`, only the shard's share. Or
    /// `kafka://BROKERS/TOPIC?group=G`: join consumer group G on a compacted topic of
    /// cameras and run those of the partitions Kafka assigns (docs/scale.md).
    #[arg(long, value_name = "FILE|URL")]
    pub cameras: Option<PathBuf>,
    /// Run shard I of N (`0/3`): only the cameras of `--cameras` that rendezvous hashing on
    /// their id puts on shard I (docs/scale.md); records carry `"shard": I`.
    #[arg(long, value_name = "I/N", requires = "cameras")]
    pub shard: Option<crate::shard::Shard>,
    /// No progress and no summary.
    #[arg(long)]
    pub quiet: bool,
    /// The least important lines shown on standard error.
    #[arg(long, value_enum, default_value_t = LogLevel::Info)]
    pub log_level: LogLevel,
    /// `text` for people; `json`: one object a line (`ts`, `level`, `msg` and fields).
    #[arg(long, value_enum, default_value_t = LogFormat::Text)]
    pub log_format: LogFormat,
    /// Start each text line with the time (RFC 3339, UTC); JSON lines always have `ts`.
    #[arg(long)]
    pub log_timestamps: bool,
    /// Seconds between progress lines when standard error is not a terminal (a container's
    /// log, a file); 0: none. On a terminal the progress is one line kept up to date.
    #[arg(long, value_name = "SECONDS", default_value_t = 10)]
    pub progress_interval: u64,
}

/// `--log-level`, from the most important.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, ValueEnum)]
pub enum LogLevel {
    /// Only what failed.
    Error,
    /// Also warnings.
    Warn,
    /// Also notes, progress and the summary.
    Info,
    /// Also how the run was set up.
    Debug,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum LogFormat {
    /// Lines for people.
    Text,
    /// One JSON object a line.
    Json,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Backend {
    /// The GPU where a usable one is found, else the CPU.
    Auto,
    /// GStreamer's CPU decoders and ONNX Runtime's CPU execution provider.
    Cpu,
    /// NVDEC/NVENC where GStreamer has them, and ONNX Runtime's CUDA execution provider.
    Cuda,
    /// As `cuda`, with ONNX Runtime's TensorRT execution provider.
    Tensorrt,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Emit {
    /// The optimised pipeline graph, with the passes and batch decisions.
    Plan,
    /// A gst-launch-1.0 description.
    Gst,
    /// A Graphviz graph of the elements.
    Dot,
}

#[derive(Debug, clap::Args)]
pub struct FmtArgs {
    /// The files to format in place.
    #[arg(required = true)]
    pub files: Vec<PathBuf>,
    /// Change nothing; exit 1 when a file is not formatted.
    #[arg(long)]
    pub check: bool,
}

#[derive(Debug, clap::Args)]
pub struct ExplainArgs {
    /// A diagnostic code such as E0301 or W0001.
    pub code: String,
}

#[derive(Debug, clap::Args)]
pub struct LspArgs {
    /// Accepted and ignored: stdio is the only transport (some clients pass this flag).
    #[arg(long)]
    pub stdio: bool,
}
