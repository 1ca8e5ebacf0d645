//! Lowering `decode` and `encode`: the CPU's decoders and encoders from `media`'s table,
//! NVDEC's and NVENC's where the target has them.

use super::{Ends, Lowerer, Prop, format_of, video_caps};
use crate::check::Ty;
use crate::ir::{NodeId, NodeKind, SinkKind};
use crate::media;
use crate::target::CUDA_DOWNLOAD;

/// Parser and decoder for a codec; `None` means decodebin must find them.
pub(super) fn decoder_chain(codec: &str) -> Option<Vec<&'static str>> {
    let c = media::codec_named(codec)?;
    let decoder = c.decoder?;
    Some(c.parser.into_iter().chain([decoder]).collect())
}

/// Parser a stream needs before a muxer.
pub(super) fn parser(codec: &str) -> Option<&'static str> {
    media::codec_named(codec).and_then(|c| c.parser)
}

/// An encoder element and its properties.
struct Encoder {
    factory: &'static str,
    props: Vec<(&'static str, Prop)>,
}

/// The frames between key frames for a stream served over RTSP: one at least every 2 s, so
/// that a client that connects, or reconnects, soon has a picture.
fn key_interval(ty: &Ty) -> u64 {
    let rate = match ty {
        Ty::Video(v) => v.rate,
        _ => None,
    };
    rate.map_or(60, |(num, den)| (2 * num).div_ceil(den.max(1)).max(1))
}

/// The highest bitrate x265enc accepts, in kbit/s.
const X265_MAX_KBPS: u64 = 102_400;

impl Lowerer<'_> {
    /// NVDEC's decoder for a stream of `codec`, where the target lowers for a GPU and has
    /// it (and `cudadownload`); otherwise `None`, with the reason in the pass log and, for
    /// the one warning, in `cpu_decoding`.
    pub(super) fn gpu_decoder(&mut self, id: NodeId, codec: Option<&str>) -> Option<&'static str> {
        if !self.target.gpu {
            return None;
        }
        let n = id.0;
        let Some(codec) = codec.and_then(media::codec_named) else {
            self.log.push(format!(
                "gpu-decode: n{n} on the CPU (decodebin): the stream's codec is known only when it runs"
            ));
            return None;
        };
        let name = codec.name;
        let cpu = codec.decoder.unwrap_or("decodebin");
        let Some(decoder) = codec.gpu_decoder else {
            self.log.push(format!(
                "gpu-decode: n{n} {name} on the CPU ({cpu}): NVDEC does not decode {name}"
            ));
            self.cpu_decoding
                .push(format!("NVDEC does not decode {name}"));
            return None;
        };
        let missing: Vec<&str> = [decoder, CUDA_DOWNLOAD]
            .into_iter()
            .filter(|f| !self.target.has(f))
            .collect();
        if !missing.is_empty() {
            let what = missing.join(" and ");
            self.log.push(format!(
                "gpu-decode: n{n} {name} on the CPU ({cpu}): GStreamer has no {what} here"
            ));
            self.cpu_decoding.push(format!(
                "GStreamer has no {what} (the nvcodec plugin is missing, or found no GPU that decodes {name})"
            ));
            return None;
        }
        Some(decoder)
    }

    /// `parser ! nvXdec ! cudadownload ! videoconvert ! video/x-raw,format=NV12`: the frame
    /// crosses to the host once, as NV12 (1.5 bytes a pixel), for inference. Where something
    /// other than inference reads it, it is converted to the I420 the stream was checked as.
    pub(super) fn gpu_decode(&mut self, id: NodeId, decoder: &'static str) -> Ends {
        let codec = format_of(&self.input_ty(id))
            .and_then(|f| f.codec())
            .and_then(media::codec_named);
        let mut names = Vec::new();
        if let Some(p) = codec.and_then(|c| c.parser) {
            names.push(self.element(id, "parse", p, vec![]));
        }
        names.push(self.element(id, "", decoder, vec![]));
        names.push(self.element(id, "download", CUDA_DOWNLOAD, vec![]));
        let for_inference = self.only_inference_reads(id);
        // NVDEC gives NV12 for 8-bit streams, so this converter passes frames through
        // untouched; it converts only what a decoder gives otherwise (10-bit P010, JPEG's
        // 4:2:2) and, where other stages read the frames, to the I420 they were checked as.
        names.push(self.element(id, "convert", "videoconvert", vec![]));
        let format = if for_inference { "nv12" } else { "i420" };
        names.push(self.element(
            id,
            "caps",
            "capsfilter",
            vec![("caps", Prop::Caps(video_caps(Some(format), None, None)))],
        ));
        let name = codec.map_or("", |c| c.name);
        self.log.push(format!(
            "gpu-decode: n{} {name} with {decoder} ! {CUDA_DOWNLOAD} (frames to the host once as NV12, 1.5 bytes a pixel{})",
            id.0,
            if for_inference {
                "; inference reads NV12"
            } else {
                "; converted to I420 for the stages that read it"
            }
        ));
        self.ends_of(names)
    }

    /// A parser and the CPU decoder of `media`'s table, or decodebin, then I420.
    pub(super) fn cpu_decode(&mut self, id: NodeId, codec: Option<&str>) -> Ends {
        let mut names = Vec::new();
        let chain = codec.and_then(decoder_chain);
        match &chain {
            Some(chain) => {
                for (i, factory) in chain.iter().enumerate() {
                    let suffix = if i + 1 == chain.len() { "" } else { "parse" };
                    names.push(self.element(id, suffix, factory, vec![]));
                }
            }
            None => names.push(self.element(id, "", "decodebin", vec![])),
        }
        // Decoders may output another layout than I420; converting is free when not.
        names.push(self.element(id, "convert", "videoconvert", vec![]));
        names.push(self.element(
            id,
            "caps",
            "capsfilter",
            vec![("caps", Prop::Caps(video_caps(Some("i420"), None, None)))],
        ));
        let (first, last) = self.chain_with_dynamic(names, chain.is_none());
        Ends {
            first: Some(first),
            last,
            dynamic: false,
        }
    }

    /// Whether every stage reading the frames of `id` (through tees and queues) is `infer`,
    /// which takes NV12 as it is.
    fn only_inference_reads(&self, id: NodeId) -> bool {
        let consumers = self.g.consumers(id);
        !consumers.is_empty()
            && consumers.into_iter().all(|c| match &self.g.node(c).kind {
                NodeKind::Infer(_) => true,
                NodeKind::Tee | NodeKind::Queue { .. } => self.only_inference_reads(c),
                _ => false,
            })
    }

    /// NVENC's encoder where the target lowers for a GPU and has it, with its rate control;
    /// `None` for the CPU's, with the reason in the pass log.
    fn gpu_encoder(&mut self, id: NodeId, codec: &str, kbps: u64) -> Option<Encoder> {
        if !self.target.gpu {
            return None;
        }
        let cpu = media::codec_named(codec)
            .and_then(|c| c.encoder)
            .unwrap_or("jpegenc");
        let n = id.0;
        let Some(nvenc) = media::codec_named(codec).and_then(|c| c.gpu_encoder) else {
            self.log.push(format!(
                "gpu-encode: n{n} {codec} on the CPU ({cpu}): NVENC does not encode {codec}"
            ));
            return None;
        };
        if !self.target.has(nvenc) {
            self.log.push(format!(
                "gpu-encode: n{n} {codec} on the CPU ({cpu}): GStreamer has no {nvenc} here (the GPU has no NVENC, as the H100 and H200, or nvcodec is missing)"
            ));
            return None;
        }
        self.log
            .push(format!("gpu-encode: n{n} {codec} with {nvenc} (NVENC)"));
        let mut props = vec![("bitrate", Prop::UInt(kbps))];
        if self.feeds_rtsp_out(id) {
            // nvh264enc makes no B-frames by default; `zerolatency` drops its look-ahead.
            props.push(("zerolatency", Prop::Bool(true)));
        }
        if let Some(frames) = self.key_frames_every(id) {
            props.push(("gop-size", Prop::Int(frames as i64)));
        }
        Some(Encoder {
            factory: nvenc,
            props,
        })
    }

    pub(super) fn encode(&mut self, id: NodeId, codec: &str, bitrate: i64) -> Ends {
        let kbps = (bitrate / 1000).max(1) as u64;
        let mut names = vec![
            self.element(id, "convert", "videoconvert", vec![]),
            self.element(
                id,
                "caps",
                "capsfilter",
                vec![("caps", Prop::Caps(video_caps(Some("i420"), None, None)))],
            ),
        ];
        let encoder = match self.gpu_encoder(id, codec, kbps) {
            Some(nvenc) => nvenc,
            None => self.cpu_encoder(id, codec, bitrate),
        };
        names.push(self.element(id, "", encoder.factory, encoder.props));
        if let Some(p) = parser(codec) {
            names.push(self.element(id, "parse", p, vec![]));
        }
        self.ends_of(names)
    }

    /// The encoder of `media`'s table (a test keeps every codec `encode` offers there), with
    /// its rate control set as each one names it.
    fn cpu_encoder(&self, id: NodeId, codec: &str, bitrate: i64) -> Encoder {
        let kbps = (bitrate / 1000).max(1) as u64;
        let factory = media::codec_named(codec)
            .and_then(|c| c.encoder)
            .unwrap_or("jpegenc");
        let mut props = match codec {
            "h264" => vec![
                ("bitrate", Prop::UInt(kbps)),
                ("speed-preset", Prop::Enum("veryfast".into())),
            ],
            // x265enc's maximum (stdlib/video.vpl documents the cap).
            "h265" => vec![
                ("bitrate", Prop::UInt(kbps.min(X265_MAX_KBPS))),
                ("speed-preset", Prop::Enum("veryfast".into())),
            ],
            "vp8" | "vp9" => vec![
                ("target-bitrate", Prop::Int(bitrate)),
                ("deadline", Prop::Int(1)),
            ],
            "av1" => vec![("target-bitrate", Prop::UInt(kbps))],
            _ => vec![],
        };
        if codec == "h264" && self.feeds_rtsp_out(id) {
            // No frame reordering or look-ahead for RTSP clients.
            props.push(("tune", Prop::Enum("zerolatency".into())));
        }
        if codec == "h264"
            && let Some(frames) = self.key_frames_every(id)
        {
            props.push(("key-int-max", Prop::UInt(frames)));
        }
        Encoder { factory, props }
    }

    /// The most frames between two key frames the encoder of `id` may make, where a sink
    /// it feeds needs them often; the smallest any of its sinks needs: `rtsp_out` one at
    /// least every 2 s, so that a client that connects, or reconnects, soon has a picture;
    /// `record` one a second, so a clip's pre-roll begins within a second of `before`
    /// (x264's default is one in 250 frames, NVENC's one in 75). `None`: the encoder's own.
    fn key_frames_every(&self, id: NodeId) -> Option<u64> {
        let two_seconds = key_interval(&self.g.node(id).ty);
        let rtsp = self.feeds_rtsp_out(id).then_some(two_seconds);
        let record = self
            .feeds(id, &|k| matches!(k, SinkKind::Record { .. }))
            .then_some(two_seconds.div_ceil(2));
        rtsp.into_iter()
            .chain(record)
            .chain(self.hls_key_frames(id))
            .min()
    }

    /// `hls`: one key frame a segment, so each segment starts with one (`hlssink2` cuts
    /// at key frames and also asks for one at each segment's time): the frames of the
    /// shortest segment the encoder feeds, rounded up; `None` where the rate is not known
    /// (then the key-frame requests alone place them).
    fn hls_key_frames(&self, id: NodeId) -> Option<u64> {
        let mut shortest: Option<u64> = None;
        self.visit_sinks(id, &mut |k| {
            if let SinkKind::Hls { segment_s, .. } = k {
                shortest = Some(shortest.map_or(*segment_s, |s| s.min(*segment_s)));
            }
        });
        let segment_s = shortest?;
        let rate = match &self.g.node(id).ty {
            Ty::Video(v) => v.rate,
            _ => None,
        };
        rate.map(|(num, den)| (segment_s * num).div_ceil(den.max(1)).max(1))
    }

    /// Calls `f` on every sink `id`'s output reaches through tees and queues only.
    fn visit_sinks(&self, id: NodeId, f: &mut dyn FnMut(&SinkKind)) {
        for c in self.g.consumers(id) {
            match &self.g.node(c).kind {
                NodeKind::Sink(k) => f(k),
                NodeKind::Tee | NodeKind::Queue { .. } => self.visit_sinks(c, f),
                _ => {}
            }
        }
    }

    /// Whether the stream of `id` is served by `rtsp_out` (directly, or through tees and
    /// queues).
    fn feeds_rtsp_out(&self, id: NodeId) -> bool {
        self.feeds(id, &|k| matches!(k, SinkKind::RtspOut { .. }))
    }

    /// Whether `id`'s output reaches a sink `is` accepts, through tees and queues only.
    fn feeds(&self, id: NodeId, is: &dyn Fn(&SinkKind) -> bool) -> bool {
        self.g
            .consumers(id)
            .into_iter()
            .any(|c| match &self.g.node(c).kind {
                NodeKind::Sink(k) => is(k),
                NodeKind::Tee | NodeKind::Queue { .. } => self.feeds(c, is),
                _ => false,
            })
    }
}
