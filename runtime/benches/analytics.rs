//! The cost `analyze` and `events` add to a frame: 8 streams, 50 tracked objects a frame
//! each, 4 zones (8 corners) and 4 lines, every event kind on. Objects walk in straight
//! lines across the frame (so they enter and leave zones and cross lines), as tracks of a
//! busy camera would. Prints the median, min and max over 30 runs of 300 frames a stream.
//!
//! `cargo bench -p vpl-runtime --bench analytics` (issue 14 target: ≤ 0.2 ms a frame).

use std::time::Instant;

use vpl_compiler::analytics::{AnalyzeConfig, Direction, EventKind, EventsConfig, Line, Zone};
use vpl_runtime::analytics::{Analyzer, EventMaker};
use vpl_runtime::meta::{Object, ObjectsData};

const STREAMS: usize = 8;
const OBJECTS: usize = 50;
const FRAMES: u64 = 300;
const RUNS: usize = 30;
const FRAME_NS: u64 = 100_000_000;

fn config() -> AnalyzeConfig {
    let octagon = |cx: f64, cy: f64, r: f64| -> Vec<[f64; 2]> {
        (0..8)
            .map(|i| {
                let a = i as f64 * std::f64::consts::TAU / 8.0;
                [cx + r * a.cos(), cy + r * a.sin()]
            })
            .collect()
    };
    AnalyzeConfig {
        zones: (0..4)
            .map(|i| Zone {
                name: format!("zone{i}"),
                points: octagon(150.0 + 160.0 * i as f64, 300.0, 120.0),
                size: Some((768, 576)),
                crowd: 5,
            })
            .collect(),
        lines: (0..4)
            .map(|i| Line {
                name: format!("line{i}"),
                a: [100.0 + 180.0 * i as f64, 50.0],
                b: [100.0 + 180.0 * i as f64, 550.0],
                size: Some((768, 576)),
                direction: Direction::Both,
            })
            .collect(),
    }
}

fn frame(stream: usize, n: u64) -> ObjectsData {
    let objects = (0..OBJECTS)
        .map(|i| {
            let speed = 2.0 + (i % 7) as f32;
            let x = ((i * 37 + stream * 11) as f32 + speed * n as f32) % 740.0;
            let y = 40.0 + ((i * 53) % 480) as f32;
            Object {
                label: if i % 5 == 0 { "car" } else { "person" }.into(),
                class_id: (i % 5 == 0) as u32,
                confidence: 0.8,
                x,
                y,
                w: 24.0,
                h: 48.0,
                track_id: Some(i as u64),
                ..Object::default()
            }
        })
        .collect();
    ObjectsData {
        stream: stream as u32,
        frame: n,
        source_width: 768,
        source_height: 576,
        objects,
        ..ObjectsData::default()
    }
}

fn main() {
    let all = vec![
        EventKind::Entry,
        EventKind::Exit,
        EventKind::Crossing,
        EventKind::Overcrowding,
        EventKind::Appeared,
        EventKind::Count,
    ];
    // The frames are made before timing: only analyze + events are measured.
    let frames: Vec<Vec<ObjectsData>> = (0..STREAMS)
        .map(|s| (0..FRAMES).map(|n| frame(s, n)).collect())
        .collect();
    let mut per_frame_us = Vec::new();
    let mut events = 0usize;
    for _ in 0..RUNS {
        let mut analyzers: Vec<Analyzer> = (0..STREAMS).map(|_| Analyzer::new(config())).collect();
        let mut makers: Vec<EventMaker> = (0..STREAMS)
            .map(|_| {
                EventMaker::new(EventsConfig {
                    on: all.clone(),
                    every_ns: 0,
                    stream: 0,
                })
            })
            .collect();
        let mut work = frames.clone();
        let start = Instant::now();
        for n in 0..FRAMES as usize {
            let pts = n as u64 * FRAME_NS;
            for ((stream, analyzer), maker) in work.iter_mut().zip(&mut analyzers).zip(&mut makers)
            {
                let data = &mut stream[n];
                analyzer.process(data, pts);
                let e = maker.process(data, pts, 0);
                events += e.len();
                data.events = Some(e);
            }
        }
        let elapsed = start.elapsed().as_secs_f64() * 1e6;
        per_frame_us.push(elapsed / (FRAMES as f64 * STREAMS as f64));
    }
    per_frame_us.sort_by(f64::total_cmp);
    println!(
        "analyze + events, {STREAMS} streams x {OBJECTS} tracked objects, 4 zones + 4 lines: \
         per stream-frame median {:.1} us (min {:.1}, max {:.1}); per 8-stream frame {:.1} us; \
         {} events a run",
        per_frame_us[RUNS / 2],
        per_frame_us[0],
        per_frame_us[RUNS - 1],
        per_frame_us[RUNS / 2] * STREAMS as f64,
        events / RUNS
    );
}
