//! Servers the end-to-end tests start on free ports: mosquitto and redis-server (installed
//! by scripts/setup.sh), stopped when the test ends however it ends.

use std::net::{TcpListener, TcpStream};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::thread::sleep;
use std::time::{Duration, Instant};

pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .expect("a free port")
        .local_addr()
        .expect("bound")
        .port()
}

/// A server process, killed when the test ends however it ends.
pub struct Server(pub Child);

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

impl Server {
    /// SIGTERM, and wait: mosquitto saves its persistent sessions on the way out.
    pub fn stop(&mut self) {
        let _ = Command::new("kill")
            .args(["-TERM", &self.0.id().to_string()])
            .status();
        let _ = self.0.wait();
    }
}

pub fn wait_for_port(port: u16) {
    let start = Instant::now();
    while TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(
            start.elapsed() < Duration::from_secs(10),
            "the server on port {port} did not start"
        );
        sleep(Duration::from_millis(20));
    }
}

pub fn spawn(program: &str, args: &[&str]) -> Child {
    Command::new(program)
        .args(args)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap_or_else(|e| panic!("{program} runs (scripts/setup.sh installs it): {e}"))
}

/// mosquitto on `port`, keeping sessions in `dir` across restarts (`user root`: run as
/// root, as CI does, it would otherwise drop to a user that cannot write `dir`).
pub fn mosquitto(port: u16, dir: &Path) -> Server {
    let conf = dir.join("mosquitto.conf");
    std::fs::write(
        &conf,
        format!(
            "listener {port} 127.0.0.1\nallow_anonymous true\npersistence true\npersistence_location {}/\nuser root\n",
            dir.display()
        ),
    )
    .expect("config written");
    let server = Server(spawn("mosquitto", &["-c", &conf.display().to_string()]));
    wait_for_port(port);
    server
}

/// redis-server on `port`; every acknowledged write is on disk in `dir` (appendfsync
/// always), so a restart keeps the stream.
pub fn redis(port: u16, dir: &Path) -> Server {
    let server = Server(spawn(
        "redis-server",
        &[
            "--port",
            &port.to_string(),
            "--bind",
            "127.0.0.1",
            "--save",
            "",
            "--appendonly",
            "yes",
            "--appendfsync",
            "always",
            "--dir",
            &dir.display().to_string(),
        ],
    ));
    wait_for_port(port);
    server
}

pub fn redis_frames(port: u16, key: &str) -> Vec<u64> {
    let out = Command::new("redis-cli")
        .args(["-p", &port.to_string(), "--raw", "XRANGE", key, "-", "+"])
        .output()
        .expect("redis-cli runs");
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter(|l| l.starts_with('{'))
        .map(|l| {
            serde_json::from_str::<serde_json::Value>(l).expect("a JSON record")["frame"]
                .as_u64()
                .expect("a frame number")
        })
        .collect()
}

/// A certificate authority and a server certificate it signed for `localhost` and
/// 127.0.0.1, made with the `openssl` command in `dir`: (ca.crt, server.crt, server.key).
pub fn certificates(dir: &Path) -> (String, String, String) {
    let path = |name: &str| dir.join(name).display().to_string();
    let run = |args: &[&str]| {
        let out = Command::new("openssl")
            .args(args)
            .output()
            .expect("openssl runs (Debian's openssl)");
        assert!(
            out.status.success(),
            "openssl {args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    };
    let (ca_key, ca, key, csr, cert, ext) = (
        path("ca.key"),
        path("ca.crt"),
        path("server.key"),
        path("server.csr"),
        path("server.crt"),
        path("server.ext"),
    );
    std::fs::write(&ext, "subjectAltName=DNS:localhost,IP:127.0.0.1\n").expect("ext written");
    run(&[
        "req",
        "-x509",
        "-newkey",
        "rsa:2048",
        "-nodes",
        "-days",
        "2",
        "-subj",
        "/CN=vpl test CA",
        "-keyout",
        &ca_key,
        "-out",
        &ca,
    ]);
    run(&[
        "req",
        "-newkey",
        "rsa:2048",
        "-nodes",
        "-subj",
        "/CN=localhost",
        "-keyout",
        &key,
        "-out",
        &csr,
    ]);
    run(&[
        "x509",
        "-req",
        "-in",
        &csr,
        "-CA",
        &ca,
        "-CAkey",
        &ca_key,
        "-CAcreateserial",
        "-days",
        "2",
        "-extfile",
        &ext,
        "-out",
        &cert,
    ]);
    (ca, cert, key)
}

/// One broker sink's figures in the `--stats` file, found by its protocol.
pub fn broker_stats(stats: &serde_json::Value, protocol: &str) -> serde_json::Value {
    stats["brokers"]
        .as_array()
        .expect("broker figures in the statistics")
        .iter()
        .find(|b| b["protocol"] == protocol)
        .expect("this broker's figures")
        .clone()
}
