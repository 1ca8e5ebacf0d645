//! f32 tensors ↔ ONNX Runtime float16 tensors, through two one-node `Cast` models.
//!
//! `ort` is built without its `half` feature (the workspace's `Cargo.toml` sets its
//! features), so it cannot make or read float16 tensors from Rust data, and the workspace
//! forbids the `unsafe` that writing raw bits would take. ONNX Runtime's own `Cast` does
//! the conversion instead; f16 → f32 → f16 is exact, so nothing is lost. With `ort/half`
//! enabled, this file could go.

use ort::environment::Environment;
use ort::session::Session;
use ort::value::{DynValue, Tensor};

/// ONNX `TensorProto.DataType` codes.
const FLOAT: u64 = 1;
const FLOAT16: u64 = 10;

/// The two converters, each a tiny session with one thread.
pub(super) struct Float16 {
    to_half: Session,
    to_float: Session,
}

impl Float16 {
    pub(super) fn new(environment: &Environment) -> Result<Float16, String> {
        let session = |from, to| -> Result<Session, String> {
            Session::builder(environment)
                .and_then(|b| b.with_intra_threads(1).map_err(Into::into))
                .and_then(|mut b| b.commit_from_memory(&cast_model(from, to)))
                .map_err(|e| format!("cannot build the float16 converter: {e}"))
        };
        Ok(Float16 {
            to_half: session(FLOAT, FLOAT16)?,
            to_float: session(FLOAT16, FLOAT)?,
        })
    }

    /// An f32 tensor of `shape` → a float16 tensor ONNX Runtime owns.
    pub(super) fn make_half(
        &mut self,
        shape: &[usize],
        data: Vec<f32>,
    ) -> Result<DynValue, String> {
        let tensor = Tensor::from_array((shape.to_vec(), data)).map_err(|e| e.to_string())?;
        let mut outputs = self
            .to_half
            .run(ort::inputs![tensor])
            .map_err(|e| e.to_string())?;
        outputs
            .remove("y")
            .ok_or_else(|| "the float16 converter gave no output".to_string())
    }

    /// A float16 tensor → its shape and values as f32.
    pub(super) fn read_half(&mut self, value: &DynValue) -> Result<(Vec<usize>, Vec<f32>), String> {
        let outputs = self
            .to_float
            .run(ort::inputs![value])
            .map_err(|e| e.to_string())?;
        let (shape, data) = outputs[0]
            .try_extract_tensor::<f32>()
            .map_err(|e| e.to_string())?;
        let shape = shape.iter().map(|d| (*d).max(0) as usize).collect();
        Ok((shape, data.to_vec()))
    }
}

/// A serialised ONNX model: `y = Cast(x, to)`, `x` of element type `from`, any shape.
fn cast_model(from: u64, to: u64) -> Vec<u8> {
    let tensor_type = |elem| message(1, &varint(1, elem));
    let value_info =
        |name: &str, elem| [bytes(1, name.as_bytes()), bytes(2, &tensor_type(elem))].concat();
    let attribute = [bytes(1, b"to"), varint(3, to), varint(20, 2)].concat();
    let node = [
        bytes(1, b"x"),
        bytes(2, b"y"),
        bytes(4, b"Cast"),
        message(5, &attribute),
    ]
    .concat();
    let graph = [
        message(1, &node),
        bytes(2, b"cast"),
        message(11, &value_info("x", from)),
        message(12, &value_info("y", to)),
    ]
    .concat();
    let opset = [bytes(1, b""), varint(2, 13)].concat();
    [varint(1, 8), message(7, &graph), message(8, &opset)].concat()
}

/// Protobuf: a varint field.
fn varint(field: u64, value: u64) -> Vec<u8> {
    let mut out = encode(field << 3);
    out.extend(encode(value));
    out
}

/// Protobuf: a length-delimited field (string, bytes or sub-message).
fn bytes(field: u64, value: &[u8]) -> Vec<u8> {
    let mut out = encode((field << 3) | 2);
    out.extend(encode(value.len() as u64));
    out.extend_from_slice(value);
    out
}

fn message(field: u64, value: &[u8]) -> Vec<u8> {
    bytes(field, value)
}

fn encode(mut value: u64) -> Vec<u8> {
    let mut out = Vec::new();
    loop {
        let low = (value & 0x7f) as u8;
        value >>= 7;
        if value == 0 {
            out.push(low);
            return out;
        }
        out.push(low | 0x80);
    }
}
