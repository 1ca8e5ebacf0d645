//! The one table of what vpl knows about media: codecs (their GStreamer caps, parser,
//! decoder, whether their encoders need 4:2:0 chroma), containers (caps, demuxer, the file
//! extensions a sink writes them with, muxer, the codecs they hold) and raw pixel formats.
//! The checker, lowering and the runtime's probe all read it, so a codec is added in one
//! place. No GStreamer types: element and caps names are plain text.

/// An encoded video format.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Codec {
    /// vpl's name: `h264`, as in `video<h264, _, _>` and `encode(h264)`.
    pub name: &'static str,
    /// The caps name GStreamer gives the stream (`video/x-h264`). `video/mpeg` (MPEG-2 and
    /// MPEG-4 part 2) and `video/x-divx` need a field to tell them apart: see
    /// [`codec_of_caps`].
    pub caps: &'static str,
    /// The parser that frames the stream for a decoder or a muxer, where one exists.
    pub parser: Option<&'static str>,
    /// The decoder; `None` where `decodebin` must find one.
    pub decoder: Option<&'static str>,
    /// The encoder `encode(codec)` uses; `None` where vpl does not encode it.
    pub encoder: Option<&'static str>,
    /// Its encoders need 4:2:0 chroma, so even widths and heights.
    pub chroma_420: bool,
    /// NVDEC's decoder in GStreamer's nvcodec plugin, for a GPU target; present at run
    /// time only where the plugin found a GPU that decodes the codec.
    pub gpu_decoder: Option<&'static str>,
    /// NVENC's encoder in nvcodec, for a GPU target (data-centre GPUs such as the H100
    /// and H200 have no NVENC, so it is absent there).
    pub gpu_encoder: Option<&'static str>,
}

const fn codec(
    name: &'static str,
    caps: &'static str,
    [parser, decoder, encoder]: [Option<&'static str>; 3],
    chroma_420: bool,
) -> Codec {
    Codec {
        name,
        caps,
        parser,
        decoder,
        encoder,
        chroma_420,
        gpu_decoder: None,
        gpu_encoder: None,
    }
}

impl Codec {
    /// The same codec with nvcodec's decoder and encoder for it.
    const fn on_gpu(self, decoder: Option<&'static str>, encoder: Option<&'static str>) -> Codec {
        Codec {
            gpu_decoder: decoder,
            gpu_encoder: encoder,
            ..self
        }
    }
}

/// Every codec vpl knows by name: caps, then parser, decoder and encoder.
pub const CODECS: &[Codec] = &[
    codec(
        "h264",
        "video/x-h264",
        [Some("h264parse"), Some("avdec_h264"), Some("x264enc")],
        true,
    )
    .on_gpu(Some("nvh264dec"), Some("nvh264enc")),
    codec(
        "h265",
        "video/x-h265",
        [Some("h265parse"), Some("avdec_h265"), Some("x265enc")],
        true,
    )
    .on_gpu(Some("nvh265dec"), Some("nvh265enc")),
    codec(
        "vp8",
        "video/x-vp8",
        [None, Some("vp8dec"), Some("vp8enc")],
        true,
    )
    .on_gpu(Some("nvvp8dec"), None),
    codec(
        "vp9",
        "video/x-vp9",
        [None, Some("vp9dec"), Some("vp9enc")],
        true,
    )
    .on_gpu(Some("nvvp9dec"), None),
    // av1enc's output needs av1parse before a muxer (it gives no stream-format).
    codec(
        "av1",
        "video/x-av1",
        [Some("av1parse"), None, Some("av1enc")],
        true,
    )
    .on_gpu(Some("nvav1dec"), None),
    codec(
        "mpeg2",
        "video/mpeg",
        [Some("mpegvideoparse"), Some("avdec_mpeg2video"), None],
        false,
    )
    .on_gpu(Some("nvmpeg2videodec"), None),
    codec(
        "mpeg4",
        "video/mpeg",
        [Some("mpeg4videoparse"), Some("avdec_mpeg4"), None],
        false,
    )
    .on_gpu(Some("nvmpeg4videodec"), None),
    codec(
        "msmpeg4",
        "video/x-msmpeg",
        [None, Some("avdec_msmpeg4"), None],
        false,
    ),
    codec(
        "jpeg",
        "image/jpeg",
        [Some("jpegparse"), Some("jpegdec"), Some("jpegenc")],
        false,
    )
    .on_gpu(Some("nvjpegdec"), None),
    codec(
        "theora",
        "video/x-theora",
        [None, Some("theoradec"), None],
        false,
    ),
];

/// The codec named `name` in vpl.
pub fn codec_named(name: &str) -> Option<&'static Codec> {
    CODECS.iter().find(|c| c.name == name)
}

/// vpl's codec names, in table order.
pub fn codec_names() -> impl Iterator<Item = &'static str> + Clone {
    CODECS.iter().map(|c| c.name)
}

/// The codec of a stream with caps name `caps`; `version` reads an integer field of the
/// caps (`mpegversion`, `divxversion`).
pub fn codec_of_caps(caps: &str, version: impl Fn(&str) -> Option<i32>) -> Option<&'static str> {
    match caps {
        "video/mpeg" => match version("mpegversion") {
            Some(1 | 2) => Some("mpeg2"),
            Some(4) => Some("mpeg4"),
            _ => None,
        },
        // DivX 3 is Microsoft's MPEG-4 v3 under another name (fourcc DIV3); 4 and 5 are MPEG-4.
        "video/x-divx" if version("divxversion") == Some(3) => Some("msmpeg4"),
        "video/x-divx" | "video/x-xvid" => Some("mpeg4"),
        other => CODECS.iter().find(|c| c.caps == other).map(|c| c.name),
    }
}

/// A container format.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Container {
    /// The short name the probe reports (`MediaFacts::container`).
    pub name: &'static str,
    /// The caps names GStreamer gives it (QuickTime's `variant=apple` makes `mov`).
    pub caps: &'static [&'static str],
    pub demuxer: &'static str,
    /// The extensions a file sink writes it with; empty where vpl does not write it.
    pub extensions: &'static [&'static str],
    pub muxer: Option<&'static str>,
    /// The codecs it holds, as a sink writes them.
    pub codecs: &'static [&'static str],
}

/// The smallest and largest side each encoder takes (its sink template: x265enc from 16,
/// av1enc from 4, vp8enc up to 16383); other codecs take any size above zero.
pub fn encoder_sides(codec: &str) -> (u32, u32) {
    match codec {
        "h265" => (16, u32::MAX),
        "av1" => (4, u32::MAX),
        "vp8" => (1, 16383),
        _ => (1, u32::MAX),
    }
}

/// The smallest side a container's muxer takes for video (its sink templates: mp4mux,
/// qtmux and webmmux from 16 for every codec; matroskamux and mpegtsmux any size). A
/// smaller frame fails to link at run time ("not-negotiated").
pub fn container_min_side(container: &Container) -> u32 {
    match container.muxer {
        Some("mp4mux" | "qtmux" | "webmmux") => 16,
        _ => 1,
    }
}

/// The largest side `scale` makes (videoscale's templates: 1 to 32767).
pub const SCALE_MAX_SIDE: u32 = 32767;

const ALL_CODECS: &[&str] = &[
    "h264", "h265", "vp8", "vp9", "av1", "mpeg2", "mpeg4", "msmpeg4", "jpeg", "theora",
];
/// What mp4mux takes (not JPEG: motion JPEG goes into `.mov`, written by qtmux).
const MP4_CODECS: &[&str] = &["h264", "h265", "av1", "mpeg4"];
const MOV_CODECS: &[&str] = &["h264", "h265", "av1", "mpeg4", "jpeg"];

/// Every container vpl demuxes or writes.
pub const CONTAINERS: &[Container] = &[
    Container {
        name: "mp4",
        caps: &["video/quicktime"],
        demuxer: "qtdemux",
        extensions: &["mp4"],
        muxer: Some("mp4mux"),
        codecs: MP4_CODECS,
    },
    Container {
        name: "mov",
        caps: &[],
        demuxer: "qtdemux",
        extensions: &["mov"],
        muxer: Some("qtmux"),
        codecs: MOV_CODECS,
    },
    Container {
        name: "matroska",
        caps: &["video/x-matroska"],
        demuxer: "matroskademux",
        extensions: &["mkv"],
        muxer: Some("matroskamux"),
        codecs: ALL_CODECS,
    },
    Container {
        name: "webm",
        caps: &["video/webm"],
        demuxer: "matroskademux",
        extensions: &["webm"],
        muxer: Some("webmmux"),
        codecs: &["vp8", "vp9", "av1"],
    },
    Container {
        name: "avi",
        caps: &["video/x-msvideo"],
        demuxer: "avidemux",
        extensions: &[],
        muxer: None,
        codecs: &[],
    },
    Container {
        name: "mpegts",
        caps: &["video/mpegts"],
        demuxer: "tsdemux",
        extensions: &["ts"],
        muxer: Some("mpegtsmux"),
        codecs: &["h264", "h265", "mpeg2", "mpeg4"],
    },
    Container {
        name: "ogg",
        caps: &["application/ogg", "video/ogg", "audio/ogg"],
        demuxer: "oggdemux",
        extensions: &[],
        muxer: None,
        codecs: &[],
    },
];

/// The container the probe names `name`.
pub fn container_named(name: &str) -> Option<&'static Container> {
    CONTAINERS.iter().find(|c| c.name == name)
}

/// The container a file sink writes for extension `ext` (lower case, no dot).
pub fn container_for_extension(ext: &str) -> Option<&'static Container> {
    CONTAINERS.iter().find(|c| c.extensions.contains(&ext))
}

/// The probe's short name for a container's caps name (`video/quicktime` → `mp4`).
pub fn container_of_caps(caps: &str) -> Option<&'static str> {
    CONTAINERS
        .iter()
        .find(|c| c.caps.contains(&caps))
        .map(|c| c.name)
}

/// A raw pixel format: vpl's name and GStreamer's (`rgbx` → `RGBx`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RawFormat {
    pub name: &'static str,
    pub caps: &'static str,
}

pub const RAW_FORMATS: &[RawFormat] = &[
    RawFormat {
        name: "nv12",
        caps: "NV12",
    },
    RawFormat {
        name: "i420",
        caps: "I420",
    },
    RawFormat {
        name: "yuy2",
        caps: "YUY2",
    },
    RawFormat {
        name: "y444",
        caps: "Y444",
    },
    RawFormat {
        name: "rgb",
        caps: "RGB",
    },
    RawFormat {
        name: "bgr",
        caps: "BGR",
    },
    RawFormat {
        name: "rgba",
        caps: "RGBA",
    },
    RawFormat {
        name: "bgra",
        caps: "BGRA",
    },
    RawFormat {
        name: "rgbx",
        caps: "RGBx",
    },
    RawFormat {
        name: "bgrx",
        caps: "BGRx",
    },
    RawFormat {
        name: "gray8",
        caps: "GRAY8",
    },
];

/// vpl's raw format names, in table order.
pub fn raw_format_names() -> impl Iterator<Item = &'static str> + Clone {
    RAW_FORMATS.iter().map(|f| f.name)
}

pub fn is_raw_format(name: &str) -> bool {
    RAW_FORMATS.iter().any(|f| f.name == name)
}

/// GStreamer's name of raw format `name` (`rgbx` → `RGBx`); a name vpl does not know is
/// upper-cased.
pub fn raw_caps_name(name: &str) -> String {
    RAW_FORMATS
        .iter()
        .find(|f| f.name == name)
        .map_or_else(|| name.to_ascii_uppercase(), |f| f.caps.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_codec_a_container_holds_is_known() {
        for c in CONTAINERS {
            for codec in c.codecs {
                assert!(codec_named(codec).is_some(), "{}: {codec}", c.name);
            }
        }
        assert_eq!(ALL_CODECS, codec_names().collect::<Vec<_>>().as_slice());
    }

    /// Every codec `encode` offers has an encoder, every format `convert` offers is a raw
    /// format: adding a word to the stdlib without a row here fails.
    #[test]
    fn the_stdlib_words_are_in_the_table() {
        use crate::stdlib::{ParamType, stdlib};
        use crate::syntax::ast::Role;
        let words = |stage: &str, param: &str| -> Vec<String> {
            let (_, b) = stdlib().lookup_role(stage, Role::Stage).expect(stage);
            match &b.param(param).expect(param).1.ty {
                ParamType::Enum(words) => words.clone(),
                other => panic!("{stage}({param}): {other:?}"),
            }
        };
        for codec in words("encode", "codec") {
            assert!(
                codec_named(&codec).is_some_and(|c| c.encoder.is_some()),
                "encode({codec}) has no encoder in media::CODECS"
            );
        }
        for format in words("convert", "format") {
            assert!(is_raw_format(&format), "convert({format})");
        }
    }

    #[test]
    fn caps_names_map_both_ways() {
        let none = |_: &str| None;
        for c in CODECS.iter().filter(|c| c.caps != "video/mpeg") {
            assert_eq!(codec_of_caps(c.caps, none), Some(c.name));
        }
        assert_eq!(codec_of_caps("video/mpeg", |_| Some(4)), Some("mpeg4"));
        assert_eq!(container_of_caps("video/x-matroska"), Some("matroska"));
        assert_eq!(
            container_for_extension("ts").map(|c| c.demuxer),
            Some("tsdemux")
        );
        assert_eq!(raw_caps_name("bgrx"), "BGRx");
    }
}
