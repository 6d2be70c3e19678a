"""A ``Module`` subclass trained on MNIST with nabla.nn, nabla.optim and nabla.utils.data
reaches at least 97% test accuracy in three epochs (the repository's data/mnist)."""

import pathlib

import nabla
from nabla import nn, optim
from nabla.utils.data import DataLoader, TensorDataset, load_mnist

MNIST = pathlib.Path(__file__).resolve().parents[2] / "data" / "mnist"


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc1 = nn.Linear(784, 128)
        self.fc2 = nn.Linear(128, 10)

    def forward(self, x):
        return self.fc2(nn.functional.relu(self.fc1(x)))


def test_module_subclass_reaches_97_percent():
    (x_train, t_train), (x_test, t_test) = load_mnist(MNIST)
    assert tuple(x_train.shape) == (60000, 784) and tuple(t_test.shape) == (10000,)
    nabla.manual_seed(0)
    net = Net()
    optimizer = optim.Adam(net.parameters(), lr=2e-3)
    loss_fn = nn.CrossEntropyLoss()
    loader = DataLoader(TensorDataset(x_train, t_train), batch_size=100, shuffle=True)
    for _ in range(3):
        net.train()
        for x, t in loader:
            optimizer.zero_grad()
            loss = loss_fn(net(x), t)
            loss.backward()
            optimizer.step()
    net.eval()
    with nabla.no_grad():
        accuracy = (net(x_test).argmax(1) == t_test).float().mean().item()
    assert accuracy >= 0.97, accuracy
