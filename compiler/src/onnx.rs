//! ONNX model bytes → `ModelFacts` (inputs, outputs, metadata). Declares with prost only
//! the few protobuf messages and fields of onnx.proto that the signature needs (field
//! numbers as ONNX defines them); everything else in the file, weights included, is skipped.

use prost::Message;

use crate::facts::{DType, Dim, FactError, ModelFacts, TensorFacts};

#[derive(Clone, PartialEq, Message)]
struct ModelProto {
    #[prost(int64, tag = "1")]
    ir_version: i64,
    #[prost(string, tag = "2")]
    producer_name: String,
    #[prost(message, optional, tag = "7")]
    graph: Option<GraphProto>,
    #[prost(message, repeated, tag = "8")]
    opset_import: Vec<OperatorSetIdProto>,
    #[prost(message, repeated, tag = "14")]
    metadata_props: Vec<StringStringEntryProto>,
}

#[derive(Clone, PartialEq, Message)]
struct OperatorSetIdProto {
    #[prost(string, tag = "1")]
    domain: String,
    #[prost(int64, tag = "2")]
    version: i64,
}

#[derive(Clone, PartialEq, Message)]
struct StringStringEntryProto {
    #[prost(string, tag = "1")]
    key: String,
    #[prost(string, tag = "2")]
    value: String,
}

#[derive(Clone, PartialEq, Message)]
struct GraphProto {
    /// Only the names of initializers are needed: an input that is also an initializer
    /// is a weight, not something the pipeline feeds.
    #[prost(message, repeated, tag = "5")]
    initializer: Vec<NamedTensorProto>,
    #[prost(message, repeated, tag = "11")]
    input: Vec<ValueInfoProto>,
    #[prost(message, repeated, tag = "12")]
    output: Vec<ValueInfoProto>,
}

#[derive(Clone, PartialEq, Message)]
struct NamedTensorProto {
    #[prost(string, tag = "8")]
    name: String,
}

#[derive(Clone, PartialEq, Message)]
struct ValueInfoProto {
    #[prost(string, tag = "1")]
    name: String,
    #[prost(message, optional, tag = "2")]
    r#type: Option<TypeProto>,
}

#[derive(Clone, PartialEq, Message)]
struct TypeProto {
    #[prost(message, optional, tag = "1")]
    tensor_type: Option<TensorTypeProto>,
}

#[derive(Clone, PartialEq, Message)]
struct TensorTypeProto {
    #[prost(int32, tag = "1")]
    elem_type: i32,
    #[prost(message, optional, tag = "2")]
    shape: Option<TensorShapeProto>,
}

#[derive(Clone, PartialEq, Message)]
struct TensorShapeProto {
    #[prost(message, repeated, tag = "1")]
    dim: Vec<DimensionProto>,
}

#[derive(Clone, PartialEq, Message)]
struct DimensionProto {
    #[prost(oneof = "DimensionValue", tags = "1, 2")]
    value: Option<DimensionValue>,
}

#[derive(Clone, PartialEq, prost::Oneof)]
enum DimensionValue {
    #[prost(int64, tag = "1")]
    DimValue(i64),
    #[prost(string, tag = "2")]
    DimParam(String),
}

fn tensor(v: &ValueInfoProto) -> Option<TensorFacts> {
    let t = v.r#type.as_ref()?.tensor_type.as_ref()?;
    let shape = t
        .shape
        .as_ref()
        .map(|s| {
            s.dim
                .iter()
                .map(|d| match &d.value {
                    Some(DimensionValue::DimValue(n)) if *n > 0 => Dim::Fixed(*n),
                    Some(DimensionValue::DimParam(p)) if !p.is_empty() => Dim::Named(p.clone()),
                    _ => Dim::Unknown,
                })
                .collect()
        })
        .unwrap_or_default();
    Some(TensorFacts {
        name: v.name.clone(),
        dtype: DType::from_onnx(t.elem_type),
        shape,
    })
}

/// Reads a model's signature from the bytes of an `.onnx` file.
pub fn signature(bytes: &[u8]) -> Result<ModelFacts, FactError> {
    let not_onnx = |why: &str| FactError::Invalid(format!("not an ONNX model: {why}"));
    let model =
        ModelProto::decode(bytes).map_err(|_| not_onnx("the file is not a protobuf ModelProto"))?;
    if model.ir_version <= 0 {
        return Err(not_onnx("it has no IR version"));
    }
    let graph = model
        .graph
        .as_ref()
        .ok_or_else(|| not_onnx("it has no graph"))?;
    let weights: std::collections::HashSet<&str> =
        graph.initializer.iter().map(|t| t.name.as_str()).collect();
    let inputs: Vec<TensorFacts> = graph
        .input
        .iter()
        .filter(|v| !weights.contains(v.name.as_str()))
        .filter_map(tensor)
        .collect();
    let outputs: Vec<TensorFacts> = graph.output.iter().filter_map(tensor).collect();
    if inputs.is_empty() || outputs.is_empty() {
        return Err(not_onnx("its graph declares no tensor inputs or outputs"));
    }
    Ok(ModelFacts {
        inputs,
        outputs,
        metadata: model
            .metadata_props
            .iter()
            .map(|p| (p.key.clone(), p.value.clone()))
            .collect(),
        opset: model
            .opset_import
            .iter()
            .find(|o| o.domain.is_empty() || o.domain == "ai.onnx")
            .map(|o| o.version),
        producer: (!model.producer_name.is_empty()).then(|| model.producer_name.clone()),
    })
}

/// The bytes of an ONNX model with this signature and no nodes: enough for the type
/// checker, for tests and tools that need a model without a file.
pub fn model_bytes(facts: &ModelFacts) -> Vec<u8> {
    let value = |t: &TensorFacts| ValueInfoProto {
        name: t.name.clone(),
        r#type: Some(TypeProto {
            tensor_type: Some(TensorTypeProto {
                elem_type: t.dtype.to_onnx(),
                shape: Some(TensorShapeProto {
                    dim: t
                        .shape
                        .iter()
                        .map(|d| DimensionProto {
                            value: match d {
                                Dim::Fixed(n) => Some(DimensionValue::DimValue(*n)),
                                Dim::Named(p) => Some(DimensionValue::DimParam(p.clone())),
                                Dim::Unknown => None,
                            },
                        })
                        .collect(),
                }),
            }),
        }),
    };
    ModelProto {
        ir_version: 8,
        producer_name: facts.producer.clone().unwrap_or_default(),
        graph: Some(GraphProto {
            initializer: Vec::new(),
            input: facts.inputs.iter().map(value).collect(),
            output: facts.outputs.iter().map(value).collect(),
        }),
        opset_import: facts
            .opset
            .map(|version| OperatorSetIdProto {
                domain: String::new(),
                version,
            })
            .into_iter()
            .collect(),
        metadata_props: facts
            .metadata
            .iter()
            .map(|(key, value)| StringStringEntryProto {
                key: key.clone(),
                value: value.clone(),
            })
            .collect(),
    }
    .encode_to_vec()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn value(name: &str, elem: i32, dims: Vec<DimensionValue>) -> ValueInfoProto {
        ValueInfoProto {
            name: name.into(),
            r#type: Some(TypeProto {
                tensor_type: Some(TensorTypeProto {
                    elem_type: elem,
                    shape: Some(TensorShapeProto {
                        dim: dims
                            .into_iter()
                            .map(|v| DimensionProto { value: Some(v) })
                            .collect(),
                    }),
                }),
            }),
        }
    }

    #[test]
    fn reads_a_signature_and_skips_weights() {
        use DimensionValue::{DimParam, DimValue};
        let model = ModelProto {
            ir_version: 8,
            producer_name: "test".into(),
            graph: Some(GraphProto {
                initializer: vec![NamedTensorProto { name: "w".into() }],
                input: vec![
                    value(
                        "images",
                        1,
                        vec![
                            DimParam("batch".into()),
                            DimValue(3),
                            DimValue(640),
                            DimValue(640),
                        ],
                    ),
                    value("w", 1, vec![DimValue(6)]),
                ],
                output: vec![value(
                    "output0",
                    10,
                    vec![DimParam("batch".into()), DimValue(6), DimValue(8400)],
                )],
            }),
            opset_import: vec![OperatorSetIdProto {
                domain: String::new(),
                version: 13,
            }],
            metadata_props: vec![StringStringEntryProto {
                key: "names".into(),
                value: "{0: 'person'}".into(),
            }],
        };
        let facts = signature(&model.encode_to_vec()).expect("a valid model");
        assert_eq!(facts.inputs.len(), 1);
        assert_eq!(
            facts.inputs[0].signature(),
            "tensor<f32, [batch, 3, 640, 640]>"
        );
        assert_eq!(
            facts.outputs[0].signature(),
            "tensor<f16, [batch, 6, 8400]>"
        );
        assert_eq!(facts.opset, Some(13));
        assert_eq!(
            facts.metadata,
            vec![("names".to_string(), "{0: 'person'}".to_string())]
        );
    }

    #[test]
    fn rejects_what_is_not_onnx() {
        assert!(matches!(
            signature(b"this is not an ONNX model\n"),
            Err(FactError::Invalid(_))
        ));
        assert!(matches!(signature(b""), Err(FactError::Invalid(_))));
        assert!(matches!(signature(&[0xff; 64]), Err(FactError::Invalid(_))));
    }
}
