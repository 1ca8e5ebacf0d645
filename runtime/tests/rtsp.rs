//! `vplrtspout` serves H.264 on 127.0.0.1 and `vplrtspsrc` reads it back in another
//! pipeline; the reader survives the server being stopped and started again on the same
//! port (a warning, then frames again, never an error). Every wait has a generous limit so
//! that a broken build fails instead of hanging; no assertion depends on how fast it runs.

use std::net::TcpListener;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use gstreamer as gst;
use gstreamer::prelude::*;
use gstreamer_app as gst_app;

/// Long enough for anything that works; only a broken element gets near it.
const LIMIT: Duration = Duration::from_secs(30);

fn init() {
    vpl_runtime::elements::register().expect("vpl elements register");
}

/// A port nobody listens on now (tests run in parallel, each with its own).
fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free port")
}

fn launch(description: &str) -> gst::Pipeline {
    gst::parse::launch(description)
        .expect("valid pipeline description")
        .downcast::<gst::Pipeline>()
        .expect("a pipeline")
}

/// A test pattern encoded as vpl encodes for `rtsp_out`, served at
/// `rtsp://127.0.0.1:port/t`; `frames` 0 means forever.
fn server(port: u16, frames: u32) -> gst::Pipeline {
    let buffers = if frames == 0 { -1 } else { frames as i64 };
    launch(&format!(
        "videotestsrc num-buffers={buffers} pattern=ball \
         ! video/x-raw,format=I420,width=320,height=240,framerate=30/1 \
         ! x264enc tune=zerolatency key-int-max=60 speed-preset=ultrafast bitrate=500 \
         ! h264parse ! vplrtspout name=out port={port} address=127.0.0.1 path=/t"
    ))
}

/// What a reading pipeline saw: decoded frames (their timestamps) and bus messages.
struct Reader {
    pipeline: gst::Pipeline,
    pts: Arc<Mutex<Vec<u64>>>,
    frames: Arc<AtomicU64>,
    warnings: Vec<String>,
    errors: Vec<String>,
    eos: bool,
}

impl Reader {
    fn new(port: u16, props: &str) -> Reader {
        Reader::through(port, props, "")
    }

    /// A reader whose frames pass through `stages` (`! identity sleep-time=…`) after decoding.
    fn through(port: u16, props: &str, stages: &str) -> Reader {
        let pipeline = launch(&format!(
            "vplrtspsrc name=src location=rtsp://127.0.0.1:{port}/t latency=100 {props} \
             ! h264parse ! avdec_h264 {stages} ! appsink name=out sync=false"
        ));
        let sink = pipeline
            .by_name("out")
            .and_then(|e| e.downcast::<gst_app::AppSink>().ok())
            .expect("the appsink");
        let pts = Arc::new(Mutex::new(Vec::new()));
        let frames = Arc::new(AtomicU64::new(0));
        let (p, f) = (pts.clone(), frames.clone());
        sink.set_callbacks(
            gst_app::AppSinkCallbacks::builder()
                .new_sample(move |sink| {
                    let sample = sink.pull_sample().map_err(|_| gst::FlowError::Eos)?;
                    if let Some(t) = sample.buffer().and_then(|b| b.pts()) {
                        p.lock().unwrap().push(t.nseconds());
                    }
                    f.fetch_add(1, Ordering::SeqCst);
                    Ok(gst::FlowSuccess::Ok)
                })
                .build(),
        );
        Reader {
            pipeline,
            pts,
            frames,
            warnings: Vec::new(),
            errors: Vec::new(),
            eos: false,
        }
    }

    /// A reader of `rtsp://127.0.0.1:port/t`, already playing.
    fn playing(port: u16, props: &str) -> Reader {
        let reader = Reader::new(port, props);
        reader
            .pipeline
            .set_state(gst::State::Playing)
            .expect("reading");
        reader
    }

    fn frames(&self) -> u64 {
        self.frames.load(Ordering::SeqCst)
    }

    /// Reads the bus until `done` holds; false if it did not within `LIMIT`.
    fn until(&mut self, done: impl Fn(&Reader) -> bool) -> bool {
        let bus = self.pipeline.bus().expect("a bus");
        let deadline = Instant::now() + LIMIT;
        while Instant::now() < deadline {
            if done(self) {
                return true;
            }
            if let Some(msg) = bus.timed_pop(gst::ClockTime::from_mseconds(50)) {
                match msg.view() {
                    gst::MessageView::Warning(w) => self.warnings.push(w.error().to_string()),
                    gst::MessageView::Error(e) => self.errors.push(e.error().to_string()),
                    gst::MessageView::Eos(_) => self.eos = true,
                    _ => {}
                }
            }
        }
        done(self)
    }

    fn stop(&self) {
        self.pipeline
            .set_state(gst::State::Null)
            .expect("the reader stops");
    }
}

/// A reader started with `props` reads 30 frames from a server on a free port; the server
/// is stopped (its clients cut off) and, once the reader has warned, a new one is started
/// on the same port. Returns the reader, once it got 30 more frames from the second
/// server, that server and the port.
fn read_through_a_restart(props: &str) -> (Reader, gst::Pipeline, u16) {
    init();
    let port = free_port();
    let first = server(port, 0);
    first.set_state(gst::State::Playing).expect("serving");
    let mut reader = Reader::playing(port, props);
    assert!(reader.until(|r| r.frames() >= 30), "{}", reader.frames());
    first.set_state(gst::State::Null).expect("stops");
    drop(first);
    assert!(reader.until(|r| !r.warnings.is_empty()), "a warning");
    let before = reader.frames();
    let second = server(port, 0);
    second
        .set_state(gst::State::Playing)
        .expect("the port is free again");
    assert!(
        reader.until(|r| r.frames() >= before + 30),
        "{before} frames before, {} now; warnings {:?}",
        reader.frames(),
        reader.warnings
    );
    assert!(reader.errors.is_empty(), "{:?}", reader.errors);
    (reader, second, port)
}

#[test]
fn a_served_stream_is_read_back_and_its_end_ends_the_reader() {
    init();
    let port = free_port();
    let server = server(port, 150);
    server.set_state(gst::State::Playing).expect("serving");
    // No reconnecting: the end the server sends is the end of the reader's stream.
    let mut reader = Reader::playing(port, "codec=h264 reconnect=0");
    assert!(
        reader.until(|r| r.eos || !r.errors.is_empty()),
        "{} frames, no end",
        reader.frames()
    );
    assert!(reader.errors.is_empty(), "{:?}", reader.errors);
    assert!(reader.eos);
    assert!(reader.frames() >= 30, "{} frames decoded", reader.frames());
    let pts = reader.pts.lock().unwrap().clone();
    assert!(
        pts.windows(2).all(|w| w[0] < w[1]),
        "pts go forward: {pts:?}"
    );
    reader.stop();
    server.set_state(gst::State::Null).expect("stops");
}

#[test]
fn the_reader_reconnects_when_the_server_comes_back() {
    let (reader, second, port) = read_through_a_restart("codec=h264 reconnect=500000000");
    let lost = format!("lost rtsp://127.0.0.1:{port}/t (");
    let warnings: Vec<&String> = reader
        .warnings
        .iter()
        .filter(|w| w.starts_with(&lost))
        .collect();
    assert_eq!(
        warnings.len(),
        1,
        "one warning about the loss: {:?}",
        reader.warnings
    );
    assert!(
        warnings[0].ends_with("); reconnecting in 500 ms"),
        "{}",
        warnings[0]
    );
    assert!(!reader.eos);
    let pts = reader.pts.lock().unwrap().clone();
    assert!(
        pts.windows(2).all(|w| w[0] < w[1]),
        "pts go forward across the reconnection"
    );
    reader.stop();
    second.set_state(gst::State::Null).expect("stops");
}

#[test]
fn a_server_that_is_not_there_yet_is_waited_for() {
    init();
    let port = free_port();
    let mut reader = Reader::playing(port, "codec=h264 reconnect=300000000");
    let url = format!("rtsp://127.0.0.1:{port}/t");
    assert!(reader.until(|r| !r.warnings.is_empty()));
    assert!(
        reader.warnings[0].starts_with(&format!("cannot reach {url}"))
            && reader.warnings[0].ends_with("retrying every 300 ms"),
        "{:?}",
        reader.warnings
    );
    let server = server(port, 0);
    server.set_state(gst::State::Playing).expect("serving");
    assert!(reader.until(|r| r.frames() >= 10), "{}", reader.frames());
    assert!(reader.errors.is_empty(), "{:?}", reader.errors);
    // One warning for the whole outage, not one per attempt.
    assert_eq!(reader.warnings.len(), 1, "{:?}", reader.warnings);
    reader.stop();
    server.set_state(gst::State::Null).expect("stops");
}

#[test]
fn without_reconnecting_a_missing_server_is_an_error() {
    init();
    let port = free_port();
    let mut reader = Reader::playing(port, "codec=h264 reconnect=0");
    assert!(reader.until(|r| !r.errors.is_empty()));
    let url = format!("rtsp://127.0.0.1:{port}/t");
    assert!(
        reader.errors[0].starts_with(&format!("cannot reach {url} (")),
        "{:?}",
        reader.errors
    );
    reader.stop();
}

#[test]
fn a_stream_of_another_codec_is_an_error() {
    init();
    let port = free_port();
    let server = server(port, 0);
    server.set_state(gst::State::Playing).expect("serving");
    let mut reader = Reader::playing(port, "codec=h265 reconnect=200000000");
    assert!(reader.until(|r| !r.errors.is_empty()));
    assert_eq!(
        reader.errors[0],
        format!("rtsp://127.0.0.1:{port}/t sends H264 video, but the program says h265")
    );
    assert_eq!(reader.frames(), 0);
    reader.stop();
    server.set_state(gst::State::Null).expect("stops");
}

#[test]
fn a_port_in_use_is_an_error_at_start() {
    init();
    let taken = TcpListener::bind("127.0.0.1:0").expect("a port");
    let port = taken.local_addr().expect("an address").port();
    let server = server(port, 0);
    assert!(server.set_state(gst::State::Playing).is_err());
    let bus = server.bus().expect("a bus");
    let error = bus
        .timed_pop_filtered(gst::ClockTime::from_seconds(5), &[gst::MessageType::Error])
        .expect("an error message");
    let gst::MessageView::Error(e) = error.view() else {
        unreachable!("filtered on errors");
    };
    assert_eq!(
        error.src().map(|s| s.name().to_string()).as_deref(),
        Some("out"),
        "posted by the sink"
    );
    assert!(
        e.error()
            .to_string()
            .starts_with(&format!("Cannot serve RTSP on port {port}: ")),
        "{}",
        e.error()
    );
    server.set_state(gst::State::Null).expect("stops");
}

#[test]
fn stopping_while_waiting_to_reconnect_returns_at_once() {
    init();
    let port = free_port();
    // Ten seconds between attempts: stopping must not wait for the next one.
    let mut reader = Reader::playing(port, "codec=h264 reconnect=10000000000");
    assert!(reader.until(|r| !r.warnings.is_empty()));
    let pipeline = reader.pipeline.clone();
    let (done, stopped) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let _ = done.send(pipeline.set_state(gst::State::Null).is_ok());
    });
    assert_eq!(stopped.recv_timeout(LIMIT), Ok(true), "the reader stops");
}

#[test]
fn a_reader_played_again_starts_its_clock_again() {
    init();
    let port = free_port();
    let server = server(port, 0);
    server.set_state(gst::State::Playing).expect("serving");
    let mut reader = Reader::playing(port, "codec=h264");
    assert!(reader.until(|r| r.frames() >= 60), "{}", reader.frames());
    reader.stop();
    let first_run = std::mem::take(&mut *reader.pts.lock().unwrap());
    reader
        .pipeline
        .set_state(gst::State::Playing)
        .expect("reading again");
    assert!(reader.until(|r| r.pts.lock().unwrap().len() >= 10));
    let second_run = reader.pts.lock().unwrap().clone();
    // Timestamps follow this run's running time, not the end of the last run.
    assert!(
        second_run[0] < first_run[first_run.len() - 1],
        "{} after {}",
        second_run[0],
        first_run[first_run.len() - 1]
    );
    assert!(reader.errors.is_empty(), "{:?}", reader.errors);
    reader.stop();
    server.set_state(gst::State::Null).expect("stops");
}

#[test]
fn a_location_that_is_not_rtsp_is_an_error() {
    init();
    let reader = launch("vplrtspsrc location=http://example.com/x ! fakesink");
    assert!(reader.set_state(gst::State::Playing).is_err());
    let bus = reader.bus().expect("a bus");
    let error = bus
        .timed_pop_filtered(gst::ClockTime::from_seconds(5), &[gst::MessageType::Error])
        .expect("an error message");
    let gst::MessageView::Error(e) = error.view() else {
        unreachable!("filtered on errors");
    };
    assert_eq!(
        e.error().to_string(),
        "`http://example.com/x` is not an RTSP address (rtsp://host[:port]/path)"
    );
    reader.set_state(gst::State::Null).expect("stops");
}

#[test]
fn over_udp_too_and_after_a_restart() {
    let (reader, second, port) =
        read_through_a_restart("codec=h264 protocols=udp reconnect=300000000");
    // (A loaded machine may lose the first UDP packets too: "cannot reach" before.)
    assert!(
        reader
            .warnings
            .iter()
            .any(|w| w.starts_with(&format!("lost rtsp://127.0.0.1:{port}/t ("))),
        "{:?}",
        reader.warnings
    );
    reader.stop();
    second.set_state(gst::State::Null).expect("stops");
}

#[test]
fn two_clients_share_one_server() {
    init();
    let port = free_port();
    let server = server(port, 0);
    server.set_state(gst::State::Playing).expect("serving");
    let mut first = Reader::playing(port, "codec=h264");
    assert!(first.until(|r| r.frames() >= 15));
    // The second joins mid-stream and starts at a key frame of its own.
    let mut second = Reader::playing(port, "codec=h264");
    assert!(second.until(|r| r.frames() >= 30), "{}", second.frames());
    assert!(first.until(|r| r.frames() >= 45), "{}", first.frames());
    for r in [&first, &second] {
        assert!(
            r.errors.is_empty() && r.warnings.is_empty(),
            "{:?} {:?}",
            r.errors,
            r.warnings
        );
        r.stop();
    }
    server.set_state(gst::State::Null).expect("stops");
}

#[test]
fn without_reconnecting_a_server_that_goes_away_mid_stream_is_an_error() {
    // The server is stopped in the middle of its stream (it never ends it): with
    // `reconnect=0` that is a lost stream, an error, not the stream's end.
    init();
    let port = free_port();
    let server = server(port, 0);
    server.set_state(gst::State::Playing).expect("serving");
    let mut reader = Reader::playing(port, "codec=h264 reconnect=0");
    assert!(reader.until(|r| r.frames() >= 30), "{}", reader.frames());
    server.set_state(gst::State::Null).expect("stops");
    drop(server);
    assert!(
        reader.until(|r| r.eos || !r.errors.is_empty()),
        "neither an end nor an error"
    );
    assert!(!reader.eos, "the lost stream was taken for its end");
    assert!(
        reader.errors.iter().any(|e| e.contains("lost rtsp://")),
        "{:?}",
        reader.errors
    );
    reader.stop();
}

#[test]
fn a_reader_slower_than_the_stream_drops_frames_and_says_so() {
    // 30 frames a second served, 5 a second taken (each waits 200 ms): once 2 s of video
    // wait, frames are dropped up to the next key frame, counted and reported.
    init();
    let port = free_port();
    let server = server(port, 0);
    server.set_state(gst::State::Playing).expect("serving");
    let mut reader = Reader::through(
        port,
        "codec=h264 reconnect=0",
        "! identity sleep-time=200000",
    );
    reader
        .pipeline
        .set_state(gst::State::Playing)
        .expect("reading");
    assert!(
        reader.until(|r| r
            .warnings
            .iter()
            .any(|w| w.contains("frames dropped so far"))),
        "no warning of dropped frames: {:?}",
        reader.warnings
    );
    let src = reader.pipeline.by_name("src").expect("the source");
    assert!(src.property::<u64>("dropped") > 0);
    let warning = reader
        .warnings
        .iter()
        .find(|w| w.contains("frames dropped so far"))
        .expect("the warning");
    assert!(
        warning.starts_with(&format!(
            "the pipeline is slower than rtsp://127.0.0.1:{port}/t:"
        )),
        "{warning}"
    );
    assert!(reader.errors.is_empty(), "{:?}", reader.errors);
    reader.stop();
    server.set_state(gst::State::Null).expect("stops");
}

#[test]
fn a_stream_ended_downstream_is_not_taken_for_a_slow_pipeline() {
    // `--max-frames` ends a stream downstream of its source (the frames after the limit are
    // refused with end-of-stream) while the run goes on for its other streams. What the
    // camera still sends then is nobody's: it must not pile up in the source and be reported
    // as "the pipeline is slower" once 2 s of it wait. A second reader of the same server
    // measures how much the camera sent meanwhile: 4 s of video, twice the threshold.
    init();
    let port = free_port();
    let server = server(port, 0);
    server.set_state(gst::State::Playing).expect("serving");
    let ended = launch(&format!(
        "vplrtspsrc name=src location=rtsp://127.0.0.1:{port}/t latency=100 codec=h264 \
         reconnect=0 ! h264parse ! avdec_h264 ! appsink name=out sync=false"
    ));
    let taken = Arc::new(AtomicU64::new(0));
    let counter = taken.clone();
    ended
        .by_name("out")
        .and_then(|e| e.downcast::<gst_app::AppSink>().ok())
        .expect("the appsink")
        .set_callbacks(
            gst_app::AppSinkCallbacks::builder()
                .new_sample(move |sink| {
                    let _ = sink.pull_sample();
                    if counter.fetch_add(1, Ordering::SeqCst) + 1 >= 10 {
                        return Err(gst::FlowError::Eos);
                    }
                    Ok(gst::FlowSuccess::Ok)
                })
                .build(),
        );
    ended.set_state(gst::State::Playing).expect("reading");
    let mut reference = Reader::playing(port, "codec=h264 reconnect=0");
    let bus = ended.bus().expect("a bus");
    let mut messages = Vec::new();
    let drain = |messages: &mut Vec<String>| {
        while let Some(msg) = bus.pop() {
            match msg.view() {
                gst::MessageView::Warning(w) => messages.push(w.error().to_string()),
                gst::MessageView::Error(e) => messages.push(e.error().to_string()),
                _ => {}
            }
        }
    };
    let took_ten = reference.until(|_| taken.load(Ordering::SeqCst) >= 10);
    drain(&mut messages);
    assert!(
        took_ten,
        "the first reader took {} frames: {messages:?}",
        taken.load(Ordering::SeqCst)
    );
    let at_end = reference.frames();
    assert!(
        reference.until(|r| r.frames() >= at_end + 120),
        "{at_end} frames, then {}",
        reference.frames()
    );
    drain(&mut messages);
    assert!(messages.is_empty(), "{messages:?}");
    let src = ended.by_name("src").expect("the source");
    assert_eq!(src.property::<u64>("dropped"), 0);
    assert!(reference.errors.is_empty(), "{:?}", reference.errors);
    reference.stop();
    ended.set_state(gst::State::Null).expect("stops");
    server.set_state(gst::State::Null).expect("stops");
}

/// The status line of the server's answer to a DESCRIBE of `path`, read from `stream`.
fn status_line(stream: &mut std::net::TcpStream) -> std::io::Result<String> {
    use std::io::Read;
    let mut answer = Vec::new();
    let mut byte = [0u8; 1];
    while !answer.ends_with(b"\r\n") {
        if stream.read(&mut byte)? == 0 {
            break;
        }
        answer.push(byte[0]);
    }
    Ok(String::from_utf8_lossy(&answer).trim_end().to_string())
}

#[test]
fn a_client_that_connects_before_every_path_is_mounted_gets_its_path() {
    // Two streams of one pipeline on one port: the server's port is bound when the first
    // is started, before the second has mounted its path. A client that asks for the
    // second path at once is answered once the pipeline plays, with its stream; never
    // with a 404 for the path about to be mounted (the reader of an `rtsp_out` started
    // beside its server failed so on a loaded machine).
    use std::io::Write;
    init();
    let port = free_port();
    let pipeline = launch(&format!(
        "videotestsrc is-live=true pattern=ball \
         ! video/x-raw,format=I420,width=320,height=240,framerate=30/1 \
         ! x264enc tune=zerolatency key-int-max=30 speed-preset=ultrafast bitrate=500 \
         ! h264parse ! vplrtspout name=a port={port} address=127.0.0.1 path=/a \
         videotestsrc is-live=true pattern=smpte \
         ! video/x-raw,format=I420,width=320,height=240,framerate=30/1 \
         ! x264enc tune=zerolatency key-int-max=30 speed-preset=ultrafast bitrate=500 \
         ! h264parse ! vplrtspout name=b port={port} address=127.0.0.1 path=/b"
    ));
    pipeline.set_state(gst::State::Ready).expect("ready");
    let first = pipeline.by_name("a").expect("the first rtsp_out");
    first
        .set_state(gst::State::Paused)
        .expect("the port is bound");

    let mut client = std::net::TcpStream::connect(("127.0.0.1", port)).expect("the port is open");
    write!(
        client,
        "DESCRIBE rtsp://127.0.0.1:{port}/b RTSP/1.0\r\nCSeq: 1\r\nAccept: application/sdp\r\n\r\n"
    )
    .expect("the request is sent");
    // Long enough for an answer to come, had the server answered before the pipeline plays.
    client
        .set_read_timeout(Some(Duration::from_millis(500)))
        .expect("a read timeout");
    let early = status_line(&mut client);
    assert!(
        early.is_err(),
        "answered before the pipeline played: {early:?}"
    );

    pipeline.set_state(gst::State::Playing).expect("serving");
    client
        .set_read_timeout(Some(LIMIT))
        .expect("a read timeout");
    let answer = status_line(&mut client).expect("an answer");
    assert_eq!(answer, "RTSP/1.0 200 OK");
    pipeline.set_state(gst::State::Null).expect("stops");
}
