//! Nothing lost, nothing hangs: paths resolved the way the user means them, outputs
//! written whole or not at all, signals and broken pipes ending a run cleanly, inputs
//! that are not regular files refused instead of waited on.

mod common;

use std::path::Path;
use std::process::{Command, Output};

use common::temp_dir;

/// A process that never ends by itself, by id: killed when the test ends (a no-op once
/// it has ended).
struct KillPid(u32);

impl Drop for KillPid {
    fn drop(&mut self) {
        let _ = Command::new("kill")
            .args(["-KILL", &self.0.to_string()])
            .stderr(std::process::Stdio::null())
            .status();
    }
}

/// A child that never ends by itself: killed when the test ends, passed or not.
struct KillOnDrop(std::process::Child);

impl Drop for KillOnDrop {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn vplc_in(cwd: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_vplc"))
        .args(args)
        .current_dir(cwd)
        .env("NO_COLOR", "1")
        .env("VPL_CACHE_DIR", "off")
        .output()
        .expect("vplc runs")
}

#[test]
fn relative_paths_climb_from_the_program_not_from_each_other() {
    // `cd proj/a/b && vplc run ../../sub/p.vpl` with `file("../out.jsonl")`: the
    // records go to proj/out.jsonl (beside sub/), not to proj/a/b/out.jsonl.
    let proj = temp_dir("dotdot");
    let cwd = proj.join("a/b");
    std::fs::create_dir_all(&cwd).expect("mkdir");
    std::fs::create_dir_all(proj.join("sub")).expect("mkdir");
    std::fs::write(
        proj.join("sub/p.vpl"),
        "pipeline p {\n    test(resolution: 64x48, frames: 2) | json | file(\"../out.jsonl\");\n}\n",
    )
    .expect("write");
    let out = vplc_in(&cwd, &["run", "--quiet", "../../sub/p.vpl"]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let records = std::fs::read_to_string(proj.join("out.jsonl")).expect("records in proj/");
    assert_eq!(records.lines().count(), 2);
    assert!(!cwd.join("out.jsonl").exists());
    assert!(!proj.join("a/out.jsonl").exists());
}

fn clean_program(name: &str) -> (std::path::PathBuf, String) {
    let dir = temp_dir(name);
    let program = dir.join("p.vpl");
    std::fs::write(
        &program,
        "pipeline p {\n    let s = test(resolution: 64x48, frames: 2);\n    s | json | stdout;\n}\n",
    )
    .expect("write");
    (dir, program.display().to_string())
}

#[test]
fn standard_output_on_a_full_disk_is_a_message_not_a_panic() {
    let (dir, program) = clean_program("devfull");
    for args in [
        vec!["check", "--format", "json", program.as_str()],
        vec!["check", "--format", "sarif", program.as_str()],
        vec!["check", "--types", program.as_str()],
        vec!["build", "--emit", "gst", program.as_str()],
        vec!["explain", "E0301"],
    ] {
        let out = Command::new(env!("CARGO_BIN_EXE_vplc"))
            .args(&args)
            .current_dir(&dir)
            .env("VPL_CACHE_DIR", "off")
            .stdout(std::fs::File::create("/dev/full").expect("/dev/full"))
            .output()
            .expect("vplc runs");
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {stderr}");
        assert!(
            stderr.contains("cannot write to standard output") && !stderr.contains("panicked"),
            "{args:?}: {stderr}"
        );
    }
}

#[test]
fn standard_output_into_a_closed_pipe_is_a_message_not_a_panic() {
    let (dir, program) = clean_program("pipe");
    for args in [
        vec!["check", "--format", "json", program.as_str()],
        vec!["build", "--emit", "plan", program.as_str()],
    ] {
        let mut child = Command::new(env!("CARGO_BIN_EXE_vplc"))
            .args(&args)
            .current_dir(&dir)
            .env("VPL_CACHE_DIR", "off")
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .expect("vplc starts");
        drop(child.stdout.take()); // the reader goes away (`vplc … | head -0`)
        let out = child.wait_with_output().expect("vplc ends");
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {stderr}");
        assert!(
            stderr.contains("broken pipe") && !stderr.contains("panicked"),
            "{args:?}: {stderr}"
        );
    }
}

#[test]
fn fmt_replaces_the_file_whole() {
    // fmt writes a temporary file beside the program and renames it: the directory holds
    // only the formatted program afterwards, and a file fmt cannot replace keeps its text.
    let dir = temp_dir("fmt-atomic");
    let program = dir.join("p.vpl");
    std::fs::write(&program, "pipeline p{test()|discard;}").expect("write");
    let inode =
        |p: &Path| std::os::unix::fs::MetadataExt::ino(&std::fs::metadata(p).expect("stat"));
    let before = inode(&program);
    let out = vplc_in(&dir, &["fmt", "p.vpl"]);
    assert_eq!(out.status.code(), Some(0));
    assert_eq!(
        std::fs::read_to_string(&program).expect("read"),
        "pipeline p {\n    test() | discard;\n}\n"
    );
    let names: Vec<_> = std::fs::read_dir(&dir)
        .expect("list")
        .map(|e| e.expect("entry").file_name())
        .collect();
    assert_eq!(names, vec![std::ffi::OsString::from("p.vpl")]);
    // A new file was renamed into place: the old one was never truncated and rewritten.
    assert_ne!(inode(&program), before);
}

/// A run of a never-ending test source into an MP4 and a records file, in `dir`.
fn endless_run(dir: &Path) -> std::process::Child {
    std::fs::write(
        dir.join("p.vpl"),
        "pipeline p {\n    let s = test(resolution: 160x120, frames: 0);\n    s | encode(h264) | file(\"out.mp4\");\n    s | json | file(\"out.jsonl\");\n}\n",
    )
    .expect("write");
    Command::new(env!("CARGO_BIN_EXE_vplc"))
        .args(["run", "--quiet", "--stats", "stats.json", "p.vpl"])
        .current_dir(dir)
        .env("VPL_CACHE_DIR", "off")
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("vplc starts")
}

/// Waits until vplc catches `signo` (its handler is installed: bit `signo - 1` of
/// `SigCgt` in /proc/PID/status), at most 30 s. Before that, at the very start of the
/// process, a signal has its default action, as for any program: the early-signal tests
/// measure their delay from this moment, so a loaded machine's slow start does not make
/// them send the signal before vplc can hear it.
fn wait_until_it_catches(child: &std::process::Child, signo: u32) {
    let status = format!("/proc/{}/status", child.id());
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    while std::time::Instant::now() < deadline {
        let caught = std::fs::read_to_string(&status)
            .ok()
            .and_then(|text| {
                let mask = text.lines().find_map(|l| l.strip_prefix("SigCgt:"))?;
                u64::from_str_radix(mask.trim(), 16).ok()
            })
            .is_some_and(|mask| mask & (1 << (signo - 1)) != 0);
        if caught {
            return;
        }
        std::thread::sleep(std::time::Duration::from_millis(1));
    }
    panic!("vplc never caught signal {signo}");
}

fn send(child: &std::process::Child, signal: &str) {
    let status = Command::new("kill")
        .args([&format!("-{signal}"), &child.id().to_string()])
        .status()
        .expect("kill runs");
    assert!(status.success());
}

/// Waits until the run has written some records (at most 30 s).
fn wait_for_records(dir: &Path) {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    while std::time::Instant::now() < deadline {
        let lines = std::fs::read_to_string(dir.join("out.jsonl")).map_or(0, |t| t.lines().count());
        if lines >= 5 {
            return;
        }
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    panic!("no records after 30 s");
}

#[test]
fn sigterm_and_sighup_finish_every_output_like_ctrl_c() {
    for signal in ["TERM", "HUP", "INT"] {
        let dir = temp_dir(&format!("signal-{signal}"));
        let child = endless_run(&dir);
        wait_for_records(&dir);
        send(&child, signal);
        let out = child.wait_with_output().expect("vplc ends");
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(130), "SIG{signal}: {stderr}");
        let stats = common::stats(&dir.join("stats.json"));
        assert_eq!(stats["exit"], "interrupted", "SIG{signal}");
        let written = stats["frames"][0].as_u64().expect("frames");
        // Every record line is whole JSON, and the MP4 plays to its end.
        let records = std::fs::read_to_string(dir.join("out.jsonl")).expect("records");
        for line in records.lines() {
            serde_json::from_str::<serde_json::Value>(line).expect("a whole record");
        }
        assert!(records.lines().count() as u64 >= 5);
        let played = common::count_frames(&dir.join("out.mp4"), &dir);
        assert!(
            played >= 5 && played <= written,
            "SIG{signal}: {played} of {written}"
        );
    }
}

#[test]
fn a_signal_while_starting_ends_the_run_as_asked() {
    for delay_ms in [30, 100, 200, 300] {
        let dir = temp_dir(&format!("early-{delay_ms}"));
        let child = endless_run(&dir);
        wait_until_it_catches(&child, 2);
        std::thread::sleep(std::time::Duration::from_millis(delay_ms));
        send(&child, "INT");
        let out = child.wait_with_output().expect("vplc ends");
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(
            out.status.code(),
            Some(130),
            "after {delay_ms} ms: {stderr}"
        );
    }
}

#[test]
fn a_second_signal_stops_at_once_and_names_what_is_unfinished() {
    let dir = temp_dir("signal-twice");
    // A run whose outputs cannot be finished until the test lets them: its records also go
    // to standard output, a pipe nobody reads. Once the pipe is full every branch waits
    // for it, and end-of-stream cannot reach the files. The first signal cannot finish
    // the run then, however slow the machine is between the two signals.
    std::fs::write(
        dir.join("p.vpl"),
        "pipeline p {\n    let s = test(resolution: 160x120, frames: 0);\n    s | encode(h264) | file(\"out.mp4\");\n    s | json | file(\"out.jsonl\");\n    s | json | stdout;\n}\n",
    )
    .expect("write");
    let mut child = Command::new(env!("CARGO_BIN_EXE_vplc"))
        .args([
            "run",
            "--progress-interval",
            "1",
            "--stats",
            "stats.json",
            "p.vpl",
        ])
        .current_dir(&dir)
        .env("NO_COLOR", "1")
        .env("VPL_CACHE_DIR", "off")
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("vplc starts");
    let _kill = KillPid(child.id());
    // Held open and never read.
    let _stdout = child.stdout.take().expect("stdout");
    let (lines, stderr) = std::sync::mpsc::channel::<String>();
    let pipe = child.stderr.take().expect("stderr");
    std::thread::spawn(move || {
        use std::io::BufRead;
        for line in std::io::BufReader::new(pipe).lines().map_while(Result::ok) {
            if lines.send(line).is_err() {
                break;
            }
        }
    });
    // A progress line that counts frames: the figures a second signal writes to the
    // statistics are as recent as it (both are taken at the same tick).
    let mut said = Vec::new();
    let counted = |line: &str| {
        line.strip_prefix("vplc: progress ")
            .and_then(|rest| rest.split("stream 0: ").nth(1))
            .and_then(|rest| rest.split(' ').next())
            .and_then(|n| n.parse::<u64>().ok())
            .is_some_and(|n| n > 0)
    };
    loop {
        let line = stderr
            .recv_timeout(std::time::Duration::from_secs(60))
            .unwrap_or_else(|_| panic!("no progress line with frames: {said:?}"));
        let done = counted(&line);
        said.push(line);
        if done {
            break;
        }
    }
    // Sent back to back, the two may reach vplc in either order (pending signals are
    // delivered lowest number first): whichever comes second stops the run.
    send(&child, "TERM");
    send(&child, "HUP");
    let status = child.wait().expect("vplc ends");
    said.extend(stderr.iter());
    let stderr = said.join("\n");
    // 128 + the second signal's number: not the clean 130, not death by the signal.
    let second = match status.code() {
        Some(129) => "hung up (SIGHUP)",
        Some(143) => "terminated (SIGTERM)",
        other => panic!("exit status {other:?}: {stderr}"),
    };
    assert!(
        stderr.contains(&format!("{second} again: stopped at once; left unfinished"))
            && stderr.contains("out.mp4")
            && stderr.contains("out.jsonl"),
        "{stderr}"
    );
    // The statistics are written all the same, saying the run was interrupted.
    let stats = common::stats(&dir.join("stats.json"));
    assert_eq!(stats["exit"], "interrupted", "{stats}");
    assert!(
        stats["frames"][0].as_u64().is_some_and(|n| n > 0),
        "{stats}"
    );
}

/// Runs vplc in `dir`, killing it after 20 s: a hang is a failure, not a stuck test.
fn vplc_bounded(dir: &Path, args: &[&str]) -> Output {
    let mut child = Command::new(env!("CARGO_BIN_EXE_vplc"))
        .args(args)
        .current_dir(dir)
        .env("NO_COLOR", "1")
        .env("VPL_CACHE_DIR", "off")
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("vplc starts");
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
    while child.try_wait().expect("wait").is_none() {
        if std::time::Instant::now() > deadline {
            let _ = child.kill();
            panic!("vplc {args:?} hung");
        }
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    child.wait_with_output().expect("output")
}

#[test]
fn fifos_named_as_inputs_are_refused_not_waited_on() {
    let dir = temp_dir("fifo");
    for name in ["pipe.mp4", "pipe.onnx", "pipe.labels", "pipe.vpl"] {
        let status = Command::new("mkfifo")
            .arg(dir.join(name))
            .status()
            .expect("mkfifo");
        assert!(status.success());
    }
    let cases = [
        "pipeline p {\n    file(\"pipe.mp4\") | decode | discard;\n}\n",
        "model m = onnx(\"pipe.onnx\");\npipeline p {\n    test() | infer(m) | json | stdout;\n}\n",
        &format!(
            "model m = onnx({:?}, labels: \"pipe.labels\");\npipeline p {{\n    test() | infer(m) | json | stdout;\n}}\n",
            common::asset("assets/models/colour_classifier.onnx")
        ),
    ];
    for (i, text) in cases.iter().enumerate() {
        let program = format!("p{i}.vpl");
        std::fs::write(dir.join(&program), text).expect("write");
        for command in [
            &["check"][..],
            &["build", "--emit", "plan"],
            &["run", "--quiet"],
        ] {
            let mut args = command.to_vec();
            args.push(&program);
            let out = vplc_bounded(&dir, &args);
            let stderr = String::from_utf8_lossy(&out.stderr);
            assert_eq!(out.status.code(), Some(1), "{args:?} on {text}: {stderr}");
            assert!(
                stderr.contains("E0109") && stderr.contains("not a regular file"),
                "{args:?}: {stderr}"
            );
        }
    }
    let out = vplc_bounded(&dir, &["fmt", "pipe.vpl"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("not a regular file"));
}

#[test]
fn a_statistics_file_that_cannot_be_written_is_said_before_the_run() {
    // The source never ends: the run must not start at all.
    let dir = temp_dir("stats-unwritable");
    std::fs::write(
        dir.join("p.vpl"),
        "pipeline p {\n    test(frames: 0) | discard;\n}\n",
    )
    .expect("write");
    let out = vplc_bounded(
        &dir,
        &[
            "run",
            "--quiet",
            "--stats",
            "no/such/dir/stats.json",
            "p.vpl",
        ],
    );
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.contains("cannot write the statistics to no/such/dir/stats.json"),
        "{stderr}"
    );
}

#[test]
fn byte_order_marks_and_old_mac_line_ends_are_read_as_written() {
    let dir = temp_dir("line-ends");
    let check = |name: &str, text: &str| -> serde_json::Value {
        std::fs::write(dir.join(name), text).expect("write");
        let out = vplc_in(&dir, &["check", "--format", "json", name]);
        serde_json::from_slice(&out.stdout).expect("JSON diagnostics")
    };
    // A byte-order mark (Windows editors write one) is not E0001.
    let bom = check(
        "bom.vpl",
        "\u{feff}// a program saved with a BOM\npipeline p {\n    test() | discard;\n}\n",
    );
    assert_eq!(bom["errors"], 0, "{bom}");
    // CR alone ends a line: the comment does not swallow the program, and a mistake
    // on the third line is reported there.
    let cr = check(
        "cr.vpl",
        "// old Mac line ends\rpipeline p {\r    test() | decdoe | discard;\r}\r",
    );
    assert_eq!(cr["errors"], 1, "{cr}");
    assert_eq!(cr["diagnostics"][0]["code"], "E0102", "{cr}");
    assert_eq!(cr["diagnostics"][0]["line"], 3, "{cr}");
    assert_eq!(cr["diagnostics"][0]["column"], 14, "{cr}");
    // fmt reads both and writes plain line feeds.
    std::fs::write(
        dir.join("fmt.vpl"),
        "\u{feff}pipeline p {\r test() | discard;\r}\r",
    )
    .expect("write");
    let out = vplc_in(&dir, &["fmt", "fmt.vpl"]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(
        std::fs::read_to_string(dir.join("fmt.vpl")).expect("read"),
        "pipeline p {\n    test() | discard;\n}\n"
    );
}

/// `test() | rate(10fps) | … | discard` with `stages` rate stages.
fn long_flow(stages: usize) -> String {
    let mut text = String::from("pipeline p {\n    test(resolution: 64x48, frames: 3)");
    for _ in 0..stages {
        text.push_str("\n        | rate(10fps)");
    }
    text.push_str("\n        | discard;\n}\n");
    text
}

#[test]
fn a_flow_of_thousands_of_stages_is_a_diagnostic_not_a_stack_overflow() {
    let dir = temp_dir("long-flow");
    // At the limit (1,000 stages and the sink), every command works.
    std::fs::write(dir.join("limit.vpl"), long_flow(999)).expect("write");
    for args in [
        &["check", "limit.vpl"][..],
        &["build", "--emit", "plan", "limit.vpl"],
        &["run", "--quiet", "limit.vpl"],
    ] {
        let out = vplc_bounded(&dir, args);
        assert_eq!(
            out.status.code(),
            Some(0),
            "{args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    // Past it, and far past it (an overflow came at 4,281): E0001 at the first stage too many.
    for stages in [1000, 5000, 50_000] {
        std::fs::write(dir.join("long.vpl"), long_flow(stages)).expect("write");
        for args in [&["check", "long.vpl"][..], &["run", "--quiet", "long.vpl"]] {
            let out = vplc_bounded(&dir, args);
            let stderr = String::from_utf8_lossy(&out.stderr);
            assert_eq!(
                out.status.code(),
                Some(1),
                "{stages} stages, {args:?}: {stderr}"
            );
            assert!(
                stderr.contains("error[E0001]: a flow of more than 1000 stages")
                    && stderr.contains("long.vpl:1003:"),
                "{stderr}"
            );
        }
    }
}

#[test]
fn a_killed_run_keeps_every_record_already_made() {
    // Paced like a 10 fps camera: short lines, far less than a write buffer a second.
    let dir = temp_dir("sigkill");
    std::fs::write(
        dir.join("p.vpl"),
        "pipeline p {\n    test(resolution: 64x48, rate: 10fps, frames: 0) | json | file(\"out.jsonl\");\n}\n",
    )
    .expect("write");
    let mut child = KillOnDrop(
        Command::new(env!("CARGO_BIN_EXE_vplc"))
            .args(["run", "--quiet", "--realtime", "p.vpl"])
            .current_dir(&dir)
            .env("VPL_CACHE_DIR", "off")
            .stdout(std::process::Stdio::null())
            .spawn()
            .expect("vplc starts"),
    );
    // Lines reach the file one by one as frames are made (at 10 a second, a look every
    // 20 ms sees the first line or two alone); held in a write buffer they would come
    // ~50 at once, after 5 s. Start-up time does not matter: the count is what is seen.
    let lines = || std::fs::read_to_string(dir.join("out.jsonl")).map_or(0, |t| t.lines().count());
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    let first_seen = loop {
        let n = lines();
        if n > 0 || std::time::Instant::now() > deadline {
            break n;
        }
        std::thread::sleep(std::time::Duration::from_millis(20));
    };
    assert!(
        (1..=3).contains(&first_seen),
        "the first look at the file found {first_seen} lines"
    );
    while lines() < 5 && std::time::Instant::now() < deadline {
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    child.0.kill().expect("SIGKILL");
    let _ = child.0.wait();
    // Every line seen before the kill is there and whole (only a line being written at
    // the kill may be cut).
    let records = std::fs::read_to_string(dir.join("out.jsonl")).expect("records");
    let whole: Vec<&str> = records
        .split_inclusive('\n')
        .filter(|l| l.ends_with('\n'))
        .collect();
    assert!(whole.len() >= 5, "{} whole lines", whole.len());
    for line in whole {
        serde_json::from_str::<serde_json::Value>(line).expect("a whole record");
    }
}

#[test]
fn reconnecting_to_a_camera_that_is_not_there_is_not_a_busy_loop() {
    // `reconnect: 1ns` to a port nobody listens on: the attempts are at least 100 ms
    // apart (the floor), so about 20 come in 2 s, not thousands.
    let dir = temp_dir("reconnect-floor");
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .expect("bind")
        .local_addr()
        .expect("addr")
        .port();
    std::fs::write(
        dir.join("p.vpl"),
        format!(
            "pipeline p {{\n    rtsp(\"rtsp://127.0.0.1:{port}/none\", reconnect: 1ns) : video<h264, 64x48, 10fps> | decode | discard;\n}}\n"
        ),
    )
    .expect("write");
    let mut child = Command::new(env!("CARGO_BIN_EXE_vplc"))
        .args(["run", "--quiet", "p.vpl"])
        .current_dir(&dir)
        .env("VPL_CACHE_DIR", "off")
        .env("GST_DEBUG", "vplrtspsrc:5")
        .env("GST_DEBUG_NO_COLOR", "1")
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("vplc starts");
    let pid = child.id();
    // Killed if the test fails before it is interrupted (it never ends by itself).
    let guard = KillPid(pid);
    // Each failed attempt logs "still away"; they are counted for 2 s from the first one
    // (a loaded machine may take a while to start vplc at all).
    let (tx, seen) = std::sync::mpsc::channel();
    let stderr = child.stderr.take().expect("stderr");
    let reader = std::thread::spawn(move || {
        use std::io::BufRead;
        for line in std::io::BufReader::new(stderr)
            .lines()
            .map_while(Result::ok)
        {
            if line.contains("still away") {
                let _ = tx.send(std::time::Instant::now());
            }
        }
    });
    let first = seen
        .recv_timeout(std::time::Duration::from_secs(30))
        .expect("a first attempt within 30 s");
    std::thread::sleep(std::time::Duration::from_secs(2));
    send(&child, "INT");
    let status = child.wait().expect("vplc ends");
    // Reaped: its id may be another process's now.
    std::mem::forget(guard);
    reader.join().expect("the reader");
    assert_eq!(status.code(), Some(130));
    let window = std::time::Duration::from_secs(2);
    let attempts = 1 + seen
        .try_iter()
        .filter(|t| t.duration_since(first) <= window)
        .count();
    assert!(attempts <= 25, "{attempts} attempts in 2 s");
}

#[test]
fn an_output_over_its_own_source_is_refused_before_it_destroys_it() {
    let dir = temp_dir("overwrite");
    std::fs::create_dir_all(dir.join("media")).expect("mkdir");
    let input = dir.join("media/in.mp4");
    std::fs::copy(
        common::root().join("tests/fixtures/media/h264_640x360_25fps.mp4"),
        &input,
    )
    .expect("copy");
    std::os::unix::fs::symlink(dir.join("media"), dir.join("link")).expect("symlink");
    let before = std::fs::read(&input).expect("read");
    for sink in ["media/in.mp4", "link/in.mp4", "media/../link/./in.mp4"] {
        std::fs::write(
            dir.join("p.vpl"),
            format!("pipeline p {{\n    file(\"media/in.mp4\") | decode | encode(h264) | file({sink:?});\n}}\n"),
        )
        .expect("write");
        let out = vplc_bounded(&dir, &["run", "--quiet", "p.vpl"]);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(1), "{sink}: {stderr}");
        assert!(stderr.contains("error[E0210]"), "{sink}: {stderr}");
        assert_eq!(std::fs::read(&input).expect("read"), before, "{sink}");
    }
}

/// Found by a hostile test round: `{stream}` hid an output over a source (`cam{stream}.mp4`
/// with the second stream writing `cam1.mp4`), a hard link is the same file under another
/// name, and a NUL byte cut the sink's path so that `in.mp4<NUL>.mp4` wrote `in.mp4`.
/// Each is refused before anything runs, and the source is left byte for byte.
#[test]
fn outputs_over_inputs_through_stream_hard_links_and_nul_are_refused() {
    let dir = temp_dir("overwrite-hidden");
    let input = dir.join("cam1.mp4");
    std::fs::copy(
        common::root().join("tests/fixtures/media/h264_640x360_25fps.mp4"),
        &input,
    )
    .expect("copy");
    std::fs::hard_link(&input, dir.join("other-name.mp4")).expect("hard link");
    let before = std::fs::read(&input).expect("read");
    let cases = [
        (
            "pipeline p {\n    [test(frames: 5) | encode(h264), file(\"cam1.mp4\")] | file(\"cam{stream}.mp4\");\n}\n",
            "error[E0210]",
        ),
        (
            "pipeline p {\n    file(\"cam1.mp4\") | decode | encode(h264) | file(\"other-name.mp4\");\n}\n",
            "error[E0210]",
        ),
        (
            "pipeline p {\n    file(\"cam1.mp4\") | decode | encode(h264) | file(\"cam1.mp4\0.mp4\");\n}\n",
            "error[E0107]",
        ),
    ];
    for (program, expected) in cases {
        std::fs::write(dir.join("p.vpl"), program).expect("write");
        for command in [&["check", "p.vpl"][..], &["run", "--quiet", "p.vpl"]] {
            let out = vplc_bounded(&dir, command);
            let stderr = String::from_utf8_lossy(&out.stderr);
            assert_eq!(
                out.status.code(),
                Some(1),
                "{command:?} {program:?}: {stderr}"
            );
            assert!(
                stderr.contains(expected),
                "{command:?} {program:?}: {stderr}"
            );
            assert_eq!(
                std::fs::read(&input).expect("read"),
                before,
                "{command:?} {program:?}"
            );
        }
    }
}

#[test]
fn labels_that_are_not_text_and_models_that_cannot_be_read_are_errors() {
    let dir = temp_dir("unreadable-inputs");
    let classifier = common::asset("assets/models/colour_classifier.onnx");
    // Latin-1 bytes: not UTF-8. Read leniently they became `class0, class1, …`.
    std::fs::write(
        dir.join("colours.labels"),
        b"rouge\nvert\nbleu \xe9clatant\n",
    )
    .expect("write");
    std::fs::write(
        dir.join("labels.vpl"),
        format!(
            "model m = onnx({classifier:?}, labels: \"colours.labels\", decoder: classify());\npipeline p {{\n    test(frames: 2) | infer(m) | json | stdout;\n}}\n"
        ),
    )
    .expect("write");
    // A file that opens but whose read fails (EIO): it used to check clean and `infer`
    // vanished from the run, which then found 0 objects and exited 0.
    std::fs::write(
        dir.join("model.vpl"),
        "model m = onnx(\"/proc/self/mem\", decoder: classify());\npipeline p {\n    test(frames: 2) | infer(m) | json | stdout;\n}\n",
    )
    .expect("write");
    for (program, expected) in [
        (
            "labels.vpl",
            "the labels file `colours.labels` cannot be read: it is not UTF-8 text",
        ),
        ("model.vpl", "the model `/proc/self/mem` cannot be read"),
    ] {
        for command in ["check", "run"] {
            let out = vplc_bounded(&dir, &[command, program]);
            let stderr = String::from_utf8_lossy(&out.stderr);
            assert_eq!(out.status.code(), Some(1), "{command} {program}: {stderr}");
            assert!(
                stderr.contains("error[E0109]") && stderr.contains(expected),
                "{command} {program}: {stderr}"
            );
        }
    }
}

#[test]
fn every_codec_and_container_pair_that_checks_clean_writes_its_file() {
    // `encode(av1)` into any container (no av1parse) and JPEG into `.mp4` checked clean
    // and failed at run time; now each pair is either an error at check or a file.
    let dir = temp_dir("codec-container");
    let mut written = Vec::new();
    for codec in ["h264", "h265", "vp8", "vp9", "av1", "jpeg"] {
        for ext in ["mp4", "mov", "mkv", "webm", "ts"] {
            let program = format!("{codec}_{ext}.vpl");
            let output = format!("out_{codec}.{ext}");
            std::fs::write(
                dir.join(&program),
                format!(
                    "pipeline p {{\n    test(resolution: 160x120, frames: 3) | encode({codec}) | file({output:?});\n}}\n"
                ),
            )
            .expect("write");
            let checked = vplc_bounded(&dir, &["check", &program]);
            if checked.status.code() != Some(0) {
                let stderr = String::from_utf8_lossy(&checked.stderr);
                assert!(stderr.contains("error[E0202]"), "{program}: {stderr}");
                continue;
            }
            let out = vplc_bounded(&dir, &["run", "--quiet", &program]);
            assert_eq!(
                out.status.code(),
                Some(0),
                "{program}: {}",
                String::from_utf8_lossy(&out.stderr)
            );
            let size = std::fs::metadata(dir.join(&output)).map_or(0, |m| m.len());
            assert!(size > 0, "{output} is empty");
            written.push(output);
        }
    }
    // The pairs users reach for are among them.
    for expected in [
        "out_av1.mkv",
        "out_av1.mp4",
        "out_jpeg.mov",
        "out_jpeg.mkv",
        "out_h264.mp4",
    ] {
        assert!(written.iter().any(|w| w == expected), "{written:?}");
    }
}

#[test]
fn raw_video_files_stop_at_max_frames_and_are_counted() {
    let dir = temp_dir("raw-file");
    let raw = common::asset("tests/fixtures/media/raw_i420_160x120_10fps.mkv");
    std::fs::write(
        dir.join("p.vpl"),
        format!("pipeline p {{\n    [file({raw:?}), test(frames: 50)] | json | file(\"out.jsonl\");\n}}\n"),
    )
    .expect("write");
    let out = vplc_bounded(
        &dir,
        &[
            "run",
            "--quiet",
            "--max-frames",
            "5",
            "--stats",
            "s.json",
            "p.vpl",
        ],
    );
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let stats = common::stats(&dir.join("s.json"));
    assert_eq!(stats["frames"], serde_json::json!([5, 5]), "{stats}");
    assert_eq!(stats["exit"], "max-frames", "{stats}");
    let records = std::fs::read_to_string(dir.join("out.jsonl")).expect("records");
    assert_eq!(records.lines().count(), 10);
}

#[test]
fn an_encoder_branch_beside_a_display_does_not_hang_in_preroll() {
    // Found by tests/checked_runs.rs: the display waited for its first frame from behind
    // x264's look-ahead while the other branch's sink held the tee in preroll.
    let dir = temp_dir("preroll");
    let raw = common::asset("tests/fixtures/media/raw_i420_160x120_10fps.mkv");
    std::fs::write(
        dir.join("p.vpl"),
        format!(
            "pipeline p {{\n    let s = file({raw:?});\n    s | encode | decode | display;\n    s | discard;\n}}\n"
        ),
    )
    .expect("write");
    let out = vplc_bounded(&dir, &["run", "--quiet", "--stats", "s.json", "p.vpl"]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(
        common::stats(&dir.join("s.json"))["frames"],
        serde_json::json!([20])
    );
}

#[test]
fn one_file_tiled_twice_runs_and_counts_both_streams() {
    // It was "internal error while lowering"; once merged into one source, the stats
    // showed one stream.
    let dir = temp_dir("tile-twice");
    let video = common::asset("tests/fixtures/media/h264_640x360_25fps.mp4");
    std::fs::write(
        dir.join("p.vpl"),
        format!(
            "pipeline p {{\n    [file({video:?}), file({video:?})] | decode | tile(2, 1) | encode(h264) | file(\"t.mp4\");\n}}\n"
        ),
    )
    .expect("write");
    let out = vplc_bounded(
        &dir,
        &[
            "run",
            "--quiet",
            "--max-frames",
            "5",
            "--stats",
            "s.json",
            "p.vpl",
        ],
    );
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(
        common::stats(&dir.join("s.json"))["frames"],
        serde_json::json!([5, 5])
    );
    assert!(common::count_frames(&dir.join("t.mp4"), &dir) >= 1);
}

/// A signal a few tens of milliseconds after the start, while the program is compiled or
/// the pipeline starts: the run ends as for any signal, exit 130, with an MP4 that plays
/// (not a header alone, nor an error blaming the source).
#[test]
fn a_signal_just_after_the_start_leaves_a_playable_file() {
    let dir = temp_dir("early-mp4");
    std::fs::write(
        dir.join("p.vpl"),
        format!(
            "pipeline p {{\n    file({:?}) | decode | encode(h264) | file(\"out.mp4\");\n}}\n",
            common::asset("tests/fixtures/media/h264_640x360_25fps.mp4")
        ),
    )
    .expect("write");
    for delay_ms in [20, 40, 60, 80, 100, 120, 150, 40, 80, 120] {
        let _ = std::fs::remove_file(dir.join("out.mp4"));
        // --realtime: the file plays at its rate, so the signal comes before its end.
        let child = Command::new(env!("CARGO_BIN_EXE_vplc"))
            .args([
                "run",
                "--quiet",
                "--realtime",
                "--stats",
                "stats.json",
                "p.vpl",
            ])
            .current_dir(&dir)
            .env("VPL_CACHE_DIR", "off")
            .stderr(std::process::Stdio::piped())
            .spawn()
            .expect("vplc starts");
        wait_until_it_catches(&child, 2);
        std::thread::sleep(std::time::Duration::from_millis(delay_ms));
        send(&child, "INT");
        let out = child.wait_with_output().expect("vplc ends");
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(
            out.status.code(),
            Some(130),
            "after {delay_ms} ms: {stderr}"
        );
        assert_eq!(
            common::stats(&dir.join("stats.json"))["exit"],
            "interrupted"
        );
        let discovered = Command::new("gst-discoverer-1.0")
            .arg(dir.join("out.mp4"))
            .output()
            .expect("gst-discoverer-1.0 runs");
        let said = String::from_utf8_lossy(&discovered.stdout);
        assert!(
            discovered.status.success() && said.contains("video #"),
            "after {delay_ms} ms, out.mp4 does not play: {said}"
        );
    }
}

#[test]
fn a_statistics_file_on_a_full_device_is_said_before_the_run() {
    let dir = temp_dir("stats-full");
    std::fs::write(
        dir.join("p.vpl"),
        "pipeline p {\n    test(frames: 0) | discard;\n}\n",
    )
    .expect("write");
    let out = vplc_bounded(&dir, &["run", "--quiet", "--stats", "/dev/full", "p.vpl"]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.contains("cannot write the statistics to /dev/full"),
        "{stderr}"
    );
}

/// `--stats` naming the program, its source video or its output is refused before
/// anything is written, and the file is left as it was.
#[test]
fn a_statistics_file_that_is_an_input_or_output_is_refused_untouched() {
    let dir = temp_dir("stats-clash");
    std::fs::copy(
        common::asset("tests/fixtures/media/h264_640x360_25fps.mp4"),
        dir.join("in.mp4"),
    )
    .expect("copy");
    std::fs::write(dir.join("out.mp4"), b"an older output").expect("write");
    let program =
        "pipeline p {\n    file(\"in.mp4\") | decode | encode(h264) | file(\"out.mp4\");\n}\n";
    std::fs::write(dir.join("p.vpl"), program).expect("write");
    std::fs::create_dir_all(dir.join("sub")).expect("mkdir");
    for (stats, what) in [
        ("p.vpl", "the program"),
        ("./sub/../p.vpl", "the program"),
        ("in.mp4", "reads or writes"),
        ("out.mp4", "reads or writes"),
    ] {
        let before: Vec<Vec<u8>> = ["p.vpl", "in.mp4", "out.mp4"]
            .iter()
            .map(|f| std::fs::read(dir.join(f)).expect("read"))
            .collect();
        let out = vplc_bounded(&dir, &["run", "--quiet", "--stats", stats, "p.vpl"]);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "--stats {stats}: {stderr}");
        assert!(
            stderr.contains(&format!("cannot write the statistics to {stats}"))
                && stderr.contains(what),
            "--stats {stats}: {stderr}"
        );
        let after: Vec<Vec<u8>> = ["p.vpl", "in.mp4", "out.mp4"]
            .iter()
            .map(|f| std::fs::read(dir.join(f)).expect("read"))
            .collect();
        assert!(before == after, "--stats {stats} changed a file");
    }
}

/// A program file that is a FIFO nobody writes: a clear error at once, not a run that
/// waits for ever (where no signal could stop it).
#[test]
fn a_program_that_is_a_fifo_is_refused() {
    let dir = temp_dir("fifo-program");
    let status = Command::new("mkfifo")
        .arg(dir.join("p.vpl"))
        .status()
        .expect("mkfifo");
    assert!(status.success());
    for command in [&["run", "--quiet"][..], &["check"]] {
        let mut args = command.to_vec();
        args.push("p.vpl");
        let out = vplc_bounded(&dir, &args);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {stderr}");
        assert!(stderr.contains("not a regular file"), "{args:?}: {stderr}");
    }
}
