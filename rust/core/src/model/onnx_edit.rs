//! Wrapping an ONNX model into the Visual-CCC contract without an ONNX library: a few
//! protobuf messages are encoded by hand, everything else is copied byte for byte.
//!
//! [`wrap`] gives the graph a new input `input` `[N,1,S,S]`, runs `prefix` nodes that
//! turn it into what the original input expected, renames the original input inside the
//! graph, ends with one node producing `logits` `[N,C]`, and replaces the metadata.

use crate::error::{Error, Result};
use crate::model::onnx_head::{field_text, find_gemm, raw_fields};

/// A constant tensor: float32 or int64 values with a shape.
#[derive(Debug, Clone)]
pub enum Constant {
    Float(Vec<usize>, Vec<f32>),
    Int64(Vec<usize>, Vec<i64>),
}

/// An attribute of a node.
#[derive(Debug, Clone)]
pub enum Attribute {
    Int(&'static str, i64),
    Ints(&'static str, Vec<i64>),
}

/// A node to add.
#[derive(Debug, Clone)]
pub struct Node {
    pub op: &'static str,
    pub inputs: Vec<String>,
    pub outputs: Vec<String>,
    pub attributes: Vec<Attribute>,
}

/// Nodes and constants built up in order, with fresh tensor names.
#[derive(Debug, Default)]
pub struct Builder {
    pub nodes: Vec<Node>,
    pub constants: Vec<(String, Constant)>,
    count: usize,
}

impl Builder {
    fn fresh(&mut self, what: &str) -> String {
        self.count += 1;
        format!("visualccc_{what}_{}", self.count)
    }

    /// A float32 constant (a scalar for an empty shape).
    pub fn float(&mut self, shape: &[usize], values: &[f32]) -> String {
        let name = self.fresh("const");
        self.constants.push((
            name.clone(),
            Constant::Float(shape.to_vec(), values.to_vec()),
        ));
        name
    }

    pub fn scalar(&mut self, value: f32) -> String {
        self.float(&[], &[value])
    }

    pub fn int64s(&mut self, values: &[i64]) -> String {
        let name = self.fresh("const");
        self.constants.push((
            name.clone(),
            Constant::Int64(vec![values.len()], values.to_vec()),
        ));
        name
    }

    /// Adds a node with `outputs` outputs and returns the name of the first.
    pub fn op(
        &mut self,
        op: &'static str,
        inputs: &[&str],
        outputs: usize,
        attributes: Vec<Attribute>,
    ) -> String {
        let names: Vec<String> = (0..outputs)
            .map(|_| self.fresh(&op.to_lowercase()))
            .collect();
        self.nodes.push(Node {
            op,
            inputs: inputs.iter().map(|s| s.to_string()).collect(),
            outputs: names.clone(),
            attributes,
        });
        names[0].clone()
    }
}

/// How the original model is wrapped.
pub struct Wrapping<'a> {
    /// Name of the first tensor of `prefix`'s output chain, fed from `input`.
    pub input_size: usize,
    pub classes: usize,
    /// Nodes turning `input` into the original input; `prefix_output` names the result.
    pub prefix: Builder,
    pub prefix_output: String,
    /// Operator producing `logits` from the original output (`Identity` or `Log`).
    pub tail_op: &'static str,
    pub metadata: &'a [(&'a str, String)],
}

/// The opset version of the default domain.
pub fn opset(model: &[u8]) -> Result<i64> {
    for field in raw_fields(model)? {
        if field.number == 8 {
            let entry = raw_fields(field.payload.unwrap_or_default())?;
            let domain = entry
                .iter()
                .find(|f| f.number == 1)
                .and_then(|f| f.payload)
                .map(field_text)
                .transpose()?
                .unwrap_or_default();
            if domain.is_empty() || domain == "ai.onnx" {
                let version = entry.iter().find(|f| f.number == 2).and_then(|f| f.varint);
                return Ok(version.unwrap_or(1) as i64);
            }
        }
    }
    Err(Error::Model(
        "the model declares no default-domain opset".into(),
    ))
}

/// Wraps `model` as described on [`Wrapping`]; returns the new model's bytes.
pub fn wrap(model: &[u8], wrapping: &Wrapping) -> Result<Vec<u8>> {
    let mut out = Vec::new();
    for field in raw_fields(model)? {
        match field.number {
            7 => {
                let graph = wrap_graph(field.payload.unwrap_or_default(), wrapping)?;
                bytes_field(&mut out, 7, &graph);
            }
            14 => {} // metadata_props: replaced below
            _ => out.extend_from_slice(field.encoded),
        }
    }
    write_metadata(
        &mut out,
        wrapping.metadata.iter().map(|(k, v)| (*k, v.as_str())),
    );
    Ok(out)
}

/// A new linear head for an existing model.
pub struct NewHead<'a> {
    /// `[classes][channels]`, row-major.
    pub weights: &'a [f32],
    pub biases: &'a [f32],
    /// The whole metadata of the new model.
    pub metadata: &'a [(String, String)],
}

/// `model` with the `Gemm` layer behind `logits` replaced by `head` (same input, same
/// output, `transB = 1`), the old layer's weights dropped, `logits` declared `[N, C]`
/// and the metadata replaced; every other byte is copied unchanged.
pub fn replace_head(model: &[u8], head: &NewHead) -> Result<Vec<u8>> {
    let classes = head.biases.len();
    if classes == 0 || head.weights.is_empty() || !head.weights.len().is_multiple_of(classes) {
        return Err(Error::invalid(
            "a new head needs weights for at least one class",
        ));
    }
    let layer = find_gemm(model, "logits")?;
    let weight_name = "visualccc_head_weight".to_string();
    let bias_name = "visualccc_head_bias".to_string();
    let gemm = Node {
        op: "Gemm",
        inputs: vec![layer.input.clone(), weight_name.clone(), bias_name.clone()],
        outputs: vec![layer.output.clone()],
        attributes: vec![Attribute::Int("transB", 1)],
    };
    let mut graph_out = Vec::new();
    let mut out = Vec::new();
    for field in raw_fields(model)? {
        match field.number {
            7 => {
                for g in raw_fields(field.payload.unwrap_or_default())? {
                    let payload = g.payload.unwrap_or_default();
                    match g.number {
                        1 if string_fields(payload, 2)?.contains(&layer.output) => {
                            bytes_field(&mut graph_out, 1, &encode_node(&gemm))
                        }
                        5 | 11
                            if string_fields(payload, if g.number == 5 { 8 } else { 1 })?
                                .iter()
                                .any(|n| layer.parameters.contains(n)) => {}
                        12 if string_fields(payload, 1)? == ["logits"] => {
                            let logits = value_info("logits", &[None, Some(classes as i64)]);
                            bytes_field(&mut graph_out, 12, &logits);
                        }
                        13 => {} // intermediate shapes: may name the old head's
                        _ => graph_out.extend_from_slice(g.encoded),
                    }
                }
                let channels = head.weights.len() / classes;
                for (name, constant) in [
                    (
                        &weight_name,
                        Constant::Float(vec![classes, channels], head.weights.to_vec()),
                    ),
                    (
                        &bias_name,
                        Constant::Float(vec![classes], head.biases.to_vec()),
                    ),
                ] {
                    bytes_field(&mut graph_out, 5, &encode_constant(name, &constant));
                }
                bytes_field(&mut out, 7, &graph_out);
            }
            14 => {} // metadata_props: replaced below
            _ => out.extend_from_slice(field.encoded),
        }
    }
    write_metadata(
        &mut out,
        head.metadata.iter().map(|(k, v)| (k.as_str(), v.as_str())),
    );
    Ok(out)
}

/// `model` with its metadata (`metadata_props`) replaced by `entries`; every other byte
/// is copied unchanged.
pub fn with_metadata(model: &[u8], entries: &[(String, String)]) -> Result<Vec<u8>> {
    let mut out = Vec::with_capacity(model.len());
    for field in raw_fields(model)? {
        if field.number != 14 {
            out.extend_from_slice(field.encoded);
        }
    }
    write_metadata(
        &mut out,
        entries.iter().map(|(k, v)| (k.as_str(), v.as_str())),
    );
    Ok(out)
}

/// Appends `metadata_props` entries.
fn write_metadata<'a>(out: &mut Vec<u8>, entries: impl Iterator<Item = (&'a str, &'a str)>) {
    for (key, value) in entries {
        let mut entry = Vec::new();
        bytes_field(&mut entry, 1, key.as_bytes());
        bytes_field(&mut entry, 2, value.as_bytes());
        bytes_field(out, 14, &entry);
    }
}

/// The part of `model` between its `features` output and `logits` (pooling and head)
/// as a model of its own with input `features` `[N, K, h, w]`: lets a check perturb the
/// feature maps themselves, e.g. to compare the CAM with a finite-difference Grad-CAM.
pub fn features_to_logits(model: &[u8]) -> Result<Vec<u8>> {
    let mut out = Vec::new();
    for field in raw_fields(model)? {
        if field.number != 7 {
            out.extend_from_slice(field.encoded);
            continue;
        }
        let graph = raw_fields(field.payload.unwrap_or_default())?;
        // Walk back from `logits` to `features`, keeping the nodes on the way.
        let mut needed = vec!["logits".to_string()];
        let mut kept = vec![false; graph.len()];
        for (i, g) in graph
            .iter()
            .enumerate()
            .rev()
            .filter(|(_, g)| g.number == 1)
        {
            let payload = g.payload.unwrap_or_default();
            if string_fields(payload, 2)?
                .iter()
                .any(|o| needed.contains(o))
            {
                kept[i] = true;
                needed.extend(
                    string_fields(payload, 1)?
                        .into_iter()
                        .filter(|n| n != "features"),
                );
            }
        }
        let mut graph_out = Vec::new();
        for (i, g) in graph.iter().enumerate() {
            let payload = g.payload.unwrap_or_default();
            let keep = match g.number {
                1 => kept[i],
                5 => string_fields(payload, 8)?
                    .iter()
                    .any(|n| needed.contains(n)),
                11 | 13 => false,
                12 => string_fields(payload, 1)? == ["logits"],
                _ => true,
            };
            if keep {
                graph_out.extend_from_slice(g.encoded);
            }
        }
        let mut shape = Vec::new();
        for dim in ["N", "K", "h", "w"] {
            let mut d = Vec::new();
            bytes_field(&mut d, 2, dim.as_bytes());
            bytes_field(&mut shape, 1, &d);
        }
        bytes_field(&mut graph_out, 11, &tensor_value_info("features", &shape));
        bytes_field(&mut out, 7, &graph_out);
    }
    Ok(out)
}

/// The string fields numbered `number` of a protobuf message (names of a node's
/// inputs or outputs, of a tensor, of a value info).
fn string_fields(message: &[u8], number: u64) -> Result<Vec<String>> {
    raw_fields(message)?
        .iter()
        .filter(|f| f.number == number)
        .filter_map(|f| f.payload)
        .map(field_text)
        .collect()
}

/// Metadata entries (`metadata_props`) of a model, in order.
pub fn metadata(model: &[u8]) -> Result<Vec<(String, String)>> {
    let mut entries = Vec::new();
    for field in raw_fields(model)?.iter().filter(|f| f.number == 14) {
        let (mut key, mut value) = (String::new(), String::new());
        for f in raw_fields(field.payload.unwrap_or_default())? {
            match (f.number, f.payload) {
                (1, Some(b)) => key = field_text(b)?,
                (2, Some(b)) => value = field_text(b)?,
                _ => {}
            }
        }
        entries.push((key, value));
    }
    Ok(entries)
}

fn wrap_graph(graph: &[u8], wrapping: &Wrapping) -> Result<Vec<u8>> {
    let fields = raw_fields(graph)?;
    let name_of = |payload: &[u8]| -> Result<String> {
        raw_fields(payload)?
            .iter()
            .find(|f| f.number == 1)
            .and_then(|f| f.payload)
            .map(field_text)
            .transpose()
            .map(Option::unwrap_or_default)
    };
    let initializers: Vec<String> = fields
        .iter()
        .filter(|f| f.number == 5)
        .map(|f| name_of(f.payload.unwrap_or_default()))
        .collect::<Result<_>>()?;
    // The real input: the first graph input that is not an initializer.
    let mut original_input = None;
    for f in fields.iter().filter(|f| f.number == 11) {
        let name = name_of(f.payload.unwrap_or_default())?;
        if !initializers.contains(&name) {
            original_input = Some(name);
            break;
        }
    }
    let original_input =
        original_input.ok_or_else(|| Error::Model("the graph has no input".into()))?;
    let original_output = match fields.iter().find(|f| f.number == 12) {
        Some(f) => name_of(f.payload.unwrap_or_default())?,
        None => return Err(Error::Model("the graph has no output".into())),
    };

    let mut out = Vec::new();
    for node in &wrapping.prefix.nodes {
        bytes_field(&mut out, 1, &encode_node(node));
    }
    for field in &fields {
        match field.number {
            1 => {
                let node = rename_input(
                    field.payload.unwrap_or_default(),
                    &original_input,
                    &wrapping.prefix_output,
                )?;
                bytes_field(&mut out, 1, &node);
            }
            11 => {
                // Keep inputs that are initializers (older IR versions list them).
                if name_of(field.payload.unwrap_or_default())? != original_input {
                    out.extend_from_slice(field.encoded);
                }
            }
            12 | 13 => {} // outputs and intermediate shapes: replaced or dropped
            _ => out.extend_from_slice(field.encoded),
        }
    }
    let tail = Node {
        op: wrapping.tail_op,
        inputs: vec![original_output],
        outputs: vec!["logits".into()],
        attributes: Vec::new(),
    };
    bytes_field(&mut out, 1, &encode_node(&tail));
    for (name, constant) in &wrapping.prefix.constants {
        bytes_field(&mut out, 5, &encode_constant(name, constant));
    }
    let size = wrapping.input_size as i64;
    let input = value_info("input", &[None, Some(1), Some(size), Some(size)]);
    bytes_field(&mut out, 11, &input);
    let logits = value_info("logits", &[None, Some(wrapping.classes as i64)]);
    bytes_field(&mut out, 12, &logits);
    Ok(out)
}

/// A node's bytes with every input named `from` renamed `to`.
fn rename_input(node: &[u8], from: &str, to: &str) -> Result<Vec<u8>> {
    let mut out = Vec::new();
    for field in raw_fields(node)? {
        match (field.number, field.payload) {
            (1, Some(name)) if name == from.as_bytes() => bytes_field(&mut out, 1, to.as_bytes()),
            _ => out.extend_from_slice(field.encoded),
        }
    }
    Ok(out)
}

fn varint(out: &mut Vec<u8>, mut value: u64) {
    loop {
        let byte = (value & 0x7f) as u8;
        value >>= 7;
        if value == 0 {
            out.push(byte);
            return;
        }
        out.push(byte | 0x80);
    }
}

fn varint_field(out: &mut Vec<u8>, number: u64, value: u64) {
    varint(out, number << 3);
    varint(out, value);
}

fn bytes_field(out: &mut Vec<u8>, number: u64, bytes: &[u8]) {
    varint(out, (number << 3) | 2);
    varint(out, bytes.len() as u64);
    out.extend_from_slice(bytes);
}

fn encode_node(node: &Node) -> Vec<u8> {
    let mut out = Vec::new();
    for input in &node.inputs {
        bytes_field(&mut out, 1, input.as_bytes());
    }
    for output in &node.outputs {
        bytes_field(&mut out, 2, output.as_bytes());
    }
    bytes_field(&mut out, 3, node.outputs[0].as_bytes());
    bytes_field(&mut out, 4, node.op.as_bytes());
    for attribute in &node.attributes {
        let mut a = Vec::new();
        match attribute {
            Attribute::Int(name, value) => {
                bytes_field(&mut a, 1, name.as_bytes());
                varint_field(&mut a, 3, *value as u64);
                varint_field(&mut a, 20, 2); // AttributeType INT
            }
            Attribute::Ints(name, values) => {
                bytes_field(&mut a, 1, name.as_bytes());
                for &v in values {
                    varint_field(&mut a, 8, v as u64);
                }
                varint_field(&mut a, 20, 7); // AttributeType INTS
            }
        }
        bytes_field(&mut out, 5, &a);
    }
    out
}

fn encode_constant(name: &str, constant: &Constant) -> Vec<u8> {
    let mut out = Vec::new();
    let (shape, data_type, raw): (&[usize], u64, Vec<u8>) = match constant {
        Constant::Float(shape, values) => (
            shape,
            1,
            values.iter().flat_map(|v| v.to_le_bytes()).collect(),
        ),
        Constant::Int64(shape, values) => (
            shape,
            7,
            values.iter().flat_map(|v| v.to_le_bytes()).collect(),
        ),
    };
    for &dim in shape {
        varint_field(&mut out, 1, dim as u64);
    }
    varint_field(&mut out, 2, data_type);
    bytes_field(&mut out, 8, name.as_bytes());
    bytes_field(&mut out, 9, &raw);
    out
}

/// A float tensor ValueInfoProto; `None` dimensions are the symbolic `N`.
fn value_info(name: &str, dims: &[Option<i64>]) -> Vec<u8> {
    let mut shape = Vec::new();
    for dim in dims {
        let mut d = Vec::new();
        match dim {
            Some(value) => varint_field(&mut d, 1, *value as u64),
            None => bytes_field(&mut d, 2, b"N"),
        }
        bytes_field(&mut shape, 1, &d);
    }
    tensor_value_info(name, &shape)
}

/// A float tensor ValueInfoProto with an encoded TensorShapeProto.
fn tensor_value_info(name: &str, shape: &[u8]) -> Vec<u8> {
    let mut tensor = Vec::new();
    varint_field(&mut tensor, 1, 1); // FLOAT
    bytes_field(&mut tensor, 2, shape);
    let mut type_proto = Vec::new();
    bytes_field(&mut type_proto, 1, &tensor);
    let mut out = Vec::new();
    bytes_field(&mut out, 1, name.as_bytes());
    bytes_field(&mut out, 2, &type_proto);
    out
}
