"""Module registration, modes, conversions and the mistakes PyTorch raises for; data loading's
seeded shuffling; optimiser state round trips."""

import pytest

import nabla
from nabla import nn, optim
from nabla.utils.data import DataLoader, TensorDataset, random_split


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc = nn.Linear(2, 3)
        self.drop = nn.Dropout(0.5)
        self.w = nn.Parameter(nabla.ones(3))
        self.register_buffer("count", nabla.zeros(1))

    def forward(self, x):
        return self.drop(self.fc(x)) * self.w


def test_registration_and_modes():
    net = Net()
    assert [n for n, _ in net.named_parameters()] == ["w", "fc.weight", "fc.bias"]
    assert list(net.state_dict()) == ["w", "count", "fc.weight", "fc.bias"]
    assert [n for n, _ in net.named_modules()] == ["", "fc", "drop"]
    assert net.training and net.drop.training
    net.eval()
    assert not net.training and not net.drop.training
    x = nabla.ones(4, 2)
    assert net(x).tolist() == net(x).tolist()
    net.train()
    net.zero_grad()
    del net.w
    assert [n for n, _ in net.named_parameters()] == ["fc.weight", "fc.bias"]


def test_dtype_conversion_and_zero_grad():
    net = nn.Linear(2, 2).double()
    assert net.weight.dtype == nabla.float64 and isinstance(net.weight, nn.Parameter)
    net(nabla.ones(1, 2, dtype=nabla.float64)).sum().backward()
    assert net.weight.grad is not None
    net.zero_grad()
    assert net.weight.grad is None


def test_dtype_conversion_keeps_parameters_so_an_optimizer_built_before_still_trains():
    net = nn.Linear(2, 1)
    weight = net.weight
    opt = nabla.optim.SGD(net.parameters(), lr=0.5)
    net.double()
    assert net.weight is weight and weight.dtype == nabla.float64
    before = weight.detach().clone()
    net(nabla.ones(1, 2, dtype=nabla.float64)).sum().backward()
    opt.step()
    assert (weight.detach() - before).tolist() == [[-0.5, -0.5]]


def test_load_state_dict_errors():
    net = nn.Linear(2, 3)
    with pytest.raises(RuntimeError, match='Missing key\\(s\\) in state_dict: "bias"'):
        net.load_state_dict({"weight": nabla.zeros(3, 2)})
    with pytest.raises(RuntimeError, match="size mismatch for weight"):
        net.load_state_dict({"weight": nabla.zeros(2, 2), "bias": nabla.zeros(3)})
    result = net.load_state_dict({"weight": nabla.zeros(3, 2), "bias": nabla.zeros(3),
                                  "extra": nabla.zeros(1)}, strict=False)
    assert result.unexpected_keys == ["extra"] and net.weight.sum().item() == 0.0


def test_assignment_errors():
    net = nn.Linear(2, 3)
    with pytest.raises(TypeError, match="cannot assign 'Tensor' as parameter 'weight'"):
        net.weight = nabla.zeros(3, 2)
    with pytest.raises(AttributeError, match="has no attribute 'nothing'"):
        net.nothing

    class Early(nn.Module):
        def __init__(self):
            self.fc = nn.Linear(1, 1)

    with pytest.raises(AttributeError, match="before Module.__init__"):
        Early()


def test_layer_errors_are_exceptions():
    with pytest.raises(ValueError, match="expected 4D input"):
        nn.BatchNorm2d(3)(nabla.ones(2, 3))
    with pytest.raises(ValueError, match="more than one value per channel"):
        nn.BatchNorm1d(3)(nabla.ones(1, 3))
    with pytest.raises(RuntimeError, match="linear"):
        nn.Linear(3, 2)(nabla.ones(4, 5))
    with pytest.raises(ValueError, match="outside the 3 classes"):
        nn.CrossEntropyLoss()(nabla.ones(2, 3), nabla.tensor([0, 3]))
    with pytest.raises(ValueError, match="dropout probability"):
        nn.Dropout(1.5)
    with pytest.raises(ValueError, match=r"LSTM\(3 -> 4\): input has shape \[5, 2, 6\]"):
        nn.LSTM(3, 4)(nabla.ones(5, 2, 6))
    with pytest.raises(ValueError, match="Invalid learning rate"):
        optim.SGD(nn.Linear(1, 1).parameters(), lr=-1)
    with pytest.raises(ValueError, match="empty parameter list"):
        optim.Adam([])


def test_dataloader_seeded_shuffling():
    data = TensorDataset(nabla.arange(10), nabla.arange(10) * 2)

    def epoch(seed):
        nabla.manual_seed(seed)
        return [x.tolist() for x, _ in DataLoader(data, batch_size=4, shuffle=True)]

    first = epoch(1)
    assert first == epoch(1) and first != epoch(2)
    assert sorted(sum(first, [])) == list(range(10)) and [len(b) for b in first] == [4, 4, 2]
    batches = list(DataLoader(data, batch_size=4, drop_last=True))
    assert [b[1].tolist() for b in batches] == [[0, 2, 4, 6], [8, 10, 12, 14]]
    a, b = random_split(data, [7, 3])
    assert len(a) == 7 and len(b) == 3


def test_optimizer_state_round_trip():
    def run(load_from=None):
        nabla.manual_seed(0)
        net = nn.Linear(3, 1)
        opt = optim.Adam(net.parameters(), lr=0.1)
        if load_from is not None:
            net.load_state_dict(load_from[0])
            opt.load_state_dict(load_from[1])
        x = nabla.ones(4, 3)
        for _ in range(2):
            opt.zero_grad()
            (net(x) ** 2).mean().backward()
            opt.step()
        return net, opt

    net, opt = run()
    saved = ({k: v.clone() for k, v in net.state_dict().items()}, opt.state_dict())
    resumed, _ = run(saved)
    straight, opt2 = run()
    for _ in range(2):
        opt2.zero_grad()
        (straight(nabla.ones(4, 3)) ** 2).mean().backward()
        opt2.step()
    assert resumed.weight.reshape(-1).tolist() == pytest.approx(straight.weight.reshape(-1).tolist())


def test_generators_drive_rand_init_and_loader_order():
    g = nabla.Generator().manual_seed(3)
    assert g.initial_seed() == 3 and g.device == "cpu"
    first = nabla.rand(4, generator=g).tolist()
    nabla.manual_seed(99)  # the global stream plays no part
    assert nabla.randn(2, generator=g.manual_seed(3)).tolist() != first
    assert nabla.rand(4, generator=g.manual_seed(3)).tolist() == first
    # nn.init draws from the generator given, and leaves the global stream where it was.
    w1, w2 = nabla.zeros(3, 5), nabla.zeros(3, 5)
    nabla.manual_seed(0)
    before = nabla.rand(1).item()
    nabla.manual_seed(0)
    nn.init.kaiming_uniform_(w1, generator=g.manual_seed(5))
    nn.init.xavier_normal_(w2, generator=g.manual_seed(5))
    assert nabla.rand(1).item() == before
    nn.init.kaiming_uniform_(w2, generator=g.manual_seed(5))
    assert w1.tolist() == w2.tolist()
    state = g.get_state()
    a = nabla.rand(3, generator=g).tolist()
    g.set_state(state)
    assert nabla.rand(3, generator=g).tolist() == a
    with pytest.raises(ValueError, match="a state is 4 integers, got 2"):
        g.set_state([1, 2])
    with pytest.raises(ValueError, match="Generator.set_state: the state is all zeros"):
        g.set_state([0, 0, 0, 0])
    with pytest.raises(ValueError, match="only the cpu device is supported, got cuda"):
        nabla.Generator("cuda")
    with pytest.raises(TypeError, match="generator must be a nabla.Generator, not int"):
        nn.init.normal_(w1, generator=3)


def test_dataloader_draws_each_epoch_from_its_generator():
    data = TensorDataset(nabla.arange(10))

    def orders(loader, epochs):
        return [[int(x) for (b,) in loader for x in b.tolist()] for _ in range(epochs)]

    g = nabla.Generator().manual_seed(7)
    loader = DataLoader(data, batch_size=3, shuffle=True, generator=g)
    first, second = orders(loader, 2)
    assert first != second and sorted(first) == list(range(10))
    # The stream, not a fixed seed per epoch: reseeding replays, drawing from it moves on.
    g.manual_seed(7)
    assert orders(loader, 2) == [first, second]
    g.manual_seed(7)
    nabla.rand(1, generator=g)
    assert orders(loader, 1) != [first]
    g.manual_seed(7)
    a, b = random_split(data, [6, 4], generator=g)
    g.manual_seed(7)
    c, _ = random_split(data, [6, 4], generator=g)
    assert list(a.indices) == list(c.indices) and len(b) == 4


def test_generator_seed_range():
    g = nabla.Generator()
    assert g.manual_seed(-1).initial_seed() == 2 ** 64 - 1
    with pytest.raises(ValueError, match=r"the seed must be from -2\*\*63 to 2\*\*64 - 1, got 18446744073709551616"):
        g.manual_seed(2 ** 64)
