"""Snippets of ``torch.nn``, ``torch.optim`` and friends whose results PyTorch pins
(tools/pytorch_reference/python_nn_cases.py writes nn_reference.json) and nabla must reproduce
(test_nn_reference.py runs them with ``torch`` bound to nabla). Each snippet sets ``out``.

Inputs and weights come from ``vals`` (a sine of a ramp) and ``fill`` (every floating-point
entry of a module's state dict from ``vals``), so both libraries see the same numbers without
either's random generator."""

PRELUDE = """
nn = torch.nn
F = torch.nn.functional
optim = torch.optim

def vals(*shape, k=1.0):
    n = 1
    for d in shape:
        n *= d
    return (torch.arange(n).double() * (0.37 * k) + 0.1).sin().reshape(*shape).float()

def fill(m, k=1.0):
    new = {}
    for i, (name, t) in enumerate(m.state_dict().items()):
        new[name] = vals(*t.shape, k=k + 0.1 * i) * 0.5 if t.is_floating_point() else t
    m.load_state_dict(new)
    return m

def grads(m, y, x=None, k=3.0):
    (y * vals(*y.shape, k=k)).sum().backward()
    out = [p.grad for _, p in m.named_parameters()]
    return out if x is None else [x.grad] + out
"""

LAYERS = {
    "linear": "m = fill(nn.Linear(3, 2)); x = vals(4, 3, k=2).requires_grad_(); y = m(x); out = [y] + grads(m, y, x)",
    "linear_no_bias": "m = fill(nn.Linear(3, 2, bias=False)); x = vals(2, 5, 3, k=2).requires_grad_(); y = m(x); out = [y] + grads(m, y, x)",
    "relu": "x = vals(7, k=2).requires_grad_(); y = nn.ReLU()(x); (y * vals(7)).sum().backward(); out = [y, x.grad]",
    "leaky_relu": "x = vals(7, k=2).requires_grad_(); y = nn.LeakyReLU(0.2)(x); (y * vals(7)).sum().backward(); out = [y, x.grad]",
    "sigmoid": "x = vals(7, k=2).requires_grad_(); y = nn.Sigmoid()(x * 3); (y * vals(7)).sum().backward(); out = [y, x.grad]",
    "tanh": "x = vals(7, k=2).requires_grad_(); y = nn.Tanh()(x * 3); (y * vals(7)).sum().backward(); out = [y, x.grad]",
    "gelu": "x = vals(7, k=2).requires_grad_(); y = nn.GELU()(x * 3); (y * vals(7)).sum().backward(); out = [y, x.grad]",
    "gelu_tanh": "x = vals(7, k=2).requires_grad_(); y = nn.GELU(approximate='tanh')(x * 3); (y * vals(7)).sum().backward(); out = [y, x.grad]",
    "softmax": "x = vals(2, 4, k=2).requires_grad_(); y = nn.Softmax(dim=1)(x * 3); (y * vals(2, 4)).sum().backward(); out = [y, x.grad]",
    "log_softmax": "x = vals(2, 4, k=2).requires_grad_(); y = nn.LogSoftmax(dim=-1)(x * 3); (y * vals(2, 4)).sum().backward(); out = [y, x.grad]",
    "dropout_eval": "m = nn.Dropout(0.5).eval(); x = vals(6); out = m(x)",
    "flatten": "out = nn.Flatten()(vals(2, 3, 4)).shape",
    "batchnorm1d_train": "m = fill(nn.BatchNorm1d(3)); x = vals(4, 3, k=2).requires_grad_(); y = m(x); out = [y] + grads(m, y, x) + [m.running_mean, m.running_var, m.num_batches_tracked]",
    "batchnorm1d_eval": "m = fill(nn.BatchNorm1d(3)); m.running_var = m.running_var.abs() + 0.5; m.eval(); x = vals(4, 3, k=2); out = m(x)",
    "batchnorm2d_train": "m = fill(nn.BatchNorm2d(2)); x = vals(2, 2, 3, 3, k=2).requires_grad_(); y = m(x); out = [y] + grads(m, y, x) + [m.running_mean, m.running_var]",
    "batchnorm_momentum": "m = nn.BatchNorm1d(2, momentum=0.5); m(vals(5, 2)); m(vals(5, 2, k=3)); out = [m.running_mean, m.running_var, m.num_batches_tracked]",
    "layernorm": "m = fill(nn.LayerNorm(4)); x = vals(3, 4, k=2).requires_grad_(); y = m(x); out = [y] + grads(m, y, x)",
    "layernorm_2d": "m = fill(nn.LayerNorm([2, 3])); x = vals(2, 2, 3, k=2).requires_grad_(); y = m(x); out = [y] + grads(m, y, x)",
    "groupnorm": "m = fill(nn.GroupNorm(2, 4)); x = vals(2, 4, 3, k=2).requires_grad_(); y = m(x); out = [y] + grads(m, y, x) + [repr(m)]",
    "conv1d": "m = fill(nn.Conv1d(2, 3, 3, padding=1)); x = vals(2, 2, 5, k=2).requires_grad_(); y = m(x); out = [y] + grads(m, y, x)",
    "conv2d": "m = fill(nn.Conv2d(2, 3, 3, stride=2, padding=1)); x = vals(1, 2, 5, 5, k=2).requires_grad_(); y = m(x); out = [y] + grads(m, y, x)",
    "conv2d_same_groups": "m = fill(nn.Conv2d(4, 2, (3, 2), padding='same', groups=2)); x = vals(1, 4, 4, 4, k=2).requires_grad_(); y = m(x); out = [y] + grads(m, y, x)",
    "conv_transpose2d": "m = fill(nn.ConvTranspose2d(2, 3, 3, stride=2, padding=1, output_padding=1)); x = vals(1, 2, 3, 3, k=2).requires_grad_(); y = m(x); out = [y] + grads(m, y, x)",
    "max_pool2d": "x = vals(1, 2, 4, 4, k=2).requires_grad_(); y = nn.MaxPool2d(2)(x); (y * vals(*y.shape)).sum().backward(); out = [y, x.grad]",
    "max_pool2d_stride": "x = vals(1, 1, 5, 5, k=2).requires_grad_(); y = nn.MaxPool2d(3, stride=2, padding=1)(x); (y * vals(*y.shape)).sum().backward(); out = [y, x.grad]",
    "avg_pool2d": "x = vals(1, 2, 4, 4, k=2).requires_grad_(); y = nn.AvgPool2d(2)(x); (y * vals(*y.shape)).sum().backward(); out = [y, x.grad]",
    "adaptive_avg_pool2d": "x = vals(1, 2, 5, 5, k=2).requires_grad_(); y = nn.AdaptiveAvgPool2d((2, 3))(x); (y * vals(*y.shape)).sum().backward(); out = [y, x.grad]",
    "embedding": "m = fill(nn.Embedding(5, 3)); i = torch.tensor([[0, 4], [2, 2]]); y = m(i); out = [y] + grads(m, y)",
    "embedding_padding": "m = fill(nn.Embedding(5, 3, padding_idx=1)); i = torch.tensor([1, 3, 1]); y = m(i); out = [y] + grads(m, y)",
    "rnn": "m = fill(nn.RNN(3, 4)); x = vals(5, 2, 3, k=2).requires_grad_(); y, h = m(x); out = [y, h] + grads(m, y, x)",
    "rnn_relu_2layer": "m = fill(nn.RNN(3, 4, num_layers=2, nonlinearity='relu')); x = vals(5, 2, 3, k=2); y, h = m(x); out = [y, h] + grads(m, y)",
    "lstm": "m = fill(nn.LSTM(3, 4)); x = vals(5, 2, 3, k=2).requires_grad_(); y, (h, c) = m(x); out = [y, h, c] + grads(m, y, x)",
    "lstm_bidirectional_batch_first": "m = fill(nn.LSTM(3, 2, num_layers=2, bidirectional=True, batch_first=True)); x = vals(2, 4, 3, k=2); h0 = vals(4, 2, 2, k=5); c0 = vals(4, 2, 2, k=6); y, (h, c) = m(x, (h0, c0)); out = [y, h, c] + grads(m, y)",
    "gru": "m = fill(nn.GRU(3, 4)); x = vals(5, 2, 3, k=2).requires_grad_(); y, h = m(x); out = [y, h] + grads(m, y, x)",
    "gru_no_bias_unbatched": "m = fill(nn.GRU(3, 2, bias=False)); x = vals(4, 3, k=2); y, h = m(x); out = [y, h] + grads(m, y)",
    "rnn_cell": "m = fill(nn.RNNCell(3, 4)); x = vals(2, 3, k=2); h = m(x, vals(2, 4, k=4)); out = [h] + grads(m, h)",
    "lstm_cell": "m = fill(nn.LSTMCell(3, 4)); x = vals(2, 3, k=2); h, c = m(x, (vals(2, 4, k=4), vals(2, 4, k=5))); out = [h, c] + grads(m, h + c)",
    "gru_cell": "m = fill(nn.GRUCell(3, 4)); x = vals(2, 3, k=2); h = m(x); out = [h] + grads(m, h)",
    "sequential_names": "m = nn.Sequential(nn.Conv2d(1, 2, 3), nn.BatchNorm2d(2), nn.ReLU(), nn.Flatten(), nn.Linear(8, 3)); out = ' '.join(m.state_dict().keys())",
    "lstm_names": "out = ' '.join(n for n, _ in nn.LSTM(3, 2, num_layers=2, bidirectional=True).named_parameters())",
    "nested_names": """
class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.body = nn.Sequential(nn.Linear(2, 3), nn.Tanh())
        self.head = nn.Linear(3, 1)
        self.register_buffer('scale', torch.ones(1))
    def forward(self, x):
        return self.head(self.body(x)) * self.scale
net = Net()
out = ' '.join(net.state_dict().keys()) + ' | ' + ' '.join(n for n, _ in net.named_parameters())
""",
    "repr_linear": "out = repr(nn.Linear(3, 2))",
    "repr_sequential": "out = repr(nn.Sequential(nn.Linear(3, 2), nn.ReLU(), nn.Dropout(0.25)))",
    "repr_conv": "out = repr(nn.Conv2d(1, 6, 5, padding=2)) + ' ' + repr(nn.MaxPool2d(2)) + ' ' + repr(nn.BatchNorm1d(4))",
    "repr_lstm": "out = repr(nn.LSTM(3, 4, num_layers=2, batch_first=True))",
    "param_count": "out = sum(p.numel() for p in nn.LSTM(3, 4, num_layers=2).parameters())",
}

LOSSES = {
    "cross_entropy": "x = vals(3, 4, k=2).requires_grad_(); t = torch.tensor([0, 3, 1]); y = nn.CrossEntropyLoss()(x * 2, t); y.backward(); out = [y, x.grad]",
    "cross_entropy_sum": "x = vals(3, 4, k=2).requires_grad_(); t = torch.tensor([0, 3, 1]); y = nn.CrossEntropyLoss(reduction='sum')(x, t); y.backward(); out = [y, x.grad]",
    "cross_entropy_smoothing": "x = vals(3, 4, k=2).requires_grad_(); t = torch.tensor([0, 3, 1]); y = nn.CrossEntropyLoss(label_smoothing=0.2)(x, t); y.backward(); out = [y, x.grad]",
    "cross_entropy_probabilities": "x = vals(3, 4, k=2).requires_grad_(); p = F.softmax(vals(3, 4, k=7), dim=1); y = F.cross_entropy(x, p); y.backward(); out = [y, x.grad]",
    "nll": "x = vals(3, 4, k=2).requires_grad_(); y = nn.NLLLoss()(F.log_softmax(x, dim=1), torch.tensor([2, 0, 1])); y.backward(); out = [y, x.grad]",
    "mse": "x = vals(3, 4, k=2).requires_grad_(); y = nn.MSELoss()(x, vals(3, 4, k=5)); y.backward(); out = [y, x.grad]",
    "mse_sum_none": "x = vals(3, 2, k=2); out = [F.mse_loss(x, vals(3, 2), reduction='sum'), F.mse_loss(x, vals(3, 2), reduction='none')]",
    "bce_with_logits": "x = vals(3, 4, k=2).requires_grad_(); t = (vals(3, 4, k=5) > 0).float(); y = nn.BCEWithLogitsLoss()(x * 3, t); y.backward(); out = [y, x.grad]",
}

_TRAIN = """
torch.manual_seed(0)
m = fill(nn.Sequential(nn.Linear(3, 4), nn.Tanh(), nn.Linear(4, 2)))
opt = {opt}
x, t = vals(5, 3, k=2), vals(5, 2, k=4)
for _ in range(4):
    opt.zero_grad()
    loss = F.mse_loss(m(x), t)
    loss.backward()
    opt.step()
out = [p for p in m.parameters()] + [loss]
"""

OPTIMIZERS = {
    "sgd": _TRAIN.format(opt="optim.SGD(m.parameters(), lr=0.1)"),
    "sgd_momentum_decay": _TRAIN.format(opt="optim.SGD(m.parameters(), lr=0.1, momentum=0.9, weight_decay=0.01)"),
    "sgd_nesterov": _TRAIN.format(opt="optim.SGD(m.parameters(), lr=0.1, momentum=0.8, nesterov=True)"),
    "sgd_dampening": _TRAIN.format(opt="optim.SGD(m.parameters(), lr=0.1, momentum=0.5, dampening=0.3)"),
    "adam": _TRAIN.format(opt="optim.Adam(m.parameters(), lr=0.05)"),
    "adam_decay_betas": _TRAIN.format(opt="optim.Adam(m.parameters(), lr=0.05, betas=(0.8, 0.9), eps=1e-6, weight_decay=0.1)"),
    "adamw": _TRAIN.format(opt="optim.AdamW(m.parameters(), lr=0.05)"),
    "rmsprop": _TRAIN.format(opt="optim.RMSprop(m.parameters(), lr=0.01, alpha=0.9)"),
    "adagrad": _TRAIN.format(opt="optim.Adagrad(m.parameters(), lr=0.1, weight_decay=0.01)"),
    "param_groups": _TRAIN.format(opt="optim.SGD([{'params': m[0].parameters(), 'lr': 0.3}, {'params': m[2].parameters()}], lr=0.1, momentum=0.5)"),
    "adam_state_dict": _TRAIN.format(opt="optim.Adam(m.parameters(), lr=0.05)") + "sd = opt.state_dict(); out = [sd['state'][0]['step'], sd['state'][0]['exp_avg'], sd['state'][3]['exp_avg_sq'], sd['param_groups'][0]['params']]",
    "step_lr": "p = nn.Parameter(torch.zeros(1)); o = optim.SGD([p], lr=1.0); s = optim.lr_scheduler.StepLR(o, step_size=2, gamma=0.5); lrs = []\nfor _ in range(6):\n    o.step(); s.step(); lrs.append(s.get_last_lr()[0])\nout = lrs",
    "exponential_lr": "p = nn.Parameter(torch.zeros(1)); o = optim.SGD([p], lr=1.0); s = optim.lr_scheduler.ExponentialLR(o, gamma=0.9); lrs = []\nfor _ in range(5):\n    o.step(); s.step(); lrs.append(o.param_groups[0]['lr'])\nout = lrs",
    "cosine_lr": "p = nn.Parameter(torch.zeros(1)); o = optim.SGD([p], lr=0.5); s = optim.lr_scheduler.CosineAnnealingLR(o, T_max=4, eta_min=0.1); lrs = []\nfor _ in range(6):\n    o.step(); s.step(); lrs.append(s.get_last_lr()[0])\nout = lrs",
    "clip_grad_norm": "a = nn.Parameter(vals(3)); b = nn.Parameter(vals(2, 2, k=2)); ((a * 3).sum() + (b * b).sum()).backward(); n = nn.utils.clip_grad_norm_([a, b], 1.0); out = [n, a.grad, b.grad]",
    "clip_grad_value": "a = nn.Parameter(vals(4)); (a * vals(4, k=9) * 4).sum().backward(); nn.utils.clip_grad_value_([a], 0.5); out = a.grad",
    "init_gain": "out = [nn.init.calculate_gain(n) for n in ('linear', 'sigmoid', 'tanh', 'relu', 'selu')] + [nn.init.calculate_gain('leaky_relu', 0.2)]",
    "init_constant": "w = torch.zeros(2, 3); nn.init.constant_(w, 0.5); nn.init.ones_(w[0]); out = w",
    "tensor_dataset": "d = torch.utils.data.TensorDataset(vals(5, 2), torch.arange(5)); out = [len(d), d[3][0], d[3][1]]",
    "dataloader_order": "d = torch.utils.data.TensorDataset(vals(5, 2), torch.arange(5)); out = [b for _, b in torch.utils.data.DataLoader(d, batch_size=2)]",
    "dataloader_drop_last": "d = torch.utils.data.TensorDataset(torch.arange(7)); out = len(torch.utils.data.DataLoader(d, batch_size=3, drop_last=True)), len(torch.utils.data.DataLoader(d, batch_size=3))",
}

CASES = {**LAYERS, **LOSSES, **OPTIMIZERS}
