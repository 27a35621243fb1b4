"""The small VGG-style CNN of training/train.py and its ONNX export (batch norm folded into
the convolutions; Conv, Relu, MaxPool, GlobalAveragePool, Flatten, Gemm), checked against
PyTorch with ONNX Runtime."""

import os

import numpy as np

OPSET = 17
IR_VERSION = 8

def build_net(torch, widths, n_classes):
    nn = torch.nn

    class Net(nn.Module):
        """plan: list of stages; each stage = convs (3x3, BN, ReLU) then 2x2 max pool,
        except the last, whose output is `features`."""

        def __init__(self):
            super().__init__()
            layers = []
            cin = 1
            self.plan = []
            for si, (n_convs, cout) in enumerate(widths):
                for _ in range(n_convs):
                    conv = nn.Conv2d(cin, cout, 3, padding=1, bias=False)
                    bn = nn.BatchNorm2d(cout)
                    layers += [conv, bn]
                    self.plan.append(("conv", len(layers) - 2))
                    cin = cout
                if si < len(widths) - 1:
                    self.plan.append(("pool", None))
            self.layers = nn.ModuleList(layers)
            self.fc = nn.Linear(cin, n_classes)

        def features(self, x):
            f = torch.nn.functional
            for kind, i in self.plan:
                if kind == "conv":
                    x = f.relu(self.layers[i + 1](self.layers[i](x)))
                else:
                    x = f.max_pool2d(x, 2)
            return x

        def forward(self, x):
            a = self.features(x)
            return self.fc(a.mean(dim=(2, 3)))

    return Net()


def load_onnx_weights(torch, net, path):
    """Initialises `net` from a model that export_onnx wrote (fine-tuning). The export folded
    batch norm into the convolutions, so each batch norm becomes the identity plus the folded
    bias (running mean 0, running variance 1 - eps, weight 1): the network computes exactly
    what the file does as long as batch norm stays in eval mode (see freeze_batch_norm)."""
    import onnx
    from onnx import numpy_helper

    weights = {t.name: numpy_helper.to_array(t) for t in onnx.load(path).graph.initializer}
    convs = [i for kind, i in net.plan if kind == "conv"]
    expected = {f"conv{k + 1}.{part}" for k in range(len(convs)) for part in ("weight", "bias")}
    expected |= {"fc.weight", "fc.bias"}
    if set(weights) != expected:
        raise SystemExit(f"--init {path}: not a model of this architecture "
                         f"(initializers {sorted(weights)})")
    with torch.no_grad():
        for k, i in enumerate(convs):
            conv, bn = net.layers[i], net.layers[i + 1]
            w = torch.from_numpy(weights[f"conv{k + 1}.weight"].copy())
            if w.shape != conv.weight.shape:
                raise SystemExit(f"--init {path}: conv{k + 1} is {tuple(w.shape)}, "
                                 f"this architecture has {tuple(conv.weight.shape)}")
            conv.weight.copy_(w)
            bn.weight.fill_(1.0)
            bn.bias.copy_(torch.from_numpy(weights[f"conv{k + 1}.bias"].copy()))
            bn.running_mean.zero_()
            bn.running_var.fill_(1.0 - bn.eps)
        fc_w = torch.from_numpy(weights["fc.weight"].copy())
        if fc_w.shape != net.fc.weight.shape:
            raise SystemExit(f"--init {path}: head is {tuple(fc_w.shape)}, "
                             f"this task needs {tuple(net.fc.weight.shape)}")
        net.fc.weight.copy_(fc_w)
        net.fc.bias.copy_(torch.from_numpy(weights["fc.bias"].copy()))


def freeze_batch_norm(torch, net):
    """Keeps batch norm on its running statistics during training (fine-tuning from
    load_onnx_weights, whose statistics are the folded identity); its affine part still learns."""
    for m in net.modules():
        if isinstance(m, torch.nn.BatchNorm2d):
            m.eval()


def flops(widths, size):
    total, cin, s = 0, 1, size
    for si, (n_convs, cout) in enumerate(widths):
        for _ in range(n_convs):
            total += 2 * 9 * cin * cout * s * s
            cin = cout
        if si < len(widths) - 1:
            s //= 2
    return total


def export_onnx(net, widths, size, classes, meta, path):
    import onnx
    from onnx import TensorProto, helper, numpy_helper

    inits, nodes = [], []
    x = "input"
    ci = 0
    n_pools = sum(1 for k, _ in net.plan if k == "pool")
    plan = net.plan
    for pi, (kind, i) in enumerate(plan):
        last = pi == len(plan) - 1
        if kind == "conv":
            ci += 1
            conv, bn = net.layers[i], net.layers[i + 1]
            w = conv.weight.detach().double().numpy()
            g = bn.weight.detach().double().numpy()
            beta = bn.bias.detach().double().numpy()
            mu = bn.running_mean.detach().double().numpy()
            var = bn.running_var.detach().double().numpy()
            scale = g / np.sqrt(var + bn.eps)
            wf = (w * scale[:, None, None, None]).astype(np.float32)
            bf = (beta - mu * scale).astype(np.float32)
            wn, bn_name = f"conv{ci}.weight", f"conv{ci}.bias"
            inits += [numpy_helper.from_array(wf, wn), numpy_helper.from_array(bf, bn_name)]
            nodes.append(helper.make_node("Conv", [x, wn, bn_name], [f"conv{ci}"], name=f"Conv_{ci}",
                                          kernel_shape=[3, 3], pads=[1, 1, 1, 1], strides=[1, 1]))
            out = "features" if last else f"relu{ci}"
            nodes.append(helper.make_node("Relu", [f"conv{ci}"], [out], name=f"Relu_{ci}"))
            x = out
        else:
            out = f"pool{pi}"
            nodes.append(helper.make_node("MaxPool", [x], [out], name=f"MaxPool_{pi}",
                                          kernel_shape=[2, 2], strides=[2, 2]))
            x = out
    wfc = net.fc.weight.detach().numpy().astype(np.float32)
    bfc = net.fc.bias.detach().numpy().astype(np.float32)
    inits += [numpy_helper.from_array(wfc, "fc.weight"), numpy_helper.from_array(bfc, "fc.bias")]
    nodes.append(helper.make_node("GlobalAveragePool", ["features"], ["gap"], name="GlobalAveragePool_0"))
    nodes.append(helper.make_node("Flatten", ["gap"], ["flat"], name="Flatten_0", axis=1))
    nodes.append(helper.make_node("Gemm", ["flat", "fc.weight", "fc.bias"], ["logits"], name="Gemm_0",
                                  alpha=1.0, beta=1.0, transB=1))
    k = widths[-1][1]
    h = size >> n_pools
    graph = helper.make_graph(
        nodes, "visualccc", [helper.make_tensor_value_info("input", TensorProto.FLOAT, ["N", 1, size, size])],
        [helper.make_tensor_value_info("logits", TensorProto.FLOAT, ["N", len(classes)]),
         helper.make_tensor_value_info("features", TensorProto.FLOAT, ["N", k, h, h])],
        initializer=inits)
    save_onnx(graph, "visual-ccc training/train.py", meta, path)


def save_onnx(graph, producer, meta, path):
    """Wraps `graph` in a model (OPSET, IR_VERSION, metadata `meta`), checks it and saves it."""
    import onnx
    from onnx import helper

    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", OPSET)],
                              producer_name=producer, producer_version="1")
    model.ir_version = IR_VERSION
    helper.set_model_props(model, meta)
    onnx.checker.check_model(model, full_check=True)
    os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
    onnx.save(model, path)


def check_onnx(path, torch, net, batch):
    import onnxruntime as ort

    sess = ort.InferenceSession(path, providers=["CPUExecutionProvider"])
    logits, feats = sess.run(["logits", "features"], {"input": batch})
    with torch.no_grad():
        ref = net(torch.from_numpy(batch)).numpy()
    diff = float(np.abs(logits - ref).max())
    if diff > 1e-3 * max(1.0, float(np.abs(ref).max())):
        raise SystemExit(f"ONNX export differs from PyTorch: max |logit diff| = {diff}")
    return diff
