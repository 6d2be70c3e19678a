"""The lid inline: recorded graphs drawn as SVG with values and gradients, the chain rule as
text and HTML, the textbook's expressions, and training curves, each an object Jupyter shows."""

import xml.dom.minidom

import pytest

import nabla


def apple_graph():
    apple = nabla.tensor(100.0, requires_grad=True)
    count = nabla.tensor(2.0, requires_grad=True)
    tax = nabla.tensor(1.1, requires_grad=True)
    with nabla.record(names={"apple": apple, "count": count, "tax": tax}) as rec:
        price = apple * count * tax
        price.backward()
    return rec, price, (apple, count, tax)


def test_draw_shows_values_and_gradients():
    rec, price, (apple, count, tax) = apple_graph()
    assert [apple.grad.item(), count.grad.item()] == pytest.approx([2.2, 110.0])
    graph = nabla.draw(price)
    svg = graph._repr_svg_()
    xml.dom.minidom.parseString(svg)
    for text in ("apple", "count", "tax", "220", "110", "2.2"):
        assert text in svg, text
    assert svg in graph._repr_html_()
    assert price.graph().svg == svg
    assert rec.draw(price).svg == svg


def test_draw_without_recording_shows_structure():
    x = nabla.ones(2, 3, requires_grad=True)
    svg = nabla.draw((x * 2).sum()).svg
    xml.dom.minidom.parseString(svg)
    assert "[2, 3]" in svg and "leaf" in svg


def test_explain_text_and_html():
    _, price, _ = apple_graph()
    explanation = nabla.explain(price)
    text = str(explanation)
    assert "apple: ∂L/∂apple = 2.2" in text
    assert "<ol" in explanation._repr_html_()
    with pytest.raises(RuntimeError, match="inside `with nabla.record"):
        nabla.explain(nabla.tensor(1.0, requires_grad=True) * 2)
    with pytest.raises(TypeError, match="expected a Tensor"):
        nabla.explain(3.0)


def test_grad_expr_is_the_textbooks_graph():
    e = nabla.grad_expr("apple*count*tax", apple=100, count=2, tax=1.1)
    assert e.value == pytest.approx(220.0)
    assert e.grad == pytest.approx({"apple": 2.2, "count": 110.0, "tax": 200.0})
    assert "<svg" in e._repr_svg_()
    assert "∂L/∂apple" in str(e.explain())
    with pytest.raises(ValueError, match="syntax error at column"):
        nabla.grad_expr("apple*", apple=1)
    with pytest.raises(ValueError, match="`z` is given a value"):
        nabla.grad_expr("x*y", x=1, y=2, z=3)


def test_history_chart():
    history = nabla.lid.History("mnist")
    for epoch, (loss, acc) in enumerate([(0.9, 0.8), (0.4, 0.9), (0.3, 0.93)]):
        history.log(epoch + 1, loss=loss, accuracy=acc)
    svg = history._repr_svg_()
    assert svg.startswith("<svg") and "accuracy" in svg
    with pytest.raises(ValueError, match="nothing logged"):
        nabla.lid.History().svg()


def two_layer_loss():
    nabla.manual_seed(0)
    model = nabla.nn.Sequential(nabla.nn.Linear(3, 4), nabla.nn.ReLU(), nabla.nn.Linear(4, 2))
    x = nabla.randn(5, 3)
    target = nabla.tensor([0, 1, 1, 0, 1])
    with nabla.record():
        loss = nabla.nn.functional.cross_entropy(model(x), target)
        loss.backward()
    return model, loss


def test_explain_names_parameters_as_make_dot_does():
    model, loss = two_layer_loss()
    plain = str(nabla.explain(loss))
    assert "0.weight" not in plain and "] leaf [4, 3]: ∂L/∂leaf = " in plain
    for params in (dict(model.named_parameters()), model):
        text = str(nabla.explain(loss, params=params))
        for name, shape in (("0.weight", "[4, 3]"), ("0.bias", "[4]"), ("2.weight", "[2, 4]"),
                            ("2.bias", "[2]")):
            assert f"] {name} {shape}: ∂L/∂{name} = " in text, (name, text)
    svg = nabla.draw(loss, params=model).svg
    assert "0.weight" in svg and "2.bias" in svg
    with pytest.raises(TypeError, match=r"params must be a dict of name to Tensor .* not list"):
        nabla.explain(loss, params=[1])
    with pytest.raises(TypeError, match=r"params\['w'\] must be a Tensor, not float"):
        nabla.explain(loss, params={"w": 1.0})


def tiny_training(model, monitor, x, y, epochs=2, lr=0.5):
    optimizer = nabla.optim.SGD(model.parameters(), lr=lr)
    loss_fn = nabla.nn.MSELoss()
    for _ in range(epochs):
        for start in range(0, len(x), 4):
            optimizer.zero_grad()
            loss = loss_fn(model(x[start:start + 4]), y[start:start + 4])
            loss.backward()
            monitor.step()
            optimizer.step()
        monitor.epoch(loss=loss.item(), accuracy=0.5)


def test_monitor_shows_layer_health_inline():
    nabla.manual_seed(1)
    model = nabla.nn.Sequential(nabla.nn.Linear(2, 8), nabla.nn.Sigmoid(), nabla.nn.Linear(8, 8),
                                nabla.nn.ReLU(), nabla.nn.Linear(8, 1))
    monitor = nabla.lid.Monitor(model)
    x, y = nabla.randn(16, 2) * 30, nabla.randn(16, 1)
    tiny_training(model, monitor, x, y)
    rows = {row[0]: row for row in monitor.layers()}
    assert list(rows) == ["0 (Linear)", "1 (Sigmoid)", "2 (Linear)", "3 (ReLU)", "4 (Linear)"]
    # Inputs of 30 push the sigmoid into its flat parts; a ReLU's dead fraction is in [0, 1].
    assert rows["1 (Sigmoid)"][3] > 0.5 and rows["1 (Sigmoid)"][4] is None
    assert 0.0 <= rows["3 (ReLU)"][4] <= 1.0 and rows["3 (ReLU)"][3] is None
    assert rows["0 (Linear)"][5] > 0 and rows["1 (Sigmoid)"][5] is None
    titles = [t for t, _ in monitor.charts()]
    assert titles == ["gradient norm per layer and step", "epoch 2: outputs",
                      "epoch 2: weights and gradients", "distributions over epochs"]
    page = monitor._repr_html_()
    for text in ("1 (Sigmoid)", "saturated", "dead", "gradient norm", "<svg", "accuracy"):
        assert text in page, text
    for _, svg in monitor.charts():
        xml.dom.minidom.parseString(svg)
    assert monitor.history.metrics["loss"][-1][0] == 2.0
    assert "<svg" in monitor.history._repr_html_()
    assert repr(monitor) == "<Monitor training: 5 layers, epoch 2, 0 alarms>"
    monitor.remove()
    assert not any(m._forward_hooks for m in model.modules())


def test_monitor_raises_the_vanishing_alarm():
    nabla.manual_seed(2)
    layers = [nabla.nn.Linear(4, 4)]
    for _ in range(6):
        layers += [nabla.nn.Sigmoid(), nabla.nn.Linear(4, 4)]
    model = nabla.nn.Sequential(*layers)
    with nabla.no_grad():
        for p in model.parameters():
            p.mul_(0.05)
    monitor = nabla.lid.Monitor(model)
    x, y = nabla.randn(8, 4), nabla.randn(8, 4)
    with pytest.warns(RuntimeWarning, match=r"epoch 1: in 2 of 2 steps, first at step 1: "
                                            r"gradients vanish: norm .* at the first layer 0"):
        tiny_training(model, monitor, x, y, epochs=1)
    assert len(monitor.alarms) == 1 and monitor.alarms[0] in monitor._repr_html_()


def test_monitor_refuses_what_is_not_a_module():
    with pytest.raises(TypeError, match="Monitor: expected an nn.Module, got list"):
        nabla.lid.Monitor([nabla.nn.Linear(2, 2)])
