//! `vploverlay` as an element: a uniform grey I420 frame with hand-made object metadata
//! pushed through a `Harness`, and the pixels that come out.
//!
//! The label tests need DejaVu Sans from Debian's `fonts-dejavu-core` (scripts/setup.sh).

use std::collections::BTreeSet;

use gstreamer as gst;
use gstreamer::prelude::*;
use gstreamer_check::Harness;
use gstreamer_video as gst_video;
use gstreamer_video::prelude::*;
use vpl_runtime::meta::{Object, ObjectsData, VplObjectsMeta};

const WIDTH: usize = 320;
const HEIGHT: usize = 240;
const CAPS: &str = "video/x-raw,format=I420,width=320,height=240,framerate=25/1";
const GREY: u8 = 128;

/// Class 0's colour (RGB 255, 56, 56) in BT.601 limited-range YUV.
const RED_Y: u8 = 115;
const RED_U: u8 = 99;
const RED_V: u8 = 215;

fn init() {
    vpl_runtime::elements::register().expect("vpl elements register");
}

fn person(x: f32, y: f32, w: f32, h: f32) -> Object {
    Object {
        class_id: 0,
        label: "person".into(),
        confidence: 0.87,
        x,
        y,
        w,
        h,
        track_id: Some(3),
        ..Object::default()
    }
}

/// One 320x240 output frame as its three planes, each row-major without padding.
struct Frame {
    y: Vec<u8>,
    u: Vec<u8>,
    v: Vec<u8>,
}

impl Frame {
    fn luma(&self, x: usize, y: usize) -> u8 {
        self.y[y * WIDTH + x]
    }

    /// The chroma sample (U, V) covering luma pixel (x, y).
    fn chroma(&self, x: usize, y: usize) -> (u8, u8) {
        let i = (y / 2) * (WIDTH / 2) + x / 2;
        (self.u[i], self.v[i])
    }

    /// The luma values of `x0..x1, y0..y1`.
    fn lumas(&self, [x0, y0, x1, y1]: [usize; 4]) -> Vec<u8> {
        (y0..y1)
            .flat_map(|y| (x0..x1).map(move |x| (x, y)))
            .map(|(x, y)| self.luma(x, y))
            .collect()
    }

    /// The columns of rows `y0..y1` where some pixel is no longer grey.
    fn changed_columns(&self, y0: usize, y1: usize) -> Vec<usize> {
        (0..WIDTH)
            .filter(|&x| (y0..y1).any(|y| self.luma(x, y) != GREY))
            .collect()
    }
}

/// Pushes a grey frame carrying `objects` through `vploverlay` with the given properties.
fn overlay(labels: bool, tracks: bool, objects: Vec<Object>) -> Frame {
    init();
    let mut h = Harness::new("vploverlay");
    if let Some(element) = h.element() {
        element.set_property("labels", labels);
        element.set_property("tracks", tracks);
    }
    h.set_src_caps_str(CAPS);
    let info =
        gst_video::VideoInfo::builder(gst_video::VideoFormat::I420, WIDTH as u32, HEIGHT as u32)
            .build()
            .expect("I420 video info");
    let mut buffer = gst::Buffer::from_mut_slice(vec![GREY; info.size()]);
    {
        let b = buffer.get_mut().expect("a new buffer is writable");
        b.set_pts(gst::ClockTime::ZERO);
        gst_video::VideoMeta::add_full(
            b,
            gst_video::VideoFrameFlags::empty(),
            gst_video::VideoFormat::I420,
            WIDTH as u32,
            HEIGHT as u32,
            info.offset(),
            info.stride(),
        )
        .expect("video meta");
        VplObjectsMeta::add(
            b,
            ObjectsData {
                source_width: WIDTH as u32,
                source_height: HEIGHT as u32,
                objects,
                ..ObjectsData::default()
            },
        );
    }
    h.push(buffer).expect("the frame is accepted");
    let out = h.pull().expect("a frame comes out");
    let frame = gst_video::VideoFrameRef::from_buffer_ref_readable(out.as_ref(), &info)
        .expect("the output is an I420 frame");
    let plane = |index: u32, w: usize, h: usize| {
        let stride = frame.plane_stride()[index as usize] as usize;
        let data = frame.plane_data(index).expect("plane data");
        (0..h)
            .flat_map(|row| data[row * stride..row * stride + w].to_vec())
            .collect::<Vec<u8>>()
    };
    Frame {
        y: plane(0, WIDTH, HEIGHT),
        u: plane(1, WIDTH / 2, HEIGHT / 2),
        v: plane(2, WIDTH / 2, HEIGHT / 2),
    }
}

fn near(a: u8, b: u8) -> bool {
    a.abs_diff(b) <= 1
}

fn assert_red(frame: &Frame, x: usize, y: usize) {
    let (u, v) = frame.chroma(x, y);
    assert!(
        near(frame.luma(x, y), RED_Y) && near(u, RED_U) && near(v, RED_V),
        "({x}, {y}) is ({}, {u}, {v}), not class 0's colour",
        frame.luma(x, y)
    );
}

fn assert_grey(frame: &Frame, x: usize, y: usize) {
    assert_eq!(
        (frame.luma(x, y), frame.chroma(x, y)),
        (GREY, (GREY, GREY)),
        "({x}, {y}) should be untouched"
    );
}

/// Checks that `area` holds a label: class-coloured background and anti-aliased white text
/// with at least `min_text` pixels at full strength.
fn assert_label(frame: &Frame, area: [usize; 4], min_text: usize) {
    let lumas = frame.lumas(area);
    let background = lumas.iter().filter(|&&l| near(l, RED_Y)).count();
    let text = lumas.iter().filter(|&&l| l >= 220).count();
    let distinct: BTreeSet<u8> = lumas.iter().copied().collect();
    assert!(
        background > 20,
        "{background} background pixels in {area:?}"
    );
    assert!(text >= min_text, "{text} white text pixels in {area:?}");
    assert!(
        distinct.len() > 8,
        "anti-aliased text has many grey levels, found {distinct:?}"
    );
}

#[test]
fn box_outline_is_drawn_in_the_class_colour_and_the_rest_is_untouched() {
    let frame = overlay(true, true, vec![person(100.0, 100.0, 80.0, 100.0)]);
    assert_red(&frame, 100, 150);
    assert_red(&frame, 140, 100);
    assert_red(&frame, 180, 150);
    assert_red(&frame, 140, 200);
    assert_grey(&frame, 140, 150);
    assert_grey(&frame, 20, 20);
    assert_grey(&frame, 300, 230);
    assert_grey(&frame, 250, 90);
}

#[test]
fn label_text_is_rendered_above_the_box() {
    let frame = overlay(true, true, vec![person(100.0, 100.0, 80.0, 100.0)]);
    // 12 px text with padding: the label fits in the 30 rows above the box.
    assert_label(&frame, [100, 70, 180, 100], 20);
    assert!(
        (0..70).all(|y| (0..WIDTH).all(|x| frame.luma(x, y) == GREY)),
        "nothing is drawn far above the box"
    );
    let columns = frame.changed_columns(70, 98);
    assert_eq!(
        columns.first(),
        Some(&100),
        "the label starts at the box's left edge"
    );
    // Background chroma is the class colour.
    let (u, v) = frame.chroma(columns[columns.len() / 2], 92);
    assert!(near(u, RED_U) && near(v, RED_V), "label chroma ({u}, {v})");
}

#[test]
fn track_id_alone_makes_a_shorter_label() {
    let full = overlay(true, true, vec![person(100.0, 100.0, 80.0, 100.0)]);
    let id_only = overlay(false, true, vec![person(100.0, 100.0, 80.0, 100.0)]);
    let no_id = overlay(true, false, vec![person(100.0, 100.0, 80.0, 100.0)]);
    let width = |f: &Frame| f.changed_columns(70, 98).len();
    assert!(width(&id_only) > 0, "`#3` is drawn");
    assert!(
        width(&id_only) < width(&no_id),
        "`#3` is shorter than `person 0.87`"
    );
    assert!(
        width(&no_id) < width(&full),
        "`person 0.87` is shorter than `person 0.87 #3`"
    );
    assert_label(&id_only, [100, 70, 100 + width(&id_only), 100], 4);
}

#[test]
fn no_label_without_labels_or_tracks() {
    let frame = overlay(false, false, vec![person(100.0, 100.0, 80.0, 100.0)]);
    assert!(
        frame.changed_columns(0, 100).is_empty(),
        "nothing is drawn above the box"
    );
    assert_red(&frame, 100, 150);
    assert_grey(&frame, 140, 150);
}

#[test]
fn an_untracked_object_without_labels_has_no_label() {
    let mut object = person(100.0, 100.0, 80.0, 100.0);
    object.track_id = None;
    let frame = overlay(false, true, vec![object]);
    assert!(frame.changed_columns(0, 100).is_empty());
}

#[test]
fn a_box_at_the_top_edge_has_its_label_inside_the_frame() {
    let frame = overlay(true, true, vec![person(100.0, 0.0, 80.0, 100.0)]);
    assert_label(&frame, [100, 0, 180, 20], 20);
    assert_red(&frame, 100, 60);
    assert_grey(&frame, 140, 60);
}

#[test]
fn a_box_partly_outside_the_frame_is_clipped() {
    let frame = overlay(
        true,
        true,
        vec![
            person(280.0, 200.0, 100.0, 100.0),
            person(-50.0, 120.0, 100.0, 60.0),
        ],
    );
    // Bottom-right: the left and top edges are inside, the rest is clipped to the frame.
    assert_red(&frame, 280, 220);
    assert_red(&frame, 300, 200);
    assert_grey(&frame, 300, 220);
    // Left: the top and right edges are inside.
    assert_red(&frame, 20, 120);
    assert_red(&frame, 50, 150);
    assert_grey(&frame, 25, 150);
    // Both labels are inside the frame, above their boxes.
    assert_label(&frame, [0, 90, 80, 120], 20);
    assert!(frame.changed_columns(170, 200).iter().any(|&x| x >= 250));
}

#[test]
fn a_box_outside_the_frame_draws_nothing() {
    let frame = overlay(
        true,
        true,
        vec![
            person(-200.0, 10.0, 50.0, 50.0),
            person(400.0, 10.0, 50.0, 50.0),
        ],
    );
    assert!(frame.y.iter().all(|&l| l == GREY));
}
