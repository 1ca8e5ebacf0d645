//! `vploverlay` on objects with masks (`yolov8_seg`, `semantic`) and keypoints
//! (`yolov8_pose`): a uniform grey I420 frame with hand-made metadata pushed through a
//! `Harness`, and the pixels that come out: masked pixels blended half-way to the class
//! colour, unmasked ones untouched; bones between visible keypoints drawn, none to a
//! hidden keypoint.

use gstreamer as gst;
use gstreamer_check::Harness;
use gstreamer_video as gst_video;
use gstreamer_video::prelude::*;
use vpl_runtime::masks::{COCO17, Keypoint, Mask, MaskFormat};
use vpl_runtime::meta::{Object, ObjectsData, VplObjectsMeta};

const WIDTH: usize = 320;
const HEIGHT: usize = 240;
const CAPS: &str = "video/x-raw,format=I420,width=320,height=240,framerate=25/1";
const GREY: u8 = 128;
/// Class 0's colour (RGB 255, 56, 56) in BT.601 limited-range YUV.
const RED_Y: u8 = 115;
/// Class 1's colour (RGB 50, 205, 50): the skeleton colour of class 0.
const GREEN_Y: u8 = 137;

struct Frame {
    y: Vec<u8>,
}

impl Frame {
    fn luma(&self, x: usize, y: usize) -> u8 {
        self.y[y * WIDTH + x]
    }
}

fn overlay(objects: Vec<Object>) -> Frame {
    vpl_runtime::elements::register().expect("vpl elements register");
    let mut h = Harness::new("vploverlay");
    if let Some(element) = h.element() {
        use gstreamer::prelude::*;
        element.set_property("labels", false);
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
    let stride = frame.plane_stride()[0] as usize;
    let data = frame.plane_data(0).expect("luma");
    Frame {
        y: (0..HEIGHT)
            .flat_map(|row| data[row * stride..row * stride + WIDTH].to_vec())
            .collect(),
    }
}

/// A disc of radius 20 at (100, 100) on the box 60..140 x 60..140.
fn disc_object() -> Object {
    let (x, y, w, h) = (60u32, 60u32, 80u32, 80u32);
    let data = (0..h)
        .flat_map(|r| {
            (0..w).map(move |c| {
                let (dx, dy) = ((x + c) as f32 + 0.5 - 100.0, (y + r) as f32 + 0.5 - 100.0);
                u8::from(dx * dx + dy * dy <= 400.0)
            })
        })
        .collect();
    Object {
        class_id: 0,
        label: "person".into(),
        confidence: 0.9,
        x: x as f32,
        y: y as f32,
        w: w as f32,
        h: h as f32,
        mask: Some(Mask {
            x,
            y,
            width: w,
            height: h,
            data,
            format: MaskFormat::Rle,
        }),
        ..Object::default()
    }
}

#[test]
fn masks_are_blended_half_way_to_the_class_colour() {
    let frame = overlay(vec![disc_object()]);
    let blended = ((f32::from(GREY) + f32::from(RED_Y)) / 2.0).round() as u8;
    // Inside the disc: blended; inside the box but outside the disc: untouched.
    for (x, y) in [(100, 100), (90, 110), (115, 100), (100, 85)] {
        assert_eq!(frame.luma(x, y), blended, "({x}, {y}) is in the mask");
    }
    for (x, y) in [(70, 70), (130, 130), (125, 100), (100, 75)] {
        assert_eq!(frame.luma(x, y), GREY, "({x}, {y}) is outside the mask");
    }
    // The blended pixels are the disc's: about pi * 20^2.
    let changed = (62..138)
        .flat_map(|y| (62..138).map(move |x| (x, y)))
        .filter(|&(x, y)| frame.luma(x, y) == blended)
        .count();
    assert!((1200..=1320).contains(&changed), "{changed} pixels blended");
}

/// A person whose left shoulder (5) and left hip (11) are visible, with COCO's skeleton.
fn shoulder_and_hip() -> Object {
    let mut keypoints = vec![Keypoint::default(); 17];
    keypoints[5] = Keypoint {
        x: 200.0,
        y: 60.0,
        confidence: 0.9,
    };
    keypoints[11] = Keypoint {
        x: 200.0,
        y: 160.0,
        confidence: 0.9,
    };
    Object {
        class_id: 0,
        x: 150.0,
        y: 40.0,
        w: 160.0,
        h: 160.0,
        keypoints,
        skeleton: COCO17.to_vec(),
        ..Object::default()
    }
}

#[test]
fn skeletons_join_visible_keypoints() {
    // The left elbow (7) is there but hardly visible.
    let mut object = shoulder_and_hip();
    object.keypoints[7] = Keypoint {
        x: 280.0,
        y: 60.0,
        confidence: 0.2,
    };
    let frame = overlay(vec![object]);
    // The bone 5-11 runs down x = 200 from y 60 to 160.
    for y in (64..156).step_by(8) {
        assert_eq!(frame.luma(200, y), GREEN_Y, "bone at (200, {y})");
    }
    // Each visible keypoint is a dot; the hidden one and its bone (5-7) are not drawn.
    assert_eq!(frame.luma(202, 160), GREEN_Y);
    assert_eq!(frame.luma(280, 60), GREY, "the hidden elbow is not drawn");
    assert_eq!(frame.luma(240, 60), GREY, "no bone to the hidden elbow");
    // `skeleton: none`: the dots only.
    let mut bare = shoulder_and_hip();
    bare.skeleton.clear();
    let frame = overlay(vec![bare]);
    assert_eq!(frame.luma(200, 60), GREEN_Y);
    assert_eq!(frame.luma(200, 110), GREY, "no bones with `skeleton: none`");
}
