//! Importers: other tools' pipeline configurations → `.vpl` text, with a map from the
//! generated text back to the lines that produced it. No IO: the files come in through a
//! reader the caller gives.

pub mod deepstream;
