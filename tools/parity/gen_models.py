"""Parity fixtures of the reference ConvNet (DatasetCondensation/networks.py:ConvNet):
logits and embed, in float64, for fixed weights and images, over depth, width, norm,
activation, pooling and the CIFAR (32x32x3) / MNIST (28x28x1, first-conv padding 3) inputs.

Writes dcbench/internal/parity/testdata/convnet.json. Run:
    nice -n 19 /usr/bin/python3 tools/parity/gen_models.py
"""

import torch

import fixture

fixture.oracle_path()
import networks  # noqa: E402  (the patched copy of the oracle)

torch.set_default_dtype(torch.float64)
torch.set_num_threads(1)

# (name, channel, size, classes, width, depth, act, norm, pooling)
CASES = [
    ("d1w8_in_avg_cifar", 3, 32, 2, 8, 1, "relu", "instancenorm", "avgpooling"),
    ("d2w8_bn_max_cifar", 3, 32, 3, 8, 2, "relu", "batchnorm", "maxpooling"),
    ("d3w16_in_avg_cifar", 3, 32, 3, 16, 3, "relu", "instancenorm", "avgpooling"),
    ("d3w8_none_avg_cifar", 3, 32, 3, 8, 3, "relu", "none", "avgpooling"),
    ("d4w8_in_max_cifar", 3, 32, 2, 8, 4, "relu", "instancenorm", "maxpooling"),
    ("d3w8_in_avg_mnist", 1, 28, 3, 8, 3, "relu", "instancenorm", "avgpooling"),
    ("d2w16_bn_avg_mnist", 1, 28, 2, 16, 2, "relu", "batchnorm", "avgpooling"),
    ("d3w8_in_avg_leakyrelu", 3, 32, 3, 8, 3, "leakyrelu", "instancenorm", "avgpooling"),
    ("d3w8_in_avg_sigmoid", 3, 32, 2, 8, 3, "sigmoid", "instancenorm", "avgpooling"),
    ("d2w8_gn_avg_swish", 3, 32, 2, 8, 2, "swish", "groupnorm", "avgpooling"),
    ("d2w8_ln_avg_cifar", 3, 32, 2, 8, 2, "relu", "layernorm", "avgpooling"),
]


def main():
    cases = []
    for i, (name, ch, size, k, width, depth, act, norm, pool) in enumerate(CASES):
        torch.manual_seed(100 + i)
        net = networks.ConvNet(channel=ch, num_classes=k, net_width=width, net_depth=depth,
                               net_act=act, net_norm=norm, net_pooling=pool, im_size=(size, size))
        # Non-trivial affine parameters of the norms (defaults are 1 and 0).
        with torch.no_grad():
            for m in net.modules():
                if isinstance(m, (torch.nn.GroupNorm, torch.nn.BatchNorm2d, torch.nn.LayerNorm)):
                    m.weight.uniform_(0.5, 1.5)
                    m.bias.uniform_(-0.5, 0.5)
            # Inputs and weights on a 2^-10 grid: exact in float64, short in JSON.
            for p in net.parameters():
                p.copy_(torch.round(p * 1024) / 1024)
        x = torch.round(torch.randn(2, ch, size, size) * 64) / 64
        arrays = {"x": fixture.arr(x)}
        convs = [m for m in net.features if isinstance(m, torch.nn.Conv2d)]
        norms = [m for m in net.features if isinstance(m, (torch.nn.GroupNorm, torch.nn.BatchNorm2d, torch.nn.LayerNorm))]
        for d, c in enumerate(convs):
            arrays[f"conv{d}.weight"] = fixture.arr(c.weight)
            arrays[f"conv{d}.bias"] = fixture.arr(c.bias)
        for d, m in enumerate(norms):
            arrays[f"norm{d}.weight"] = fixture.arr(m.weight)
            arrays[f"norm{d}.bias"] = fixture.arr(m.bias)
        arrays["classifier.weight"] = fixture.arr(net.classifier.weight)
        arrays["classifier.bias"] = fixture.arr(net.classifier.bias)
        net.train()  # batch statistics for batchnorm, as the reference trains
        with torch.no_grad():
            arrays["logits"] = fixture.arr(net(x))
            arrays["embed"] = fixture.arr(net.embed(x))
        # After the two train-mode passes, the running statistics of batchnorm.
        for d, m in enumerate(norms):
            if isinstance(m, torch.nn.BatchNorm2d):
                arrays[f"norm{d}.running_mean"] = fixture.arr(m.running_mean)
                arrays[f"norm{d}.running_var"] = fixture.arr(m.running_var)
        # Evaluation mode (the reference's test epoch): batchnorm on those running statistics.
        net.eval()
        with torch.no_grad():
            arrays["logits_eval"] = fixture.arr(net(x))
        cases.append({"name": name, "params": {
            "channel": ch, "size": size, "classes": k, "width": width, "depth": depth,
            "act": act, "norm": norm, "pooling": pool}, "arrays": arrays})
    fixture.write("convnet", "DatasetCondensation/networks.py:ConvNet.forward, ConvNet.embed",
                  "tools/parity/gen_models.py",
                  "ConvNet(channel, classes, width, depth, act, norm, pooling, im_size) in train mode "
                  "(batchnorm uses batch statistics; running stats after two passes, momentum 0.1, "
                  "unbiased variance); logits_eval: net.eval() logits after them; inputs on a 1/64 grid, weights on a 1/1024 grid; norm affine parameters drawn U(0.5,1.5)/U(-0.5,0.5). "
                  "x is NCHW, conv weights OIHW, classifier weight [classes, C*H*W] over the NCHW flatten.",
                  cases)
    import utils  # noqa: E402
    w, d, act, norm, pool = utils.get_default_convnet_setting()
    fixture.write("convnet_default", "DatasetCondensation/utils.py:get_default_convnet_setting",
                  "tools/parity/gen_models.py",
                  "The ConvNet settings get_network uses for 'ConvNet' (and, but for the named change, its variants).",
                  [{"name": "get_default_convnet_setting", "params": {
                      "width": w, "depth": d, "act": act, "norm": norm, "pooling": pool}, "arrays": {}}])


if __name__ == "__main__":
    main()
