//! Label text: an object's caption, the font it is set in, and its anti-aliased coverage mask.

use std::path::{Path, PathBuf};

use ab_glyph::{Font, FontVec, PxScale, ScaleFont, point};

use super::draw::Mask;
use crate::meta::Object;

/// Where Debian's `fonts-dejavu-core` puts its fonts.
pub const FONT_DIR: &str = "/usr/share/fonts/truetype/dejavu";

/// Tried in this order before any other `.ttf` of the directory.
const PREFERRED: [&str; 2] = ["DejaVuSans.ttf", "DejaVuSans-Bold.ttf"];

/// Loads the first usable font of `dir`: the preferred faces first, then any `.ttf` (sorted,
/// so the choice does not depend on the directory's order). The error lists what was tried.
pub fn load_font(dir: &Path) -> Result<(PathBuf, FontVec), String> {
    let mut candidates: Vec<PathBuf> = PREFERRED.iter().map(|name| dir.join(name)).collect();
    let mut others: Vec<PathBuf> = std::fs::read_dir(dir)
        .map(|entries| {
            entries
                .filter_map(|e| e.ok().map(|e| e.path()))
                .filter(|p| p.extension().is_some_and(|x| x.eq_ignore_ascii_case("ttf")))
                .filter(|p| !candidates.contains(p))
                .collect()
        })
        .unwrap_or_default();
    others.sort();
    candidates.extend(others);
    let mut failures = Vec::new();
    for path in candidates {
        match std::fs::read(&path) {
            Ok(bytes) => match FontVec::try_from_vec(bytes) {
                Ok(font) => return Ok((path, font)),
                Err(e) => failures.push(format!("{}: {e}", path.display())),
            },
            Err(e) => failures.push(format!("{}: {e}", path.display())),
        }
    }
    if failures.is_empty() {
        Err(format!("no .ttf font in {}", dir.display()))
    } else {
        Err(failures.join("; "))
    }
}

/// What is drawn above an object's box: `"{label} {confidence:.2}"` when `labels`
/// (a recognised text object: its string instead), `"#{track_id}"` when `tracks` and the
/// object is tracked; `None` when that is nothing.
pub fn caption(object: &Object, labels: bool, tracks: bool) -> Option<String> {
    let mut parts = Vec::new();
    if labels {
        match &object.text {
            Some(text) if !text.is_empty() => parts.push(text.clone()),
            _ => parts.push(format!("{} {:.2}", object.label, object.confidence)),
        }
    }
    if tracks && let Some(id) = object.track_id {
        parts.push(format!("#{id}"));
    }
    (!parts.is_empty()).then(|| parts.join(" "))
}

/// The pixel height of label text on a frame `frame_height` rows high: about 14 px at 576p,
/// never below 12 so that small frames stay readable.
pub fn pixel_height(frame_height: usize) -> f32 {
    (frame_height as f32 / 40.0).max(12.0)
}

/// Rasterises one line of `text` at `px` pixels high into a coverage mask whose rows span
/// the font's ascent to its descent.
pub fn rasterise(font: &FontVec, text: &str, px: f32) -> Mask {
    let scale = PxScale::from(px);
    let scaled = font.as_scaled(scale);
    let ascent = scaled.ascent();
    let height = (ascent - scaled.descent()).ceil().max(1.0) as usize;
    let mut glyphs = Vec::new();
    let mut caret = 0.0f32;
    let mut previous = None;
    for c in text.chars() {
        let id = scaled.glyph_id(c);
        if let Some(previous) = previous {
            caret += scaled.kern(previous, id);
        }
        glyphs.push(id.with_scale_and_position(scale, point(caret, ascent)));
        caret += scaled.h_advance(id);
        previous = Some(id);
    }
    let width = caret.ceil().max(0.0) as usize;
    let mut coverage = vec![0.0f32; width * height];
    for glyph in glyphs {
        let Some(outlined) = font.outline_glyph(glyph) else {
            continue;
        };
        let bounds = outlined.px_bounds();
        let (left, top) = (bounds.min.x as i64, bounds.min.y as i64);
        outlined.draw(|gx, gy, c| {
            let (x, y) = (left + i64::from(gx), top + i64::from(gy));
            if x < 0 || y < 0 || x as usize >= width || y as usize >= height {
                return;
            }
            let cell = &mut coverage[y as usize * width + x as usize];
            *cell = cell.max(c.clamp(0.0, 1.0));
        });
    }
    Mask {
        width,
        height,
        coverage,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn object(track_id: Option<u64>) -> Object {
        Object {
            label: "person".into(),
            confidence: 0.8749,
            track_id,
            ..Object::default()
        }
    }

    #[test]
    fn caption_follows_the_properties() {
        assert_eq!(
            caption(&object(Some(7)), true, true).as_deref(),
            Some("person 0.87 #7")
        );
        assert_eq!(
            caption(&object(None), true, true).as_deref(),
            Some("person 0.87")
        );
        assert_eq!(
            caption(&object(Some(7)), true, false).as_deref(),
            Some("person 0.87")
        );
        assert_eq!(
            caption(&object(Some(7)), false, true).as_deref(),
            Some("#7")
        );
        assert_eq!(caption(&object(None), false, true), None);
        assert_eq!(caption(&object(Some(7)), false, false), None);
    }

    #[test]
    fn a_recognised_string_is_the_caption() {
        let read = Object {
            label: "text".into(),
            text: Some("PARKING 24".into()),
            ..object(Some(3))
        };
        assert_eq!(caption(&read, true, true).as_deref(), Some("PARKING 24 #3"));
        assert_eq!(caption(&read, false, true).as_deref(), Some("#3"));
        let unread = Object {
            text: Some(String::new()),
            ..read
        };
        assert_eq!(caption(&unread, true, false).as_deref(), Some("text 0.87"));
    }

    #[test]
    fn text_height_scales_with_the_frame() {
        assert_eq!(pixel_height(240), 12.0);
        assert!((pixel_height(576) - 14.4).abs() < 1e-4);
        assert_eq!(pixel_height(1080), 27.0);
    }

    #[test]
    fn a_missing_directory_is_an_error_not_a_panic() {
        assert!(load_font(Path::new("/nonexistent/vpl/fonts")).is_err());
    }

    #[test]
    fn text_is_anti_aliased() {
        // scripts/setup.sh installs fonts-dejavu-core, so the font is there wherever the
        // tests run; its absence is a set-up failure, reported here.
        let (_, font) = load_font(Path::new(FONT_DIR))
            .expect("fonts-dejavu-core is installed (scripts/setup.sh)");
        let mask = rasterise(&font, "person 0.87 #7", 14.0);
        assert!(
            mask.width > 40 && mask.height >= 14,
            "{}x{}",
            mask.width,
            mask.height
        );
        let full = mask.coverage.iter().filter(|&&c| c > 0.99).count();
        let partial = mask
            .coverage
            .iter()
            .filter(|&&c| c > 0.01 && c < 0.99)
            .count();
        assert!(full > 0 && partial > 0, "full {full}, partial {partial}");
    }
}
