//! Reads the weights of a model's final linear layer straight from the ONNX protobuf.
//!
//! Exact CAM needs `w_ck`, the weight from feature channel `k` to class `c`. ONNX Runtime
//! does not expose initializers, so this module walks the few protobuf fields needed:
//! the node producing `logits` (`Gemm`, or `MatMul` optionally followed by `Add`) and
//! the float initializer holding its weight matrix.

use crate::error::{Error, Result};

/// Weights of the final linear layer, row-major `[classes][channels]`.
#[derive(Debug, Clone, PartialEq)]
pub struct LinearHead {
    pub classes: usize,
    pub channels: usize,
    pub weights: Vec<f32>,
}

impl LinearHead {
    pub fn row(&self, class: usize) -> &[f32] {
        &self.weights[class * self.channels..(class + 1) * self.channels]
    }
}

/// Finds the linear layer that produces `output_name`, or explains why there is none.
pub fn find_linear_head(model_bytes: &[u8], output_name: &str) -> Result<LinearHead> {
    let graph = parse_model(model_bytes)?;
    let node = head_node(&graph, output_name)?;
    match node.op_type.as_str() {
        "Gemm" => gemm_head(&graph, node),
        "MatMul" => matmul_head(&graph, node),
        _ => {
            let matmul = node.inputs.iter().find_map(|input| {
                graph
                    .nodes
                    .iter()
                    .find(|n| n.op_type == "MatMul" && n.outputs.iter().any(|o| o == input))
            });
            match matmul {
                Some(matmul) => matmul_head(&graph, matmul),
                None => Err(head_error(
                    "'Add' before the output does not follow a MatMul",
                )),
            }
        }
    }
}

/// The `Gemm` layer computing `output_name`, for replacing it: its input (the pooled
/// features), its output, and its weight and bias initializers.
#[derive(Debug, Clone)]
pub(crate) struct GemmLayer {
    pub input: String,
    pub output: String,
    pub parameters: Vec<String>,
}

pub(crate) fn find_gemm(model_bytes: &[u8], output_name: &str) -> Result<GemmLayer> {
    let graph = parse_model(model_bytes)?;
    let node = head_node(&graph, output_name)?;
    if node.op_type != "Gemm" || node.inputs.len() < 2 {
        return Err(head_error(&format!(
            "the head is '{}', and only a Gemm head can be replaced",
            node.op_type
        )));
    }
    Ok(GemmLayer {
        input: node.inputs[0].clone(),
        output: node.outputs[0].clone(),
        parameters: node.inputs[1..].to_vec(),
    })
}

/// The biases of the `Gemm` layer computing `output_name` (its `C` input times `beta`),
/// one per class: zeros when it has none, a single stored value broadcast to every class.
pub(crate) fn gemm_bias(model_bytes: &[u8], output_name: &str, classes: usize) -> Result<Vec<f32>> {
    let graph = parse_model(model_bytes)?;
    let node = head_node(&graph, output_name)?;
    if node.op_type != "Gemm" {
        return Err(head_error(&format!(
            "the head is '{}', and only a Gemm head's bias is read",
            node.op_type
        )));
    }
    let Some(name) = node.inputs.get(2).filter(|n| !n.is_empty()) else {
        return Ok(vec![0.0; classes]);
    };
    let tensor = graph.initializer(name)?;
    let beta = node.float_attribute("beta").unwrap_or(1.0);
    match tensor.values.len() {
        1 => Ok(vec![beta * tensor.values[0]; classes]),
        n if n == classes => Ok(tensor.values.iter().map(|b| beta * b).collect()),
        n => Err(head_error(&format!(
            "bias '{name}' has {n} values for {classes} classes"
        ))),
    }
}

/// The `Gemm`, `MatMul` or `Add` node behind `output_name`, through pass-through nodes.
fn head_node<'g>(graph: &'g Graph, output_name: &str) -> Result<&'g Node> {
    let mut name = output_name.to_string();
    for _ in 0..8 {
        let node = graph
            .nodes
            .iter()
            .find(|n| n.outputs.contains(&name))
            .ok_or_else(|| head_error(&format!("no node produces '{name}'")))?;
        match node.op_type.as_str() {
            "Identity" | "Flatten" | "Reshape" | "Squeeze" => name = node.inputs[0].clone(),
            "Gemm" | "MatMul" | "Add" => return Ok(node),
            other => {
                return Err(head_error(&format!(
                    "the output is computed by '{other}', not by a linear layer"
                )))
            }
        }
    }
    Err(head_error("too many pass-through nodes before the output"))
}

fn head_error(reason: &str) -> Error {
    Error::Model(format!(
        "cannot find the final linear layer needed for class activation maps: {reason} \
         (model contract v1 requires global average pooling + one Gemm/MatMul layer)"
    ))
}

/// The weight matrix of a Gemm or MatMul node: its second input, an initializer.
fn weight<'g>(graph: &'g Graph, node: &Node, op: &str) -> Result<&'g FloatTensor> {
    let name = node
        .inputs
        .get(1)
        .ok_or_else(|| head_error(&format!("{op} has no weight input")))?;
    graph.initializer(name)
}

fn gemm_head(graph: &Graph, node: &Node) -> Result<LinearHead> {
    let tensor = weight(graph, node, "Gemm")?;
    let trans_b = node.int_attribute("transB").unwrap_or(0) != 0;
    let alpha = node.float_attribute("alpha").unwrap_or(1.0);
    if node.int_attribute("transA").unwrap_or(0) != 0 {
        return Err(head_error("Gemm with transA is not supported"));
    }
    let (rows, cols) = tensor.matrix_shape()?;
    let mut head = if trans_b {
        LinearHead {
            classes: rows,
            channels: cols,
            weights: tensor.values.clone(),
        }
    } else {
        transpose(rows, cols, &tensor.values)
    };
    head.weights.iter_mut().for_each(|w| *w *= alpha);
    Ok(head)
}

fn matmul_head(graph: &Graph, node: &Node) -> Result<LinearHead> {
    let tensor = weight(graph, node, "MatMul")?;
    let (rows, cols) = tensor.matrix_shape()?;
    Ok(transpose(rows, cols, &tensor.values))
}

/// Turns a `[channels][classes]` matrix into a `[classes][channels]` head.
fn transpose(rows: usize, cols: usize, values: &[f32]) -> LinearHead {
    let mut weights = vec![0.0; rows * cols];
    for r in 0..rows {
        for c in 0..cols {
            weights[c * rows + r] = values[r * cols + c];
        }
    }
    LinearHead {
        classes: cols,
        channels: rows,
        weights,
    }
}

#[derive(Debug, Default)]
struct Graph {
    nodes: Vec<Node>,
    initializers: Vec<FloatTensor>,
}

impl Graph {
    fn initializer(&self, name: &str) -> Result<&FloatTensor> {
        self.initializers
            .iter()
            .find(|t| t.name == name)
            .ok_or_else(|| head_error(&format!("weight '{name}' is not a stored initializer")))
    }
}

#[derive(Debug, Default)]
struct Node {
    inputs: Vec<String>,
    outputs: Vec<String>,
    op_type: String,
    int_attributes: Vec<(String, i64)>,
    float_attributes: Vec<(String, f32)>,
}

impl Node {
    fn int_attribute(&self, name: &str) -> Option<i64> {
        self.int_attributes
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| *v)
    }

    fn float_attribute(&self, name: &str) -> Option<f32> {
        self.float_attributes
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| *v)
    }
}

#[derive(Debug, Default)]
struct FloatTensor {
    name: String,
    dims: Vec<i64>,
    values: Vec<f32>,
}

impl FloatTensor {
    fn matrix_shape(&self) -> Result<(usize, usize)> {
        match self.dims.as_slice() {
            &[rows, cols]
                if rows > 0 && cols > 0 && (rows * cols) as usize == self.values.len() =>
            {
                Ok((rows as usize, cols as usize))
            }
            dims => Err(head_error(&format!(
                "weight '{}' has shape {dims:?} with {} stored values, expected a 2-D float matrix",
                self.name,
                self.values.len()
            ))),
        }
    }
}

// --- protobuf wire format -------------------------------------------------------------

const FLOAT: i64 = 1;

fn malformed() -> Error {
    Error::Model("the file is not a valid ONNX model (malformed protobuf)".into())
}

struct Reader<'a> {
    bytes: &'a [u8],
}

enum Field<'a> {
    Varint(u64),
    Fixed32(u32),
    Bytes(&'a [u8]),
}

impl<'a> Reader<'a> {
    fn varint(&mut self) -> Result<u64> {
        let mut value = 0u64;
        for shift in (0..64).step_by(7) {
            let (&byte, rest) = self.bytes.split_first().ok_or_else(malformed)?;
            self.bytes = rest;
            value |= u64::from(byte & 0x7f) << shift;
            if byte & 0x80 == 0 {
                return Ok(value);
            }
        }
        Err(malformed())
    }

    fn take(&mut self, len: usize) -> Result<&'a [u8]> {
        if len > self.bytes.len() {
            return Err(malformed());
        }
        let (head, rest) = self.bytes.split_at(len);
        self.bytes = rest;
        Ok(head)
    }

    fn next_field(&mut self) -> Result<Option<(u64, Field<'a>)>> {
        if self.bytes.is_empty() {
            return Ok(None);
        }
        let key = self.varint()?;
        let field = match key & 7 {
            0 => Field::Varint(self.varint()?),
            1 => {
                self.take(8)?;
                Field::Varint(0)
            }
            2 => {
                let len = usize::try_from(self.varint()?).map_err(|_| malformed())?;
                Field::Bytes(self.take(len)?)
            }
            5 => Field::Fixed32(u32::from_le_bytes(self.take(4)?.try_into().unwrap())),
            _ => return Err(malformed()),
        };
        Ok(Some((key >> 3, field)))
    }
}

/// One field of a protobuf message as it is encoded: its number, the bytes of the whole
/// field (key included, for copying it unchanged) and, for length-delimited fields, the
/// payload.
pub(crate) struct RawField<'a> {
    pub number: u64,
    pub encoded: &'a [u8],
    pub payload: Option<&'a [u8]>,
    pub varint: Option<u64>,
}

/// Splits a protobuf message into its fields, in order.
pub(crate) fn raw_fields(bytes: &[u8]) -> Result<Vec<RawField<'_>>> {
    let mut reader = Reader { bytes };
    let mut out = Vec::new();
    loop {
        let start = reader.bytes;
        let Some((number, field)) = reader.next_field()? else {
            return Ok(out);
        };
        let used = start.len() - reader.bytes.len();
        out.push(RawField {
            number,
            encoded: &start[..used],
            payload: match field {
                Field::Bytes(payload) => Some(payload),
                _ => None,
            },
            varint: match field {
                Field::Varint(value) => Some(value),
                _ => None,
            },
        });
    }
}

/// The values of a packed repeated varint field.
pub(crate) fn packed_varints(bytes: &[u8]) -> Result<Vec<u64>> {
    let mut reader = Reader { bytes };
    let mut values = Vec::new();
    while !reader.bytes.is_empty() {
        values.push(reader.varint()?);
    }
    Ok(values)
}

/// The UTF-8 text of a string field.
pub(crate) fn field_text(bytes: &[u8]) -> Result<String> {
    text(bytes)
}

fn fields<'a>(bytes: &'a [u8], mut visit: impl FnMut(u64, Field<'a>) -> Result<()>) -> Result<()> {
    let mut reader = Reader { bytes };
    while let Some((number, field)) = reader.next_field()? {
        visit(number, field)?;
    }
    Ok(())
}

fn text(bytes: &[u8]) -> Result<String> {
    String::from_utf8(bytes.to_vec()).map_err(|_| malformed())
}

fn parse_model(bytes: &[u8]) -> Result<Graph> {
    let mut graph = None;
    fields(bytes, |number, field| {
        if let (7, Field::Bytes(b)) = (number, field) {
            graph = Some(parse_graph(b)?);
        }
        Ok(())
    })?;
    graph.ok_or_else(|| Error::Model("the file is not an ONNX model (no graph found)".into()))
}

fn parse_graph(bytes: &[u8]) -> Result<Graph> {
    let mut graph = Graph::default();
    fields(bytes, |number, field| {
        match (number, field) {
            (1, Field::Bytes(b)) => graph.nodes.push(parse_node(b)?),
            (5, Field::Bytes(b)) => {
                if let Some(tensor) = parse_float_tensor(b)? {
                    graph.initializers.push(tensor);
                }
            }
            _ => {}
        }
        Ok(())
    })?;
    Ok(graph)
}

fn parse_node(bytes: &[u8]) -> Result<Node> {
    let mut node = Node::default();
    fields(bytes, |number, field| {
        match (number, field) {
            (1, Field::Bytes(b)) => node.inputs.push(text(b)?),
            (2, Field::Bytes(b)) => node.outputs.push(text(b)?),
            (4, Field::Bytes(b)) => node.op_type = text(b)?,
            (5, Field::Bytes(b)) => {
                let mut name = String::new();
                let (mut int, mut float) = (None, None);
                fields(b, |number, field| {
                    match (number, field) {
                        (1, Field::Bytes(b)) => name = text(b)?,
                        (2, Field::Fixed32(bits)) => float = Some(f32::from_bits(bits)),
                        (3, Field::Varint(v)) => int = Some(v as i64),
                        _ => {}
                    }
                    Ok(())
                })?;
                if let Some(v) = int {
                    node.int_attributes.push((name.clone(), v));
                }
                if let Some(v) = float {
                    node.float_attributes.push((name, v));
                }
            }
            _ => {}
        }
        Ok(())
    })?;
    Ok(node)
}

/// Parses a TensorProto; returns `None` for tensors that are not float.
fn parse_float_tensor(bytes: &[u8]) -> Result<Option<FloatTensor>> {
    let mut tensor = FloatTensor::default();
    let mut data_type = 0i64;
    let mut raw: &[u8] = &[];
    fields(bytes, |number, field| {
        match (number, field) {
            (1, Field::Varint(v)) => tensor.dims.push(v as i64),
            (1, Field::Bytes(packed)) => {
                let mut reader = Reader { bytes: packed };
                while !reader.bytes.is_empty() {
                    tensor.dims.push(reader.varint()? as i64);
                }
            }
            (2, Field::Varint(v)) => data_type = v as i64,
            (4, Field::Fixed32(bits)) => tensor.values.push(f32::from_bits(bits)),
            (4, Field::Bytes(packed)) => tensor.values.extend(little_endian_floats(packed)?),
            (8, Field::Bytes(b)) => tensor.name = text(b)?,
            (9, Field::Bytes(b)) => raw = b,
            _ => {}
        }
        Ok(())
    })?;
    if data_type != FLOAT {
        return Ok(None);
    }
    if !raw.is_empty() {
        tensor.values = little_endian_floats(raw)?;
    }
    Ok(Some(tensor))
}

fn little_endian_floats(bytes: &[u8]) -> Result<Vec<f32>> {
    if !bytes.len().is_multiple_of(4) {
        return Err(malformed());
    }
    Ok(bytes
        .chunks_exact(4)
        .map(|c| f32::from_le_bytes(c.try_into().unwrap()))
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn garbage_is_a_clear_model_error() {
        let err = find_linear_head(b"this is not a model at all", "logits").unwrap_err();
        assert_eq!(err.kind(), crate::ErrorKind::Model);
    }

    #[test]
    fn transposes_matmul_weights() {
        let head = transpose(2, 3, &[1.0, 2.0, 3.0, 4.0, 5.0, 6.0]);
        assert_eq!(head.classes, 3);
        assert_eq!(head.channels, 2);
        assert_eq!(head.row(0), &[1.0, 4.0]);
        assert_eq!(head.row(2), &[3.0, 6.0]);
    }
}
