use super::*;

/// A connection's first key frame comes while the pipeline the element is in starts to
/// play (its appsrc has the clock, not yet its base time): it is dropped, and the frames
/// of the connection are placed at the pipeline's running time, not hours ahead.
#[test]
fn a_frame_that_comes_while_the_pipeline_starts_to_play_is_not_placed_at_the_clocks_time() {
    gst::init().expect("GStreamer starts");
    let appsrc = gst_app::AppSrc::builder()
        .is_live(true)
        .format(gst::Format::Time)
        .build();
    let appsink = gst_app::AppSink::builder().sync(false).build();
    // Playing without a frame to preroll on.
    appsink.set_async(false);
    let pipeline = gst::Pipeline::new();
    pipeline
        .add_many([appsrc.upcast_ref(), appsink.upcast_ref::<gst::Element>()])
        .expect("added");
    appsrc.link(&appsink).expect("linked");
    pipeline.set_state(gst::State::Paused).expect("paused");
    // What a pipeline going to PLAYING does first: the clock, then (as each element
    // changes state) its base time.
    appsrc
        .set_clock(Some(&gst::SystemClock::obtain()))
        .expect("the clock is taken");
    let feed = Feed {
        appsrc: appsrc.clone(),
        state: Mutex::new(FeedState::default()),
    };
    feed.begin_connection("rtsp://127.0.0.1:8554/live");
    let sample = |pts_ms: u64, key: bool| {
        let mut buffer = gst::Buffer::with_size(8).expect("a buffer");
        let b = buffer.get_mut().expect("writable");
        b.set_pts(gst::ClockTime::from_mseconds(pts_ms));
        if !key {
            b.set_flags(gst::BufferFlags::DELTA_UNIT);
        }
        gst::Sample::builder()
            .buffer(&buffer)
            .segment(&gst::FormattedSegment::<gst::ClockTime>::new())
            .build()
    };
    feed.push(&sample(0, true));
    assert_eq!(
        feed.frames(),
        0,
        "a frame was taken before the pipeline plays"
    );

    pipeline.set_state(gst::State::Playing).expect("playing");
    let (changed, state, _) = pipeline.state(gst::ClockTime::from_seconds(10));
    assert!(changed.is_ok() && state == gst::State::Playing);
    for (i, key) in [true, false, false].into_iter().enumerate() {
        feed.push(&sample(33 * (i as u64 + 1), key));
    }
    assert_eq!(feed.frames(), 3);
    let pts: Vec<gst::ClockTime> = (0..3)
        .map(|_| {
            let sample = appsink
                .try_pull_sample(gst::ClockTime::from_seconds(10))
                .expect("a frame");
            sample.buffer().and_then(|b| b.pts()).expect("a timestamp")
        })
        .collect();
    // The first at the running time it came at (not later than now), the others as far
    // from it as the sender spaced them.
    let now = appsrc.current_running_time().expect("a running time");
    assert!(
        pts[0] <= now,
        "placed at {}, the running time is {now}",
        pts[0]
    );
    let spacing: Vec<u64> = pts.iter().map(|t| (*t - pts[0]).mseconds()).collect();
    assert_eq!(spacing, [0, 33, 66]);
    pipeline.set_state(gst::State::Null).expect("stopped");
}
