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
