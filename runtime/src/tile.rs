//! `tile` is GStreamer's compositor, which makes new output frames and drops the metadata of
//! its inputs. This module carries it over: each input pad remembers the objects of the
//! frames it receives, by running time; when the compositor outputs a frame, the objects of
//! the input frame each cell shows (the latest at or before the output's running time, the
//! frame the compositor itself picks) are moved into that cell's coordinates and attached.

use std::collections::{HashMap, VecDeque};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use gstreamer as gst;
use gstreamer::prelude::*;

use crate::meta::{ObjectsData, VplObjectsMeta};

/// How many frames an input pad remembers: the compositor holds at most a couple ahead.
const REMEMBERED: usize = 16;

/// Where one input is drawn, in output pixels.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Cell {
    pub x: f32,
    pub y: f32,
    pub w: f32,
    pub h: f32,
}

/// One input frame's metadata, at its running time.
struct Seen {
    running_time: gst::ClockTime,
    /// When the frame stops being shown, if its duration is known: the compositor draws
    /// nothing of a pad whose last frame has run out (its stream ended, or left its slot).
    end: Option<gst::ClockTime>,
    data: Option<ObjectsData>,
}

#[derive(Default)]
struct Inputs {
    /// By pad name: the pad's segment and the frames it received, oldest first.
    pads: HashMap<String, (gst::FormattedSegment<gst::ClockTime>, VecDeque<Seen>)>,
}

/// Moves the objects of one input frame (sized `source_width` x `source_height`) into
/// `cell`, appending them to `out`; frame-level labels are kept on the tile. The input's
/// analytics (zones, lines and their counts), and those of the cells of a tile before this
/// one, are moved into the cell too, for `overlay` (`ObjectsData::cells`).
pub fn place(input: &ObjectsData, cell: Cell, out: &mut ObjectsData) {
    let (sw, sh) = (
        input.source_width.max(1) as f32,
        input.source_height.max(1) as f32,
    );
    let (fx, fy) = (cell.w / sw, cell.h / sh);
    let at = |p: [f64; 2]| {
        [
            f64::from(cell.x) + p[0] * f64::from(fx),
            f64::from(cell.y) + p[1] * f64::from(fy),
        ]
    };
    out.cells
        .extend(input.analytics.iter().chain(&input.cells).map(|a| {
            let mut a = a.clone();
            for z in &mut a.zones {
                z.points = z.points.iter().map(|p| at(*p)).collect();
            }
            for l in &mut a.lines {
                l.ends = l.ends.map(at);
            }
            a
        }));
    out.objects.extend(input.objects.iter().map(|o| {
        let mut o = o.clone();
        o.x = cell.x + o.x * fx;
        o.y = cell.y + o.y * fy;
        o.w *= fx;
        o.h *= fy;
        o.stream = Some(o.stream.unwrap_or(input.stream));
        crate::masks::place(&mut o, (cell.x, cell.y), (fx, fy));
        o
    }));
    out.labels.extend(input.labels.iter().cloned());
}

fn cell_of(pad: &gst::Pad) -> Option<Cell> {
    let int = |name: &str| {
        pad.find_property(name)
            .map(|_| pad.property::<i32>(name) as f32)
    };
    Some(Cell {
        x: int("xpos")?,
        y: int("ypos")?,
        w: int("width")?,
        h: int("height")?,
    })
}

/// Makes `compositor` carry the objects of its inputs into its output frames. Call once its
/// sink pads are linked.
pub fn carry_objects(compositor: &gst::Element) {
    let inputs = Arc::new(Mutex::new(Inputs::default()));
    for pad in compositor.sink_pads() {
        let inputs = inputs.clone();
        pad.add_probe(
            gst::PadProbeType::BUFFER
                | gst::PadProbeType::EVENT_DOWNSTREAM
                | gst::PadProbeType::EVENT_FLUSH,
            move |pad, info| {
                let Ok(mut inputs) = inputs.lock() else {
                    return gst::PadProbeReturn::Ok;
                };
                let (segment, seen) = inputs.pads.entry(pad.name().to_string()).or_default();
                match &info.data {
                    Some(gst::PadProbeData::Event(event)) => match event.view() {
                        gst::EventView::Segment(s) => {
                            if let Ok(s) = s.segment().clone().downcast::<gst::ClockTime>() {
                                *segment = s;
                            }
                        }
                        // The pad is reset (a pool's slot between two streams): the frames
                        // it had are no longer shown.
                        gst::EventView::FlushStop(_) => seen.clear(),
                        _ => {}
                    },
                    Some(gst::PadProbeData::Buffer(buffer)) => {
                        if let Some(running_time) =
                            buffer.pts().and_then(|pts| segment.to_running_time(pts))
                        {
                            let end = buffer
                                .pts()
                                .zip(buffer.duration())
                                .and_then(|(pts, d)| segment.to_running_time(pts + d));
                            seen.push_back(Seen {
                                running_time,
                                end,
                                data: VplObjectsMeta::get(buffer).cloned(),
                            });
                            if seen.len() > REMEMBERED {
                                seen.pop_front();
                            }
                        }
                    }
                    _ => {}
                }
                gst::PadProbeReturn::Ok
            },
        );
    }
    let Some(src) = compositor.static_pad("src") else {
        return;
    };
    let frames = AtomicU64::new(0);
    src.add_probe(gst::PadProbeType::BUFFER, move |pad, info| {
        let Some(gst::PadProbeData::Buffer(buffer)) = info.data.as_mut() else {
            return gst::PadProbeReturn::Ok;
        };
        let segment = pad
            .sticky_event::<gst::event::Segment>(0)
            .and_then(|e| e.segment().clone().downcast::<gst::ClockTime>().ok());
        let Some(now) = buffer
            .pts()
            .zip(segment)
            .and_then(|(pts, s)| s.to_running_time(pts))
        else {
            return gst::PadProbeReturn::Ok;
        };
        let size = pad
            .current_caps()
            .and_then(|c| gst_video_size(&c))
            .unwrap_or((0, 0));
        let mut out = ObjectsData {
            frame: frames.fetch_add(1, Ordering::Relaxed),
            source_width: size.0,
            source_height: size.1,
            ..ObjectsData::default()
        };
        let Some(compositor) = pad.parent_element() else {
            return gst::PadProbeReturn::Ok;
        };
        if let Ok(mut inputs) = inputs.lock() {
            for input in compositor.sink_pads() {
                let (Some(cell), Some((_, seen))) =
                    (cell_of(&input), inputs.pads.get_mut(input.name().as_str()))
                else {
                    continue;
                };
                // The frame shown is the latest that started at or before the output's
                // time; older ones are not needed again.
                let shown = seen.iter().rposition(|s| s.running_time <= now);
                if let Some(i) = shown {
                    seen.drain(..i);
                    let ran_out = seen[0].end.is_some_and(|end| end <= now);
                    if let Some(data) = seen[0].data.as_ref().filter(|_| !ran_out) {
                        place(data, cell, &mut out);
                    }
                }
            }
        }
        VplObjectsMeta::set(buffer.make_mut(), out);
        gst::PadProbeReturn::Ok
    });
}

fn gst_video_size(caps: &gst::CapsRef) -> Option<(u32, u32)> {
    let s = caps.structure(0)?;
    let w = s.get::<i32>("width").ok()?;
    let h = s.get::<i32>("height").ok()?;
    Some((u32::try_from(w).ok()?, u32::try_from(h).ok()?))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::meta::Object;

    #[test]
    fn objects_move_into_their_cell() {
        let input = ObjectsData {
            stream: 1,
            source_width: 768,
            source_height: 576,
            objects: vec![Object {
                x: 384.0,
                y: 288.0,
                w: 76.8,
                h: 57.6,
                ..Object::default()
            }],
            ..ObjectsData::default()
        };
        let cell = Cell {
            x: 640.0,
            y: 0.0,
            w: 640.0,
            h: 720.0,
        };
        let mut out = ObjectsData::default();
        place(&input, cell, &mut out);
        let o = &out.objects[0];
        assert!(
            (o.x - 960.0).abs() < 1e-3 && (o.y - 360.0).abs() < 1e-3,
            "{o:?}"
        );
        assert!(
            (o.w - 64.0).abs() < 1e-3 && (o.h - 72.0).abs() < 1e-3,
            "{o:?}"
        );
    }
}
