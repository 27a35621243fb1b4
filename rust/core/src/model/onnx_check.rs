//! Checks ONNX Runtime does not make before it divides by a value: a window operator
//! (convolution, pooling) with a stride, dilation, kernel size or group count of zero
//! kills the process with SIGFPE while the session is built (found by the `model_load`
//! fuzz target), so such graphs are refused before ONNX Runtime sees them.

use super::onnx_head::{field_text, packed_varints, raw_fields};

/// Operators whose window attributes ONNX Runtime divides by.
const WINDOW_OPS: &[&str] = &[
    "AveragePool",
    "Col2Im",
    "Conv",
    "ConvInteger",
    "ConvTranspose",
    "DeformConv",
    "LpPool",
    "MaxPool",
    "MaxUnpool",
    "QLinearConv",
];

/// Attributes of those operators that must be positive where present.
const POSITIVE: &[&str] = &["dilations", "group", "kernel_shape", "strides"];

/// Why the model's graph (or a subgraph of it) must not reach ONNX Runtime, if it must
/// not. A file this reader cannot parse is left to ONNX Runtime, which refuses it with
/// its own message.
pub(crate) fn unsafe_attribute(model: &[u8]) -> Option<String> {
    let fields = raw_fields(model).ok()?;
    fields
        .iter()
        .filter(|f| f.number == 7)
        .find_map(|f| f.payload.and_then(graph_problem))
}

/// GraphProto: nodes are field 1.
fn graph_problem(graph: &[u8]) -> Option<String> {
    raw_fields(graph)
        .ok()?
        .iter()
        .filter(|f| f.number == 1)
        .find_map(|f| f.payload.and_then(node_problem))
}

/// NodeProto: name 3, op_type 4, attributes 5.
fn node_problem(node: &[u8]) -> Option<String> {
    let fields = raw_fields(node).ok()?;
    let text = |number| {
        fields
            .iter()
            .find(|f| f.number == number)
            .and_then(|f| f.payload)
            .and_then(|b| field_text(b).ok())
            .unwrap_or_default()
    };
    let (name, op) = (text(3), text(4));
    let window = WINDOW_OPS.contains(&op.as_str());
    fields
        .iter()
        .filter(|f| f.number == 5)
        .filter_map(|f| f.payload)
        .find_map(|attribute| attribute_problem(attribute, window, &name, &op))
}

/// AttributeProto: name 1, i 3, g 6, ints 8 (plain or packed), graphs 11.
fn attribute_problem(attribute: &[u8], window: bool, node: &str, op: &str) -> Option<String> {
    let fields = raw_fields(attribute).ok()?;
    for f in &fields {
        if let (6 | 11, Some(subgraph)) = (f.number, f.payload) {
            if let Some(problem) = graph_problem(subgraph) {
                return Some(problem);
            }
        }
    }
    let name = fields
        .iter()
        .find(|f| f.number == 1)
        .and_then(|f| f.payload)
        .and_then(|b| field_text(b).ok())?;
    if !window || !POSITIVE.contains(&name.as_str()) {
        return None;
    }
    let mut values = Vec::new();
    for f in &fields {
        match (f.number, f.varint, f.payload) {
            (3 | 8, Some(v), _) => values.push(v as i64),
            (8, None, Some(packed)) => {
                values.extend(packed_varints(packed).ok()?.into_iter().map(|v| v as i64))
            }
            _ => {}
        }
    }
    values.iter().any(|&v| v <= 0).then(|| {
        format!("node '{node}' ({op}) has {name} {values:?}; every one must be at least 1")
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn varint(out: &mut Vec<u8>, mut v: u64) {
        while v >= 0x80 {
            out.push(v as u8 | 0x80);
            v >>= 7;
        }
        out.push(v as u8);
    }

    fn bytes_field(out: &mut Vec<u8>, number: u64, payload: &[u8]) {
        varint(out, number << 3 | 2);
        varint(out, payload.len() as u64);
        out.extend_from_slice(payload);
    }

    /// A model of one Conv node with `strides`, written plain or packed.
    fn conv_model(strides: &[i64], packed: bool) -> Vec<u8> {
        let mut attribute = Vec::new();
        bytes_field(&mut attribute, 1, b"strides");
        if packed {
            let mut values = Vec::new();
            strides.iter().for_each(|&v| varint(&mut values, v as u64));
            bytes_field(&mut attribute, 8, &values);
        } else {
            for &v in strides {
                varint(&mut attribute, 8 << 3);
                varint(&mut attribute, v as u64);
            }
        }
        let mut node = Vec::new();
        bytes_field(&mut node, 3, b"conv1");
        bytes_field(&mut node, 4, b"Conv");
        bytes_field(&mut node, 5, &attribute);
        let mut graph = Vec::new();
        bytes_field(&mut graph, 1, &node);
        let mut model = Vec::new();
        bytes_field(&mut model, 7, &graph);
        model
    }

    #[test]
    fn zero_or_negative_strides_are_found_and_sound_ones_pass() {
        for packed in [false, true] {
            assert_eq!(unsafe_attribute(&conv_model(&[1, 2], packed)), None);
            let problem = unsafe_attribute(&conv_model(&[0, 1], packed)).expect("found");
            assert!(
                problem.contains("conv1") && problem.contains("strides [0, 1]"),
                "{problem}"
            );
            assert!(unsafe_attribute(&conv_model(&[1, -1], packed)).is_some());
        }
        assert_eq!(unsafe_attribute(b"not a model"), None);
    }
}
