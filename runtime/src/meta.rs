//! Object metadata that travels with frames: what `infer` found (objects, labels) → a
//! `GstMeta` on the frame's buffer → read by `track`, `overlay` and `vplrecords`.
//!
//! GStreamer metas are C structures registered with the type system, and gstreamer-rs has
//! no safe way to define one holding Rust values: the meta's memory is allocated by
//! GStreamer and initialised, copied and freed through C callbacks. That is the only reason
//! this file allows `unsafe`; everything outside it uses the safe API of [`VplObjectsMeta`].
#![allow(unsafe_code)]

use std::fmt;

use gstreamer as gst;
use gstreamer::glib;
use gstreamer::glib::translate::IntoGlib;
use gstreamer::meta::{MetaAPI, MetaAPIExt};

/// One object found in a frame. Coordinates are pixels of the source frame (letterboxing
/// and scaling undone) so they stay valid when later stages scale or convert the frame.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Object {
    pub class_id: u32,
    pub label: String,
    pub confidence: f32,
    pub x: f32,
    pub y: f32,
    pub w: f32,
    pub h: f32,
    /// Set by a tracker; `None` before `track`.
    pub track_id: Option<u64>,
    /// The secondary classifiers' results on this object, each naming its model.
    pub labels: Vec<Label>,
    /// `decoder: raw` on crops: the model's outputs for this object.
    pub tensors: Vec<Tensor>,
    /// The box is a tracker's prediction for a frame `infer(every: N)` skipped, not a
    /// detection.
    pub predicted: bool,
    /// Set by `tile`: the stream (cell) the object was found in.
    pub stream: Option<u32>,
    /// A text recogniser's (`decoder: ctc`) reading of the object's crop.
    pub text: Option<String>,
    /// `yolov8_seg`, `semantic`: the pixels of the object (`masks.rs`).
    pub mask: Option<crate::masks::Mask>,
    /// `yolov8_pose`: the object's keypoints, in source pixels.
    pub keypoints: Vec<crate::masks::Keypoint>,
    /// `yolov8_pose`: the bones `overlay` draws, as pairs of keypoint indices.
    pub skeleton: Vec<[u8; 2]>,
    /// Set by `analyze`: the zones the object is in.
    pub zones: Vec<crate::analytics::InZone>,
    /// Set by `analyze`: the lines its track crossed since the last frame.
    pub crossed: Vec<crate::analytics::Crossing>,
    /// Set by `analyze`: its track's direction of travel, degrees (0 right, 90 down).
    pub heading_deg: Option<f32>,
}

/// One label a classifier gave, with the model (its name in the `.vpl`) that gave it, so
/// several classifiers on the same objects stay apart.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Label {
    pub model: String,
    pub label: String,
    pub confidence: f32,
}

/// One output tensor kept by `decoder: raw`: its values (as f32) in row-major order.
#[derive(Debug, Clone, PartialEq, Default, serde::Serialize)]
pub struct Tensor {
    pub name: String,
    /// The element type in the model (`f32`, `f16`, `i64`, ...).
    pub dtype: String,
    pub shape: Vec<usize>,
    pub data: Vec<f32>,
}

/// Everything vpl knows about one frame of one stream.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct ObjectsData {
    /// Index of the stream in its list (0 for a single stream).
    pub stream: u32,
    /// Frame number within the stream, counted from 0 by the element that made the meta.
    pub frame: u64,
    /// Size of the frame the coordinates refer to.
    pub source_width: u32,
    pub source_height: u32,
    pub objects: Vec<Object>,
    /// Whole-frame classifiers' results, each naming its model.
    pub labels: Vec<Label>,
    /// `decoder: raw`: the model's outputs for this frame.
    pub tensors: Vec<Tensor>,
    /// `infer(every: N)` skipped this frame and the objects are the last inference's,
    /// repeated. A tracker downstream replaces them with its predictions and clears this.
    pub repeated: bool,
    /// Set by `analyze`: counts per zone and line.
    pub analytics: Option<crate::analytics::FrameAnalytics>,
    /// Set by `tile`: each cell's analytics (from an `analyze` before the tile), its zones
    /// and lines moved into the cell, for `overlay` to draw in each cell.
    pub cells: Vec<crate::analytics::FrameAnalytics>,
    /// Set by `events`: the frame's events. Records sinks write these (one line each)
    /// instead of the frame's record.
    pub events: Option<Vec<crate::analytics::Event>>,
}

/// The buffer meta holding an [`ObjectsData`]. It has no tags, so GStreamer treats it as
/// independent of the pixels: converters, scalers, queues and tees keep it.
#[repr(transparent)]
pub struct VplObjectsMeta(imp::ObjectsMeta);

// SAFETY: the meta only holds `ObjectsData`, which is plain owned Rust data (Send + Sync);
// the embedded `GstMeta` header is only read through GStreamer's own functions.
unsafe impl Send for VplObjectsMeta {}
// SAFETY: as above; shared access only reads `ObjectsData`.
unsafe impl Sync for VplObjectsMeta {}

// SAFETY: `GstType` is the `#[repr(C)]` struct GStreamer allocates for this API (its first
// field is the `GstMeta` header) and `meta_api` returns the API type it is registered under.
unsafe impl MetaAPI for VplObjectsMeta {
    type GstType = imp::ObjectsMeta;

    fn meta_api() -> glib::Type {
        imp::api_type()
    }
}

impl VplObjectsMeta {
    /// Adds a new meta to `buffer`. A buffer should carry at most one: prefer [`Self::set`]
    /// or [`Self::update`] when one may already be there.
    pub fn add(
        buffer: &mut gst::BufferRef,
        data: ObjectsData,
    ) -> gst::MetaRefMut<'_, Self, gst::meta::Standalone> {
        let mut params = std::mem::ManuallyDrop::new(imp::Params { data });
        // SAFETY: `info()` is a registered meta info for `imp::ObjectsMeta`; `init` moves
        // `params.data` out of the pointer it gets, which is why `params` is ManuallyDrop.
        // The returned pointer is a live `imp::ObjectsMeta` owned by `buffer`.
        unsafe {
            let meta = gst::ffi::gst_buffer_add_meta(
                buffer.as_mut_ptr(),
                imp::info(),
                &mut *params as *mut imp::Params as glib::ffi::gpointer,
            ) as *mut imp::ObjectsMeta;
            // Only an unwritable buffer makes this fail, and a `&mut BufferRef` is writable.
            assert!(
                !meta.is_null(),
                "VplObjectsMeta added to an unwritable buffer"
            );
            Self::from_mut_ptr(buffer, meta)
        }
    }

    /// A borrow of the data on `buffer`, if it has the meta.
    pub fn get(buffer: &gst::BufferRef) -> Option<&ObjectsData> {
        // SAFETY: `gst_buffer_get_meta` returns null or a meta of our API type, which is an
        // `imp::ObjectsMeta` living as long as the buffer; the shared borrow of the buffer
        // keeps it (and thus the meta) alive and unmodified for the returned lifetime.
        unsafe {
            let meta =
                gst::ffi::gst_buffer_get_meta(buffer.as_mut_ptr(), imp::api_type().into_glib())
                    as *const imp::ObjectsMeta;
            meta.as_ref().map(|m| &m.data)
        }
    }

    /// Replaces the data on `buffer`, adding the meta when it has none.
    pub fn set(buffer: &mut gst::BufferRef, data: ObjectsData) {
        match buffer.meta_mut::<Self>() {
            Some(mut meta) => *meta.data_mut() = data,
            None => {
                Self::add(buffer, data);
            }
        }
    }

    /// Changes the data on `buffer` in place; `default` makes it when the buffer has none.
    pub fn update<R>(
        buffer: &mut gst::BufferRef,
        default: impl FnOnce() -> ObjectsData,
        change: impl FnOnce(&mut ObjectsData) -> R,
    ) -> R {
        if let Some(mut meta) = buffer.meta_mut::<Self>() {
            return change(meta.data_mut());
        }
        let mut meta = Self::add(buffer, default());
        change(meta.data_mut())
    }

    pub fn data(&self) -> &ObjectsData {
        &self.0.data
    }

    pub fn data_mut(&mut self) -> &mut ObjectsData {
        &mut self.0.data
    }
}

impl fmt::Debug for VplObjectsMeta {
    fn fmt(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.debug_tuple("VplObjectsMeta").field(&self.0.data).finish()
    }
}

mod imp {
    use std::sync::LazyLock;
    use std::{mem, ptr};

    use gstreamer as gst;
    use gstreamer::glib;
    use gstreamer::glib::translate::{FromGlib, IntoGlib};

    use super::ObjectsData;

    /// What `gst_buffer_add_meta` hands to `init`.
    pub struct Params {
        pub data: ObjectsData,
    }

    /// The memory layout GStreamer allocates: its header, then our data.
    #[repr(C)]
    pub struct ObjectsMeta {
        parent: gst::ffi::GstMeta,
        pub(super) data: ObjectsData,
    }

    pub fn api_type() -> glib::Type {
        static TYPE: LazyLock<glib::Type> = LazyLock::new(|| {
            // No tags: the meta does not depend on the pixels, so transforms keep it.
            let tags = [ptr::null::<std::os::raw::c_char>()];
            // SAFETY: the name is a NUL-terminated static string and `tags` a
            // NULL-terminated array, both alive during the call; the LazyLock registers once.
            unsafe {
                glib::Type::from_glib(gst::ffi::gst_meta_api_type_register(
                    c"VplObjectsMetaAPI".as_ptr(),
                    tags.as_ptr() as *mut *const _,
                ))
            }
        });
        *TYPE
    }

    /// A pointer GStreamer owns for the life of the process; wrapped to live in a static.
    struct Info(ptr::NonNull<gst::ffi::GstMetaInfo>);
    // SAFETY: the meta info is immutable after registration and safe to share.
    unsafe impl Send for Info {}
    // SAFETY: as above.
    unsafe impl Sync for Info {}

    pub fn info() -> *const gst::ffi::GstMetaInfo {
        static INFO: LazyLock<Info> = LazyLock::new(|| {
            // SAFETY: the callbacks match the C signatures and treat the meta as an
            // `ObjectsMeta` of the size registered here.
            let info = unsafe {
                gst::ffi::gst_meta_register(
                    api_type().into_glib(),
                    c"VplObjectsMeta".as_ptr(),
                    mem::size_of::<ObjectsMeta>(),
                    Some(init),
                    Some(free),
                    Some(transform),
                )
            };
            // Registration fails only when the type system is broken (out of memory, or
            // the name taken by a meta of another size): there is no meta without it.
            Info(ptr::NonNull::new(info as *mut _).expect("registering VplObjectsMeta failed"))
        });
        INFO.0.as_ptr()
    }

    unsafe extern "C" fn init(
        meta: *mut gst::ffi::GstMeta,
        params: glib::ffi::gpointer,
        _buffer: *mut gst::ffi::GstBuffer,
    ) -> glib::ffi::gboolean {
        if params.is_null() {
            return false.into_glib();
        }
        // SAFETY: `meta` points to uninitialised memory of `size_of::<ObjectsMeta>()` with
        // its header filled in; `params` is the `Params` passed by `add`, which gives up
        // ownership of its data (ManuallyDrop), so reading it out moves it exactly once.
        unsafe {
            let meta = meta as *mut ObjectsMeta;
            let params = ptr::read(params as *const Params);
            ptr::write(ptr::addr_of_mut!((*meta).data), params.data);
        }
        true.into_glib()
    }

    unsafe extern "C" fn free(meta: *mut gst::ffi::GstMeta, _buffer: *mut gst::ffi::GstBuffer) {
        // SAFETY: `init` succeeded for this meta (GStreamer only frees initialised metas),
        // so `data` is a valid value dropped here once; GStreamer frees the memory itself.
        unsafe {
            let meta = meta as *mut ObjectsMeta;
            ptr::drop_in_place(ptr::addr_of_mut!((*meta).data));
        }
    }

    /// Copies the data onto the new buffer for every kind of transform (copies, scaling,
    /// conversion): coordinates are in source pixels, so no transform changes them.
    unsafe extern "C" fn transform(
        dest: *mut gst::ffi::GstBuffer,
        meta: *mut gst::ffi::GstMeta,
        _src: *mut gst::ffi::GstBuffer,
        _type: glib::ffi::GQuark,
        _data: glib::ffi::gpointer,
    ) -> glib::ffi::gboolean {
        // SAFETY: `meta` is one of ours on the source buffer, alive during the call; `dest`
        // is a writable buffer GStreamer is filling, distinct from the source.
        unsafe {
            let data = (*(meta as *const ObjectsMeta)).data.clone();
            super::VplObjectsMeta::set(gst::BufferRef::from_mut_ptr(dest), data);
        }
        true.into_glib()
    }
}
