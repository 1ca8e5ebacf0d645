//! A location ("-" or a path) → one writer shared by every `vplrecords` writing there, so
//! the records of a list of streams go to one file, whole lines at a time.

use std::collections::HashMap;
use std::fs::File;
use std::io::{self, BufWriter, Write};
use std::sync::{Arc, LazyLock, Mutex, Weak};

/// Whole lines in, never interleaved: one lock per line.
pub struct SharedWriter {
    out: Mutex<Box<dyn Write + Send>>,
    /// A broker sink's queue, for lines with a message key (Kafka's `key: stream`).
    keyed: Option<crate::brokers::KeyedOut>,
}

impl SharedWriter {
    /// Writes `line` as [`SharedWriter::write_line`] does; to a broker sink, as a message
    /// keyed `key` (a file has no keys: `key` is not used there).
    pub fn write_keyed_line(&self, key: &str, line: &str) -> io::Result<()> {
        match &self.keyed {
            Some(keyed) => {
                keyed.send(key, line);
                Ok(())
            }
            None => self.write_line(line),
        }
    }

    /// Writes `line` (which ends in `\n`) in one piece, and hands it to the system at
    /// once: a run that is killed (SIGKILL, a crash of the machine's power aside) loses
    /// at most the line being written, never lines of frames already done.
    pub fn write_line(&self, line: &str) -> io::Result<()> {
        let mut out = self.lock();
        out.write_all(line.as_bytes())?;
        out.flush()
    }

    pub fn flush(&self) -> io::Result<()> {
        self.lock().flush()
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Box<dyn Write + Send>> {
        self.out.lock().unwrap_or_else(|p| p.into_inner())
    }
}

impl Drop for SharedWriter {
    fn drop(&mut self) {
        // Last chance for buffered lines; there is nobody left to tell of an error.
        let _ = self.flush();
    }
}

static OPEN: LazyLock<Mutex<HashMap<String, Weak<SharedWriter>>>> =
    LazyLock::new(|| Mutex::new(HashMap::new()));

/// The writer of `location`, created (truncating the file) when nobody holds it.
pub fn writer_for(location: &str) -> io::Result<Arc<SharedWriter>> {
    shared(location, || {
        let out: Box<dyn Write + Send> = if location == "-" {
            Box::new(io::stdout())
        } else {
            Box::new(BufWriter::new(File::create(location)?))
        };
        Ok((out, None))
    })
}

/// The writer of the broker sink at `url`, `topic` (`crate::brokers`), created when
/// nobody holds it: the streams of one sink share its queue.
pub fn broker_writer_for(
    url: &str,
    topic: &str,
    buffer: usize,
    report: crate::brokers::Reporter,
) -> io::Result<Arc<SharedWriter>> {
    shared(&format!("\0broker {url} {topic}"), || {
        let out = crate::brokers::open(url, topic, buffer, report)?;
        let keyed = out.keyed();
        Ok((Box::new(out), Some(keyed)))
    })
}

/// What a shared writer is made of: where lines go, and a broker's queue for keyed lines.
type Made = (Box<dyn Write + Send>, Option<crate::brokers::KeyedOut>);

fn shared(key: &str, make: impl FnOnce() -> io::Result<Made>) -> io::Result<Arc<SharedWriter>> {
    let mut open = OPEN.lock().unwrap_or_else(|p| p.into_inner());
    open.retain(|_, w| w.strong_count() > 0);
    if let Some(writer) = open.get(key).and_then(Weak::upgrade) {
        return Ok(writer);
    }
    let (out, keyed) = make()?;
    let writer = Arc::new(SharedWriter {
        out: Mutex::new(out),
        keyed,
    });
    open.insert(key.to_string(), Arc::downgrade(&writer));
    Ok(writer)
}
