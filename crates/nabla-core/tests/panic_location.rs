//! A panicking operation reports the line that called it, not a line inside the library, and
//! panics with the message its `try_` twin returns.

use nabla_core::{DType, Tensor};
use std::panic::{self, AssertUnwindSafe};
use std::sync::{Arc, Mutex};

/// A name, a panicking call, and the result of its `try_` twin.
type Case<'a> = (&'static str, Box<dyn FnOnce() + 'a>, nabla_core::Result<()>);

/// Where each panic was raised and its message.
type Seen = Arc<Mutex<Vec<(String, String)>>>;

fn message(info: &panic::PanicHookInfo<'_>) -> String {
    let payload = info.payload();
    payload
        .downcast_ref::<String>()
        .cloned()
        .or_else(|| payload.downcast_ref::<&str>().map(|s| s.to_string()))
        .unwrap_or_default()
}

#[test]
fn panics_point_at_the_caller_and_match_the_try_form() {
    let seen: Seen = Arc::default();
    let record = seen.clone();
    let previous = panic::take_hook();
    panic::set_hook(Box::new(move |info| {
        let at = info
            .location()
            .map(|l| l.file().to_string())
            .unwrap_or_default();
        record.lock().unwrap().push((at, message(info)));
    }));

    let a = Tensor::zeros(&[2, 3], DType::F32);
    let b = Tensor::zeros(&[4], DType::F32);
    let ints = Tensor::from_vec(vec![1i64, 2], &[2]);
    let wide = Tensor::scalar(1.0f32).expand(&[1 << 40]);
    let cases: Vec<Case> = vec![
        (
            "contiguous of a large expand",
            Box::new(|| drop(wide.contiguous())),
            wide.try_contiguous().map(drop),
        ),
        (
            "to_dtype of a large expand",
            Box::new(|| drop(wide.to_dtype(DType::F64))),
            wide.try_to_dtype(DType::F64).map(drop),
        ),
        (
            "to_vec of a large expand",
            Box::new(|| drop(wide.to_vec::<f32>())),
            wide.try_to_vec::<f32>().map(drop),
        ),
        (
            "sum of a large expand",
            Box::new(|| drop(wide.sum())),
            wide.try_sum().map(drop),
        ),
        (
            "operator +",
            Box::new(|| drop(&a + &b)),
            a.try_add(&b).map(drop),
        ),
        ("mul", Box::new(|| drop(a.mul(&b))), a.try_mul(&b).map(drop)),
        (
            "matmul",
            Box::new(|| drop(a.matmul(&a))),
            a.try_matmul(&a).map(drop),
        ),
        (
            "narrow",
            Box::new(|| drop(a.narrow(1, 2, 5))),
            a.try_narrow(1, 2, 5).map(drop),
        ),
        (
            "reshape",
            Box::new(|| drop(a.reshape(&[7]))),
            a.try_reshape(&[7]).map(drop),
        ),
        (
            "sum over a bad dim",
            Box::new(|| drop(a.sum_dims(&[5], false))),
            a.try_sum_dims(&[5], false).map(drop),
        ),
        (
            "mean of integers",
            Box::new(|| drop(ints.mean())),
            ints.try_mean().map(drop),
        ),
        (
            "operator * f64 on integers",
            Box::new(|| drop(&ints * 2.0)),
            ints.try_mul_scalar(2.0).map(drop),
        ),
        (
            "zeros",
            Box::new(|| drop(Tensor::zeros(&[usize::MAX, 2], DType::F32))),
            Tensor::try_zeros(&[usize::MAX, 2], DType::F32).map(drop),
        ),
        (
            "from_vec",
            Box::new(|| drop(Tensor::from_vec(vec![1.0f32], &[2]))),
            Tensor::try_from_vec(vec![1.0f32], &[2]).map(drop),
        ),
        (
            "item",
            Box::new(|| {
                a.item::<f32>();
            }),
            a.try_item::<f32>().map(drop),
        ),
        (
            "size",
            Box::new(|| {
                a.size(2);
            }),
            a.try_size(2).map(drop),
        ),
        ("backward", Box::new(|| a.backward()), a.try_backward()),
        (
            "permute",
            Box::new(|| drop(a.permute(&[0, 0]))),
            a.try_permute(&[0, 0]).map(drop),
        ),
        (
            "expand",
            Box::new(|| drop(a.expand(&[3, 3]))),
            a.try_expand(&[3, 3]).map(drop),
        ),
        (
            "softmax",
            Box::new(|| drop(a.softmax(4))),
            a.try_softmax(4).map(drop),
        ),
        (
            "arange",
            Box::new(|| drop(Tensor::arange(0.0f64, 1.0, 0.0))),
            Tensor::try_arange(0.0f64, 1.0, 0.0).map(drop),
        ),
    ];
    let mut failures = Vec::new();
    for (name, panicking, twin) in cases {
        seen.lock().unwrap().clear();
        let unwound = panic::catch_unwind(AssertUnwindSafe(panicking)).is_err();
        let expected = twin.expect_err(name).to_string();
        let got = seen.lock().unwrap().first().cloned();
        match got {
            Some((file, text))
                if unwound && file.ends_with("tests/panic_location.rs") && text == expected => {}
            other => failures.push(format!("{name}: {other:?}, expected {expected:?} here")),
        }
    }
    panic::set_hook(previous);
    assert!(failures.is_empty(), "{failures:#?}");
}
